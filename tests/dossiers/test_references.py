"""References in the spellings people and publishers use come out in one spelling."""

from __future__ import annotations

import pytest

from pipeline.model import (
    ReferenceKind,
    equivalents,
    eurlex_url,
    normalize_reference,
    reference_kind,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025/0260(COD)", "2025/0260(COD)"),
        ("2025/260(COD)", "2025/0260(COD)"),
        ("2025/0260 (COD)", "2025/0260(COD)"),
        (" 2025 / 260 ( cod ) ", "2025/0260(COD)"),
        ("2025-0260 COD", "2025/0260(COD)"),
        ("2025/0260/COD", "2025/0260(COD)"),  # EUR-Lex's spelling
        ("2024/2005(INI)", "2024/2005(INI)"),
        ("COM/2025/123", "COM(2025) 123"),
        ("COM(2025)123 final", "COM(2025) 123"),
        ("COM(2025) 0123", "COM(2025) 123"),
        ("KOM(2025) 123 endgültig", "COM(2025) 123"),
        ("COM (2025) 123 final/2", "COM(2025) 123"),
        ("SWD(2025) 45", "SWD(2025) 45"),
        ("32024R1689", "32024R1689"),
        ("celex:32024r1689", "32024R1689"),
        ("32024R1689R(01)", "32024R1689R(01)"),
        ("32024R1689R(1)", "32024R1689R(01)"),
        ("52025PC0123", "52025PC0123"),
        ("ST 12345/25 INIT", "ST 12345/25"),
        ("ST-12345-2025-INIT", "ST 12345/25"),
        ("ST 12345 2025 INIT", "ST 12345/25"),
        ("ST 12345/25", "ST 12345/25"),
        ("12345/2025", "ST 12345/25"),
        ("ST 9135/24 REV 1", "ST 9135/24"),
        ("A10-0070/2026", "A10-0070/2026"),
        ("A-10-2026-0070", "A10-0070/2026"),
        ("A10-70/26", "A10-0070/2026"),
    ],
)
def test_odd_spellings_come_out_canonical(text: str, expected: str) -> None:
    assert normalize_reference(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "2025/0000(COD)", "COM(2025) 0", "1689/24", "IP/26/1692", "hello", "2025/0260(XYZ)"],
)
def test_what_is_no_reference_of_a_known_kind_gives_none(text: str) -> None:
    assert normalize_reference(text) is None


def test_kinds() -> None:
    assert reference_kind("2025/260(COD)") is ReferenceKind.PROCEDURE
    assert reference_kind("COM/2025/123") is ReferenceKind.COM
    assert reference_kind("32024R1689R(01)") is ReferenceKind.CELEX
    assert reference_kind("ST 12345/25") is ReferenceKind.COUNCIL
    assert reference_kind("A10-0070/2026") is ReferenceKind.EP_REPORT
    assert reference_kind("IP/26/1692") is ReferenceKind.OTHER


def test_a_proposal_celex_and_its_com_number_are_the_same_document() -> None:
    assert "COM(2025) 123" in equivalents("52025PC0123")
    assert "52025PC0123" in equivalents("COM(2025)123 final")
    assert "SWD(2025) 45" in equivalents("52025SC0045")


def test_a_corrigendum_belongs_to_its_act() -> None:
    assert equivalents("32024R1689R(01)") == ("32024R1689R(01)", "32024R1689")
    # the act does not claim its corrigenda (they are matched from the corrigendum's side)
    assert equivalents("32024R1689") == ("32024R1689",)


def test_unknown_references_match_only_themselves() -> None:
    assert equivalents(" IP/26/1692 ") == ("IP/26/1692",)
    assert equivalents("  ") == ()


def test_eurlex_links_in_german_and_english() -> None:
    assert eurlex_url("32024R1689") == (
        "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32024R1689"
    )
    assert eurlex_url("32024R1689", "en").startswith("https://eur-lex.europa.eu/legal-content/EN/")


def test_odd_spellings_in_an_items_text_are_extracted_canonical() -> None:
    """What classify stores for an item is what dossiers' aliases are compared with."""
    from pipeline.ingest.classify import extract_references

    text = (
        "Verfahren 2025/260(COD) bzw. 2025/0260 (COD), Vorschlag COM/2025/123 und "
        "COM(2025)123 final, Ratsdokument ST 12345 2025 INIT, Bericht A10-0123/2025."
    )
    assert extract_references(text) == [
        "2025/0260(COD)",
        "COM(2025) 123",
        "ST 12345/25",
        "A10-0123/2025",
    ]
