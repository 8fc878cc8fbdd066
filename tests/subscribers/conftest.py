"""Subscribers over a real SQLite store, the real web app and the real outbox mailer.

The mails are read back from the outbox (.eml files, parsed with the email package)
and tests follow the links in them, as a subscriber would. Store-level tests use
the `store` fixture of tests/conftest.py (SQLite and PostgreSQL).
"""

from __future__ import annotations

import email
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pipeline.bootstrap import Services, build
from pipeline.catalog import load_office, load_taxonomy
from pipeline.config import Settings
from pipeline.model import Office, Taxonomy
from pipeline.web import create_app
from tests.web.conftest import NOW, PASSWORD, Clock, csrf_token, template_db, visible

__all__ = ["NOW", "PASSWORD", "Clock", "template_db", "visible"]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "subscriber-test-secret-0123456789abcdefghij"

# Written for these tests: the office of the Stuttgart region, with the mail fields.
OFFICE_YAML = """\
office:
  name: Europabüro der Region Stuttgart
  sender_email: europabuero@region-stuttgart.de
  sender_name: Europabüro der Region Stuttgart
  reply_to: europabuero@region-stuttgart.de
  privacy_url: https://wrs.region-stuttgart.de/datenschutz
  imprint: |
    Wirtschaftsförderung Region Stuttgart GmbH – Europabüro Brüssel
    Rue Belliard 60, 1040 Brüssel
desk:
  four_eyes: false
newsletters:
  - id: weekly
    name: EU-Wochenbrief
    description: Die wichtigsten EU-Themen der Woche.
    cadence: weekly
  - id: daily
    name: EU-Tagesüberblick
    cadence: daily
    curated: false
"""


def make_settings(folder: Path, **env: str) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    office = folder / "office.yaml"
    office.write_text(OFFICE_YAML, encoding="utf-8")
    return Settings.from_env(environ(folder, **env), cwd=folder)


def environ(folder: Path, **env: str) -> dict[str, str]:
    return {
        "EUDIGEST_DATA_DIR": str(folder / "var"),
        "EUDIGEST_SECRET_KEY": SECRET,
        "EUDIGEST_OFFICE": str(folder / "office.yaml"),
        "EUDIGEST_TAXONOMY": str(ROOT / "taxonomy.yaml"),
        **env,
    }


# ---------------------------------------------------------------- the outbox


@dataclass
class Mail:
    path: Path
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None, "no text part"
        return str(part.get_content()).replace("\r\n", "\n")

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None, "no HTML part"
        return str(part.get_content()).replace("\r\n", "\n")

    def link(self, path: str) -> str:
        """The one absolute link in the text part whose path starts with `path`."""
        found = [
            u for u in re.findall(r"https?://\S+", self.text) if urlsplit(u).path.startswith(path)
        ]
        assert len(set(found)) == 1, (path, found)
        assert found[0] in self.html, "the HTML part has another link than the text part"
        return str(found[0])


class Outbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def all(self) -> list[Mail]:
        if not self.directory.is_dir():
            return []
        return [
            Mail(p, email.message_from_bytes(p.read_bytes(), policy=policy.default))
            for p in sorted(self.directory.glob("*.eml"))
        ]

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.all() if m.to == address]

    def last(self, address: str) -> Mail:
        mails = self.to(address)
        assert mails, f"no mail to {address}"
        return mails[-1]

    def count(self) -> int:
        return len(self.all())


# ---------------------------------------------------------------- a visitor of the public pages


class Visitor:
    """A browser-like test client: opens links (absolute or paths), sends the page's CSRF token."""

    def __init__(self, client: FlaskClient, ip: str = "192.0.2.10") -> None:
        self.client = client
        self.environ = {"REMOTE_ADDR": ip}

    def get(self, url: str, **kw: Any) -> TestResponse:
        return self.client.get(url, **kw)

    def submit(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> TestResponse:
        """Open the form page at `url`, then POST `data` with its CSRF token to `url`."""
        page = self.client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        return self.post_from(page, url, data, **kw)

    def post_from(
        self, page: TestResponse, url: str, data: dict[str, Any] | None = None, **kw: Any
    ) -> TestResponse:
        payload = {"csrf_token": csrf_token(page.get_data(as_text=True)), **(data or {})}
        return self.client.post(url, data=payload, **kw)

    def sign_up(self, email: str, **fields: Any) -> TestResponse:
        data: dict[str, Any] = {"email": email, "newsletters": ["weekly"], "language": "de"}
        data.update(fields)
        return self.submit("/abo/anmelden", data, environ_base=self.environ)

    def confirm(self, link: str) -> TestResponse:
        """Open the mailed confirm link, press the button."""
        page = self.client.get(link)
        assert page.status_code == 200, visible(page.get_data(as_text=True))
        return self.post_from(page, link)


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def clock() -> Clock:
    return Clock()


# The test client's own address: mailed links come only from EUDIGEST_BASE_URL, and the
# tests open them with the test client.
TEST_CLIENT_BASE = "http://localhost"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=TEST_CLIENT_BASE)


@pytest.fixture
def services(settings: Settings, clock: Clock, template_db: Path) -> Iterator[Services]:
    target = settings.data_dir / "eudigest.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_db, target)
    services = build(settings)
    services.clock = clock
    yield services
    services.close()


@pytest.fixture
def office(settings: Settings) -> Office:
    return load_office(settings.office_path)


@pytest.fixture
def taxonomy(settings: Settings) -> Taxonomy:
    return load_taxonomy(settings.taxonomy_path)


@pytest.fixture
def outbox(settings: Settings) -> Outbox:
    return Outbox(settings.data_dir / "outbox")


@pytest.fixture
def app(settings: Settings, services: Services) -> Flask:
    app = create_app(settings, services)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def visitor(app: Flask) -> Visitor:
    return Visitor(app.test_client())


def new_visitor(app: Flask, ip: str = "192.0.2.10") -> Visitor:
    """Another browser (its own cookies), from the client address `ip`."""
    return Visitor(app.test_client(), ip)
