"""Learning from the desk in a real browser: decisions at the desk → `eudigest model
train` → the inbox ordered by the learnt suggestion, each item saying where it comes from.

Most decisions are made through the curate functions (the desk's buttons call them; 400
clicks would test nothing more); one is made by clicking, and is a label like the rest.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from pipeline import jobs
from pipeline.model import ItemStatus
from pipeline.store.items import InboxQuery
from tests.browser.conftest import LiveDesk, flash, login
from tests.learning.corpus_desk import ANNA, decide, staff_judgement


def test_the_inbox_learns_from_the_desks_decisions(page: Page, live: LiveDesk) -> None:
    store = live.store
    login(page, "anna")
    page.goto("/desk/?order=relevance")
    hints = page.locator(".suggested-by")
    expect(hints.first).to_have_text("Vorschlag: Regeln")
    judgement = staff_judgement(store)
    clicked = next(i for i, ok in judgement.items() if not ok)
    page.goto(f"/desk/items/{clicked}")
    page.get_by_role("button", name="Ablehnen").click()
    flash(page, "Meldung abgelehnt.")
    assert store.items.get(clicked).status is ItemStatus.REJECTED
    decide(
        store,
        {i: ok for i, ok in judgement.items() if i != clicked},
        now=live.services.clock(),
        actor=ANNA,
    )
    before = [i.id for i in store.items.search(InboxQuery(order="relevance", per_page=10)).items]

    model = jobs.train_model(live.services)

    assert model.evaluation.active and model.evaluation.labels == len(judgement)
    page.goto("/desk/?order=relevance")
    expect(hints.first).to_have_text("Vorschlag: gelernt")
    expect(page.locator(".suggested-by[data-suggested-by=rules]")).to_have_count(0)
    after = [i.id for i in store.items.search(InboxQuery(order="relevance", per_page=10)).items]
    assert after != before
    first = store.items.get(after[0])
    expect(page.locator("tbody tr").first).to_contain_text(first.title[:40])
    page.goto("/desk/status")
    expect(page.get_by_role("heading", name="Lernen am Desk")).to_be_visible()
    expect(page.locator("tr[data-output=relevance]")).to_contain_text("besser als die Regeln")
