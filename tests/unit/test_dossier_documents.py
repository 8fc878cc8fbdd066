"""What an EUR-Lex document threaded to a dossier adds to it (model.document_events), and
the CELEX number of an EUR-Lex link (model.celex_in_url): pure functions."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.model import EventKind, celex_in_url, document_events

DAY = dt.date(2025, 3, 21)
FILE = "2024/0258(COD)"
ALIASES = frozenset({FILE, "COM(2024) 469", "52024PC0469", "A10-0006/2025"})


def events(document: str, references: tuple[str, ...], aliases: frozenset[str] = ALIASES) -> tuple:
    return document_events(document, references, FILE, aliases, DAY, "eurlex")


def test_an_act_named_with_its_procedure_becomes_an_alias_and_is_published() -> None:
    for named in (("2024/0258(COD)",), ("2024/258/COD",), ("COM(2024) 469",), ("52024PC0469",)):
        aliases, (event,) = events("32025R0535", ("32025R0535", *named))
        assert aliases == ("32025R0535",), named
        assert (event.kind, event.date, event.document) == (
            EventKind.OJ_PUBLICATION,
            DAY,
            "32025R0535",
        )
        assert event.label_de == "Im Amtsblatt veröffentlicht"


def test_an_act_that_is_an_alias_already_is_published_without_more() -> None:
    aliases, (event,) = events("32025R0535", (), ALIASES | {"32025R0535"})
    assert aliases == () and event.kind is EventKind.OJ_PUBLICATION


def test_an_act_the_entry_does_not_tie_to_the_file_adds_nothing() -> None:
    # threaded by the EP report only, or by another act it amends: not this file's act
    assert events("32026R0555", ("A10-0006/2025",)) == ((), ())
    assert events("32026R0555", ("32021R1060",), ALIASES | {"32021R1060"}) == ((), ())


def test_a_corrigendum_of_the_files_act_is_an_event_berichtigung() -> None:
    aliases, (event,) = events("32025R0535R(01)", (), ALIASES | {"32025R0535"})
    assert aliases == ()
    assert event.kind is EventKind.CORRIGENDUM and event.key == "celex:32025R0535R(01)"
    assert event.label_de == "Berichtigung im Amtsblatt veröffentlicht (32025R0535R(01))"
    # a corrigendum of another act: nothing, however the entry names the file
    assert events("32024R1689R(01)", (FILE,)) == ((), ())


@pytest.mark.parametrize("document", ["52024PC0469", "52024SC0045", "not a celex", "32025C0535"])
def test_proposals_and_other_documents_add_nothing(document: str) -> None:
    assert events(document, (FILE,)) == ((), ())


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://eur-lex.europa.eu/./legal-content/AUTO/?uri=CELEX:32025R0535", "32025R0535"),
        ("https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX%3A32025R0535", "32025R0535"),
        (
            "https://eur-lex.europa.eu/./legal-content/AUTO/?uri=CELEX:32025R0535R(01)",
            "32025R0535R(01)",
        ),
        (
            "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=celex:32025r0535r%2801%29",
            "32025R0535R(01)",
        ),
        ("https://example.org/?uri=CELEX:32025R0535", None),  # not EUR-Lex
        ("https://eur-lex.europa.eu/oj/daily-view/L-series/default.html", None),
        ("", None),
        (None, None),
        ("http://[::1", None),
    ],
)
def test_the_celex_number_an_eurlex_link_names(url: str | None, expected: str | None) -> None:
    assert celex_in_url(url) == expected
