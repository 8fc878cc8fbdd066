"""The core loop of the desk (issue 15), walked in a real browser with every action counted.

Shared by tests/browser/test_core_loop.py (which asserts the counts) and
bench/desk_loop_bench.py (which times the same walk as a whole process).

The walk, with four eyes on and one confirmed reader of the weekly newsletter:

    anna  signs in                                       (sign-in: not part of the loop)
    anna  triages the top 20 inbox rows, one key each    (triage: `a` or `r`)
    anna  builds a draft from what she accepted           ┐
    bernd (signed in on his own) reviews and approves    │ the loop: from the accepted
    bernd sends it now ("Jetzt senden", outbox backend)   ┘ items to the edition leaving

Two paths through the same desk:

- "short": anna "Ausgaben" → "Entwurf vorschlagen" → "Freigabe anfordern"; bernd opens the
  request from the notice on any desk page ("… lesen und freigeben": the preview) →
  "Freigeben und senden …" → "Ja, freigeben und jetzt senden". 6 actions.
- "before": the same desk without the notice and the preview's buttons (the desk as of
  the previous release, with the issue's own editor): anna "Ausgaben" → "Entwurf
  vorschlagen" → "Vorschau" → back to the edition → "Freigabe anfordern"; bernd
  "Ausgaben" → the request → "Freigeben" → "Jetzt senden …" → "Ja, jetzt senden". 10.

An action is what a person does with mouse or keyboard: a click, a key, a field filled
(`fill`, however long the text), a URL typed (`goto`). Waiting for the page is none.
The store's clock is set to the morning after the corpus was captured (3 August 2026),
so that "Entwurf vorschlagen" finds the accepted items in its default window.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from playwright.sync_api import Browser, Locator, Page, expect

from pipeline.model import EditionState, ItemStatus, NewSubscriber, Profile
from pipeline.web.editions import SEND_THREAD
from subscribers.addresses import hash_of
from tests.browser.conftest import PASSWORD, LiveDesk, Watch, new_context, watched_page
from tests.subscribers.conftest import Outbox

Path_ = Literal["short", "before"]
TRIAGED = 20
READER = "leserin@kommune-esslingen.example"
MORNING = dt.datetime(2026, 8, 3, 5, 30, tzinfo=dt.UTC)  # 07:30 in Brussels


def shifted_clock(to: dt.datetime) -> object:
    """A clock that starts at `to` and runs on with real time (leases, rate limits)."""
    offset = dt.datetime.now(dt.UTC) - to
    return lambda: dt.datetime.now(dt.UTC) - offset


@dataclass
class Actions:
    """Every action of the walk, with its phase: (phase, person, kind, what)."""

    log: list[tuple[str, str, str, str]] = field(default_factory=list)
    phase: str = ""
    person: str = ""

    def _note(self, kind: str, what: str) -> None:
        self.log.append((self.phase, self.person, kind, what))

    def click(self, target: Locator, what: str) -> None:
        self._note("click", what)
        target.click()

    def press(self, page: Page, key: str, what: str) -> None:
        self._note("key", what)
        page.keyboard.press(key)

    def fill(self, target: Locator, text: str, what: str) -> None:
        self._note("fill", what)
        target.fill(text)

    def goto(self, page: Page, url: str, what: str) -> None:
        self._note("goto", what)
        page.goto(url)

    def count(self, phase: str) -> int:
        return sum(1 for p, *_ in self.log if p == phase)

    def kinds(self, phase: str) -> Counter[str]:
        return Counter(kind for p, _, kind, _ in self.log if p == phase)

    def steps(self, phase: str) -> list[str]:
        return [f"{who}: {kind} {what}" for p, who, kind, what in self.log if p == phase]


@dataclass
class LoopResult:
    path: str
    actions: Actions
    edition_id: int
    accepted: list[int]
    rejected: list[int]
    seconds: dict[str, float]  # triage, loop (until the mail is in the outbox)
    placed: int  # items in the edition sent (the accepted ones in the draft's window)

    def summary(self) -> str:
        a = self.actions
        loop = a.steps("loop")
        lines = [
            f"core loop ({self.path}): triage {a.count('triage')} actions for {TRIAGED} items "
            f"({dict(a.kinds('triage'))}), {self.seconds['triage']:.1f} s; "
            f"loop {a.count('loop')} actions, {self.seconds['loop']:.1f} s "
            f"(sign-in, not counted: {a.count('sign-in')}); "
            f"{len(self.accepted)} accepted, {self.placed} in the edition sent",
            *(f"  {n}. {s}" for n, s in enumerate(loop, 1)),
        ]
        return "\n".join(lines)


def prepare(live: LiveDesk) -> None:
    """The clock of that morning and one confirmed reader of the weekly newsletter."""
    live.services.clock = shifted_clock(MORNING)  # type: ignore[assignment]
    now = live.services.clock()
    live.store.subscribers.add(
        NewSubscriber(
            email=READER,
            email_hash=hash_of(READER),
            profile=Profile(newsletters=("weekly",)),
            consent_text="v1",
            consent_at=now,
        ),
        now=now,
    )


def _sign_in(actions: Actions, page: Page, name: str) -> None:
    actions.phase, actions.person = "sign-in", name
    actions.goto(page, "/login", "Anmeldung")
    actions.fill(page.get_by_label("Name", exact=True), name, "Name")
    actions.fill(page.get_by_label("Passwort", exact=True), PASSWORD, "Passwort")
    actions.click(page.get_by_role("button", name="Anmelden"), "Anmelden")
    expect(page.get_by_role("heading", level=1, name="Eingang")).to_be_visible()
    page.wait_for_load_state("load")  # desk.js (deferred) listens for the keys from then on


def _accepts(n: int) -> bool:
    """Which rows are taken: two of every three (a morning's share is about that)."""
    return n % 3 != 2


def walk(browser: Browser, live: LiveDesk, watch: Watch, path: Path_ = "short") -> LoopResult:
    """The whole walk; `prepare(live)` first. Returns the actions and the times."""
    actions = Actions()
    anna = watched_page(new_context(browser, live), watch)
    bernd = watched_page(new_context(browser, live), watch)
    try:
        _sign_in(actions, anna, "anna")

        # triage: one key per row; the cursor moves on by itself once the store has it
        actions.phase = "triage"
        rows = anna.locator("tbody tr[data-item]")
        ids = [int(v) for v in rows.evaluate_all("rs => rs.map(r => r.dataset.item)")][:TRIAGED]
        assert len(ids) == TRIAGED, f"the inbox shows {len(ids)} rows"
        accepted, rejected = [], []
        started = time.perf_counter()
        for n, item in enumerate(ids):
            take = _accepts(n)
            actions.press(anna, "a" if take else "r", f"row {n + 1}")
            row = anna.locator(f'tr[data-item="{item}"]')
            expect(row).to_have_attribute("data-status", "accepted" if take else "rejected")
            (accepted if take else rejected).append(item)
        triage_seconds = time.perf_counter() - started

        # the loop: from the accepted items to the edition leaving
        actions.phase = "loop"
        started = time.perf_counter()
        actions.click(anna.get_by_role("link", name="Ausgaben", exact=True), "Ausgaben")
        weekly = anna.get_by_role("region", name="EU-Wochenbrief")
        actions.click(
            weekly.get_by_role("button", name="Entwurf vorschlagen"), "Entwurf vorschlagen"
        )
        expect(anna).to_have_url(re.compile(r"/desk/editions/\d+$"))
        edition_id = int(anna.url.rsplit("/", 1)[1])
        if path == "before":
            actions.click(anna.get_by_role("link", name="Vorschau", exact=True), "Vorschau")
            expect(anna.get_by_role("heading", level=1)).to_contain_text("Vorschau:")
            crumbs = anna.locator("p.crumbs")
            actions.click(crumbs.get_by_role("link").nth(1), "zurück zur Ausgabe")
        actions.click(anna.get_by_role("button", name="Freigabe anfordern"), "Freigabe anfordern")
        expect(anna.get_by_text("Freigabe angefordert von anna")).to_be_visible()
        loop_anna = time.perf_counter() - started

        _sign_in(actions, bernd, "bernd")  # a colleague at his own desk
        actions.phase, actions.person = "loop", "bernd"
        started = time.perf_counter()
        if path == "short":
            banner = bernd.locator("p.review-banner")
            expect(banner).to_contain_text("Freigabe angefordert von anna")
            actions.click(banner.get_by_role("link"), "„… lesen und freigeben“ (Vorschau)")
            expect(bernd.get_by_role("heading", level=1)).to_contain_text("Vorschau:")
            actions.click(
                bernd.get_by_role("button", name="Freigeben und senden …"),
                "Freigeben und senden …",
            )
            expect(bernd.get_by_role("heading", level=1)).to_have_text("Jetzt senden?")
            expect(bernd.locator(".audience")).to_contain_text("geht an 1 Leserin oder Leser")
            actions.click(
                bernd.get_by_role("button", name="Ja, freigeben und jetzt senden"),
                "Ja, freigeben und jetzt senden",
            )
        else:
            actions.click(bernd.get_by_role("link", name="Ausgaben", exact=True), "Ausgaben")
            waiting = bernd.get_by_role("region", name=re.compile("Zur Freigabe angefordert"))
            actions.click(waiting.get_by_role("link").first, "die angeforderte Ausgabe")
            actions.click(bernd.get_by_role("button", name="Freigeben", exact=True), "Freigeben")
            actions.click(bernd.get_by_role("button", name="Jetzt senden …"), "Jetzt senden …")
            expect(bernd.get_by_role("heading", level=1)).to_have_text("Jetzt senden?")
            actions.click(bernd.get_by_role("button", name="Ja, jetzt senden"), "Ja, jetzt senden")
        expect(bernd.get_by_role("status").filter(has_text="Versand gestartet")).to_be_visible()
        for thread in threading.enumerate():  # the desk's sender: joined, never slept on
            if thread.name == SEND_THREAD.format(edition_id):
                thread.join()
        loop_seconds = loop_anna + time.perf_counter() - started
    finally:
        anna.context.close()
        bernd.context.close()

    edition = live.store.editions.get(edition_id)
    assert edition.state is EditionState.SENT, edition.state
    assert edition.approved_by == "bernd" and edition.created_by == "anna"
    assert len(Outbox(live.services.settings.outbox_path).to(READER)) == 1
    assert set(edition.item_ids) <= set(accepted) and edition.item_ids
    for item in accepted:
        assert live.store.items.get(item).status is ItemStatus.ACCEPTED
    for item in rejected:
        assert live.store.items.get(item).status is ItemStatus.REJECTED
    return LoopResult(
        path,
        actions,
        edition_id,
        accepted,
        rejected,
        {"triage": triage_seconds, "loop": loop_seconds},
        len(edition.item_ids),
    )
