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
