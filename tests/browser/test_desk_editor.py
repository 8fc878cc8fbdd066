"""The edition editor and the item page at the speed of triage (issue 15): sections
reordered by buttons (back at the section, not the top), an edition built, approved and
sent with "Jetzt senden" from the desk alone, and the warning before unsaved work on the
item page is left."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipeline import curate
from pipeline.model import EditionState, ItemStatus, NewSubscriber, Profile
from pipeline.store.items import InboxQuery
from pipeline.web.editions import SEND_THREAD
from subscribers.addresses import hash_of
from tests.browser.conftest import LiveDesk, Watch, flash, item_id, login, serve_copy
from tests.subscribers.conftest import Outbox

ECB_LANE = "Philip R. Lane: Outlook for the euro area economy"
BASE = "https://newsletter.region-stuttgart.example"  # mailed links need https
READER = "leserin@kommune-esslingen.example"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, corpus_db: Path) -> Iterator[LiveDesk]:
    yield from serve_copy(tmp_path_factory.mktemp("live-editor"), corpus_db, base_url=BASE)


def test_sections_reordered_by_buttons_come_back_at_the_section(page: Page, live: LiveDesk) -> None:
    bernd = live.store.users.by_name("bernd")
    assert bernd is not None
    edition = curate.create_edition(
        live.store,
        live.services.office(),
        "weekly",
        title="EU-Wochenbrief 50/2026",
        intro="",
        actor=bernd,
        now=live.services.clock(),
    )
    before = [s.title for s in sorted(edition.sections, key=lambda s: s.position)]
    login(page, "anna")
    page.goto(f"/desk/editions/{edition.id}")
    last = before[-1]
    page.get_by_role("button", name=f"Abschnitt {last} nach oben").click()
    flash(page, "Reihenfolge der Abschnitte geändert.")
    moved = next(s for s in live.store.editions.get(edition.id).sections if s.title == last)
    expect(page).to_have_url(re.compile(rf"/desk/editions/{edition.id}#section-{moved.id}$"))
    # the page is scrolled to the section, not the top
    assert page.evaluate("window.scrollY") > 0
    after = live.store.editions.get(edition.id)
    titles = [s.title for s in sorted(after.sections, key=lambda s: s.position)]
    assert titles == [*before[:-2], last, before[-2]]
    expect(page.get_by_role("button", name=f"Abschnitt {before[0]} nach oben")).to_be_disabled()
    audit = [e.detail or "" for e in live.store.editions.audit(edition.id)]
    assert any(last in d and "nach oben" in d for d in audit)


def test_drag_and_drop_reorders_sections_and_items_and_it_persists(
    page: Page, live: LiveDesk
) -> None:
    """The browser's own drag and drop: a section dragged by its title onto the first one
    goes first, an item dragged onto another takes its place; both survive a reload."""
    anna = live.store.users.by_name("anna")
    assert anna is not None
    now = live.services.clock()
    found = live.store.items.search(InboxQuery(per_page=3)).items
    curate.accept(live.store, [i.id for i in found], actor=anna, now=now)
    edition = curate.create_edition(
        live.store, live.services.office(), "weekly", title="KW 51", intro="", actor=anna, now=now
    )
    for i in found:
        curate.place_item(live.store, edition.id, i.id, section_id=None, actor=anna, now=now)
    sections = [s.title for s in sorted(edition.sections, key=lambda s: s.position)]
    page.set_viewport_size({"width": 1280, "height": 2400})  # no scrolling mid-drag
    login(page, "anna")
    page.goto(f"/desk/editions/{edition.id}")
    page.evaluate("window.noReload = true")
    heading = page.locator("section.edition-section h3")
    heading.nth(len(sections) - 1).drag_to(heading.nth(0))
    expect(heading.nth(0)).to_contain_text(sections[-1])
    first, _, last = (i.id for i in found)
    page.locator(f"#item-{last} .edition-item").drag_to(
        page.locator(f"#item-{first} .edition-item")
    )
    expect(page.locator("li[data-item]").first).to_have_attribute("data-item", str(last))
    assert page.evaluate("window.noReload") is True

    def stored() -> tuple[list[str], tuple[int, ...]]:
        e = live.store.editions.get(edition.id)
        ordered = sorted(e.sections, key=lambda s: s.position)
        return [s.title for s in ordered], next(s.item_ids for s in ordered if s.item_ids)

    expected = ([sections[-1], *sections[:-1]], (last, first, found[1].id))
    expect(page.locator("p[aria-live]").last).to_have_text("Meldung verschoben.")
    assert stored() == expected
    page.reload()
    expect(heading.nth(0)).to_contain_text(sections[-1])
    expect(page.locator("li[data-item]").first).to_have_attribute("data-item", str(last))


def test_leaving_unsaved_work_on_the_item_page_asks_first(
    page: Page, live: LiveDesk, watch: Watch
) -> None:
    item = item_id(live, ECB_LANE)
    login(page, "anna")
    page.goto(f"/desk/items/{item}")
    # untouched: leaving asks nothing
    page.get_by_role("link", name="Eingang").first.click()
    expect(page).to_have_url(re.compile(r"/desk/(\?.*)?$"))
    assert watch.dialogs == []
    page.goto(f"/desk/items/{item}")
    page.get_by_label("Einordnung für die Region").click()
    page.keyboard.type("Wichtig für Stadtwerke.")
    with page.expect_event("dialog") as shown:
        page.get_by_role("link", name="Eingang").first.click()
    assert shown.value.type == "beforeunload"
    expect(page).to_have_url(re.compile(rf"/desk/items/{item}$"))  # "Bleiben": still here
    expect(page.get_by_label("Einordnung für die Region")).to_have_value("Wichtig für Stadtwerke.")
    # saving is not leaving: no question, and the text is kept
    page.get_by_role("button", name="Speichern", exact=True).click()
    flash(page, "Einordnung gespeichert.")
    assert [d.split(":")[0] for d in watch.dialogs] == ["beforeunload"]
    saved = live.store.items.get(item).annotation
    assert saved is not None and saved.comment_md == "Wichtig für Stadtwerke."


def test_reorder_by_buttons_approve_and_send_now_from_the_desk(page: Page, live: LiveDesk) -> None:
    store, now = live.store, live.services.clock()
    anna = store.users.by_name("anna")
    assert anna is not None
    new = store.items.search(InboxQuery(statuses=(ItemStatus.NEW,), per_page=2)).items
    ids = [i.id for i in new]
    curate.accept(store, ids, actor=anna, now=now)
    store.subscribers.add(
        NewSubscriber(
            email=READER,
            email_hash=hash_of(READER),
            profile=Profile(newsletters=("weekly",)),
            consent_text="v1",
            consent_at=now,
        ),
        now=now,
    )
    edition = store.editions.create(
        "weekly",
        title="EU-Wochenbrief 51/2026",
        intro="",
        sections=[("Erst", ids[:1]), ("Zweit", ids[1:])],
        actor="bernd",
        now=now,
    )
    outbox = Outbox(live.services.settings.outbox_path)
    login(page, "anna")
    page.goto(f"/desk/editions/{edition.id}")
    page.get_by_role("button", name="Abschnitt Zweit nach oben").click()
    flash(page, "Reihenfolge der Abschnitte geändert.")
    after = store.editions.get(edition.id)
    assert [s.title for s in sorted(after.sections, key=lambda s: s.position)] == [
        "Zweit",
        "Erst",
    ]

    page.get_by_role("button", name="Freigeben").click()
    expect(page.get_by_role("button", name="Jetzt senden …")).to_be_enabled()
    page.get_by_role("button", name="Jetzt senden …").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jetzt senden?")
    expect(page.get_by_text("geht an 1 Leserin oder Leser in 1 Variante")).to_be_visible()
    assert store.editions.get(edition.id).state is EditionState.APPROVED  # nothing yet
    page.get_by_role("button", name="Ja, jetzt senden").click()
    flash(page, "Versand gestartet.")
    for thread in threading.enumerate():  # the desk's sender: joined, never slept on
        if thread.name == SEND_THREAD.format(edition.id):
            thread.join()
    assert store.editions.get(edition.id).state is EditionState.SENT
    assert len(outbox.to(READER)) == 1
    page.reload()
    expect(page.get_by_text("Die Ausgabe ist versandt.")).to_be_visible()
