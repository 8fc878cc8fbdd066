"""The subscriber pages in a real browser (Debian's Chromium via Playwright).

Sign up, confirm from the mail (read from the outbox, the link opened as it is),
change topics, unsubscribe, and erase the data, each step checked in the database.
The site is served over a copy of the subscriber tests' database (tests/subscribers),
one per test; the browser is this folder's (conftest.py).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from werkzeug.serving import make_server

from pipeline.bootstrap import Services, build
from pipeline.model import SubscriberStatus, SuppressionReason
from pipeline.web import create_app
from subscribers.addresses import hash_of
from tests.browser.conftest import ARTIFACTS, TIMEOUT_MS
from tests.subscribers.conftest import SECRET, Outbox, make_settings, template_db

__all__ = ["template_db"]  # the fixture, from tests/web/conftest.py

ADDRESS = "Bernd.Mueller@Landratsamt-BB.de"
STORED = "bernd.mueller@landratsamt-bb.de"


@dataclass
class Live:
    base_url: str
    services: Services
    outbox: Outbox


@pytest.fixture
def live(tmp_path: Path, template_db: Path) -> Iterator[Live]:
    apps: list[Flask] = []  # the server's port is the base URL the app mails links with
    server = make_server(
        "127.0.0.1", 0, lambda environ, start: apps[0](environ, start), threaded=True
    )
    base_url = f"http://127.0.0.1:{server.server_port}"
    settings = make_settings(tmp_path, EUDIGEST_BASE_URL=base_url)
    target = settings.data_dir / "eudigest.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_db, target)
    services = build(settings)
    apps.append(create_app(settings, services))
    thread = threading.Thread(target=server.serve_forever, name="subscribers-live", daemon=True)
    thread.start()
    try:
        yield Live(
            base_url,
            services,
            Outbox(settings.data_dir / "outbox"),
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        services.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the page logged; a test that provokes one on purpose removes it."""
    return []


@pytest.fixture
def page(browser: Browser, live: Live, console_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(base_url=live.base_url, locale="de-DE")
    context.set_default_timeout(TIMEOUT_MS)
    errors = console_errors

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page = context.new_page()
    page.on("console", console)
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors  # a CSP violation or a script error


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"subscribers-{name}.png"), full_page=True)


def test_sign_up_confirm_change_topics_unsubscribe_and_erase(
    page: Page, live: Live, console_errors: list[str]
) -> None:
    store = live.services.store.subscribers

    # 1. Sign up on the public page.
    page.goto("/")
    page.get_by_role("link", name="Zum Newsletter anmelden").click()
    page.get_by_label("E-Mail-Adresse").fill(ADDRESS)
    page.get_by_label("Name (freiwillig)").fill("Bernd Müller")
    page.get_by_label("Organisation (freiwillig)").fill("Landratsamt Böblingen")
    page.get_by_label("Art der Organisation").select_option(label="Landkreis")
    page.get_by_label("EU-Tagesüberblick").check()
    page.get_by_label("Förderprogramme").check()
    _shot(page, "1-signup")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Fast geschafft: bitte bestätigen Sie Ihre Anmeldung"
    )
    pending = store.by_hash(hash_of(STORED))
    assert pending is not None and pending.status is SubscriberStatus.PENDING
    assert store.confirmed_for("weekly") == []

    # 2. Confirm from the mail: the link as it is in the .eml file.
    link = live.outbox.last(STORED).link("/abo/bestaetigen/")
    assert link.startswith(live.base_url)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung bestätigen")
    assert store.get(pending.id).status is SubscriberStatus.PENDING  # the GET changed nothing
    page.get_by_role("button", name="Anmeldung bestätigen").click()
    expect(
        page.get_by_role("status").filter(has_text="Ihre Anmeldung ist bestätigt")
    ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Newsletter-Einstellungen")
    assert [s.email for s in store.confirmed_for("daily")] == [STORED]
    preferences_url = page.url

    # 3. Change topics.
    expect(page.get_by_label("Förderprogramme")).to_be_checked()
    page.get_by_label("Förderprogramme").uncheck()
    page.get_by_label("Mobilität & Verkehr").check()
    page.get_by_label("Energie & Klima").check()
    page.get_by_role("button", name="Einstellungen speichern").click()
    expect(
        page.get_by_role("status").filter(has_text="Ihre Einstellungen sind gespeichert.")
    ).to_be_visible()
    expect(page.get_by_label("Mobilität & Verkehr")).to_be_checked()
    expect(page.get_by_label("Förderprogramme")).not_to_be_checked()
    assert store.get(pending.id).topics == ("mobility", "energy_climate")
    _shot(page, "2-preferences")

    # 4. Unsubscribe from one, then from all.
    page.get_by_role("button", name="Vom EU-Tagesüberblick abmelden").click()
    expect(
        page.get_by_role("status").filter(has_text="vom EU-Tagesüberblick abgemeldet")
    ).to_be_visible()
    assert store.confirmed_for("daily") == []
    assert [s.email for s in store.confirmed_for("weekly")] == [STORED]
    page.get_by_role("button", name="Von allen Newslettern abmelden").click()
    expect(
        page.get_by_role("status").filter(has_text="von allen Newslettern abgemeldet")
    ).to_be_visible()
    assert store.confirmed_for("weekly") == []
    assert store.get(pending.id).status is SubscriberStatus.UNSUBSCRIBED

    # 5. Erase the data, after the confirm step.
    page.goto(preferences_url)
    page.get_by_role("link", name="Meine Daten löschen …").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Daten löschen?")
    page.get_by_role("button", name="Ja, meine Daten endgültig löschen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Daten gelöscht")
    _shot(page, "3-erased")
    assert store.by_hash(hash_of(STORED)) is None
    assert store.suppression(hash_of(STORED)) is SuppressionReason.ERASED
    assert not console_errors
    page.goto(preferences_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Link nicht gültig")
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 410 (GONE)"
    ]
    console_errors.clear()


def test_one_click_unsubscribe_page_in_the_browser(page: Page, live: Live) -> None:
    from subscribers.tokens import Links, Tokens

    page.goto("/abo/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(ADDRESS)
    page.get_by_role("button", name="Anmelden").click()
    page.goto(live.outbox.last(STORED).link("/abo/bestaetigen/"))
    page.get_by_role("button", name="Anmeldung bestätigen").click()
    store = live.services.store.subscribers
    subscriber = store.by_hash(hash_of(STORED))
    assert subscriber is not None
    url = Links(Tokens(SECRET), live.base_url).unsubscribe(subscriber, now=live.services.clock())
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Vom Newsletter abmelden")
    assert [s.email for s in store.confirmed_for("weekly")] == [STORED]
    page.get_by_role("button", name="Von allen Newslettern abmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Abgemeldet")
    assert store.confirmed_for("weekly") == []


def test_a_subscriber_follows_a_published_dossier_on_the_preference_page(
    page: Page, live: Live
) -> None:
    """ "Verfahren verfolgen": the published dossier is offered, ticked, saved and kept;
    an unpublished one is not offered at all."""
    import datetime as dt

    from pipeline.model import DossierEvent, DossierRecord, EventKind, ProcedureType

    dossiers = live.services.store.dossiers
    now = live.services.clock()
    step = DossierEvent(dt.date(2026, 6, 16), EventKind.PLENARY_ADOPT_POSITION, "ep", key="p")
    dossiers.upsert(
        [
            DossierRecord(
                reference="2025/0260(COD)",
                source="ep",
                title_de="Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren",
                procedure_type=ProcedureType.COD,
                events=(step,),
            ),
            DossierRecord(
                reference="2026/0010(COD)",
                source="ep",
                title_de="Ein noch nicht veröffentlichtes Verfahren",
                procedure_type=ProcedureType.COD,
            ),
        ],
        now=now,
    )
    dossiers.publish("2025/0260(COD)", True, actor="anna", now=now)

    page.goto("/abo/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(ADDRESS)
    page.get_by_role("button", name="Anmelden").click()
    page.goto(live.outbox.last(STORED).link("/abo/bestaetigen/"))
    page.get_by_role("button", name="Anmeldung bestätigen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Newsletter-Einstellungen")
    preferences_url = page.url

    group = page.get_by_role("group", name="Verfahren verfolgen")
    expect(group).to_be_visible()
    offered = group.get_by_label("Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren")
    expect(offered).not_to_be_checked()
    expect(group).to_contain_text("2025/0260(COD) · Stufe: 1. Lesung Parlament")
    expect(page.get_by_text("Ein noch nicht veröffentlichtes Verfahren")).to_have_count(0)
    expect(page.get_by_text("2026/0010(COD)")).to_have_count(0)

    offered.check()
    _shot(page, "4-dossiers")
    page.get_by_role("button", name="Einstellungen speichern").click()
    expect(
        page.get_by_role("status").filter(has_text="Ihre Einstellungen sind gespeichert.")
    ).to_be_visible()
    subscriber = live.services.store.subscribers.by_hash(hash_of(STORED))
    assert subscriber is not None
    assert [r for r, _, _ in dossiers.reader_follows(subscriber.id)] == ["2025/0260(COD)"]

    page.goto(preferences_url)  # a fresh load: kept
    expect(
        page.get_by_role("group", name="Verfahren verfolgen").get_by_label(
            "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren"
        )
    ).to_be_checked()

    page.get_by_label("Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren").uncheck()
    page.get_by_role("button", name="Einstellungen speichern").click()
    expect(
        page.get_by_role("status").filter(has_text="Ihre Einstellungen sind gespeichert.")
    ).to_be_visible()
    assert dossiers.reader_follows(subscriber.id) == []
