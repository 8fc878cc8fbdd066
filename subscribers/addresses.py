"""Email addresses and the free-text fields of a subscriber, made safe.

    normalise_email(" Bernd.Mueller@Region-Stuttgart.DE ") -> "bernd.mueller@region-stuttgart.de"
    email_hash(normalised)                                  -> sha256 hex (the lookup key)
    clean_text(name, field="Name")                          -> one line, no control characters

An address is stored in one canonical form: ASCII, all lower case, with an
internationalised domain in its IDNA form (`x@bücher.de` → `x@xn--bcher-kva.de`),
so that every spelling of one mailbox gives one hash and SendGrid can deliver it.
Non-ASCII characters before the @ (SMTPUTF8) are refused: few mail servers accept them.
"""

from __future__ import annotations

import hashlib
import unicodedata

from email_validator import EmailNotValidError, validate_email

from pipeline.errors import InvalidInput

MAX_EMAIL = 254  # RFC 5321 path limit
MAX_TEXT = 200  # name, organisation (the store's column width)

INVALID_EMAIL = "Bitte eine gültige E-Mail-Adresse angeben (zum Beispiel name@kommune.de)."


class InvalidEmail(InvalidInput):
    """The address cannot be used; the message is German and names the problem."""


def normalise_email(raw: str) -> str:
    """The canonical form of an address, or InvalidEmail with a German reason."""
    value = raw.strip()
    if not value:
        raise InvalidEmail("Bitte eine E-Mail-Adresse angeben.")
    if len(value) > MAX_EMAIL:
        raise InvalidEmail(f"Die E-Mail-Adresse ist zu lang (höchstens {MAX_EMAIL} Zeichen).")
    # Printable ASCII (nearly every address) has none of them: skip the look at each one.
    if not (value.isascii() and value.isprintable()) and any(
        unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value
    ):
        raise InvalidEmail("Die E-Mail-Adresse enthält unzulässige Steuerzeichen.")
    try:
        found = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        if "before the @-sign are not supported" in str(exc):
            raise InvalidEmail(
                "Umlaute und andere Sonderzeichen vor dem @ werden von vielen Mailservern "
                "nicht angenommen. Bitte eine Adresse ohne sie angeben."
            ) from None
        raise InvalidEmail(INVALID_EMAIL) from None
    address = str(found.ascii_email or found.normalized).lower()
    if len(address) > MAX_EMAIL:
        raise InvalidEmail(f"Die E-Mail-Adresse ist zu lang (höchstens {MAX_EMAIL} Zeichen).")
    return address


def email_hash(normalised: str) -> str:
    """sha256 (hex) of a normalised address: what survives an erasure."""
    return hashlib.sha256(normalised.strip().lower().encode("utf-8")).hexdigest()


def hash_of(raw: str) -> str:
    """The hash of any spelling of an address (normalised first). InvalidEmail if unusable."""
    return email_hash(normalise_email(raw))


def clean_text(value: str | None, *, field: str, max_len: int = MAX_TEXT) -> str:
    """One line of text: control characters and line breaks become spaces, runs collapse.

    Longer than `max_len` after cleaning: InvalidInput naming the field (German).
    """
    if not value:
        return ""
    if len(value) > max_len * 4:  # refuse before doing work on a huge value
        raise InvalidInput(f"{field}: höchstens {max_len} Zeichen.")
    value = unicodedata.normalize("NFC", value)
    if not value.isprintable():  # printable: none of the categories below (the usual case)
        value = "".join(
            " " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co") else c
            for c in value
        )
    text = " ".join(value.split())
    if len(text) > max_len:
        raise InvalidInput(f"{field}: höchstens {max_len} Zeichen.")
    return text
