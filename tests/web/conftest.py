"""The desk over a real SQLite store: an app, staff accounts, items, logged-in clients."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pipeline.bootstrap import Services, build
from pipeline.catalog import load_taxonomy
from pipeline.config import Settings
from pipeline.curate import staff as accounts
from pipeline.ingest.dedupe import Incoming, decide
from pipeline.model import (
    Classification,
    Deadline,
    DeadlineKind,
    DocType,
    NormalizedItem,
    Role,
    Source,
    SourceKind,
    StaffUser,
    TopicAssignment,
)
from pipeline.store import Store
from pipeline.web import create_app

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)  # 09:30 in Brussels
PASSWORD = "Brüssel-Stuttgart-2026"  # ≥ 12 characters, with an umlaut
SECRET = "test-secret-key-0123456789abcdefghijklmnop"

EC_DE = Source(
    "ec-de", "Presseraum EU-Kommission", "European Commission", "https://x.test/ec", "de",
    SourceKind.FEED,
)  # fmt: skip
EP_EN = Source(
    "ep-en", "EP press releases", "European Parliament", "https://x.test/ep", "en",
    SourceKind.FEED,
)  # fmt: skip

OFFICE_YAML = """\
office:
  name: Europabüro der Region Stuttgart
  sender_email: europabuero@region-stuttgart.de
  privacy_url: https://wrs.region-stuttgart.de/datenschutz
  imprint: |
    Wirtschaftsförderung Region Stuttgart GmbH – Europabüro Brüssel
    Friedrichstraße 10, 70174 Stuttgart · Amtsgericht Stuttgart HRB 12345
desk:
  four_eyes: {four_eyes}
  default_sections:
    - Im Fokus
    - Förderung & Ausschreibungen
newsletters:
  - id: weekly
    name: EU-Wochenbrief
    cadence: weekly
  - id: daily
    name: EU-Tagesüberblick
    cadence: daily
    curated: false
"""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Seeded:
    """The items the fixtures put in the store, by a short name."""

    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


def make_settings(tmp_path: Path, *, four_eyes: bool = False, **env: str) -> Settings:
    office = tmp_path / "office.yaml"
    tmp_path.mkdir(parents=True, exist_ok=True)
    office.write_text(OFFICE_YAML.format(four_eyes=str(four_eyes).lower()), encoding="utf-8")
    environ = {
        "EUDIGEST_DATA_DIR": str(tmp_path / "var"),
        "EUDIGEST_SECRET_KEY": SECRET,
        # mailed links need it (https): without it the preflight blocks every approval
        "EUDIGEST_BASE_URL": "https://eudigest.example.de",
        "EUDIGEST_OFFICE": str(office),
        "EUDIGEST_TAXONOMY": str(ROOT / "taxonomy.yaml"),
        **env,
    }
    return Settings.from_env(environ, cwd=tmp_path)


def make_services(settings: Settings, clock: Clock) -> Services:
    services = build(settings)
    services.clock = clock
    store = services.store
    store.upgrade()
    store.topics.sync(load_taxonomy(settings.taxonomy_path))
    store.sources.register([EC_DE, EP_EN], now=NOW)
    return services


def add_item(
    store: Store,
    n: int,
    *,
    source: Source = EC_DE,
    title: str,
    summary: str = "Text",
    topics: tuple[tuple[str, float], ...] = (),
    doc_type: DocType = DocType.PRESS_RELEASE,
    relevance: float = 0.1,
    published: dt.datetime = NOW - dt.timedelta(hours=1),
    deadlines: tuple[Deadline, ...] = (),
    references: tuple[str, ...] = (),
    reasons: tuple[str, ...] = (),
    url: str | None = None,
) -> int:
    """One item as ingest would store it; returns its id."""
    url = url or f"https://ec.europa.eu/commission/presscorner/detail/{source.language}/ip_26_{n}"
    item = NormalizedItem(
        source_id=source.id,
        identity=f"url:{url}",
        title=title,
        url=url,
        summary_html=f"<p>{summary}</p>",
        summary_text=summary,
        language=source.language,
        published=published,
        updated=None,
        content_hash=f"hash-{n}",
        family=None,
    )
    classification = Classification(
        topics=tuple(TopicAssignment(t, c) for t, c in topics),
        doc_type=doc_type,
        references=references,
        deadlines=deadlines,
        relevance=relevance,
        relevance_reasons=reasons,
    )
    known = store.items.lookup({item.identity}, {url}, set())
    changes = decide([Incoming(item, classification)], known, institution=source.institution)
    store.items.apply(changes, now=NOW)
    found = store.items.lookup({item.identity}, set(), set()).by_identity[item.identity]
    return found.item_id


def seed_items(store: Store) -> Seeded:
    seeded = Seeded()
    seeded.ids["hydrogen"] = add_item(
        store,
        1,
        title="Kommission fördert Wasserstoffprojekte in Straßenbahnen der Region",
        summary="Förderaufruf für Wasserstoff im Nahverkehr; Anträge bis März 2027.",
        topics=(("energy_climate", 0.74), ("mobility", 0.52)),
        relevance=0.8,
        deadlines=(Deadline(dt.date(2027, 3, 15), DeadlineKind.DEADLINE, "Frist"),),
        references=("IP/26/100",),
        published=NOW - dt.timedelta(hours=2),
    )
    seeded.ids["call"] = add_item(
        store,
        2,
        source=EP_EN,
        title="Call for proposals: urban mobility pilots",
        summary="Funding for cities.",
        topics=(("funding", 0.9),),
        doc_type=DocType.FUNDING_CALL,
        relevance=0.3,
        published=NOW - dt.timedelta(days=3),
    )
    seeded.ids["cohesion"] = add_item(
        store,
        3,
        title="Konsultation zur Zukunft der Kohäsionspolitik",
        summary="Die Kommission bittet um Stellungnahmen.",
        topics=(("cohesion", 0.66),),
        doc_type=DocType.CONSULTATION,
        relevance=0.5,
        published=NOW - dt.timedelta(days=10),
        deadlines=(Deadline(dt.date(2027, 1, 31), DeadlineKind.CONSULTATION_END, ""),),
    )
    return seeded


# ---------------------------------------------------------------- clients


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Desk:
    """A test client that logs in through the real form and sends the CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def login(self, name: str, password: str = PASSWORD, next: str | None = None) -> TestResponse:
        page = self.client.get("/login")
        token = csrf_token(page.get_data(as_text=True))
        url = f"/login?next={next}" if next else "/login"
        response = self.client.post(
            url, data={"name": name, "password": password, "csrf_token": token}
        )
        if response.status_code == 303:
            self.refresh_token()
        return response

    def refresh_token(self, path: str = "/desk/status") -> str:
        self.token = csrf_token(self.client.get(path).get_data(as_text=True))
        return self.token

    def get(self, url: str, **kw: Any) -> TestResponse:
        return self.client.get(url, **kw)

    def text(self, url: str, status: int = 200) -> str:
        response = self.client.get(url)
        assert response.status_code == status, (url, response.status_code)
        return response.get_data(as_text=True)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> TestResponse:
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, **kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with taxonomy, sources and staff, made once and copied per test."""
    folder = tmp_path_factory.mktemp("template")
    services = make_services(make_settings(folder), Clock())
    for name, role in (("anna", Role.EDITOR), ("admin", Role.ADMIN), ("bernd", Role.EDITOR)):
        accounts.add_user(services.store, name, role, PASSWORD, now=NOW)
    services.close()
    return folder / "var" / "eudigest.db"


def services_from_template(settings: Settings, clock: Clock, template_db: Path) -> Services:
    target = settings.data_dir / "eudigest.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_db, target)
    services = build(settings)
    services.clock = clock
    return services


@pytest.fixture
def services(settings: Settings, clock: Clock, template_db: Path) -> Iterator[Services]:
    services = services_from_template(settings, clock, template_db)
    yield services
    services.close()


@pytest.fixture
def store(services: Services) -> Store:
    return services.store


@pytest.fixture
def staff(store: Store) -> dict[str, StaffUser]:
    """anna and bernd (editors) and admin, all with PASSWORD."""
    users = {u.name: u for u in store.users.list()}
    return {name: users[name] for name in ("anna", "admin", "bernd")}


@pytest.fixture
def items(store: Store) -> Seeded:
    return seed_items(store)


@pytest.fixture
def app(settings: Settings, services: Services, staff: dict[str, StaffUser]) -> Flask:
    app = create_app(settings, services)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def anon(app: Flask) -> Desk:
    return Desk(app.test_client())


@pytest.fixture
def anna(app: Flask) -> Desk:
    desk = Desk(app.test_client())
    assert desk.login("anna").status_code == 303
    return desk


@pytest.fixture
def bernd(app: Flask) -> Desk:
    desk = Desk(app.test_client())
    assert desk.login("bernd").status_code == 303
    return desk


@pytest.fixture
def admin(app: Flask) -> Desk:
    desk = Desk(app.test_client())
    assert desk.login("admin").status_code == 303
    return desk


def visible(html: str) -> str:
    """The page's text as a reader sees it: no tags, entities decoded, spaces collapsed."""
    import html as html_lib

    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"(?i)</?(span|a|strong|em|small|code|label)\b[^>]*>", "", html)  # inline
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", html))
    return " ".join(text.split())


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_no_active_content(html: str, where: str = "") -> None:
    """No script, image, event handler or javascript: link got into the page as markup."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        if tag == "script":
            assert attrs == [("src", "/static/desk.js"), ("defer", None)], (where, attrs)
        assert tag not in ("img", "iframe", "object", "embed", "svg"), (where, tag)
        for name, value in attrs:
            assert not name.startswith("on"), (where, tag, name)
            if name in ("href", "src", "action"):
                assert not (value or "").strip().lower().startswith("javascript:"), (where, value)


def checked(html: str, name: str) -> set[str]:
    """The values of the checked checkboxes/radios called `name`."""
    parser = _Tags()
    parser.feed(html)
    found = set()
    for tag, attrs in parser.tags:
        a = dict(attrs)
        if tag == "input" and a.get("name") == name and "checked" in a:
            found.add(a.get("value") or "")
    return found
