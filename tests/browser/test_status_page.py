"""The status page (and the edition editor) on a phone: 390 px wide, nothing scrolls sideways
(issue 15), with every folded table opened too."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from pipeline import curate
from pipeline.model import ItemStatus
from pipeline.store.items import InboxQuery
from tests.browser.conftest import LiveDesk, login

PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px window"


def _open_every_fold(page: Page) -> None:
    for summary in page.locator("details > summary").all():
        summary.click()


def test_status_page_fits_a_phone(page: Page, live: LiveDesk, artifacts: Path) -> None:
    # one failing source, so the page shows a problem and its long error text
    live.store.sources.record_failure(
        live.store.sources.health()[0].source.id,
        now=live.services.clock(),
        error="HTTP 503 Service Unavailable: https://example.europa.eu/a/very/long/path/"
        "without/any/space/in/it/that/would/push/the/page/wider/than/a/phone",
        next_try=live.services.clock(),
    )
    page.set_viewport_size(PHONE)
    login(page, "anna")
    page.goto("/desk/status")
    expect(page.get_by_role("heading", name="Handlungsbedarf")).to_be_visible()
    expect(page.get_by_role("img", name="Neue Meldungen pro Tag (14 Tage)")).to_be_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / "status-390-folded.png"), full_page=True)
    page.screenshot(
        path=str(artifacts / "status-390-top.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 390, "height": 2000},
    )
    _open_every_fold(page)
    expect(page.get_by_role("heading", name="Lernen am Desk")).to_be_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / "status-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    page.evaluate("window.scrollTo(0, 0)")
    _no_sideways_scroll(page)
    page.screenshot(
        path=str(artifacts / "status-1280.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 900}
    )


def test_edition_editor_fits_a_phone(page: Page, live: LiveDesk, artifacts: Path) -> None:
    bernd = live.store.users.by_name("bernd")
    assert bernd is not None
    now = live.services.clock()
    found = live.store.items.search(InboxQuery(statuses=(ItemStatus.NEW,), per_page=12))
    live.store.items.set_status(
        [i.id for i in found.items], ItemStatus.ACCEPTED, now=now, actor="bernd"
    )
    edition = curate.propose_draft(
        live.store, live.services.office(), "weekly", actor=bernd, now=now
    )
    assert len(edition.item_ids) > 0
    page.set_viewport_size(PHONE)
    login(page, "anna")
    page.goto(f"/desk/editions/{edition.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(edition.title)
    _no_sideways_scroll(page)
    _open_every_fold(page)
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / "edition-390.png"), full_page=True)
