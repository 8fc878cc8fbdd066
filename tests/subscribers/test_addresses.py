"""Addresses and free text from strangers: normalised, or refused with a German reason."""

from __future__ import annotations

import hashlib
import unicodedata

import pytest

from pipeline.errors import InvalidInput
from subscribers.addresses import clean_text, email_hash, hash_of, normalise_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bernd.mueller@landratsamt-bb.de", "bernd.mueller@landratsamt-bb.de"),
        ("  Bernd.Mueller@Landratsamt-BB.DE ", "bernd.mueller@landratsamt-bb.de"),
        ("info@bücher-stuttgart.de", "info@xn--bcher-stuttgart-zvb.de"),
        ("INFO@XN--BCHER-STUTTGART-ZVB.DE", "info@xn--bcher-stuttgart-zvb.de"),
        ("eu-referat+newsletter@stadt-esslingen.de", "eu-referat+newsletter@stadt-esslingen.de"),
    ],
)
def test_addresses_are_normalised_to_one_ascii_lower_case_form(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


def test_every_spelling_of_one_mailbox_has_one_hash() -> None:
    spellings = [
        "Info@Bücher-Stuttgart.de",
        "info@xn--bcher-stuttgart-zvb.de",
        " INFO@bücher-stuttgart.DE",
    ]
    assert len({hash_of(s) for s in spellings}) == 1
    expected = hashlib.sha256(b"info@xn--bcher-stuttgart-zvb.de").hexdigest()
    assert hash_of(spellings[0]) == expected == email_hash("INFO@xn--bcher-stuttgart-zvb.de")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Bitte eine E-Mail-Adresse angeben."),
        ("bernd", "gültige E-Mail-Adresse"),
        ("bernd@landratsamt", "gültige E-Mail-Adresse"),
        ("bernd@@landratsamt-bb.de", "gültige E-Mail-Adresse"),
        ("bernd müller@landratsamt-bb.de", "gültige E-Mail-Adresse"),
        ("bernd@landratsamt-bb.de\r\nBcc: alle@example.org", "Steuerzeichen"),
        ("bernd@landratsamt-bb.de\x00", "Steuerzeichen"),
        ("bernd@landratsamt-bb.de\x7f", "Steuerzeichen"),  # DEL: ASCII, not printable
        ("bernd\u200b@landratsamt-bb.de", "Steuerzeichen"),  # zero-width space (Cf)
        ("müller@landratsamt-bb.de", "Umlaute"),
        ("a" * 250 + "@landratsamt-bb.de", "zu lang"),
        ("bernd@localhost", "gültige E-Mail-Adresse"),
        ('"bernd"@landratsamt-bb.de', "gültige E-Mail-Adresse"),
    ],
)
def test_unusable_addresses_are_refused_in_german(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        normalise_email(raw)


def test_clean_text_removes_line_breaks_and_control_characters() -> None:
    assert clean_text("Bernd Müller\r\nBcc: alle@example.org", field="Name") == (
        "Bernd Müller Bcc: alle@example.org"
    )
    assert clean_text("Landratsamt\tBöblingen\x00\u2028", field="Organisation") == (
        "Landratsamt Böblingen"
    )
    assert clean_text("  Stadt   Esslingen  ", field="Organisation") == "Stadt Esslingen"
    assert clean_text(None, field="Name") == ""


def test_clean_text_gives_what_the_rule_per_character_gives() -> None:
    """Printable text skips the look at each character; the result is the same."""

    def per_character(value: str) -> str:
        chars = (
            " " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co") else c
            for c in unicodedata.normalize("NFC", value)
        )
        return " ".join("".join(chars).split())

    samples = [
        "Jürgen Müller", "Ju\u0308rgen  Mu\u0308ller", "Stadt\xa0Esslingen", "Tren\xadnung",
        "Null\u200bBreite", "Privat\ue000Zeichen", "Neue\u2029Absatz", "Tab\tund\x7fDEL",
        "unbelegt \u0378 Zeichen", "Zoë  Ünal ", "\u3000Ideographic\u3000space", "",
    ]  # fmt: skip
    for sample in samples:
        assert clean_text(sample, field="Name") == per_character(sample), repr(sample)


def test_clean_text_bounds_the_length() -> None:
    assert len(clean_text("ä" * 200, field="Name")) == 200
    with pytest.raises(InvalidInput, match="Name: höchstens 200 Zeichen"):
        clean_text("ä" * 201, field="Name")
    with pytest.raises(InvalidInput, match="Organisation: höchstens 200 Zeichen"):
        clean_text("x" * 10_000, field="Organisation")
