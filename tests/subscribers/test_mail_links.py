"""Links in subscriber mails come only from EUDIGEST_BASE_URL and EUDIGEST_SECRET_KEY.

Found from outside: with EUDIGEST_BASE_URL unset, a POST to /abo/link with
`Host: evil.example` mailed the victim a preference link to the attacker's host, and
sign-up did the same with confirmation links; without EUDIGEST_SECRET_KEY, sign-up
mailed links signed with a key that changes at restart. Now the web mails nothing
without both (the visitor reads why, the operator's log names the variable), like the
command line. And HSTS under an https base URL.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

import pytest
from flask import Flask

from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.model import NewSubscriber, Profile
from pipeline.web import create_app
from subscribers.addresses import hash_of
from tests.subscribers.conftest import NOW, Outbox, Visitor, visible

BERND = "bernd.mueller@landratsamt-bb.de"
PUBLIC = "https://newsletter.region-stuttgart.de"
EVIL = {"HTTP_HOST": "evil.example"}


def app_with(services: Services, **changes: object) -> Flask:
    settings: Settings = dataclasses.replace(services.settings, **changes)  # type: ignore[arg-type]
    services.settings = settings
    app = create_app(settings, services)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def bernd(services: Services) -> Iterator[int]:
    """A confirmed subscriber: /abo/link mails him his preference link."""
    new = NewSubscriber(
        BERND, hash_of(BERND), Profile(newsletters=("weekly",)), consent_text="v1", consent_at=NOW
    )
    yield services.store.subscribers.add(new, now=NOW).id


def link_request(app: Flask, address: str = BERND) -> tuple[int, str]:
    visitor = Visitor(app.test_client())
    page = visitor.client.get("/abo/link", environ_base=EVIL)
    assert page.status_code == 200
    response = visitor.post_from(page, "/abo/link", {"email": address}, environ_base=EVIL)
    return response.status_code, visible(response.get_data(as_text=True))


def sign_up(app: Flask) -> tuple[int, str]:
    visitor = Visitor(app.test_client())
    visitor.environ = {**visitor.environ, **EVIL}
    response = visitor.sign_up(BERND)
    return response.status_code, visible(response.get_data(as_text=True))


def test_a_forged_host_never_reaches_a_mailed_preference_link(
    services: Services, outbox: Outbox, bernd: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_with(services, base_url=None)
    with caplog.at_level(logging.ERROR, logger="eudigest.web"):
        status, text = link_request(app)
    assert status == 503
    assert "keine E-Mail schicken" in text and "EUDIGEST_BASE_URL ist nicht gesetzt" in text
    assert outbox.count() == 0  # nothing mailed, least of all a link to evil.example
    [line] = [r.getMessage() for r in caplog.records if "no subscriber mail" in r.getMessage()]
    assert "EUDIGEST_BASE_URL not set" in line and "/abo/link" in line


def test_a_forged_host_never_reaches_a_mailed_confirmation_link(
    services: Services, outbox: Outbox
) -> None:
    app = app_with(services, base_url=None)
    status, text = sign_up(app)
    assert status == 503 and "EUDIGEST_BASE_URL ist nicht gesetzt" in text
    assert outbox.count() == 0
    assert services.store.subscribers.by_hash(hash_of(BERND)) is None  # nothing stored


def test_with_the_base_url_set_a_forged_host_changes_nothing(
    services: Services, outbox: Outbox, bernd: int
) -> None:
    app = app_with(services, base_url=PUBLIC)
    status, _ = link_request(app)
    assert status == 200
    link = outbox.last(BERND).link("/abo/einstellungen/")
    assert link.startswith(f"{PUBLIC}/abo/einstellungen/") and "evil.example" not in link
    status, _ = sign_up(app)
    assert status == 303
    assert "evil.example" not in outbox.last(BERND).text


def test_without_a_secret_key_the_web_mails_no_signed_link(
    services: Services, outbox: Outbox, bernd: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_with(services, base_url=PUBLIC, secret_key=None)
    with caplog.at_level(logging.ERROR, logger="eudigest.web"):
        status, text = sign_up(app)
    assert status == 503 and "EUDIGEST_SECRET_KEY ist nicht gesetzt" in text
    assert "EUDIGEST_BASE_URL" not in text  # only what is missing
    assert outbox.count() == 0
    assert any("EUDIGEST_SECRET_KEY not set" in r.getMessage() for r in caplog.records)
    status, text = link_request(app)
    assert status == 503 and "EUDIGEST_SECRET_KEY" in text
    assert outbox.count() == 0


def test_hsts_only_under_an_https_base_url(services: Services) -> None:
    secure = app_with(services, base_url=PUBLIC).test_client()
    for path in ("/", "/abo/anmelden", "/login"):
        header = secure.get(path).headers.get("Strict-Transport-Security", "")
        assert header.startswith("max-age=") and int(header.split("=")[1]) >= 180 * 24 * 3600
    plain = app_with(services, base_url="http://localhost").test_client()
    assert "Strict-Transport-Security" not in plain.get("/").headers
