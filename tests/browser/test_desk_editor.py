"""The edition editor and the item page at the speed of triage (issue 15): sections
reordered by buttons (back at the section, not the top), and the warning before unsaved
work on the item page is left."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from pipeline import curate
from tests.browser.conftest import LiveDesk, Watch, flash, item_id, login

ECB_LANE = "Philip R. Lane: Outlook for the euro area economy"


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
