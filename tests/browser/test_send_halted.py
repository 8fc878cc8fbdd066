"""A send that cannot go on, seen in a real browser: the scheduler's process runs with
EUDIGEST_BASE_URL on http://, so the edition stops before anything leaves and shows
"Versand angehalten" with the reason, also under "Handlungsbedarf". The operator fixes
the setting, Anna presses "Versand fortsetzen", the next send-due sends it: each reader
gets exactly one mail."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipeline import curate, jobs
from pipeline.deliver.send import SendBlocked
from pipeline.model import EditionState, NewSubscriber, Profile
from subscribers.addresses import hash_of
from tests.browser.conftest import LiveDesk, flash, item_id, login, serve_copy
from tests.browser.test_desk_flow import BELGIUM_RRF, STATE_AID_GUIDANCE, SWEDEN_RRF
from tests.subscribers.conftest import Outbox

BASE = "https://newsletter.region-stuttgart.example"
READERS = ("leser@kommune-esslingen.example", "eu@uni-hohenheim.example")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, corpus_db: Path) -> Iterator[LiveDesk]:
    """The desk runs with the right public address; the sender below does not (yet)."""
    yield from serve_copy(tmp_path_factory.mktemp("live-halted"), corpus_db, base_url=BASE)


def test_a_halted_send_is_visible_and_resumes_from_the_desk(
    page: Page, live: LiveDesk, artifacts: Path
) -> None:
    store, now = live.store, live.services.clock()
    anna = store.users.by_name("anna")
    assert anna is not None
    ids = [item_id(live, t) for t in (STATE_AID_GUIDANCE, BELGIUM_RRF, SWEDEN_RRF)]
    curate.accept(store, ids, actor=anna, now=now)
    for address in READERS:
        store.subscribers.add(
            NewSubscriber(
                email=address,
                email_hash=hash_of(address),
                profile=Profile(newsletters=("weekly",)),
                consent_text="v1",
                consent_at=now,
            ),
            now=now,
        )
    edition = store.editions.create(
        "weekly",
        title="EU-Wochenbrief 50/2026",
        intro="",
        sections=[("Im Fokus", ids[:1]), ("Förderung & Ausschreibungen", ids[1:])],
        actor="anna",
        now=now,
    )
    store.editions.transition(
        edition.id,
        from_states=(EditionState.DRAFT,),
        to_state=EditionState.APPROVED,
        actor="bernd",
        now=now,
    )
    outbox = Outbox(live.services.settings.outbox_path)

    # The scheduler's process still has EUDIGEST_BASE_URL=http://…: the send halts.
    http = dataclasses.replace(live.services.settings, base_url=BASE.replace("https", "http"))
    with pytest.raises(SendBlocked, match="EUDIGEST_BASE_URL must start with https://"):
        jobs.send(live.services.derive(settings=http), edition.id)
    assert outbox.count() == 0

    login(page, "anna")
    page.goto(f"/desk/editions/{edition.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Versand angehalten")
    halted = page.locator("#halted")
    expect(halted).to_contain_text(
        "Versand angehalten: EUDIGEST_BASE_URL muss mit https:// beginnen"
    )
    expect(page.get_by_text("Wird versandt")).to_have_count(0)
    page.screenshot(path=str(artifacts / "send-halted.png"), full_page=True)

    page.get_by_role("link", name="Status").first.click()
    attention = page.locator("section.attention")
    problem = attention.locator('[data-check="edition_halted"]')
    expect(problem).to_contain_text("Versand angehalten: Ausgabe „EU-Wochenbrief 50/2026“")
    problem.get_by_role("link", name="Zur Ausgabe").click()
    expect(page).to_have_url(f"{live.base_url}/desk/editions/{edition.id}")

    # Fixed (the desk's own settings are right): "Versand fortsetzen".
    page.get_by_role("button", name="Versand fortsetzen").click()
    flash(page, "Versand fortgesetzt")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wird versandt")
    [report] = jobs.send_due(live.services)  # the scheduler, now with the right setting
    assert report.finished and report.sent == len(READERS)

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Versandt")
    history = page.locator("body")
    expect(history).to_contain_text("Versand fortgesetzt")
    assert Counter(m.to for m in outbox.all()) == Counter(dict.fromkeys(READERS, 1))
    assert all(BASE + "/abo/" in m.text for m in outbox.all())
    assert jobs.send_due(live.services) == []
    page.goto("/desk/status")
    expect(page.locator('[data-check="edition_halted"]')).to_have_count(0)
