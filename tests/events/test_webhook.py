"""POST /webhooks/sendgrid through Flask's test client, signed like SendGrid signs."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.errors import StoreError
from pipeline.model import SubscriberStatus, SuppressionReason
from pipeline.web import create_app
from pipeline.web.webhooks import webhooks_blueprint
from subscribers import events as events_module
from subscribers.events import email_hash
from tests.events.conftest import (
    PEOPLE,
    SIGNATURE,
    TIMESTAMP,
    Signer,
    Webhook,
    add_people,
    event,
    snapshot,
    with_webhooks,
)
from tests.web.conftest import NOW, Clock, make_settings

T0 = NOW - dt.timedelta(minutes=3)


def mixed_batch() -> list[dict[str, Any]]:
    """One of each kind, as SendGrid would post them after a send to five people."""
    return [
        event("processed", PEOPLE["bernd"], at=T0 - dt.timedelta(seconds=5), delivery_id="dlv-1"),
        event("delivered", PEOPLE["bernd"], at=T0, delivery_id="dlv-1",
              response="250 2.0.0 OK 1700000000 mail.stuttgart.de"),
        event("bounce", PEOPLE["carla"], type="bounce", status="5.1.1", delivery_id="dlv-2",
              reason=f"550 5.1.1 <{PEOPLE['carla']}>: Recipient address rejected"),
        event("spamreport", PEOPLE["dora"], delivery_id="dlv-3"),
        event("unsubscribe", PEOPLE["emil"], delivery_id="dlv-4"),
        event("bounce", PEOPLE["fritz"], type="blocked", status="4.7.1", delivery_id="dlv-5",
              reason="421 4.7.1 Try again later"),
        event("deferred", PEOPLE["fritz"], delivery_id="dlv-5", attempt="1",
              response="451 4.3.2 Please try again later"),
        event("group_resubscribe", PEOPLE["emil"], asm_group_id=42),  # not ours to act on
        {"event": "delivered", "timestamp": int(T0.timestamp())},  # no address: invalid
    ]  # fmt: skip


def recipients(services: Services, newsletter: str = "weekly") -> set[str]:
    return {s.email for s in services.store.subscribers.confirmed_for(newsletter)}


def test_a_signed_batch_changes_subscribers_once(
    hook: Webhook, services: Services, people: dict[str, Any]
) -> None:
    store = services.store.subscribers
    response = hook.post(mixed_batch())

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "received": 9,
        "new": 7,
        "duplicates": 0,
        "ignored": 1,
        "invalid": 1,
    }
    # a hard bounce, a complaint and an unsubscribe: suppressed, unsubscribed from all
    for name, reason in (
        ("carla", SuppressionReason.BOUNCE),
        ("dora", SuppressionReason.SPAMREPORT),
        ("emil", SuppressionReason.UNSUBSCRIBE),
    ):
        assert store.suppression(email_hash(PEOPLE[name])) is reason, name
        after = store.get(people[name].id)
        assert after.status is SubscriberStatus.UNSUBSCRIBED, name
        assert after.newsletters == (), name
    # a blocked bounce is temporary; a delivery changes nothing
    for name in ("bernd", "fritz"):
        assert store.suppression(email_hash(PEOPLE[name])) is None
        assert store.get(people[name].id).status is SubscriberStatus.CONFIRMED
    assert recipients(services) == {PEOPLE["bernd"], PEOPLE["fritz"]}
    assert recipients(services, "daily") == {PEOPLE["bernd"], PEOPLE["fritz"]}
    # the delivery records get their events, in time order
    assert store.events_for("dlv-1") == [
        ("processed", T0 - dt.timedelta(seconds=5)),
        ("delivered", T0),
    ]
    assert store.events_for("dlv-5") == [("bounce", T0), ("deferred", T0)]
    assert store.counts()["suppressed"] == 3


def test_a_retry_with_new_event_ids_changes_nothing(
    hook: Webhook, services: Services, people: dict[str, Any], clock: Clock
) -> None:
    batch = mixed_batch()
    assert hook.post(batch).status_code == 200
    before = snapshot(services.store)

    clock.advance(minutes=5)  # SendGrid retries later, signs again, with new sg_event_ids
    retry = [{**e, "sg_event_id": f"retry-{n}"} for n, e in enumerate(batch)]
    response = hook.post(retry)

    assert response.status_code == 200
    assert response.get_json() == {
        "received": 9,
        "new": 0,
        "duplicates": 7,
        "ignored": 1,
        "invalid": 1,
    }
    assert snapshot(services.store) == before


def test_the_same_event_twice_in_one_batch_counts_once(
    hook: Webhook, services: Services, people: dict[str, Any]
) -> None:
    bounce = event("bounce", PEOPLE["carla"], type="bounce", reason="550 no such user")
    response = hook.post([bounce, {**bounce, "sg_event_id": "other"}])
    assert response.get_json()["new"] == 1
    assert response.get_json()["duplicates"] == 1


def test_an_address_in_other_case_is_the_same_subscriber(
    hook: Webhook, services: Services, people: dict[str, Any]
) -> None:
    response = hook.post([event("spamreport", PEOPLE["carla"].upper())])
    assert response.status_code == 200
    assert services.store.subscribers.get(people["carla"].id).status is (
        SubscriberStatus.UNSUBSCRIBED
    )


def test_no_address_is_stored_with_the_event(
    hook: Webhook, services: Services, people: dict[str, Any]
) -> None:
    assert hook.post(mixed_batch()).status_code == 200
    with services.store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM webhook_events")).all()
    text = json.dumps([[str(v) for v in row] for row in rows], ensure_ascii=False).lower()
    for address in PEOPLE.values():
        assert address.lower() not in text
        assert address.split("@")[0].lower() not in text
    assert "550 5.1.1 <address>: recipient address rejected" in text


# ---------------------------------------------------------------- refused requests


def _sign_other(hook: Webhook, body: bytes) -> dict[str, Any]:
    ts = str(int(hook.clock().timestamp()))
    return {"timestamp": ts, "signature": hook.signer.sign(b"[]", ts)}


def _old(hook: Webhook, minutes: int) -> dict[str, Any]:
    return {"timestamp": str(int((hook.clock() - dt.timedelta(minutes=minutes)).timestamp()))}


REFUSED: dict[str, tuple[Callable[[Webhook, bytes], dict[str, Any]], int, str]] = {
    "no headers": (lambda h, b: {"sign": False}, 401, "missing_headers"),
    "no signature": (
        lambda h, b: {"sign": False, "headers": {TIMESTAMP: str(int(h.clock().timestamp()))}},
        401,
        "missing_headers",
    ),
    "no timestamp": (
        lambda h, b: {"sign": False, "headers": {SIGNATURE: h.signer.sign(b, "1")}},
        401,
        "missing_headers",
    ),
    "garbage signature": (
        lambda h, b: {"signature": base64.b64encode(b"x" * 70).decode()},
        403,
        "bad_signature",
    ),
    "not base64": (lambda h, b: {"signature": "%%%not-base64%%%"}, 403, "bad_signature"),
    "signature of another body": (_sign_other, 403, "bad_signature"),
    "11 minutes old": (lambda h, b: _old(h, 11), 403, "too_old"),
    "11 minutes ahead": (lambda h, b: _old(h, -11), 403, "in_future"),
    "timestamp not a number": (lambda h, b: {"timestamp": "yesterday"}, 403, "bad_timestamp"),
    "fractional timestamp": (lambda h, b: {"timestamp": "1700000000.5"}, 403, "bad_timestamp"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_request_not_from_sendgrid_changes_nothing(
    case: str, hook: Webhook, services: Services, people: dict[str, Any]
) -> None:
    make_kw, status, reason = REFUSED[case]
    body = json.dumps(mixed_batch()).encode()
    before = snapshot(services.store)

    response = hook.post_raw(body, **make_kw(hook, body))

    assert response.status_code == status
    assert response.get_json() == {"error": f"rejected: {reason}"}
    assert snapshot(services.store) == before
    assert recipients(services) == {p.lower() for p in PEOPLE.values()}


def test_a_signature_ten_minutes_old_is_still_accepted(
    hook: Webhook, services: Services, people: dict[str, Any]
) -> None:
    response = hook.post([event("spamreport", PEOPLE["dora"])], **_old(hook, 10))
    assert response.status_code == 200
    assert response.get_json()["new"] == 1


def test_a_changed_body_breaks_the_signature(
    hook: Webhook, services: Services, people: dict[str, Any]
) -> None:
    """Re-serialising the JSON (other spacing) is a different body: the raw bytes count."""
    batch = [event("delivered", PEOPLE["bernd"])]
    body = json.dumps(batch).encode()
    ts = str(int(hook.clock().timestamp()))
    signature = hook.signer.sign(body, ts)
    compact = json.dumps(batch, separators=(",", ":")).encode()
    assert hook.post_raw(compact, timestamp=ts, signature=signature).status_code == 403
    assert hook.post_raw(body, timestamp=ts, signature=signature).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'[{"event": "bounce", "email": ', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2", "not valid JSON"),
        (b'{"event": "bounce", "email": "x@y.de", "timestamp": 1700000000}', "JSON array"),
        (b'"bounce"', "JSON array"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
    ids=["truncated", "empty", "unclosed", "object", "string", "deeply nested"],
)
def test_a_signed_but_malformed_body_is_a_400(
    body: bytes, message: str, hook: Webhook, services: Services, people: dict[str, Any]
) -> None:
    before = snapshot(services.store)
    response = hook.post_raw(body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert snapshot(services.store) == before


def test_a_body_that_is_not_utf8_is_a_400(hook: Webhook, services: Services) -> None:
    response = hook.post_raw('[{"email": "müller@x.de"}]'.encode("cp1252"))
    assert response.status_code == 400
    assert response.get_json() == {"error": "rejected: not_utf8"}


def _many_events(size: int) -> bytes:
    """Real-looking delivered events, as many as make `size` bytes."""
    out: list[dict[str, Any]] = []
    total = 2
    while total <= size:
        n = len(out)
        out.append(
            event(
                "delivered",
                f"person{n}@gemeinde{n % 179}.example",
                delivery_id=f"dlv-{n}",
                message=f"msg{n}.filter0001.16648.5515E0B88.0",
            )
        )
        total += len(json.dumps(out[-1])) + 2
    return json.dumps(out).encode()


def test_ten_megabytes_of_events_are_refused_with_413(
    hook: Webhook, services: Services, people: dict[str, Any]
) -> None:
    body = _many_events(10_000_000)
    assert len(body) > 10_000_000
    before = snapshot(services.store)
    response = hook.post_raw(body)
    assert response.status_code == 413
    assert "at most 5000000 bytes" in response.get_json()["error"]
    assert snapshot(services.store) == before


def test_a_two_megabyte_batch_is_within_the_cap(hook: Webhook, services: Services) -> None:
    """Over the app's 1 MB form limit, under the webhook's 5 MB: all of it is applied."""
    body = _many_events(2_000_000)
    count = len(json.loads(body))
    response = hook.post_raw(body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["new"] == count
    assert services.store.subscribers.events_for(f"dlv-{count - 1}") == [("delivered", T0)]


def test_too_many_events_are_refused_with_413(hook: Webhook, services: Services) -> None:
    tiny = {"event": "open", "email": "a@b.de", "timestamp": 1_800_000_000}
    body = json.dumps([tiny] * (events_module.MAX_EVENTS + 1)).encode()
    assert len(body) < 5_000_000
    response = hook.post_raw(body)
    assert response.status_code == 413
    assert "over the limit" in response.get_json()["error"]


def test_no_csrf_token_is_needed_but_the_desk_still_demands_one(
    hook: Webhook, app: Flask, services: Services, people: dict[str, Any]
) -> None:
    assert app.config["WTF_CSRF_ENABLED"] is not False
    assert hook.client.post("/login", data={"name": "x", "password": "y"}).status_code == 400
    assert hook.post([event("spamreport", PEOPLE["dora"])]).status_code == 200


# ---------------------------------------------------------------- configuration


def test_without_a_configured_key_the_webhook_answers_503(
    tmp_path: Path, services: Services, clock: Clock, signer: Signer
) -> None:
    settings = make_settings(tmp_path / "nokey")
    services.settings = settings
    hook = Webhook(with_webhooks(create_app(settings, services)).test_client(), signer, clock)
    response = hook.post([event("spamreport", PEOPLE["dora"])])
    assert response.status_code == 503
    assert response.get_json() == {"error": "webhook not configured"}


@pytest.mark.parametrize(
    "key",
    ["not a key", base64.b64encode(b"\x30\x03\x02\x01\x00").decode()],
    ids=["text", "truncated DER"],
)
def test_an_unreadable_key_answers_503(
    key: str, tmp_path: Path, services: Services, clock: Clock, signer: Signer
) -> None:
    settings: Settings = make_settings(tmp_path / "badkey", EUDIGEST_SENDGRID_WEBHOOK_KEY=key)
    services.settings = settings
    hook = Webhook(with_webhooks(create_app(settings, services)).test_client(), signer, clock)
    response = hook.post([event("spamreport", PEOPLE["dora"])])
    assert response.status_code == 503
    assert "public key" in response.get_json()["error"]


# ---------------------------------------------------------------- database failures


def test_a_database_failure_mid_batch_loses_nothing_and_the_retry_applies_it(
    hook: Webhook,
    services: Services,
    people: dict[str, Any],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The subscriptions table vanishes: the bounce's suppression was already written in
    the transaction, the unsubscribe fails; all of the batch is rolled back (503), and
    SendGrid's retry, once the database is back, applies it exactly once."""
    batch = [
        event("delivered", PEOPLE["bernd"], delivery_id="dlv-1"),
        event("bounce", PEOPLE["carla"], type="bounce", reason="550 5.1.1 unknown"),
    ]
    before = snapshot(services.store)
    with services.store.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE subscriptions RENAME TO subscriptions_away"))

    with caplog.at_level(logging.ERROR, logger="eudigest.web.webhooks"):
        response = hook.post(batch)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "nothing applied" in response.get_json()["error"]
    assert "SendGrid will retry" in caplog.text
    with services.store.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE subscriptions_away RENAME TO subscriptions"))
    assert snapshot(services.store) == before  # not even the delivered event is marked seen

    clock.advance(minutes=2)
    retry = hook.post([{**e, "sg_event_id": "retry"} for e in batch])
    assert retry.get_json() == {
        "received": 2,
        "new": 2,
        "duplicates": 0,
        "ignored": 0,
        "invalid": 0,
    }
    assert services.store.subscribers.suppression(email_hash(PEOPLE["carla"])) is (
        SuppressionReason.BOUNCE
    )
    assert services.store.subscribers.events_for("dlv-1") == [("delivered", T0)]


def test_a_store_error_answers_503_and_a_later_retry_succeeds(
    hook: Webhook,
    services: Services,
    people: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = [event("spamreport", PEOPLE["dora"])]

    def down(*args: object, **kw: object) -> list[bool]:
        raise StoreError("applying webhook events: database unavailable: connection refused")

    with monkeypatch.context() as m:
        m.setattr(services.store.subscribers, "apply_events", down)
        assert hook.post(batch).status_code == 503
    assert services.store.subscribers.suppression(email_hash(PEOPLE["dora"])) is None

    response = hook.post(batch)
    assert response.status_code == 200
    assert response.get_json()["new"] == 1
    assert services.store.subscribers.suppression(email_hash(PEOPLE["dora"])) is (
        SuppressionReason.SPAMREPORT
    )


def test_events_for_addresses_we_do_not_know_are_still_suppressed(
    hook: Webhook, services: Services
) -> None:
    """An erased subscriber's address bounces later: the hash goes on the list anyway."""
    add_people(services.store, ["bernd"])
    response = hook.post([event("bounce", "ehemals@gemeinde.example", type="bounce")])
    assert response.status_code == 200
    assert services.store.subscribers.suppression(email_hash("ehemals@gemeinde.example")) is (
        SuppressionReason.BOUNCE
    )


def test_a_chunked_body_without_length_is_capped_too(
    hook: Webhook, services: Services, people: dict[str, Any]
) -> None:
    """No Content-Length (chunked transfer): the cap applies while reading."""
    body = _many_events(6_000_000)
    ts = str(int(hook.clock().timestamp()))
    before = snapshot(services.store)
    response = hook.client.post(
        "/webhooks/sendgrid",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            TIMESTAMP: ts,
            SIGNATURE: hook.signer.sign(body, ts),
        },
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets it
    )
    assert response.status_code == 413
    assert snapshot(services.store) == before


def test_the_blueprint_refuses_an_app_without_csrf_protection() -> None:
    """Registered before CSRFProtect it could not exempt itself: fail at start-up, loudly."""
    with pytest.raises(RuntimeError, match="after CSRFProtect"):
        Flask("bare").register_blueprint(webhooks_blueprint())
