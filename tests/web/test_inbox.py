"""The inbox: listing, every filter, full-text search, order, paging, bulk actions."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from pipeline import curate
from pipeline.ingest.dedupe import Incoming, decide
from pipeline.model import (
    Classification,
    DocType,
    ItemStatus,
    NormalizedItem,
    StaffUser,
    TopicOrigin,
)
from pipeline.store import Store
from tests.web.conftest import EP_EN, NOW, Clock, Desk, Seeded, add_item, visible


def titles(html: str) -> list[str]:
    """The item titles of an inbox page, in order."""
    return [
        visible(t)
        for t in re.findall(r'<td class="title">\s*<a href="/desk/items/\d+">(.*?)</a>', html, re.S)
    ]


def test_inbox_lists_new_items_newest_first_with_german_labels(anna: Desk, items: Seeded) -> None:
    html = anna.text("/desk/?order=published")
    assert titles(html) == [
        "Kommission fördert Wasserstoffprojekte in Straßenbahnen der Region",
        "Call for proposals: urban mobility pilots",
        "Konsultation zur Zukunft der Kohäsionspolitik",
    ]
    text = visible(html)
    assert "3 Meldungen · Seite 1 von 1" in text
    assert "25.11.2026, 07:30" in text  # 06:30 UTC in Brussels (CET)
    assert "Energie & Klima 0,74" in text and "Mobilität & Verkehr 0,52" in text
    assert "Frist: 15.03.2027" in text
    assert "Konsultation bis: 31.01.2027" in text
    assert "IP/26/100" in text
    assert "Förderaufruf" in text and "Pressemitteilung" in text and "Konsultation" in text
    assert "Presseraum EU-Kommission" in text
    assert "0,80" in text  # relevance


def test_order_by_relevance(anna: Desk, items: Seeded) -> None:
    html = anna.text("/desk/?order=relevance")
    assert titles(html)[0].startswith("Kommission fördert")
    assert titles(html)[1:] == [
        "Konsultation zur Zukunft der Kohäsionspolitik",
        "Call for proposals: urban mobility pilots",
    ]
    assert '<option value="suggested" selected>Vorschläge</option>' in html  # older links


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=Wasserstoffprojekte", ["hydrogen"]),
        ("q=Kohäsionspolitik", ["cohesion"]),
        ("source=ep-en", ["call"]),
        ("institution=European+Parliament", ["call"]),
        ("institution=European+Commission", ["hydrogen", "cohesion"]),
        ("topic=cohesion", ["cohesion"]),
        ("topic=energy_climate", ["hydrogen"]),
        ("doc_type=funding_call", ["call"]),
        ("language=en", ["call"]),
        ("language=de", ["hydrogen", "cohesion"]),
        ("from=2026-11-20", ["hydrogen", "call"]),
        ("to=2026-11-20", ["cohesion"]),
        ("from=2026-11-21&to=2026-11-23", ["call"]),
        ("from=21.11.2026&to=23.11.2026", ["call"]),
        ("q=Wasserstoffprojekte&language=en", []),
    ],
)
def test_each_filter_narrows_the_list(
    anna: Desk, items: Seeded, query: str, expected: list[str]
) -> None:
    html = anna.text(f"/desk/?{query}")
    shown = set(re.findall(r'name="item_id" value="(\d+)"', html))
    assert shown == {str(items[name]) for name in expected}
    if not expected:
        assert "Keine Meldungen für diese Filter." in visible(html)


def test_full_text_search_finds_a_german_word_inside_the_summary(anna: Desk, items: Seeded) -> None:
    html = anna.text("/desk/?q=Nahverkehr")
    assert titles(html) == ["Kommission fördert Wasserstoffprojekte in Straßenbahnen der Region"]


def test_status_filter(anna: Desk, items: Seeded, store: Store) -> None:
    anna.post("/desk/items/bulk", data={"item_id": [items["call"]], "action": "accept"})
    anna.post("/desk/items/bulk", data={"item_id": [items["cohesion"]], "action": "reject"})
    assert titles(anna.text("/desk/")) == [
        "Kommission fördert Wasserstoffprojekte in Straßenbahnen der Region"
    ]
    assert titles(anna.text("/desk/?status=accepted")) == [
        "Call for proposals: urban mobility pilots"
    ]
    assert titles(anna.text("/desk/?status=rejected")) == [
        "Konsultation zur Zukunft der Kohäsionspolitik"
    ]
    all_ = anna.text("/desk/?status=all")
    assert len(titles(all_)) == 3
    assert "Übernommen" in visible(all_) and "Abgelehnt" in visible(all_)


def test_filters_are_kept_in_the_form(anna: Desk, items: Seeded) -> None:
    html = anna.text("/desk/?q=Stra%C3%9Fe&source=ec-de&topic=mobility&status=all&from=2026-11-01")
    assert 'value="Straße"' in html
    assert '<option value="ec-de" selected>' in html
    assert '<option value="mobility" selected>' in html
    assert '<option value="all" selected>' in html
    assert 'value="2026-11-01"' in html


def test_bad_filter_values_are_named_not_fatal(anna: Desk, items: Seeded) -> None:
    response = anna.get("/desk/?from=gestern&status=kaputt&page=x")
    assert response.status_code == 200
    text = visible(response.text)
    assert "„gestern“ ist kein Datum" in text
    assert "Unbekannter Status" in text
    assert len(titles(response.text)) == 3


def test_paging_50_per_page_keeps_the_filters(anna: Desk, store: Store) -> None:
    for n in range(120):
        add_item(
            store,
            1000 + n,
            source=EP_EN,
            title=f"Item {n:03d}",
            published=NOW - dt.timedelta(minutes=n),
        )
    first = anna.text("/desk/?language=en")
    assert "120 Meldungen · Seite 1 von 3" in visible(first)
    assert len(titles(first)) == 50 and titles(first)[0] == "Item 000"
    assert 'href="/desk/?language=en&amp;status=new&amp;page=2"' in first
    second = anna.text("/desk/?language=en&status=new&page=2")
    assert "Seite 2 von 3" in visible(second)
    assert titles(second)[0] == "Item 050"
    last = anna.text("/desk/?language=en&page=3")
    assert len(titles(last)) == 20
    beyond = anna.text("/desk/?language=en&page=99")  # a page past the end shows the last one
    assert "Seite 3 von 3" in visible(beyond) and titles(beyond)[-1] == "Item 119"


# ---------------------------------------------------------------- bulk actions


def test_bulk_accept_redirects_back_to_the_filtered_page(
    anna: Desk, items: Seeded, store: Store
) -> None:
    back = "q=Wasserstoff&language=de&page=1"
    response = anna.post(
        "/desk/items/bulk",
        data={"item_id": [items["hydrogen"], items["cohesion"]], "action": "accept", "back": back},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/desk/?q=Wasserstoff&language=de&page=1"
    assert store.items.get(items["hydrogen"]).status is ItemStatus.ACCEPTED
    assert store.items.get(items["cohesion"]).status is ItemStatus.ACCEPTED
    assert store.items.get(items["call"]).status is ItemStatus.NEW
    assert "2 Meldungen übernommen." in anna.text(response.headers["Location"])
    audit = store.items.audit(items["hydrogen"])
    assert audit[0].actor == "anna" and audit[0].action == "status.accepted"


def test_bulk_back_link_cannot_leave_the_inbox(anna: Desk, items: Seeded) -> None:
    response = anna.post(
        "/desk/items/bulk",
        data={"item_id": [items["call"]], "action": "reject", "back": "x=//evil.test&next=/"},
    )
    assert response.headers["Location"] == "/desk/"


def test_bulk_reject(anna: Desk, items: Seeded, store: Store) -> None:
    response = anna.post("/desk/items/bulk", data={"item_id": [items["call"]], "action": "reject"})
    assert response.status_code == 303
    assert store.items.get(items["call"]).status is ItemStatus.REJECTED
    assert "1 Meldung abgelehnt." in anna.text("/desk/")


def staff_topics(store: Store, item_id: int) -> set[str]:
    return {t.topic_id for t in store.items.get(item_id).topics if t.origin is TopicOrigin.STAFF}


def test_bulk_add_topics_keeps_the_confirmed_ones(anna: Desk, items: Seeded, store: Store) -> None:
    """The old "Themen setzen" replaced confirmed topics; adding never drops one."""
    store.items.set_topics([items["hydrogen"]], ["energy_climate"], now=NOW, actor="anna")
    auto_call = {t.topic_id for t in store.items.get(items["call"]).topics}
    response = anna.post(
        "/desk/items/bulk",
        data={
            "item_id": [items["hydrogen"], items["call"]],
            "topic": ["funding", "municipalities"],
            "action": "topics_add",
        },
    )
    assert response.status_code == 303
    assert staff_topics(store, items["hydrogen"]) == {"energy_climate", "funding", "municipalities"}
    # an item without confirmed topics keeps what it showed, now confirmed, plus the new ones
    assert staff_topics(store, items["call"]) == auto_call | {"funding", "municipalities"}
    assert store.items.get(items["call"]).status is ItemStatus.NEW  # topics do not accept
    assert "Themen für 2 Meldungen hinzugefügt." in anna.text("/desk/")
    audit = store.items.audit(items["hydrogen"])
    assert audit[0].actor == "anna" and audit[0].action == "topics"


def test_old_topics_action_adds_too(anna: Desk, items: Seeded, store: Store) -> None:
    store.items.set_topics([items["hydrogen"]], ["energy_climate"], now=NOW, actor="anna")
    anna.post(
        "/desk/items/bulk",
        data={"item_id": [items["hydrogen"]], "topic": ["funding"], "action": "topics"},
    )
    assert staff_topics(store, items["hydrogen"]) == {"energy_climate", "funding"}


def test_bulk_remove_topics_removes_only_those(anna: Desk, items: Seeded, store: Store) -> None:
    store.items.set_topics(
        [items["hydrogen"]], ["energy_climate", "funding", "mobility"], now=NOW, actor="anna"
    )
    response = anna.post(
        "/desk/items/bulk",
        data={"item_id": [items["hydrogen"]], "topic": ["funding"], "action": "topics_remove"},
    )
    assert response.status_code == 303
    assert staff_topics(store, items["hydrogen"]) == {"energy_climate", "mobility"}
    assert "Themen für 1 Meldung entfernt." in anna.text("/desk/")


def test_bulk_topics_without_a_topic_is_a_400(anna: Desk, items: Seeded, store: Store) -> None:
    response = anna.post(
        "/desk/items/bulk", data={"item_id": [items["hydrogen"]], "action": "topics_add"}
    )
    assert response.status_code == 400
    assert staff_topics(store, items["hydrogen"]) == set()


def test_bulk_accept_with_topics_adds_them(anna: Desk, items: Seeded, store: Store) -> None:
    store.items.set_topics([items["cohesion"]], ["funding"], now=NOW, actor="anna")
    anna.post(
        "/desk/items/bulk",
        data={"item_id": [items["cohesion"]], "topic": ["cohesion"], "action": "accept"},
    )
    assert store.items.get(items["cohesion"]).status is ItemStatus.ACCEPTED
    assert staff_topics(store, items["cohesion"]) == {"funding", "cohesion"}


# ---------------------------------------------------------------- one row, undo


def test_row_accept_without_script_redirects_back(anna: Desk, items: Seeded, store: Store) -> None:
    response = anna.post(
        f"/desk/items/{items['call']}/triage",
        data={"action": "accept", "back": "q=mobility", "item_id": [items["hydrogen"]]},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/desk/?q=mobility"
    assert store.items.get(items["call"]).status is ItemStatus.ACCEPTED
    assert store.items.get(items["hydrogen"]).status is ItemStatus.NEW  # only the row
    assert "„Call for proposals: urban mobility pilots“ übernommen." in anna.text("/desk/")
    assert store.items.audit(items["call"])[0].action == "status.accepted"


def test_row_reject_answers_json_to_the_script(anna: Desk, items: Seeded, store: Store) -> None:
    response = anna.post(
        f"/desk/items/{items['cohesion']}/triage",
        data={"action": "reject"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "id": items["cohesion"],
        "status": "rejected",
        "message": "„Konsultation zur Zukunft der Kohäsionspolitik“ abgelehnt.",
    }
    assert store.items.get(items["cohesion"]).status is ItemStatus.REJECTED


def test_row_triage_needs_csrf_and_a_known_action(anna: Desk, items: Seeded, store: Store) -> None:
    url = f"/desk/items/{items['call']}/triage"
    assert anna.post(url, data={"action": "accept", "csrf_token": "forged"}).status_code == 400
    assert anna.post(url, data={"action": "delete"}).status_code == 400
    assert anna.post("/desk/items/999999/triage", data={"action": "accept"}).status_code == 404
    assert store.items.get(items["call"]).status is ItemStatus.NEW


def test_undo_restores_the_last_action_once(anna: Desk, items: Seeded, store: Store) -> None:
    anna.post(f"/desk/items/{items['call']}/triage", data={"action": "reject"})
    anna.post(
        "/desk/items/bulk",
        data={"item_id": [items["hydrogen"], items["call"]], "action": "accept"},
    )
    response = anna.post("/desk/items/undo", headers={"Accept": "application/json"})
    assert response.get_json() == {
        "restored": {str(items["hydrogen"]): "new", str(items["call"]): "rejected"},
        "message": "Rückgängig: 2 Meldungen wieder wie vorher.",
    }
    assert store.items.get(items["hydrogen"]).status is ItemStatus.NEW
    assert store.items.get(items["call"]).status is ItemStatus.REJECTED
    assert store.items.audit(items["hydrogen"])[0].action == "status.new"
    response = anna.post("/desk/items/undo", data={"back": "status=all"})  # without script
    assert response.headers["Location"] == "/desk/?status=all"
    assert "Nichts rückgängig zu machen." in anna.text("/desk/")
    assert store.items.get(items["call"]).status is ItemStatus.REJECTED


def test_e_puts_an_item_into_the_newest_draft(
    anna: Desk, items: Seeded, store: Store, staff: dict[str, StaffUser], clock: Clock
) -> None:
    url = f"/desk/items/{items['call']}/edition"
    assert anna.post(url).status_code == 400  # no draft yet
    assert 'class="row-edition"' not in anna.text("/desk/")
    office = anna.client.application.extensions["eudigest"].office
    edition = curate.create_edition(
        store, office, "weekly", title="KW 48", intro="", actor=staff["anna"], now=clock()
    )
    assert "in den Entwurf „KW 48“ einfügen" in anna.text("/desk/")
    response = anna.post(url, headers={"Accept": "application/json"})
    assert response.get_json()["message"] == (
        "„Call for proposals: urban mobility pilots“ übernommen und in „KW 48“ eingefügt."
    )
    assert store.items.get(items["call"]).status is ItemStatus.ACCEPTED
    assert store.editions.get(edition.id).item_ids == (items["call"],)
    response = anna.post(f"/desk/items/{items['hydrogen']}/edition", data={"back": "q=x"})
    assert response.headers["Location"] == "/desk/?q=x"  # without script
    assert store.editions.get(edition.id).item_ids == (items["call"], items["hydrogen"])


def test_inbox_page_offers_row_actions_and_folds_filters(anna: Desk, items: Seeded) -> None:
    html = anna.text("/desk/")
    assert f'formaction="/desk/items/{items["call"]}/triage"' in html
    assert '<details class="filter-fold" id="filters" open>' in html
    assert 'formaction="/desk/items/undo"' in html
    assert "Themen setzen" not in html


def test_bulk_without_selection_changes_nothing(anna: Desk, items: Seeded, store: Store) -> None:
    response = anna.post("/desk/items/bulk", data={"action": "accept"})
    assert response.status_code == 303
    assert "Bitte zuerst Meldungen auswählen." in anna.text("/desk/")
    assert all(
        i.status is ItemStatus.NEW for i in store.items.get_many(items.ids.values()).values()
    )


@pytest.mark.parametrize(
    "data",
    [
        {"item_id": ["abc"], "action": "accept"},
        {"item_id": ["1"], "action": "explode"},
        {"item_id": ["1"], "topic": ["astrology"], "action": "topics"},
        {"item_id": ["1"], "topic": ["astrology"], "action": "topics_remove"},
    ],
)
def test_bulk_bad_input_is_a_400_and_changes_nothing(
    anna: Desk, items: Seeded, store: Store, data: dict[str, list[str]]
) -> None:
    response = anna.post("/desk/items/bulk", data=data)
    assert response.status_code == 400
    after = store.items.get_many(items.ids.values()).values()
    assert all(i.status is ItemStatus.NEW for i in after)
    assert all(t.origin is TopicOrigin.AUTO for i in after for t in i.topics)


def test_inbox_shows_own_headline_instead_of_title(anna: Desk, items: Seeded) -> None:
    item_id = items["call"]
    anna.post(
        f"/desk/items/{item_id}/annotation",
        data={"headline": "Aufruf: Pilotprojekte für Mobilität in Städten", "comment": "",
              "priority": "fyi", "version": "0", "save": "1"},
    )  # fmt: skip
    assert "Aufruf: Pilotprojekte für Mobilität in Städten" in titles(anna.text("/desk/"))


def test_new_doc_types_show_in_german(anna: Desk, items: Seeded, store: Store) -> None:
    add_item(store, 300, title="Rede von Präsidentin von der Leyen", doc_type=DocType.SPEECH)
    add_item(store, 301, title="Studie zur Zulieferindustrie", doc_type=DocType.REPORT)
    html = anna.text("/desk/")
    text = visible(html)
    assert "Rede" in text and "Bericht & Statistik" in text
    assert '<option value="speech">Rede</option>' in html  # the doc-type filter
    assert titles(anna.text("/desk/?doc_type=report")) == ["Studie zur Zulieferindustrie"]


def test_doc_type_labels_cover_every_doc_type() -> None:
    from pipeline.web.formatting import DOC_TYPE_LABELS

    assert set(DOC_TYPE_LABELS) == set(DocType)


def test_source_filter_finds_what_a_second_source_also_carried(
    anna: Desk, items: Seeded, store: Store
) -> None:
    # The Parliament's feed carries the Commission's hydrogen press release too (the same
    # entry: same link, same guid). It stays one item, and either source filter finds it.
    hydrogen = store.items.get(items["hydrogen"])
    version = hydrogen.versions[0]
    entry = NormalizedItem(
        source_id=EP_EN.id,
        identity=version.identity,
        title=version.title,
        url=version.url,
        summary_html=version.summary_html,
        summary_text="Förderaufruf für Wasserstoff im Nahverkehr",
        language=version.language,
        published=hydrogen.published,
        updated=None,
        content_hash=version.content_hash,
        family=None,
    )
    known = store.items.lookup({entry.identity}, {version.url or ""}, set())
    changes = decide(
        [Incoming(entry, Classification((), DocType.PRESS_RELEASE, (), (), 0.1))],
        known,
        institution=EP_EN.institution,
    )
    store.items.apply(changes, now=NOW)
    assert store.items.count() == 3
    for query, expected in (
        ("source=ep-en", ["hydrogen", "call"]),
        ("source=ec-de", ["hydrogen", "cohesion"]),
        ("institution=European+Parliament", ["hydrogen", "call"]),
    ):
        html = anna.text(f"/desk/?{query}")
        assert titles(html) == [store.items.get(items[n]).title for n in expected], query


def test_bulk_answers_json_to_the_script(anna: Desk, items: Seeded, store: Store) -> None:
    """With the script the bulk bar posts with fetch: the answer names the rows, their new
    status and topic chips, and a German message; errors come back as JSON too."""
    json = {"Accept": "application/json"}
    h, c = items["hydrogen"], items["call"]
    answer = anna.post(
        "/desk/items/bulk", data={"item_id": [h, c], "action": "accept"}, headers=json
    )
    assert answer.status_code == 200
    assert answer.json["ids"] == sorted([h, c]) and answer.json["status"] == "accepted"
    assert answer.json["message"] == "2 Meldungen übernommen."
    topics = anna.post(
        "/desk/items/bulk",
        data={"item_id": [c], "action": "topics_add", "topic": "cohesion"},
        headers=json,
    )
    assert "Kohäsion" in topics.json["chips"][str(c)] and topics.json["status"] is None
    missing = anna.post("/desk/items/bulk", data={"action": "topics_add"}, headers=json)
    assert missing.json == {"ids": [], "message": "Bitte zuerst Meldungen auswählen."}
    bad = anna.post("/desk/items/bulk", data={"item_id": [c], "action": "topics_add"}, headers=json)
    assert bad.status_code == 400 and bad.json["message"] == "Bitte mindestens ein Thema wählen."
    undone = anna.post("/desk/items/undo", headers=json)
    assert undone.json["restored"] == {str(h): "new", str(c): "new"}


def test_bulk_into_the_draft_accepts_and_adds_in_order(
    anna: Desk, items: Seeded, store: Store
) -> None:
    refused = anna.post("/desk/items/bulk", data={"item_id": [items["call"]], "action": "edition"})
    assert refused.status_code == 400  # no draft yet
    anna.post("/desk/editions/", data={"newsletter": "weekly", "title": "KW 48", "intro": ""})
    response = anna.post(
        "/desk/items/bulk",
        data={"item_id": [items["call"], items["cohesion"]], "action": "edition"},
    )
    assert response.status_code == 303
    assert "2 Meldungen übernommen und in „KW 48“ eingefügt." in visible(anna.text("/desk/"))
    assert store.items.get(items["call"]).status is ItemStatus.ACCEPTED
    (draft,) = store.editions.list(limit=1)
    assert [i for s in draft.sections for i in s.item_ids] == sorted(
        [items["call"], items["cohesion"]]
    )
