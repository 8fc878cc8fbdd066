"""axe-core on every page of the desk and the public site (issue 15): no violation of the
WCAG 2.x A and AA rules, nor of axe's best practices (one main landmark, one h1, content
in landmarks). One browser session visits them all, signed in as the admin (who sees
every page); the states the pages need (a draft, an approved and a sent edition, a
subscriber) are set up with curate directly.

The mails (digest and service mails) are checked in test_mail_accessibility.py.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipeline import curate, jobs
from pipeline.model import (
    DossierEvent,
    DossierRecord,
    Edition,
    EventKind,
    ItemStatus,
    NewSubscriber,
    ProcedureType,
    Profile,
)
from pipeline.model.feedback import Answer
from pipeline.store.items import InboxQuery
from subscribers.addresses import hash_of
from subscribers.feedback import FeedbackLinks, FeedbackTokens
from subscribers.tokens import MANAGE_PATH, Tokens
from tests.browser.conftest import (
    OFFICE_YAML,
    LiveDesk,
    Watch,
    login,
    serve_copy,
)
from tests.support.axe import axe, report

BASE = "https://newsletter.region-stuttgart.example"  # mailed links need https
READER = "leserin@kommune-esslingen.example"
DOSSIER = "2025/0260(COD)"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, corpus_db: Path) -> Iterator[LiveDesk]:
    folder = tmp_path_factory.mktemp("live-a11y")
    office = folder / "office-four-eyes.yaml"  # four eyes: the request notice shows
    office.write_text(OFFICE_YAML.replace("four_eyes: false", "four_eyes: true"), "utf-8")
    yield from serve_copy(folder, corpus_db, office_path=office, base_url=BASE)


@dataclass(frozen=True)
class States:
    draft: Edition
    approved: Edition
    sent: Edition
    reader_id: int
    token: str  # the reader's link to the preferences
    feedback: str  # the reader's "Hilfreich? Ja" link of the sent edition's first item
    wish: str  # the reader's "Was fehlt Ihnen?" link


@pytest.fixture(scope="module")
def states(live: LiveDesk) -> States:
    """A draft (its approval requested), an approved and a sent edition (two items each),
    a reader, a followed procedure."""
    store, now, office = live.store, live.services.clock(), live.services.office()
    anna, bernd = store.users.by_name("anna"), store.users.by_name("bernd")
    assert anna is not None and bernd is not None
    new = store.items.search(InboxQuery(statuses=(ItemStatus.NEW,), per_page=6)).items
    ids = [i.id for i in new]
    curate.accept(store, ids, actor=anna, now=now)
    reader = store.subscribers.add(
        NewSubscriber(
            email=READER,
            email_hash=hash_of(READER),
            profile=Profile(newsletters=("weekly",)),
            consent_text="v1",
            consent_at=now,
        ),
        now=now,
    )
    made = []
    for n, pair in enumerate((ids[0:2], ids[2:4], ids[4:6])):
        made.append(
            store.editions.create(
                "weekly",
                title=f"EU-Wochenbrief {49 + n}/2026",
                intro="Die Themen der Woche.",
                sections=[("Im Fokus", pair[:1]), ("Förderung & Ausschreibungen", pair[1:])],
                actor="anna",
                now=now,
            )
        )
    draft, approved, sent = made
    settings = live.services.settings
    events = (
        DossierEvent(dt.date(2025, 10, 2), EventKind.PROPOSAL, "ep", key="p"),
        DossierEvent(dt.date(2026, 3, 11), EventKind.PLENARY_VOTE, "ep", key="v"),
    )
    # a request for approval: the notice on every desk page of whoever may grant it
    curate.request_review(store, office, draft.id, actor=anna, now=now, settings=settings)
    store.dossiers.upsert(
        [
            DossierRecord(
                DOSSIER,
                "ep",
                title_de="Zölle auf Einfuhren",
                procedure_type=ProcedureType.COD,
                events=events,
            )
        ],
        now=now,
    )
    store.dossiers.attach(DOSSIER, ids[0], actor="anna", now=now)
    store.dossiers.publish(DOSSIER, True, actor="anna", now=now)
    for e in (approved, sent):
        curate.approve(store, office, e.id, actor=bernd, now=now, settings=settings)
    # jobs.send renders and mails through the outbox; Playwright's loop runs in this thread
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(jobs.send, live.services, sent.id).result()
    token = Tokens(settings.secret_key).manage_token(reader, now=now)
    links = FeedbackLinks(FeedbackTokens(settings.secret_key), "", sent.id)
    mine = links.reader(reader, now=now)
    feedback = links(sent.item_ids[0], Answer.YES).replace("%%feedback%%", mine)
    wish = links(0, Answer.WISH).replace("%%feedback%%", mine)
    return States(
        draft,
        store.editions.get(approved.id),
        store.editions.get(sent.id),
        reader.id,
        token,
        feedback,
        wish,
    )


class Axe:
    """axe on each page visited; the violations collected, reported at the end."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.found: list[str] = []

    def check(self, name: str) -> None:
        expect(self.page.locator("main")).to_have_count(1)
        violations = axe(self.page, best_practice=True)
        if violations:
            self.found.append(report(violations, f"{name} ({self.page.url})"))

    def visit(self, pages: list[tuple[str, str]]) -> None:
        for name, url in pages:
            self.page.goto(url)
            self.check(name)


def test_the_public_pages_pass_axe(page: Page, states: States, watch: Watch) -> None:
    checked = Axe(page)
    checked.visit(
        [
            ("Startseite", "/"),
            ("Abo anmelden", "/abo/anmelden"),
            ("Link anfordern", "/abo/link"),
            ("Einstellungen", MANAGE_PATH + states.token),
            ("Archiv", "/archiv/"),
            ("Archiv-Ausgabe", f"/archiv/{states.sent.id}"),
            ("Verfahren (öffentlich)", "/archiv/verfahren/"),
        ]
    )
    page.get_by_role("link", name=re.compile("Zölle auf Einfuhren")).first.click()
    checked.check("Verfahren (öffentlich, Seite)")
    # feedback (issue 17): the question, the thanks after answering, the free-text form,
    # a forged link
    checked.visit([("Rückmeldung (Frage)", states.feedback)])
    page.get_by_role("button", name=re.compile("Ja")).first.click()
    expect(page.get_by_text("Vielen Dank").first).to_be_visible()
    checked.check("Rückmeldung (Dank)")
    checked.visit(
        [
            ("Was fehlt Ihnen?", states.wish),
            ("Rückmeldung (ungültiger Link)", states.feedback.replace("/feedback/", "/feedback/x")),
        ]
    )
    watch.errors.remove(  # the forged link's own 400, expected
        "console: Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"
    )
    # a refused sign-in: the error message
    page.goto("/login")
    checked.check("Anmeldung")
    page.get_by_label("Name", exact=True).fill("admin")
    page.get_by_label("Passwort", exact=True).fill("falsch-falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("alert")).to_be_visible()
    checked.check("Anmeldung abgelehnt")
    assert not checked.found, "\n\n".join(checked.found)


def test_every_desk_page_passes_axe(page: Page, states: States, watch: Watch) -> None:
    draft, approved, sent = states.draft, states.approved, states.sent
    checked = Axe(page)
    login(page, "admin")
    # the inbox in use: the notice of a request, a row selected (the bulk bar with its
    # count), the keys' help open
    expect(page.locator("p.review-banner")).to_contain_text("Freigabe angefordert von anna")
    page.wait_for_load_state("load")  # desk.js (deferred) listens for the keys from then on
    page.keyboard.press("x")
    expect(page.locator(".selected-count")).to_have_text("(1 ausgewählt)")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Tastenkürzel im Eingang")).to_be_visible()
    checked.check("Eingang (Auswahl, Tastenkürzel)")
    page.keyboard.press("Escape")
    checked.visit(
        [
            ("Meldung", f"/desk/items/{draft.item_ids[0]}"),
            ("Eigene Meldung", "/desk/items/new"),
            ("Ausgaben", "/desk/editions/"),
            ("Ausgabe (versandt)", f"/desk/editions/{sent.id}"),
            ("Vorschau (Entwurf)", f"/desk/editions/{draft.id}/preview"),
            ("Vorschau (Nur-Text)", f"/desk/editions/{approved.id}/preview?part=text"),
            ("Korrektur", f"/desk/editions/{sent.id}/korrektur/{sent.item_ids[0]}"),
            ("Verfahren", "/desk/verfahren/"),
            ("Verfahren (Seite)", "/desk/verfahren/" + DOSSIER),
            ("Abonnenten", "/desk/subscribers/"),
            ("Abonnent löschen", f"/desk/subscribers/{states.reader_id}/loeschen"),
            ("Konten", "/desk/users"),
            ("Mein Konto", "/desk/konto"),
            ("Passwort", "/desk/password"),
            ("Status", "/desk/status"),
            ("Eingang: Später", "/desk/?later=1"),
            ("Fehlerseite", "/desk/items/999999999"),
        ]
    )
    watch.errors.remove(  # the error page's own 404, expected
        "console: Failed to load resource: the server responded with a status of 404 (NOT FOUND)"
    )
    # the draft's editor after saving: the confirmation message
    page.goto(f"/desk/editions/{draft.id}")
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()
    checked.check("Ausgabe (Entwurf, gespeichert)")
    # the approved edition's editor, then the confirmation before "Jetzt senden"
    page.goto(f"/desk/editions/{approved.id}")
    checked.check("Ausgabe (freigegeben)")
    page.get_by_role("button", name="Jetzt senden …").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jetzt senden?")
    checked.check("Jetzt senden?")
    assert not checked.found, "\n\n".join(checked.found)
