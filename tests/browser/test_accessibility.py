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
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

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
from pipeline.store.items import InboxQuery
from subscribers.addresses import hash_of
from subscribers.tokens import MANAGE_PATH, Tokens
from tests.browser.conftest import LiveDesk, Watch, login, new_context, serve_copy, watched_page
from tests.support.axe import axe, report

BASE = "https://newsletter.region-stuttgart.example"  # mailed links need https
READER = "leserin@kommune-esslingen.example"
DOSSIER = "2025/0260(COD)"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, corpus_db: Path) -> Iterator[LiveDesk]:
    yield from serve_copy(tmp_path_factory.mktemp("live-a11y"), corpus_db, base_url=BASE)


def editions(live: LiveDesk) -> tuple[Edition, Edition, Edition, int]:
    """A draft, an approved and a sent edition (two items each), and the reader's id."""
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
    events = (
        DossierEvent(dt.date(2025, 10, 2), EventKind.PROPOSAL, "ep", key="p"),
        DossierEvent(dt.date(2026, 3, 11), EventKind.PLENARY_VOTE, "ep", key="v"),
    )
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
    settings = live.services.settings
    for e in (approved, sent):
        curate.approve(store, office, e.id, actor=bernd, now=now, settings=settings)
    # jobs.send renders and mails through the outbox; Playwright's loop runs in this thread
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(jobs.send, live.services, sent.id).result()
    return draft, store.editions.get(approved.id), store.editions.get(sent.id), reader.id


@pytest.fixture
def admin_page(browser: Browser, live: LiveDesk, watch: Watch) -> Iterator[Page]:
    context = new_context(browser, live)
    try:
        yield watched_page(context, watch)
    finally:
        context.close()
    assert not watch.errors, watch.errors


def test_every_desk_and_public_page_passes_axe(
    admin_page: Page, live: LiveDesk, watch: Watch
) -> None:
    page = admin_page
    draft, approved, sent, reader_id = editions(live)
    item = draft.item_ids[0]
    reader = live.store.subscribers.get(reader_id)
    token = Tokens(live.services.settings.secret_key).manage_token(
        reader, now=live.services.clock()
    )
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        expect(page.locator("main")).to_have_count(1)
        violations = axe(page, best_practice=True)
        if violations:
            found[name] = [report(violations, f"{name} ({page.url})")]

    # public pages, before signing in
    for name, url in [
        ("Anmeldung", "/login"),
        ("Startseite", "/"),
        ("Abo anmelden", "/abo/anmelden"),
        ("Link anfordern", "/abo/link"),
        ("Einstellungen", MANAGE_PATH + token),
        ("Archiv", "/archiv/"),
        ("Archiv-Ausgabe", f"/archiv/{sent.id}"),
        ("Verfahren (öffentlich)", "/archiv/verfahren/"),
    ]:
        page.goto(url)
        check(name)
    page.get_by_role("link", name=re.compile("Zölle auf Einfuhren")).first.click()
    check("Verfahren (öffentlich, Seite)")

    # a refused sign-in (the error message), then signed in
    page.goto("/login")
    page.get_by_label("Name", exact=True).fill("admin")
    page.get_by_label("Passwort", exact=True).fill("falsch-falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("Anmeldung abgelehnt")
    login(page, "admin")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check("Eingang")
    # the inbox in use: a row selected (bulk bar with its count), the keys' help open
    page.keyboard.press("x")
    expect(page.locator(".selected-count")).to_have_text("(1 ausgewählt)")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Tastenkürzel im Eingang")).to_be_visible()
    check("Eingang: Auswahl und Tastenkürzel")
    page.keyboard.press("Escape")
    for name, url in [
        ("Meldung", f"/desk/items/{item}"),
        ("Eigene Meldung", "/desk/items/new"),
        ("Ausgaben", "/desk/editions/"),
        ("Ausgabe (Entwurf)", f"/desk/editions/{draft.id}"),
        ("Ausgabe (freigegeben)", f"/desk/editions/{approved.id}"),
        ("Ausgabe (versandt)", f"/desk/editions/{sent.id}"),
        ("Vorschau", f"/desk/editions/{draft.id}/preview"),
        ("Vorschau (Nur-Text)", f"/desk/editions/{draft.id}/preview?part=text"),
        ("Korrektur", f"/desk/editions/{sent.id}/korrektur/{sent.item_ids[0]}"),
        ("Verfahren", "/desk/verfahren/"),
        ("Abonnenten", "/desk/subscribers/"),
        ("Abonnent löschen", f"/desk/subscribers/{reader_id}/loeschen"),
        ("Konten", "/desk/users"),
        ("Mein Konto", "/desk/konto"),
        ("Passwort", "/desk/password"),
        ("Status", "/desk/status"),
        ("Fehlerseite", "/desk/items/999999999"),
    ]:
        page.goto(url)
        check(name)

    watch.errors.remove(  # the error page's own 404, expected
        "console: Failed to load resource: the server responded with a status of 404 (NOT FOUND)"
    )
    # a saved form: the confirmation message
    page.goto(f"/desk/editions/{draft.id}")
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()
    check("Ausgabe nach dem Speichern")

    page.goto("/desk/verfahren/" + DOSSIER)
    check("Verfahren (Seite)")

    # the confirmation before "Jetzt senden" (a form's answer, not a link)
    page.goto(f"/desk/editions/{approved.id}")
    page.get_by_role("button", name="Jetzt senden …").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jetzt senden?")
    check("Jetzt senden?")

    assert not found, "\n\n".join(line for lines in found.values() for line in lines)
