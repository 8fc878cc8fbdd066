"""The edition editor at the speed of triage (issue 15): sections reordered by buttons,
back to the place acted on, many items added at once, the proposal's window."""

from __future__ import annotations

from pipeline.store import Store
from tests.web.conftest import Desk, Seeded, visible
from tests.web.test_editions import accepted, layout, new_edition, section_ids

__all__ = ["accepted"]  # the fixture, shared with test_editions


def test_sections_move_up_and_down_audited_and_back_at_the_section(
    anna: Desk, store: Store
) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    anna.post(f"{url}/sections", data={"title": "Kommunen"})
    focus, funding, towns = section_ids(store, edition_id)
    page = anna.text(url)
    assert f'id="section-{towns}"' in page and "Abschnitt Kommunen nach oben" in page
    response = anna.post(f"{url}/sections/{towns}/move", data={"delta": "-1"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{url}#section-{towns}"
    assert section_ids(store, edition_id) == [focus, towns, funding]
    assert "Reihenfolge der Abschnitte geändert." in visible(anna.text(url))
    anna.post(f"{url}/sections/{focus}/move", data={"delta": "1"})
    assert [t for t, _ in layout(store, edition_id)] == [
        "Kommunen",
        "Im Fokus",
        "Förderung & Ausschreibungen",
    ]
    # at the edge nothing changes; a bad step changes nothing
    anna.post(f"{url}/sections/{towns}/move", data={"delta": "-1"})
    assert section_ids(store, edition_id) == [towns, focus, funding]
    assert anna.post(f"{url}/sections/{towns}/move", data={"delta": "3"}).status_code == 400
    assert section_ids(store, edition_id) == [towns, focus, funding]
    audit = [e.detail for e in store.editions.audit(edition_id)]
    assert any("Kommunen" in (d or "") and "nach oben" in (d or "") for d in audit)


def test_item_actions_come_back_to_the_item(anna: Desk, accepted: Seeded, store: Store) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    h, c = accepted["hydrogen"], accepted["call"]
    anna.post(f"{url}/items", data={"item_id": [str(h), str(c)]})
    assert f'id="item-{h}"' in anna.text(url)
    moved = anna.post(f"{url}/items/{c}/move", data={"delta": "-1"})
    assert moved.headers["Location"] == f"{url}#item-{c}"
    meta = anna.post(f"{url}/meta", data={"title": "T", "intro": "", "version": "999"})
    assert meta.status_code in (303, 409)


def test_many_inbox_items_added_at_once_each_to_its_section(
    anna: Desk, accepted: Seeded, store: Store
) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    focus, funding = section_ids(store, edition_id)
    h, c, k = accepted["hydrogen"], accepted["call"], accepted["cohesion"]
    page = anna.text(url)
    assert "Ausgewählte hinzufügen" in page and f'name="section_{c}"' in page
    response = anna.post(
        f"{url}/items",
        data={
            "item_id": [str(h), str(c), str(k)],
            "many": "1",
            f"section_{h}": str(focus),
            f"section_{c}": str(funding),
            f"section_{k}": str(focus),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"{url}#sections-title"
    assert layout(store, edition_id) == [
        ("Im Fokus", (h, k)),
        ("Förderung & Ausschreibungen", (c,)),
    ]
    assert "3 Meldungen hinzugefügt." in visible(anna.text(url))


def test_a_rows_own_button_adds_only_that_row(anna: Desk, accepted: Seeded, store: Store) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    _, funding = section_ids(store, edition_id)
    h, c = accepted["hydrogen"], accepted["call"]
    anna.post(
        f"{url}/items",
        data={"item_id": [str(h)], "one": str(c), f"section_{c}": str(funding)},
    )
    assert layout(store, edition_id) == [("Im Fokus", ()), ("Förderung & Ausschreibungen", (c,))]


def test_adding_nothing_or_a_bad_id_changes_nothing(
    anna: Desk, accepted: Seeded, store: Store
) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    empty = anna.post(f"{url}/items", data={"many": "1"})
    assert empty.status_code == 400 and "Bitte zuerst Meldungen auswählen." in visible(empty.text)
    bad = anna.post(f"{url}/items", data={"item_id": ["x"]})
    assert bad.status_code == 400
    assert store.editions.get(edition_id).item_ids == ()


def test_propose_says_its_window_and_staff_widen_or_narrow_it(
    anna: Desk, accepted: Seeded, store: Store
) -> None:
    page = anna.text("/desk/editions/")
    assert 'id="days-weekly"' in page and 'value="15"' in page  # 14 days and a day's overlap
    narrow = anna.post("/desk/editions/propose", data={"newsletter": "weekly", "days": "5"})
    assert narrow.status_code == 303
    first = store.editions.get(int(narrow.headers["Location"].rsplit("/", 1)[1]))
    assert set(first.item_ids) == {accepted["hydrogen"], accepted["call"]}  # not 10 days old
    shown = visible(anna.text(narrow.headers["Location"]))
    assert "Entwurf mit 2 Meldungen vorgeschlagen" in shown
    assert "veröffentlicht seit dem 20.11.2026 (5 Tage)" in shown
    # after that edition the default is since it (a day's overlap); wider takes the older item
    assert 'value="1"' in anna.text("/desk/editions/")
    wide = anna.post("/desk/editions/propose", data={"newsletter": "weekly", "days": "30"})
    second = store.editions.get(int(wide.headers["Location"].rsplit("/", 1)[1]))
    assert set(second.item_ids) == {accepted["cohesion"]}
    for bad in ("0", "9999", "viele"):
        refused = anna.post("/desk/editions/propose", data={"newsletter": "weekly", "days": bad})
        assert refused.status_code == 400
    assert len(store.editions.list()) == 2


def test_drag_and_drop_posts_a_position_to_the_same_endpoints(
    anna: Desk, accepted: Seeded, store: Store
) -> None:
    """The editor's drag and drop sends `position` (0 first) to the move endpoints, with
    JSON for the script; the place persists and is audited."""
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    anna.post(f"{url}/sections", data={"title": "Kommunen"})
    focus, funding, towns = section_ids(store, edition_id)
    json = {"Accept": "application/json"}
    answer = anna.post(f"{url}/sections/{towns}/move", data={"position": "0"}, headers=json)
    assert answer.status_code == 200
    assert answer.json == {
        "message": "Reihenfolge der Abschnitte geändert.",
        "anchor": f"section-{towns}",
    }
    assert section_ids(store, edition_id) == [towns, focus, funding]
    anna.post(f"{url}/sections/{towns}/move", data={"position": "99"})  # past the end: last
    assert section_ids(store, edition_id) == [focus, funding, towns]
    assert anna.post(f"{url}/sections/{towns}/move", data={"position": "-1"}).status_code == 400
    assert any("an Stelle 3" in e.detail for e in store.editions.audit(edition_id))

    h, c, k = accepted["hydrogen"], accepted["call"], accepted["cohesion"]
    anna.post(f"{url}/items", data={"item_id": [str(h), str(c), str(k)], "section_id": focus})
    assert layout(store, edition_id)[0] == ("Im Fokus", (h, c, k))
    anna.post(f"{url}/items/{k}/move", data={"section_id": focus, "position": "0"}, headers=json)
    assert layout(store, edition_id)[0] == ("Im Fokus", (k, h, c))
    anna.post(f"{url}/items/{h}/move", data={"section_id": towns, "position": "0"}, headers=json)
    assert layout(store, edition_id) == [
        ("Im Fokus", (k, c)),
        ("Förderung & Ausschreibungen", ()),
        ("Kommunen", (h,)),
    ]
    page = anna.text(url)
    assert 'class="sortable-edition"' in page and f'data-item="{h}"' in page
