"""A real browser (Debian's Chromium via Playwright) against the desk served for real.

Once per session: the shared corpus is served from a loopback FeedServer and ingested
into a SQLite file (as `eudigest fetch` would), with the staff accounts added; that
file is the template. Once per test module: a copy of it behind a werkzeug server on
127.0.0.1 in a thread (`live`). Once per test: a fresh browser context (cookies,
storage) and page (`page`), whose console errors fail the test at teardown.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    expect,
    sync_playwright,
)
from werkzeug.serving import make_server

from pipeline import jobs
from pipeline.bootstrap import Services, build
from pipeline.config import Settings
from pipeline.curate import staff as accounts
from pipeline.model import ItemStatus, Role
from pipeline.store import Store
from pipeline.store.items import InboxQuery
from pipeline.web import create_app
from tests.support.corpus import sources_yaml
from tests.support.feedserver import FeedServer
from tests.support.fetching import allow_server

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TIMEOUT_MS = 30_000  # one click or assertion: a hang guard (expect returns when it holds)
expect.set_options(timeout=TIMEOUT_MS)

PASSWORD = "Brüssel-Stuttgart-2026"  # ≥ 12 characters, with an umlaut
SECRET = "browser-test-secret-key-0123456789abcdefghij"
STAFF = {"anna": Role.EDITOR, "bernd": Role.EDITOR, "carla": Role.EDITOR, "admin": Role.ADMIN}

# Written for these tests (not the repository's office.yaml, so a change of the office's
# settings there does not change what the tests expect).
OFFICE_YAML = """\
office:
  name: Europabüro der Region Stuttgart
  sender_email: europabuero@region-stuttgart.de
  privacy_url: https://wrs.region-stuttgart.de/datenschutz
  imprint: |
    Wirtschaftsförderung Region Stuttgart GmbH – Europabüro Brüssel
    Friedrichstraße 10, 70174 Stuttgart · Amtsgericht Stuttgart HRB 12345
desk:
  four_eyes: false
  default_sections:
    - Im Fokus
    - Förderung & Ausschreibungen
    - Politik & Gesetzgebung
    - Termine
newsletters:
  - id: weekly
    name: EU-Wochenbrief
    description: Die wichtigsten EU-Themen der Woche, ausgewählt und eingeordnet vom Europabüro.
    cadence: weekly
    curated: true
  - id: daily
    name: EU-Tagesüberblick
    description: Alle vom Europabüro übernommenen Meldungen des Tages.
    cadence: daily
    curated: false
"""


def _unavailable(reason: str) -> None:
    """In CI a missing browser is an error: no browser test may be skipped there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(reason)


def settings_for(folder: Path) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    office = folder / "office.yaml"
    office.write_text(OFFICE_YAML, encoding="utf-8")
    environ = {
        "EUDIGEST_DATA_DIR": str(folder / "var"),
        "EUDIGEST_SECRET_KEY": SECRET,
        # the address mailed links carry (https, or the preflight blocks approval);
        # modules that follow those links in the browser replace it with the server's
        "EUDIGEST_BASE_URL": "https://eudigest.example.de",
        "EUDIGEST_OFFICE": str(office),
        "EUDIGEST_TAXONOMY": str(ROOT / "taxonomy.yaml"),
    }
    return Settings.from_env(environ, cwd=folder)


# ---------------------------------------------------------------- the app, served for real


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the whole corpus, ingested over loopback HTTP, and the staff."""
    if not (CORPUS / "MANIFEST.md").is_file():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    folder = tmp_path_factory.mktemp("corpus-db")
    # Playwright's sync API keeps an event loop running in this thread, and ingest runs
    # one of its own (asyncio.run): so ingest in a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        failed = pool.submit(_ingest_corpus, folder).result()
    assert not failed, f"corpus sources failed to ingest: {failed}"
    return folder / "var" / "eudigest.db"


def _ingest_corpus(folder: Path) -> list[str]:
    services = build(settings_for(folder))
    try:
        with FeedServer(CORPUS) as server:
            allow_server(services, server)
            sources = folder / "corpus-sources.yaml"
            sources.write_text(sources_yaml(server.base_url), encoding="utf-8")
            services.store.upgrade()
            report = jobs.fetch(services, sources_file=sources)
        now = services.clock()
        for name, role in STAFF.items():
            accounts.add_user(services.store, name, role, PASSWORD, now=now)
    finally:
        services.close()  # the last connection checkpoints the WAL into the file
    return [r.source_id for r in report.failed]


@dataclass
class LiveDesk:
    """The desk on a free port of 127.0.0.1, over its own copy of the corpus database."""

    base_url: str
    services: Services

    @property
    def store(self) -> Store:
        return self.services.store


def serve_copy(folder: Path, corpus_db: Path, **changes: Any) -> Iterator[LiveDesk]:
    """The desk over a copy of the corpus database in `folder`; `changes` replace settings
    (e.g. base_url for modules that send mail)."""
    settings = dataclasses.replace(settings_for(folder), **changes)
    target = settings.data_dir / "eudigest.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(corpus_db, target)
    services = build(settings)
    app = create_app(settings, services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="desk-server", daemon=True)
    thread.start()
    try:
        yield LiveDesk(f"http://127.0.0.1:{server.server_port}", services)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        services.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, corpus_db: Path) -> Iterator[LiveDesk]:
    yield from serve_copy(tmp_path_factory.mktemp("live"), corpus_db)


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium for the tests of this folder, stopped after them.

    Not session-wide: while Playwright's sync API runs, its event loop is the running
    loop of the main thread, and later tests that call asyncio.run() (ingest) would fail.
    """
    if not CHROMIUM.is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watch:
    """What a page did that a test did not ask for: console errors, dialogs."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)  # "confirm: Abschnitt … entfernen?"
    accept_dialogs: bool = False  # dismissed ("Abbrechen") unless a test sets this

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def page_error(self, error: object) -> None:
        self.errors.append(f"page error: {error}")

    def dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        if self.accept_dialogs:
            dialog.accept()
        else:
            dialog.dismiss()


@pytest.fixture
def watch() -> Watch:
    return Watch()


def new_context(browser: Browser, live: LiveDesk, *, javascript: bool = True) -> BrowserContext:
    context = browser.new_context(
        base_url=live.base_url,
        locale="de-DE",
        timezone_id="Europe/Brussels",
        viewport={"width": 1280, "height": 900},
        java_script_enabled=javascript,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def watched_page(context: BrowserContext, watch: Watch) -> Page:
    page = context.new_page()
    page.on("console", watch.console)
    page.on("pageerror", watch.page_error)
    page.on("dialog", watch.dialog)
    return page


@pytest.fixture
def page(browser: Browser, live: LiveDesk, watch: Watch) -> Iterator[Page]:
    """A page in a fresh context (no cookies); console errors (CSP, scripts) fail the test."""
    context = new_context(browser, live)
    try:
        yield watched_page(context, watch)
    finally:
        context.close()
    assert not watch.errors, watch.errors


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/ at the repository root (gitignored): screenshots to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def item_id(live: LiveDesk, title: str) -> int:
    """The id of the corpus item with exactly this title (any status)."""
    found = live.store.items.search(
        InboxQuery(
            text=title,
            statuses=(ItemStatus.NEW, ItemStatus.ACCEPTED, ItemStatus.REJECTED),
            per_page=200,
        )
    )
    ids = [i.id for i in found.items if i.title == title]
    assert len(ids) == 1, (title, ids)
    return ids[0]


def flash(page: Page, text: str) -> None:
    """The page shows this confirmation message (role=status)."""
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def login(page: Page, name: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form (the CSRF token is the form's own)."""
    page.goto("/login")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Passwort", exact=True).fill(password)
    # Wait for the page the form leads to, scripts included: keys pressed before desk.js
    # has loaded would be lost.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Anmelden").click()
