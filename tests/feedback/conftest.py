"""A sent edition with readers, on the store under test (SQLite or PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.catalog import load_taxonomy
from pipeline.config import Settings
from pipeline.curate import staff as accounts
from pipeline.model import NewSubscriber, OrgType, Profile, Role
from pipeline.store import Store
from pipeline.web import create_app
from subscribers.addresses import hash_of
from tests.deliver.test_send import BASE, make_edition
from tests.subscribers.conftest import Mail, Outbox, make_settings
from tests.web.conftest import EC_DE, EP_EN, NOW, PASSWORD, Clock, Desk

KOMMUNE = "eu@stadt-esslingen.example"
UNI = "eu@uni-stuttgart.example"
_LINE = re.compile(r"^(Hilfreich\? Ja|Nein|Mehr dazu bitte): (\S+)$", re.M)
_WISH = re.compile(r"Was fehlt Ihnen\?.*?\n(https://\S+)", re.S)


@dataclass
class Sent:
    services: Services
    settings: Settings
    clock: Clock
    edition_id: int
    ids: dict[str, int]
    outbox: Outbox

    def client(self) -> FlaskClient:
        app = create_app(self.settings, self.services)
        app.config["TESTING"] = True
        return app.test_client()

    def staff(self) -> Desk:
        desk = Desk(self.client())
        assert desk.login("anna").status_code == 303
        return desk


def links(mail: Mail) -> dict[str, list[str]]:
    """The feedback links of a mail's text part, by label, in order; each also in the HTML."""
    found: dict[str, list[str]] = {}
    for label, url in _LINE.findall(mail.text):
        found.setdefault(label, []).append(url)
        assert url.replace("&", "&amp;") in mail.html or url in mail.html
    wish = _WISH.search(mail.text)
    assert wish is not None, "no 'Was fehlt Ihnen?' link"
    found["wish"] = [wish.group(1)]
    return found


def path(url: str) -> str:
    assert url.startswith(BASE + "/feedback/"), url
    return urlsplit(url).path


def add_reader(services: Services, email: str, org_type: OrgType) -> int:
    profile = Profile(name="", org_type=org_type, newsletters=("weekly",))
    new = NewSubscriber(email, hash_of(email), profile, consent_text="v1", consent_at=NOW)
    return services.store.subscribers.add(new, now=NOW).id


@pytest.fixture
def sent(store: Store, tmp_path: Path) -> Iterator[Sent]:
    settings = make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)
    clock = Clock()
    services = Services(settings, store, clock=clock)
    store.topics.sync(load_taxonomy(settings.taxonomy_path))
    store.sources.register([EC_DE, EP_EN], now=NOW)
    accounts.add_user(store, "anna", Role.EDITOR, PASSWORD, now=NOW)
    add_reader(services, KOMMUNE, OrgType.KOMMUNE)
    add_reader(services, UNI, OrgType.HOCHSCHULE)
    edition_id, ids = make_edition(services)
    report = jobs.send(services, edition_id)
    assert report.sent == 2
    yield Sent(services, settings, clock, edition_id, ids, Outbox(settings.outbox_path))
