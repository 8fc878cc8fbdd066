"""SendGrid webhook tests: a P-256 key pair made in this run, a real SQLite store, subscribers."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pipeline.bootstrap import Services, build
from pipeline.config import Settings
from pipeline.model import NewSubscriber, OrgType, Profile, Subscriber
from pipeline.store import Store
from pipeline.web import create_app
from pipeline.web.webhooks import webhooks_blueprint
from subscribers.events import email_hash
from tests.web.conftest import NOW, Clock, make_settings

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
PEOPLE = {
    "bernd": "bernd.maier@stuttgart.de",
    "carla": "Carla.Schaefer@Uni-Stuttgart.de",
    "dora": "dora.yilmaz@ihk-stuttgart.de",
    "emil": "emil.krause@lrabb.de",
    "fritz": "fritz.weber@bosch.example",
}


class Signer:
    """SendGrid's side: signs `timestamp + body` with a key pair made for this test run."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.public_b64 = base64.b64encode(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).decode()

    def sign(self, body: bytes, timestamp: str) -> str:
        signature = self.private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode()


def event(
    kind: str,
    email: str,
    *,
    at: dt.datetime = NOW - dt.timedelta(minutes=3),
    message: str = "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
    delivery_id: str | None = "dlv-7f3a",
    **extra: Any,
) -> dict[str, Any]:
    """One event as SendGrid posts it; a fresh sg_event_id each time (as on a retry)."""
    out: dict[str, Any] = {
        "email": email,
        "timestamp": int(at.timestamp()),
        "event": kind,
        "sg_event_id": base64.b64encode(uuid.uuid4().bytes).decode().rstrip("="),
        "sg_message_id": message,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "category": ["digest"],
    }
    if delivery_id is not None:
        out["delivery_id"] = delivery_id
    out.update(extra)
    return out


@dataclass
class Webhook:
    """Posts signed bodies to /webhooks/sendgrid through the Flask test client."""

    client: FlaskClient
    signer: Signer
    clock: Clock

    def post_raw(
        self,
        body: bytes,
        *,
        timestamp: str | None = None,
        signature: str | None = None,
        sign: bool = True,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        ts = timestamp if timestamp is not None else str(int(self.clock().timestamp()))
        sent = {"Content-Type": "application/json"}
        if sign:
            sent[TIMESTAMP] = ts
            sent[SIGNATURE] = signature or self.signer.sign(body, ts)
        sent.update(headers or {})
        return self.client.post("/webhooks/sendgrid", data=body, headers=sent)

    def post(self, events: Sequence[dict[str, Any]], **kw: Any) -> TestResponse:
        return self.post_raw(json.dumps(events).encode(), **kw)


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer()


@pytest.fixture(scope="session")
def events_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty database made once and copied for each test."""
    folder = tmp_path_factory.mktemp("events-template")
    services = build(make_settings(folder))
    services.store.upgrade()
    services.close()
    return folder / "var" / "eudigest.db"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path, signer: Signer) -> Settings:
    return make_settings(tmp_path, EUDIGEST_SENDGRID_WEBHOOK_KEY=signer.public_b64)


@pytest.fixture
def services(settings: Settings, clock: Clock, events_template_db: Path) -> Iterator[Services]:
    target = settings.data_dir / "eudigest.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(events_template_db, target)
    services = build(settings)
    services.clock = clock
    yield services
    services.close()


def with_webhooks(app: Flask) -> Flask:
    """The app as the shell builds it; adds the blueprint until create_app registers it."""
    if "webhooks" not in app.blueprints:
        app.register_blueprint(webhooks_blueprint())
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app(settings: Settings, services: Services) -> Flask:
    return with_webhooks(create_app(settings, services))


@pytest.fixture
def hook(app: Flask, signer: Signer, clock: Clock) -> Webhook:
    return Webhook(app.test_client(), signer, clock)


def add_people(store: Store, names: Sequence[str] = tuple(PEOPLE)) -> dict[str, Subscriber]:
    """Confirmed subscribers of both newsletters (imported with a consent date)."""
    out = {}
    for name in names:
        email = PEOPLE[name]
        out[name] = store.subscribers.add(
            NewSubscriber(
                email=email.lower(),
                email_hash=email_hash(email),
                profile=Profile(
                    name=name.title(),
                    organisation="Region Stuttgart",
                    org_type=OrgType.KOMMUNE,
                    newsletters=("weekly", "daily"),
                ),
                consent_text="2026-01",
                consent_at=NOW - dt.timedelta(days=30),
            ),
            now=NOW - dt.timedelta(days=30),
        )
    return out


@pytest.fixture
def people(services: Services) -> dict[str, Subscriber]:
    return add_people(services.store)


def snapshot(store: Store) -> dict[str, Any]:
    """Everything an event may change, to show that a refused request changed nothing."""
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        return {
            table: sorted(
                tuple(str(v) for v in row)
                for row in conn.execute(sa.text(f"SELECT * FROM {table}"))
            )
            for table in ("subscribers", "subscriptions", "suppressions", "webhook_events")
        }
