"""Issue 5 in a real browser: the desk's preview and test send, then the public archive.

A staff member sets her address under "Mein Konto", opens the preview of an edition of
three corpus items as a reader of one topic, sees the rendered mail inside the sandboxed
frame (its inline styles allowed by the frame's own CSP, no console errors), and sends it
to herself; the outbox then holds one "[TEST]" mail for her and the ledger nothing. After
the edition is sent, an anonymous visitor finds it in the archive. Screenshots of the
preview and the archive page go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipeline import curate, jobs
from pipeline.model import EditionState, NewSubscriber, Profile
from subscribers.addresses import hash_of
from tests.browser.conftest import LiveDesk, flash, item_id, login, serve_copy
from tests.browser.test_desk_flow import BELGIUM_RRF, STATE_AID_GUIDANCE, SWEDEN_RRF
from tests.subscribers.conftest import Outbox

STAFF_ADDRESS = "anna.beispiel@europabuero.example"
READER = "leser@kommune-esslingen.example"
BASE = "https://newsletter.region-stuttgart.example"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, corpus_db: Path) -> Iterator[LiveDesk]:
    """The desk over a copy of the corpus database, with a public base URL (mail links)."""
    yield from serve_copy(tmp_path_factory.mktemp("live-archive"), corpus_db, base_url=BASE)


def test_preview_test_send_and_the_archive(page: Page, live: LiveDesk, artifacts: Path) -> None:
    store, now = live.store, live.services.clock()
    anna = store.users.by_name("anna")
    assert anna is not None
    ids = [item_id(live, t) for t in (STATE_AID_GUIDANCE, BELGIUM_RRF, SWEDEN_RRF)]
    curate.accept(store, ids, actor=anna, now=now)
    edition = store.editions.create(
        "weekly",
        title="EU-Wochenbrief 49/2026",
        intro="Beihilfen und Aufbaugelder: was die Region wissen muss.",
        sections=[("Im Fokus", ids[:1]), ("Förderung & Ausschreibungen", ids[1:])],
        actor="anna",
        now=now,
    )
    outbox = Outbox(live.services.settings.outbox_path)

    login(page, "anna")
    page.goto("/desk/konto")
    page.get_by_role("textbox", name="E-Mail-Adresse").fill(STAFF_ADDRESS)
    page.get_by_role("button", name="Speichern").click()
    flash(page, "E-Mail-Adresse gespeichert.")

    page.goto(f"/desk/editions/{edition.id}/preview")
    page.get_by_role("button", name="Vorschau zeigen").click()
    expect(page.locator("[data-subject]")).to_contain_text("EU-Wochenbrief 49/2026")
    mail = page.frame_locator("iframe.mail-frame")
    expect(mail.get_by_role("heading", name="EU-Wochenbrief 49/2026")).to_be_visible()
    expect(mail.get_by_text("Beihilfen und Aufbaugelder")).to_be_visible()
    web = mail.get_by_role("link", name="Im Browser lesen")
    expect(web).to_have_attribute("href", f"{BASE}/archiv/{edition.id}")  # as the sender links
    # The mail keeps its inline styles there (the desk's own CSP forbids them; the frame's
    # page has a CSP of its own). No script may run in the sandbox, so no evaluate() here.
    expect(mail.locator("h1[style]")).to_have_count(1)
    page.screenshot(path=str(artifacts / "preview.png"), full_page=True)

    send = page.get_by_role("button", name="Testversand an mich")
    send.scroll_into_view_if_needed()
    send.click()
    flash(page, f"Testversand an {STAFF_ADDRESS} ist unterwegs")
    [test_mail] = outbox.to(STAFF_ADDRESS)
    assert test_mail.subject.startswith("[TEST] ") and "EU-Wochenbrief 49/2026" in test_mail.subject
    assert store.deliveries.counts(edition.id) == {} or not any(
        store.deliveries.counts(edition.id).values()
    )

    # Sent to a reader; then the archive shows it to anyone, without the reader.
    store.subscribers.add(
        NewSubscriber(
            email=READER,
            email_hash=hash_of(READER),
            profile=Profile(name="Lea Leser", newsletters=("weekly",)),
            consent_text="v1",
            consent_at=now,
        ),
        now=now,
    )
    store.editions.transition(
        edition.id,
        from_states=(EditionState.DRAFT,),
        to_state=EditionState.APPROVED,
        actor="bernd",
        now=now,
    )
    report = jobs.send(live.services, edition.id)
    assert (report.sent, report.failed, report.unknown) == (1, 0, 0)
    assert len(outbox.to(READER)) == 1

    page.context.clear_cookies()
    page.goto("/")
    page.get_by_role("link", name="Archiv der bisherigen Ausgaben").click()
    page.get_by_role("link", name="EU-Wochenbrief 49/2026").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("EU-Wochenbrief 49/2026")
    expect(page.get_by_text("Beihilfen und Aufbaugelder")).to_be_visible()
    body = page.content()
    assert READER not in body and "Lea Leser" not in body and STAFF_ADDRESS not in body
    page.screenshot(path=str(artifacts / "archive-edition.png"), full_page=True)
