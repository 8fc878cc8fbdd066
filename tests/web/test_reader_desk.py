"""Issue 17 on the desk: staff see and correct a funding call's facets and filter the inbox
by them; the glossary is offered beside the comment and marks the public archive."""

from __future__ import annotations

import re

from flask import Flask

from pipeline.model import EditionState
from pipeline.model.eligibility import Applicant
from pipeline.store import Store
from tests.web.conftest import Desk, Seeded, visible
from tests.web.test_archive import annotate, make_edition


def test_staff_correct_a_calls_facets_and_filter_the_inbox_by_them(
    anna: Desk, items: Seeded, store: Store
) -> None:
    call = items["call"]
    text = visible(anna.text(f"/desk/items/{call}"))
    assert "Antragsberechtigung: siehe Aufruf (die Quelle nennt keine Angaben)." in text
    assert "Antragsberechtigung" not in visible(anna.text(f"/desk/items/{items['hydrogen']}"))

    response = anna.post(
        f"/desk/items/{call}/eligibility",
        {
            "applicants": ["kommunen", "kmu"],
            "programme": "Fazilität „Connecting Europe“",
            "budget_eur": "1.500.000",
            "funding_rate": "80 %",
            "german_applicants": "ja",
            "save": "1",
        },
    )
    assert response.status_code == 303
    saved = store.items.get(call).eligibility
    assert saved is not None and saved.applicants == (Applicant.KOMMUNEN, Applicant.KMU)
    assert (saved.budget_eur, saved.funding_rate, saved.edited_by) == (1_500_000, 80, "anna")
    page = anna.text(f"/desk/items/{call}")
    assert "Von anna korrigiert" in visible(page)
    assert 'value="1.500.000"' in page
    assert "Antragsberechtigung korrigiert" in visible(page)  # the Verlauf

    inbox = anna.text("/desk/?status=all&applicant=kmu")
    assert "urban mobility pilots" in inbox and "Wasserstoffprojekte" not in inbox
    assert "urban mobility pilots" not in anna.text("/desk/?status=all&applicant=hochschulen")
    by_programme = anna.text("/desk/?status=all&programme=Fazilität „Connecting Europe“")
    assert "urban mobility pilots" in by_programme
    assert "Unbekannte Art des Antragstellers" in anna.text("/desk/?applicant=gemeinde")

    refused = anna.post(f"/desk/items/{call}/eligibility", {"funding_rate": "150"})
    assert refused.status_code == 400
    assert store.items.get(call).eligibility == saved  # nothing changed

    anna.post(f"/desk/items/{call}/eligibility", {"clear": "1"})
    assert store.items.get(call).eligibility is None


def test_the_glossary_is_offered_beside_the_comment(anna: Desk, items: Seeded) -> None:
    html = anna.text(f"/desk/items/{items['call']}")
    hint = html[html.index('<details class="glossary-hint">') :]
    hint = hint[: hint.index("</details>")]
    # the item's text names a call for proposals: that term first, all others after it
    assert "in dieser Meldung: Aufforderung zur Einreichung von Vorschlägen" in hint
    assert hint.count("<dt>") >= 40 and "Trilog" in hint


def test_the_archive_marks_the_first_use_of_each_term(
    app: Flask, anon: Desk, items: Seeded, store: Store
) -> None:
    annotate(
        store,
        items["hydrogen"],
        "Wasserstoff: Einigung im Trilog",
        "Der Trilog hat sich geeinigt; auch KMU profitieren. Nach dem Trilog folgt das Plenum.",
    )
    edition = make_edition(
        store,
        "weekly",
        "EU-Wochenbrief 48/2026",
        [("Im Fokus", [items["hydrogen"]])],
        intro="Diese Woche: der Trilog zum Wasserstoff.",
        state=EditionState.SENT,
    )
    html = anon.text(f"/archiv/{edition.id}/eu-wochenbrief-48-2026")
    marked = re.findall(r'<(dfn|abbr) title="([^":]+): [^"]+">([^<]+)</\1>', html)
    assert marked == [
        ("dfn", "Trilog", "Trilog"),
        ("abbr", "KMU", "KMU"),
        ("dfn", "Plenum", "Plenum"),
    ]
