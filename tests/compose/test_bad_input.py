"""What staff and feeds may hand the renderer, and what the reader must see anyway."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest
from bs4 import BeautifulSoup

from pipeline.compose.render import (
    GREETING,
    PREFERENCES_URL,
    UNSUBSCRIBE_URL,
    greeting,
    personalize,
)
from pipeline.errors import InvalidInput
from pipeline.model import Deadline, DeadlineKind, Priority
from pipeline.model.glossary import Glossary
from pipeline.text import html_to_paragraphs
from tests.compose.data import CHIPS, DNA, EDITION, INTERREG, OWN, make_item, render


def flat(text: str) -> str:
    return " ".join(text.split())


def test_item_without_german_version_shows_its_title_and_a_language_note() -> None:
    # A speech exists in English only: no German link, so the reader is told.
    speech = make_item(
        103,
        "Commission opens consultation on the Digital Networks Act",
        source_id="ec-en",
        language="en",
        url="https://ec.europa.eu/commission/presscorner/detail/en/speech_26_1677",
    )
    digest = render([("Politik", [speech])])
    assert "Commission opens consultation on the Digital Networks Act" in digest.html
    assert "Link führt zu einer englischsprachigen Seite" in digest.html
    assert "Link führt zu einer englischsprachigen Seite" in flat(digest.text)
    assert "/detail/en/speech_26_1677" in digest.html


def test_english_press_release_links_its_german_version_without_a_note() -> None:
    digest = render([("Politik", [DNA])])
    assert "Commission opens consultation on the Digital Networks Act" in digest.html
    assert "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_103" in digest.html
    assert "/detail/en/ip_26_103" not in digest.html + digest.text
    assert "sprachigen Seite" not in digest.html + digest.text


def test_english_eurlex_document_links_its_german_version() -> None:
    act = make_item(
        108,
        "Commission Implementing Regulation (EU) 2025/535",
        source_id="ec-en",
        language="en",
        url="https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX%3A32025R0535",
    )
    digest = render([("Politik", [act])])
    assert "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32025R0535" in digest.text
    assert "sprachigen Seite" not in digest.html + digest.text


def test_german_headline_wins_over_the_english_title() -> None:
    digest = render([("Im Fokus", [CHIPS])])
    assert "Chips-Gesetz: Neue Pilotlinien für Halbleiter" in digest.html
    assert "Commission selects new pilot lines" not in digest.html
    assert "Handlungsbedarf" in digest.html and "[HANDLUNGSBEDARF]" in digest.text


def test_german_item_has_no_language_note() -> None:
    digest = render([("Aus dem Büro", [OWN])])
    assert "sprachigen Seite" not in digest.html + digest.text


def test_empty_sections_are_left_out() -> None:
    digest = render(
        [("Leere Rubrik", []), ("Aus dem Büro", [OWN]), ("Termine", [])], glossary=Glossary()
    )
    sections = re.findall(r"<h2[^>]*>([^<]*)</h2>", digest.html)
    assert sections == ["Fristen in den nächsten 6 Wochen", "Aus dem Büro"]
    assert "Leere Rubrik" not in digest.html
    assert "LEERE RUBRIK" not in digest.text and "\nTERMINE\n" not in digest.text


def test_a_segment_without_items_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no items"):
        render([("Im Fokus", []), ("Termine", [])])


def test_fristen_lists_only_the_next_six_weeks_with_german_dates() -> None:
    far = make_item(
        900,
        "Spätere Frist",
        deadlines=(
            Deadline(dt.date(2026, 11, 24), DeadlineKind.DEADLINE),  # yesterday
            Deadline(dt.date(2026, 11, 25), DeadlineKind.CALL_OPENING),  # today
            Deadline(dt.date(2027, 1, 7), DeadlineKind.CALL_CLOSING),  # 6 weeks + 1 day
        ),
    )
    digest = render([("Förderung", [INTERREG, DNA, far])])
    text = flat(digest.text)
    fristen = text[text.index("FRISTEN") : text.index("FÖRDERUNG")]
    assert "Mo., 4. Januar 2027 – Einreichungsschluss: Interreg Europe" in fristen
    assert "Fr., 18. Dezember 2026 – Konsultation bis: Commission opens" in fristen
    assert "Mi., 25. November 2026 – Öffnung: Spätere Frist" in fristen  # today counts
    assert "1. November 2026" not in text  # DNA's past deadline: nowhere
    assert "24. November 2026 – Frist" not in fristen
    assert "7. Januar 2027" not in fristen  # beyond six weeks, but shown with the item:
    assert "Einreichungsschluss: Do., 7. Januar 2027" in text
    assert (
        fristen.index("25. November") < fristen.index("18. Dezember") < fristen.index("4. Januar")
    )
    assert "Fristen in den nächsten 6 Wochen" in digest.html


def test_no_fristen_block_without_upcoming_deadlines() -> None:
    digest = render([("Im Fokus", [CHIPS])])
    assert "FRISTEN" not in digest.text and "Fristen in den" not in digest.html


def test_a_1000_character_title_is_cut_at_a_word() -> None:
    title = ("Verordnung über die Förderung der grenzüberschreitenden Zusammenarbeit " * 15)[:1000]
    digest = render([("Im Fokus", [make_item(901, title)])])
    soup = BeautifulSoup(digest.html, "html.parser")
    h3 = soup.find("h3")
    assert h3 is not None
    shown = h3.get_text()
    assert 100 < len(shown) <= 160 and shown.endswith("…")
    assert title.startswith(shown[:-1])
    assert title[len(shown) - 1] == " "  # cut before a space: no half word
    assert shown in flat(digest.text)
    assert title not in digest.html and title not in flat(digest.text)
    assert len(digest.subject) <= 110 and digest.subject.endswith("…")


def test_html_in_a_comment_is_shown_as_text_and_never_runs() -> None:
    comment = (
        "<script>alert('x')</script> **Wichtig** <img src=x onerror=alert(1)>"
        " [klick](javascript:alert(1))"
    )
    item = make_item(902, "Meldung", comment=comment, priority=Priority.ACTION)
    digest = render([("Im Fokus", [item])])
    soup = BeautifulSoup(digest.html, "html.parser")
    assert soup.find("script") is None and soup.find("img") is None
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
        assert not str(tag.get("href", "")).lower().startswith("javascript:"), tag
    comment_div = soup.find_all("div", class_="comment")[-1]
    assert "<script>alert('x')</script>" in comment_div.get_text()  # shown, as text
    assert comment_div.find("strong").get_text() == "Wichtig"
    assert "<script>alert('x')</script>" in digest.text  # plain text: harmless there


def test_a_headline_with_html_is_escaped() -> None:
    item = make_item(903, "x", headline='<b onmouseover="x">Fett</b> & mehr')
    digest = render([("Im Fokus", [item])])
    assert "&lt;b onmouseover=" in digest.html and "<b onmouseover" not in digest.html
    assert '<b onmouseover="x">Fett</b> & mehr' in digest.text


def test_a_javascript_link_is_dropped() -> None:
    item = make_item(904, "Böser Link", url="javascript:alert(1)")
    item = replace(item, versions=())
    digest = render([("Im Fokus", [item])])
    assert "javascript:" not in digest.html and "javascript:" not in digest.text
    assert "Böser Link" in digest.html


def test_german_dates_and_umlauts_come_out_right() -> None:
    digest = render([("Förderung & Ausschreibungen", [INTERREG])])
    assert "20. November 2026" in digest.html  # published, in Europe/Berlin
    assert "Mo., 4. Januar 2027" in digest.html
    assert "Förderung &amp; Ausschreibungen" in digest.html  # umlauts as UTF-8, & escaped
    assert "Mi., 25. November 2026" in digest.text
    assert digest.html.startswith("<!DOCTYPE html>") or digest.html.lower().startswith(
        "<!doctype html>"
    )
    assert '<meta charset="utf-8">' in digest.html


def test_a_late_evening_item_is_dated_in_the_office_zone() -> None:
    late = make_item(905, "Spät", published=dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC))
    assert "24. November 2026" in render([("Im Fokus", [late])]).html  # 00:30 in Brussels


def test_placeholders_are_in_both_parts_and_personalize_escapes_for_html() -> None:
    digest = render([("Im Fokus", [OWN])])
    for token in (GREETING, PREFERENCES_URL, UNSUBSCRIBE_URL):
        assert token in digest.text and token in digest.html
    filled = personalize(
        digest,
        greeting="Guten Tag A & B,",
        preferences_url="https://x.example/p?a=1&b=2",
        unsubscribe_url="https://x.example/u/TOKEN",
    )
    assert "%%" not in filled.text + filled.html
    assert "Guten Tag A & B," in filled.text and "Guten Tag A &amp; B," in filled.html
    assert 'href="https://x.example/p?a=1&amp;b=2"' in filled.html
    assert "Abmelden (ein Klick genügt):\nhttps://x.example/u/TOKEN" in filled.text


def test_greeting_is_the_same_in_text_and_html() -> None:
    assert greeting("Jürgen Weiß") == "Guten Tag Jürgen Weiß,"
    assert greeting("") == "Guten Tag,"
    assert greeting("<b>Eve</b> & %%unsubscribe_url%%") == "Guten Tag bEve/b unsubscribe_url,"


def test_footer_says_why_and_has_imprint_and_links() -> None:
    digest = render([("Im Fokus", [OWN])])
    why = "Sie erhalten diesen Newsletter, weil Sie den EU-Wochenbrief abonniert haben."
    assert why in digest.html and why in flat(digest.text)
    assert "Impressum" in digest.html and "Rue de Trèves 59–61, 1040 Brüssel" in digest.html
    assert "Rue de Trèves 59–61, 1040 Brüssel" in digest.text
    assert f'href="{UNSUBSCRIBE_URL}"' in digest.html and f'href="{PREFERENCES_URL}"' in digest.html
    assert "https://wrs.region-stuttgart.de/datenschutz" in digest.text


def test_intro_markdown_becomes_html_and_readable_text() -> None:
    digest = render([("Im Fokus", [OWN])])
    assert "<strong>letzte Förderrunde</strong>" in digest.html
    text = flat(digest.text)
    assert "eine letzte Förderrunde für Interreg" in text  # no ** in the text part
    assert "Veranstaltungskalender (https://wrs.region-stuttgart.de/europa/termine)" in text
    assert EDITION.intro not in digest.text


def test_html_to_paragraphs_keeps_lists_and_links_readable() -> None:
    text = html_to_paragraphs(
        '<p>Eins <a href="https://a.example/x">hier</a></p><ul><li>a</li><li>b</li></ul>'
    )
    assert text == "Eins hier (https://a.example/x)\n\n- a\n- b"
