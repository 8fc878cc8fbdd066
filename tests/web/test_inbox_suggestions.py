"""The inbox's default order "Vorschläge": relevance with its reasons, and the unlikely
items folded into "Wahrscheinlich nicht relevant (N)" but never hidden from search or
filters."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.model import Deadline, DeadlineKind, DocType
from pipeline.store import Store
from tests.web.conftest import EP_EN, NOW, Desk, Seeded, add_item, make_settings, visible


def titles(html: str) -> list[str]:
    return [
        visible(t)
        for t in re.findall(r'<td class="title">\s*<a href="/desk/items/\d+">(.*?)</a>', html, re.S)
    ]


def folded_part(html: str) -> str:
    match = re.search(r'<details class="folded" id="folded">(.*?)</details>', html, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def triage(store: Store) -> Seeded:
    """Two suggestions and two unlikely items (the office's default threshold is 0.2)."""
    seeded = Seeded()
    seeded.ids["call"] = add_item(
        store,
        1,
        source=EP_EN,
        title="Call for proposals: urban mobility pilots",
        doc_type=DocType.FUNDING_CALL,
        relevance=0.62,
        published=NOW - dt.timedelta(days=2),
        deadlines=(Deadline(dt.date(2026, 12, 16), DeadlineKind.CALL_CLOSING, ""),),
        reasons=("offene Ausschreibung", "Thema Förderprogramme", "Frist am 16.12.2026"),
    )
    seeded.ids["region"] = add_item(
        store,
        2,
        title="Kommission genehmigt Beihilfe für Wasserstoff in Baden-Württemberg",
        relevance=0.41,
        published=NOW - dt.timedelta(days=1),
        reasons=("erwähnt Baden-Württemberg", "Thema Energie & Klima", "EU-Quelle"),
    )
    seeded.ids["podcast"] = add_item(
        store,
        3,
        title="Giant Bombcast 11-18-2008",
        relevance=0.013,
        published=NOW - dt.timedelta(hours=1),  # the newest of all
        reasons=("keine EU-Quelle",),
    )
    seeded.ids["appointment"] = add_item(
        store,
        4,
        title="Kommission ernennt neue Leiterin der Vertretung in Paris",
        relevance=0.08,
        published=NOW - dt.timedelta(hours=3),
        reasons=("Personalie", "EU-Quelle"),
    )
    return seeded


def test_suggestions_are_the_default_order_with_reasons(anna: Desk, triage: Seeded) -> None:
    html = anna.text("/desk/")
    assert '<option value="suggested" selected>Vorschläge</option>' in html
    assert titles(html)[:2] == [
        "Call for proposals: urban mobility pilots",
        "Kommission genehmigt Beihilfe für Wasserstoff in Baden-Württemberg",
    ]
    text = visible(html)
    # The deadline reason is worded for today (the desk's clock, 25.11.2026): 3 weeks.
    assert "Warum oben: offene Ausschreibung · Thema Förderprogramme · Frist in 3 Wochen" in text
    assert "Warum oben: erwähnt Baden-Württemberg · Thema Energie & Klima · EU-Quelle" in text
    assert "2 Vorschläge, 2 wahrscheinlich nicht relevant" in text


def test_unlikely_items_are_folded_in_a_closed_group(anna: Desk, triage: Seeded) -> None:
    html = anna.text("/desk/")
    folded = folded_part(html)
    assert folded, "no folded group"
    assert "<summary>Wahrscheinlich nicht relevant (2)</summary>" in folded
    assert titles(folded) == [
        "Kommission ernennt neue Leiterin der Vertretung in Paris",  # 0.08 before 0.013
        "Giant Bombcast 11-18-2008",
    ]
    assert "Warum unten: keine EU-Quelle" in visible(folded)
    assert '<details class="folded" id="folded" open' not in html  # closed
    # Folded items can be selected and decided like any other (same form).
    form = html[html.index('<form method="post"') : html.index("</form>", html.index("bulk"))]
    assert f'value="{triage["podcast"]}"' in form


def test_one_folded_item_is_named_in_the_singular(anna: Desk, triage: Seeded, store: Store) -> None:
    anna.post("/desk/items/bulk", data={"item_id": [triage["podcast"]], "action": "reject"})
    html = anna.text("/desk/")
    assert "<summary>Wahrscheinlich nicht relevant (1)</summary>" in html
    assert "1 neue Meldung liegt unter der Relevanzschwelle" in visible(html)


@pytest.mark.parametrize("query", ["q=Bombcast", "source=ec-de", "status=all", "from=2026-11-01"])
def test_a_search_or_filter_folds_nothing(anna: Desk, triage: Seeded, query: str) -> None:
    html = anna.text(f"/desk/?{query}")
    assert not folded_part(html)
    shown = titles(html)
    if query == "q=Bombcast":
        assert shown == ["Giant Bombcast 11-18-2008"]
    else:
        assert "Giant Bombcast 11-18-2008" in shown or query == "source=ec-de"
        assert "Kommission ernennt neue Leiterin der Vertretung in Paris" in shown
    assert "wahrscheinlich nicht relevant" in visible(html)  # marked, not hidden


def test_newest_first_stays_available_and_folds_nothing(anna: Desk, triage: Seeded) -> None:
    html = anna.text("/desk/?order=published")
    assert '<option value="published" selected>Neueste zuerst</option>' in html
    assert titles(html)[0] == "Giant Bombcast 11-18-2008"
    assert len(titles(html)) == 4 and not folded_part(html)
    assert "Warum oben" not in html


def test_show_all_unfolds_the_default_view(anna: Desk, triage: Seeded) -> None:
    html = anna.text("/desk/?order=suggested&fold=0")
    assert not folded_part(html)
    assert titles(html) == [
        "Call for proposals: urban mobility pilots",
        "Kommission genehmigt Beihilfe für Wasserstoff in Baden-Württemberg",
        "Kommission ernennt neue Leiterin der Vertretung in Paris",
        "Giant Bombcast 11-18-2008",
    ]


class TestTheOfficesThreshold:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        """An office whose threshold is 0.5 (office.yaml, desk.inbox_threshold)."""
        settings = make_settings(tmp_path)
        office = settings.office_path
        text = office.read_text(encoding="utf-8")
        assert "  four_eyes: false\n" in text
        office.write_text(
            text.replace("  four_eyes: false\n", "  four_eyes: false\n  inbox_threshold: 0.5\n"),
            encoding="utf-8",
        )
        return settings

    def test_the_land_item_is_folded_too(self, anna: Desk, triage: Seeded) -> None:
        html = anna.text("/desk/")
        assert titles(html)[0] == "Call for proposals: urban mobility pilots"
        assert "<summary>Wahrscheinlich nicht relevant (3)</summary>" in folded_part(html)
        assert "Relevanzschwelle 0,50" in visible(html)


def test_the_item_page_says_why(anna: Desk, triage: Seeded) -> None:
    text = visible(anna.text(f"/desk/items/{triage['call']}"))
    assert (
        "Warum diese Relevanz: offene Ausschreibung · Thema Förderprogramme · Frist in 3 Wochen"
        in text
    )


def test_the_folded_group_is_counted_up_to_its_own_cap(
    anna: Desk, triage: Seeded, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """52 unlikely items, counted up to 51 (at least its first page of 50 is counted)."""
    from pipeline.curate import inbox

    for n in range(5, 55):
        add_item(store, n, title=f"Personalie {n}", relevance=0.05, reasons=("Personalie",))
    assert "<summary>Wahrscheinlich nicht relevant (52)</summary>" in anna.text("/desk/")
    monkeypatch.setattr(inbox, "FOLDED_COUNT_CAP", 51)
    html = anna.text("/desk/")
    text = visible(html)
    assert "2 Vorschläge, über 51 wahrscheinlich nicht relevant" in text
    assert "<summary>Wahrscheinlich nicht relevant (über 51)</summary>" in folded_part(html)
    assert "Über 51 neue Meldungen liegen unter der Relevanzschwelle" in text
    assert "Alle über 51 anzeigen" in text
    assert len(titles(folded_part(html))) == 50  # the group lists its first page
