"""Applying webhook events in the store, on SQLite and PostgreSQL: once, atomically."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from pipeline.errors import StoreError
from pipeline.model import (
    RECORD_ONLY,
    EventEffect,
    NewSubscriber,
    Profile,
    SubscriberStatus,
    SuppressionReason,
    WebhookEvent,
)
from pipeline.store import Store
from pipeline.store import subscriber_events as store_events
from pipeline.store.subscriber_events import apply_events
from subscribers.events import email_hash, parse_events, process_events
from tests.events.conftest import PEOPLE, add_people, event
from tests.web.conftest import NOW

T0 = NOW - dt.timedelta(minutes=3)
BOUNCE = EventEffect(suppress=SuppressionReason.BOUNCE, unsubscribe=True)


def webhook_event(
    name: str, key: str, kind: str = "bounce", ref: str | None = None
) -> WebhookEvent:
    return WebhookEvent(
        dedupe_key=key,
        event=kind,
        occurred_at=T0,
        email_hash=email_hash(PEOPLE[name]),
        message_id="msg-1",
        delivery_ref=ref,
        reason="550 5.1.1 unknown user",
    )


def test_an_event_is_new_once(store: Store) -> None:
    add_people(store, ["carla"])
    first = apply_events(store.engine, [(webhook_event("carla", "k1"), BOUNCE)], now=NOW)
    again = apply_events(store.engine, [(webhook_event("carla", "k1"), BOUNCE)], now=NOW)
    twice = apply_events(
        store.engine,
        [(webhook_event("carla", "k2"), BOUNCE), (webhook_event("carla", "k2"), BOUNCE)],
        now=NOW,
    )
    assert (first, again, twice) == ([True], [False], [True, False])


def test_a_bounce_suppresses_and_unsubscribes_from_all(store: Store) -> None:
    people = add_people(store, ["bernd", "carla"])
    apply_events(store.engine, [(webhook_event("carla", "k1"), BOUNCE)], now=NOW)

    carla = store.subscribers.get(people["carla"].id)
    assert carla.status is SubscriberStatus.UNSUBSCRIBED
    assert carla.newsletters == ()
    assert store.subscribers.suppression(email_hash(PEOPLE["carla"])) is SuppressionReason.BOUNCE
    assert [s.id for s in store.subscribers.confirmed_for("weekly")] == [people["bernd"].id]
    assert store.subscribers.get(people["bernd"].id).newsletters == ("daily", "weekly")


def test_a_group_unsubscribe_ends_one_newsletter_only(store: Store) -> None:
    people = add_people(store, ["emil"])
    effect = EventEffect(unsubscribe=True, newsletter_id="daily")
    apply_events(
        store.engine, [(webhook_event("emil", "k1", "group_unsubscribe"), effect)], now=NOW
    )

    emil = store.subscribers.get(people["emil"].id)
    assert emil.status is SubscriberStatus.CONFIRMED
    assert emil.newsletters == ("weekly",)
    assert store.subscribers.suppression(email_hash(PEOPLE["emil"])) is None
    assert [s.id for s in store.subscribers.confirmed_for("weekly")] == [emil.id]
    assert store.subscribers.confirmed_for("daily") == []


def test_a_pending_sign_up_that_bounces_stays_pending_for_the_retention(store: Store) -> None:
    pending = store.subscribers.add(
        NewSubscriber(
            email=PEOPLE["fritz"],
            email_hash=email_hash(PEOPLE["fritz"]),
            profile=Profile(newsletters=("weekly",)),
            consent_text="2026-01",
        ),
        now=NOW - dt.timedelta(days=31),
    )
    apply_events(store.engine, [(webhook_event("fritz", "k1"), BOUNCE)], now=NOW)

    assert store.subscribers.get(pending.id).status is SubscriberStatus.PENDING
    assert store.subscribers.suppression(email_hash(PEOPLE["fritz"])) is SuppressionReason.BOUNCE
    assert store.subscribers.delete_pending_before(NOW - dt.timedelta(days=30)) == 1


def test_an_erased_address_keeps_its_first_reason(store: Store) -> None:
    people = add_people(store, ["dora"])
    store.subscribers.erase(people["dora"].id, now=NOW)
    effect = EventEffect(suppress=SuppressionReason.SPAMREPORT, unsubscribe=True)
    assert apply_events(store.engine, [(webhook_event("dora", "k1"), effect)], now=NOW) == [True]
    assert store.subscribers.suppression(email_hash(PEOPLE["dora"])) is SuppressionReason.ERASED


def test_delivery_events_are_kept_for_the_delivery_record(store: Store) -> None:
    people = add_people(store, ["bernd"])
    apply_events(
        store.engine,
        [
            (webhook_event("bernd", "k1", "delivered", ref="dlv-9"), RECORD_ONLY),
            (webhook_event("bernd", "k2", "open", ref="dlv-9"), RECORD_ONLY),
        ],
        now=NOW,
    )
    assert store.subscribers.events_for("dlv-9") == [("delivered", T0), ("open", T0)]
    assert store.subscribers.get(people["bernd"].id).status is SubscriberStatus.CONFIRMED
    assert store.subscribers.suppression(email_hash(PEOPLE["bernd"])) is None


def test_a_failure_half_way_rolls_back_the_whole_batch(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first bounce is recorded and suppressed, then the database fails: none of it
    stays, so SendGrid's retry finds every event new."""
    people = add_people(store, ["carla", "dora"])
    batch = [(webhook_event("carla", "k1"), BOUNCE), (webhook_event("dora", "k2"), BOUNCE)]
    calls = []

    def failing_unsubscribe(*args: Any) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise OperationalError("UPDATE subscriptions", {}, Exception("server closed"))
        real_unsubscribe(*args)

    real_unsubscribe = store_events._unsubscribe
    with monkeypatch.context() as m:
        m.setattr(store_events, "_unsubscribe", failing_unsubscribe)
        with pytest.raises(StoreError, match="database unavailable"):
            apply_events(store.engine, batch, now=NOW)

    assert len(calls) == 2  # carla's effects were applied inside the transaction
    assert store.subscribers.suppression(email_hash(PEOPLE["carla"])) is None
    assert store.subscribers.get(people["carla"].id).status is SubscriberStatus.CONFIRMED
    assert store.subscribers.counts()["suppressed"] == 0
    assert apply_events(store.engine, batch, now=NOW) == [True, True]
    assert store.subscribers.counts()["suppressed"] == 2


def test_process_events_end_to_end(store: Store) -> None:
    """From a webhook body to subscriber state, with a mapped unsubscribe group."""
    import json

    people = add_people(store, ["bernd", "emil"])
    body = json.dumps(
        [
            event("group_unsubscribe", PEOPLE["emil"], asm_group_id=42),
            event("delivered", PEOPLE["bernd"], delivery_id="dlv-1"),
            event("machine_opened", PEOPLE["bernd"]),
        ]
    ).encode()

    report = process_events(store, parse_events(body), now=NOW, groups={42: "daily"})
    again = process_events(store, parse_events(body), now=NOW, groups={42: "daily"})

    assert report.as_dict() == {
        "received": 3,
        "new": 2,
        "duplicates": 0,
        "ignored": 1,
        "invalid": 0,
    }
    assert (again.new, again.duplicates) == (0, 2)
    assert store.subscribers.get(people["emil"].id).newsletters == ("weekly",)
    assert store.subscribers.events_for("dlv-1") == [("delivered", T0)]
