"""Reading webhook bodies and deciding what each event does (pure, no store)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pipeline.deliver.sendgrid import RejectReason, WebhookRejected, verify_event_webhook
from pipeline.errors import InvalidInput
from pipeline.model import RECORD_ONLY, EventEffect, SuppressionReason
from subscribers.events import BatchTooLarge, effect_of, email_hash, parse_events
from tests.events.conftest import Signer, event
from tests.web.conftest import NOW


def parse_one(entry: dict[str, Any]) -> Any:
    batch = parse_events(json.dumps([entry]).encode())
    assert batch.invalid == 0, batch.problems
    assert len(batch.events) == 1
    return batch.events[0]


def test_a_retry_has_the_same_key_and_other_facts_another() -> None:
    first = parse_one(event("bounce", "a@b.de", sg_event_id="one"))
    retry = parse_one(event("bounce", "A@B.de ", sg_event_id="two"))
    later = parse_one(event("bounce", "a@b.de", at=NOW))
    other_kind = parse_one(event("dropped", "a@b.de"))
    other_message = parse_one(event("bounce", "a@b.de", message="other.filter"))
    assert first.dedupe_key == retry.dedupe_key
    keys = {first.dedupe_key, later.dedupe_key, other_kind.dedupe_key, other_message.dedupe_key}
    assert len(keys) == 4


def test_the_event_carries_the_address_hash_and_our_delivery_id() -> None:
    parsed = parse_one(event("delivered", "Bernd.Maier@Stuttgart.de", delivery_id="dlv-12:3"))
    assert parsed.email_hash == email_hash("bernd.maier@stuttgart.de")
    assert parsed.delivery_ref == "dlv-12:3"
    assert parsed.occurred_at == NOW - dt.timedelta(minutes=3)
    assert parsed.message_id == "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"


@pytest.mark.parametrize(
    "value", ["someone@example.org", "a b", "x" * 101, "", ["dlv-1"], True], ids=repr
)
def test_a_delivery_id_that_is_not_ours_is_not_stored(value: object) -> None:
    assert parse_one({**event("delivered", "a@b.de"), "delivery_id": value}).delivery_ref is None


def test_a_numeric_delivery_id_is_kept_as_text() -> None:
    assert parse_one({**event("open", "a@b.de"), "delivery_id": 4711}).delivery_ref == "4711"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("just text", "not an object"),
        ({"email": "a@b.de", "timestamp": 1_800_000_000}, "'event'"),
        ({"event": "BOUNCE!", "email": "a@b.de", "timestamp": 1_800_000_000}, "'event'"),
        ({"event": "bounce", "timestamp": 1_800_000_000}, "'email'"),
        ({"event": "bounce", "email": "no-at-sign", "timestamp": 1_800_000_000}, "'email'"),
        ({"event": "bounce", "email": "a\n@b.de", "timestamp": 1_800_000_000}, "'email'"),
        ({"event": "bounce", "email": "a@" + "b" * 400, "timestamp": 1_800_000_000}, "'email'"),
        ({"event": "bounce", "email": "a@b.de"}, "'timestamp'"),
        ({"event": "bounce", "email": "a@b.de", "timestamp": "1800000000"}, "'timestamp'"),
        ({"event": "bounce", "email": "a@b.de", "timestamp": 1.8e9}, "'timestamp'"),
        ({"event": "bounce", "email": "a@b.de", "timestamp": True}, "'timestamp'"),
        ({"event": "bounce", "email": "a@b.de", "timestamp": 10**13}, "'timestamp'"),
        (
            {"event": "bounce", "email": "a@b.de", "timestamp": 1_800_000_000, "sg_message_id": 5},
            "'sg_message_id'",
        ),
    ],
)
def test_invalid_entries_are_counted_and_the_rest_kept(entry: object, problem: str) -> None:
    good = event("spamreport", "a@b.de")
    batch = parse_events(json.dumps([good, entry, good]).encode())
    assert (batch.received, batch.invalid, len(batch.events)) == (3, 1, 2)
    assert problem in batch.problems[0]
    assert batch.problems[0].startswith("event 1:")


def test_unknown_events_are_ignored_but_counted() -> None:
    batch = parse_events(
        json.dumps(
            [
                event("group_resubscribe", "a@b.de"),
                {"event": "machine_opened"},
                event("open", "a@b.de"),
            ]
        ).encode()
    )
    assert (batch.received, batch.ignored, batch.invalid) == (3, 2, 0)
    assert [e.event for e in batch.events] == ["open"]


def test_a_long_or_odd_reason_never_loses_the_event() -> None:
    parsed = parse_one(event("bounce", "a@b.de", reason="x" * 50_000, type=["?"]))
    assert len(parsed.reason) == 1000
    assert parsed.bounce_type is None


def test_addresses_in_reasons_are_blanked() -> None:
    parsed = parse_one(
        event(
            "bounce",
            "Juergen.Gross@Landkreis-Esslingen.de",
            reason="550 5.1.1 <juergen.gross@landkreis-esslingen.de>... User unknown; "
            "forwarded to sekretariat@landkreis-esslingen.de",
        )
    )
    assert parsed.reason == "550 5.1.1 <address>... User unknown; forwarded to <address>"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", InvalidInput),
        (b"{}", InvalidInput),
        (b"null", InvalidInput),
        (b"[" + b"{}," * 20_001 + b"{}]", BatchTooLarge),
    ],
    ids=["text", "object", "null", "20002 events"],
)
def test_bodies_that_are_not_a_batch(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_events(body)


def test_a_body_over_the_byte_limit_is_too_large() -> None:
    with pytest.raises(BatchTooLarge, match="over the limit of 100"):
        parse_events(b"[" + b" " * 200 + b"]", max_bytes=100)


@pytest.mark.parametrize(
    ("entry", "effect"),
    [
        (event("bounce", "a@b.de", type="bounce"), EventEffect(SuppressionReason.BOUNCE, True)),
        (event("bounce", "a@b.de"), EventEffect(SuppressionReason.BOUNCE, True)),
        (event("bounce", "a@b.de", type="blocked"), RECORD_ONLY),
        (event("bounce", "a@b.de", type="Blocked"), RECORD_ONLY),
        (
            event("dropped", "a@b.de", reason="Bounced Address"),
            EventEffect(SuppressionReason.DROPPED, True),
        ),
        (event("dropped", "a@b.de", reason="Spam Content"), RECORD_ONLY),
        (event("spamreport", "a@b.de"), EventEffect(SuppressionReason.SPAMREPORT, True)),
        (event("unsubscribe", "a@b.de"), EventEffect(SuppressionReason.UNSUBSCRIBE, True)),
        (
            event("group_unsubscribe", "a@b.de", asm_group_id=7),
            EventEffect(SuppressionReason.UNSUBSCRIBE, True),
        ),
        (
            event("group_unsubscribe", "a@b.de", asm_group_id=42),
            EventEffect(None, True, "daily"),
        ),
        (event("delivered", "a@b.de"), RECORD_ONLY),
        (event("deferred", "a@b.de"), RECORD_ONLY),
        (event("processed", "a@b.de"), RECORD_ONLY),
        (event("click", "a@b.de", url="https://x.test"), RECORD_ONLY),
    ],
    ids=[
        "bounce",
        "bounce without type",
        "blocked",
        "Blocked",
        "dropped address",
        "dropped content",
        "spamreport",
        "unsubscribe",
        "group not mapped",
        "group mapped",
        "delivered",
        "deferred",
        "processed",
        "click",
    ],
)
def test_what_each_event_does(entry: dict[str, Any], effect: EventEffect) -> None:
    assert effect_of(parse_one(entry), {42: "daily"}) == effect


# ---------------------------------------------------------------- signature check


def _signed(signer: Signer, body: bytes, at: dt.datetime) -> tuple[str, str]:
    ts = str(int(at.timestamp()))
    return signer.sign(body, ts), ts


def test_verify_accepts_sendgrids_signature(signer: Signer) -> None:
    body = json.dumps([event("delivered", "a@b.de")]).encode()
    signature, ts = _signed(signer, body, NOW)
    verify_event_webhook(signer.public_b64, body, signature, ts, now=NOW)  # no error
    with pytest.raises(WebhookRejected) as caught:
        verify_event_webhook(signer.public_b64, body + b" ", signature, ts, now=NOW)
    assert caught.value.reason is RejectReason.BAD_SIGNATURE


def test_verify_a_umlaut_body(signer: Signer) -> None:
    body = json.dumps([event("bounce", "jürgen@straße.de", reason="Ungültig")], ensure_ascii=False)
    raw = body.encode()
    signature, ts = _signed(signer, raw, NOW)
    verify_event_webhook(signer.public_b64, raw, signature, ts, now=NOW)


@pytest.mark.parametrize(
    ("delta", "reason"),
    [
        (dt.timedelta(minutes=-10, seconds=-1), RejectReason.TOO_OLD),
        (dt.timedelta(minutes=10, seconds=1), RejectReason.IN_FUTURE),
    ],
)
def test_verify_freshness(signer: Signer, delta: dt.timedelta, reason: RejectReason) -> None:
    body = b"[]"
    signature, ts = _signed(signer, body, NOW + delta)
    with pytest.raises(WebhookRejected) as caught:
        verify_event_webhook(signer.public_b64, body, signature, ts, now=NOW)
    assert caught.value.reason is reason
    verify_event_webhook(
        signer.public_b64, body, signature, ts, now=NOW, max_age=dt.timedelta(minutes=11)
    )


@pytest.mark.parametrize(
    ("signature", "timestamp"), [(None, "1"), ("sig", None), ("", "1"), ("sig", "")]
)
def test_verify_missing_headers(
    signer: Signer, signature: str | None, timestamp: str | None
) -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_event_webhook(signer.public_b64, b"[]", signature, timestamp, now=NOW)
    assert caught.value.reason is RejectReason.MISSING_HEADERS


def test_verify_refuses_a_key_that_is_not_p256(signer: Signer) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    rsa_b64 = base64.b64encode(
        rsa_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
    signature, ts = _signed(signer, b"[]", NOW)
    for key in (rsa_b64, "bm90IGEga2V5", ""):
        with pytest.raises(WebhookRejected) as caught:
            verify_event_webhook(key, b"[]", signature, ts, now=NOW)
        assert caught.value.reason is RejectReason.BAD_KEY


def test_verify_refuses_another_key(signer: Signer) -> None:
    other = Signer()
    signature, ts = _signed(other, b"[]", NOW)
    with pytest.raises(WebhookRejected) as caught:
        verify_event_webhook(signer.public_b64, b"[]", signature, ts, now=NOW)
    assert caught.value.reason is RejectReason.BAD_SIGNATURE


def test_an_address_is_hashed_as_sign_up_hashes_it() -> None:
    """Same mailbox, any spelling: one hash (IDNA domain, case, spaces)."""
    parsed = parse_one(event("bounce", " Info@Bücher.de"))
    assert parsed.email_hash == email_hash("info@xn--bcher-kva.de")
    batch = parse_events(json.dumps([event("bounce", "jürgen@bücher.de")]).encode())
    assert batch.invalid == 1
    assert "usable address" in batch.problems[0]
