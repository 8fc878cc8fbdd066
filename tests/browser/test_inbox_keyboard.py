"""Triage in the inbox from the keyboard, row buttons without a reload, undo, the bulk bar
that stays on screen, the keys' help, and the same row buttons without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from pipeline import curate
from pipeline.model import ItemStatus
from tests.browser.conftest import LiveDesk, Watch, flash, login, new_context, watched_page


def row_ids(page: Page) -> list[int]:
    rows = page.get_by_role("table", name="Meldungen", exact=True).locator("tbody tr[data-item]")
    return [int(v) for v in rows.evaluate_all("rs => rs.map(r => r.dataset.item)")]


def status(live: LiveDesk, item_id: int) -> ItemStatus:
    return live.store.items.get(item_id).status


def row(page: Page, item_id: int):  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-item="{item_id}"]')


def test_keyboard_triage_changes_the_store_without_a_reload(
    page: Page, live: LiveDesk, artifacts: Path
) -> None:
    login(page, "anna")
    first, second, third = row_ids(page)[:3]
    page.evaluate("window.noReload = true")  # gone if the page reloads

    page.keyboard.press("j")
    expect(row(page, first)).to_have_class("status-new current")
    page.keyboard.press("a")
    expect(row(page, first)).to_have_attribute("data-status", "accepted")
    expect(row(page, second)).to_have_class("status-new current")  # moved on by itself
    assert status(live, first) is ItemStatus.ACCEPTED

    page.keyboard.press("r")
    expect(row(page, second)).to_have_attribute("data-status", "rejected")
    assert status(live, second) is ItemStatus.REJECTED
    expect(page.locator("p.summary")).to_contain_text("abgelehnt. Rückgängig mit u.")

    page.keyboard.press("u")  # undo the rejection
    expect(row(page, second)).to_have_attribute("data-status", "new")
    expect(page.locator("p.summary")).to_contain_text("Rückgängig: 1 Meldung wieder wie vorher.")
    assert status(live, second) is ItemStatus.NEW
    assert live.store.items.audit(second)[0].action == "status.new"

    page.keyboard.press("k")
    page.keyboard.press("k")  # back to the first row, then x selects it
    expect(row(page, first)).to_contain_class("current")
    page.keyboard.press("x")
    expect(row(page, first).locator('input[name="item_id"]')).to_be_checked()
    page.keyboard.press("j")
    page.keyboard.press("x")
    bar = page.locator("fieldset.bulk-actions")
    expect(bar.locator(".selected-count")).to_have_text("(2 ausgewählt)")
    # the bulk bar stays on screen at the top of a long page
    box = bar.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900
    page.screenshot(path=artifacts / "inbox-keyboard.png")
    assert page.evaluate("window.noReload") is True

    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Tastenkürzel im Eingang")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()

    page.keyboard.press("j")  # the third row
    expect(row(page, third)).to_contain_class("current")
    page.keyboard.press("o")
    expect(page).to_have_url(f"{live.base_url}/desk/items/{third}")


def test_row_buttons_and_later_without_a_reload(page: Page, live: LiveDesk) -> None:
    login(page, "anna")
    page.evaluate("window.noReload = true")  # gone if the page reloads
    ids = row_ids(page)
    target, later = ids[5], ids[6]
    row(page, target).get_by_role("button", name="Ablehnen:").click()
    expect(row(page, target)).to_have_attribute("data-status", "rejected")
    assert status(live, target) is ItemStatus.REJECTED
    page.get_by_role("button", name="Rückgängig").click()
    expect(row(page, target)).to_have_attribute("data-status", "new")
    assert status(live, target) is ItemStatus.NEW
    # "Später" is stored: the row leaves the inbox until tomorrow; undo brings it back
    row(page, later).get_by_role("button", name="Später:").click()
    expect(row(page, later)).to_be_hidden()
    expect(page.locator("p.summary")).to_contain_text("auf später gelegt (bis ")
    assert status(live, later) is ItemStatus.NEW
    assert live.store.items.audit(later)[0].action == "deferred"
    page.keyboard.press("u")
    expect(row(page, later)).to_be_visible()
    assert live.store.items.audit(later)[0].action == "undeferred"
    assert page.evaluate("window.noReload") is True


def test_bulk_bar_without_a_reload_and_a_saved_view(page: Page, live: LiveDesk) -> None:
    """The bulk bar posts with fetch and changes the chosen rows in place; the filters are
    saved as "Meine Ansichten" and open again with one click."""
    login(page, "anna")
    page.evaluate("window.noReload = true")
    first, second = row_ids(page)[2:4]
    for item in (first, second):
        row(page, item).locator('input[name="item_id"]').check()
    bar = page.locator("fieldset.bulk-actions")
    expect(bar.locator(".selected-count")).to_have_text("(2 ausgewählt)")
    bar.get_by_role("button", name="Ablehnen", exact=True).click()
    expect(row(page, first)).to_have_attribute("data-status", "rejected")
    expect(row(page, second)).to_have_attribute("data-status", "rejected")
    expect(bar.locator(".selected-count")).to_have_text("(keine ausgewählt)")
    expect(page.locator("p.summary")).to_contain_text("2 Meldungen abgelehnt.")
    assert {status(live, first), status(live, second)} == {ItemStatus.REJECTED}
    assert page.evaluate("window.noReload") is True
    page.keyboard.press("u")
    expect(row(page, first)).to_have_attribute("data-status", "new")

    page.goto("/desk/?status=rejected&order=published")
    page.locator("details.views-manage summary").click()
    page.get_by_label("Aktuelle Filter speichern als").fill("Abgelehnt, neueste")
    page.get_by_role("button", name="Ansicht speichern").click()
    flash(page, "Ansicht „Abgelehnt, neueste“ gespeichert.")
    page.goto("/desk/")
    page.get_by_role("navigation", name="Meine Ansichten").get_by_role(
        "link", name="Abgelehnt, neueste"
    ).click()
    expect(page).to_have_url(f"{live.base_url}/desk/?status=rejected&order=published")
    expect(page.locator("#f-status")).to_have_value("rejected")


@pytest.fixture
def plain_page(browser: Browser, live: LiveDesk, watch: Watch) -> Iterator[Page]:
    context = new_context(browser, live, javascript=False)
    try:
        yield watched_page(context, watch)
    finally:
        context.close()


def test_row_buttons_and_undo_work_without_javascript(plain_page: Page, live: LiveDesk) -> None:
    page = plain_page
    login(page, "anna")
    target = row_ids(page)[10]
    row(page, target).get_by_role("button", name="Übernehmen:").click()
    flash(page, "übernommen.")
    assert status(live, target) is ItemStatus.ACCEPTED
    assert target not in row_ids(page)  # the inbox shows new items
    page.get_by_role("button", name="Rückgängig").click()
    flash(page, "Rückgängig: 1 Meldung wieder wie vorher.")
    assert status(live, target) is ItemStatus.NEW
    row(page, target).get_by_role("button", name="Später:").click()  # a form without it
    flash(page, "auf später gelegt (bis ")
    assert target not in row_ids(page)
    page.get_by_role("link", name="Später (").click()
    row(page, target).get_by_role("button", name="Wieder in den Eingang:").click()
    flash(page, "ist wieder im Eingang.")


def test_filters_are_folded_on_a_phone(page: Page, live: LiveDesk, artifacts: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, "anna")
    filters = page.locator("details#filters")
    expect(filters).not_to_have_attribute("open", "")
    expect(page.get_by_label("Volltextsuche")).to_be_hidden()
    first = page.locator("tbody tr[data-item]").first.bounding_box()
    assert first is not None and first["y"] < 844  # the first item on the first screen
    page.screenshot(path=artifacts / "inbox-phone.png")
    filters.locator("summary").click()
    expect(page.get_by_label("Volltextsuche")).to_be_visible()


def test_e_puts_the_current_row_into_the_newest_draft(page: Page, live: LiveDesk) -> None:
    anna = live.store.users.by_name("anna")
    assert anna is not None
    edition = curate.create_edition(
        live.store,
        live.services.office(),
        "weekly",
        title="EU-Wochenbrief 50/2026",
        intro="",
        actor=anna,
        now=live.services.clock(),
    )
    login(page, "anna")
    first = row_ids(page)[0]
    page.keyboard.press("e")  # no row yet: the first one
    expect(row(page, first)).to_have_attribute("data-status", "accepted")
    expect(page.locator("p.summary")).to_contain_text("in „EU-Wochenbrief 50/2026“ eingefügt.")
    assert status(live, first) is ItemStatus.ACCEPTED
    assert live.store.editions.get(edition.id).item_ids == (first,)
