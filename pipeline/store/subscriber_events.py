"""Webhook events applied atomically: an event is marked seen in the same transaction
that applies its effect (suppression, unsubscribe), so a database failure half-way
loses nothing and a retry of the same batch changes nothing twice.

    apply_events(engine, [(WebhookEvent, EventEffect), …], now=…) -> [new?, …]

The whole batch is one transaction: a failure rolls every event of it back, the
caller answers 5xx, and SendGrid sends the batch again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from pipeline.model import EventEffect, SubscriberStatus, SuppressionReason, WebhookEvent
from pipeline.store.base import upsert, wrap_errors
from pipeline.store.schema import subscribers, subscriptions, suppressions, webhook_events


def apply_events(
    engine: Engine,
    batch: Sequence[tuple[WebhookEvent, EventEffect]],
    *,
    now: dt.datetime,
) -> list[bool]:
    """Record each event once and apply its effect; per event True if new, False if seen.

    One transaction for the batch: all of it is applied, or (StoreError) none of it.
    """
    out: list[bool] = []
    with wrap_errors("applying webhook events"), engine.begin() as conn:
        for event, effect in batch:
            new = _record(conn, event, now)
            out.append(new)
            if not new:
                continue
            if effect.suppress is not None:
                suppress_hash(conn, event.email_hash, effect.suppress, now)
            if effect.unsubscribe:
                _unsubscribe(conn, event.email_hash, effect.newsletter_id, now)
    return out


def _insert(conn: Connection, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for the dialect at hand."""
    return upsert(conn, table)


def _record(conn: Connection, event: WebhookEvent, now: dt.datetime) -> bool:
    stmt = (
        _insert(conn, webhook_events)
        .values(
            dedupe_key=event.dedupe_key,
            event=event.event,
            occurred_at=event.occurred_at,
            received_at=now,
            message_id=event.message_id,
            delivery_ref=event.delivery_ref,
            email_hash=event.email_hash,
            reason=event.reason[:1000],
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(webhook_events.c.id)
    )
    return conn.execute(stmt).first() is not None  # no row back: seen before


def suppress_hash(
    conn: Connection, email_hash: str, reason: SuppressionReason, now: dt.datetime
) -> None:
    """First reason wins: an erased address stays 'erased'."""
    conn.execute(
        _insert(conn, suppressions)
        .values(email_hash=email_hash, reason=reason.value, created_at=now)
        .on_conflict_do_nothing(index_elements=["email_hash"])
    )


def _unsubscribe(
    conn: Connection, email_hash: str, newsletter_id: str | None, now: dt.datetime
) -> None:
    """Like SubscribersStore.unsubscribe, by address hash; unknown hashes are fine.

    A pending (never confirmed) sign-up keeps its status, so the 30-day retention
    still deletes it; its suppression already keeps it from being mailed.
    """
    row = conn.execute(
        select(subscribers.c.id, subscribers.c.status).where(subscribers.c.email_hash == email_hash)
    ).first()
    if row is None:
        return
    cond = [subscriptions.c.subscriber_id == row.id, subscriptions.c.active]
    if newsletter_id is not None:
        cond.append(subscriptions.c.newsletter_id == newsletter_id)
    conn.execute(update(subscriptions).where(*cond).values(active=False, until=now))
    left = conn.execute(
        select(func.count())
        .select_from(subscriptions)
        .where(subscriptions.c.subscriber_id == row.id, subscriptions.c.active)
    ).scalar_one()
    if not left and row.status == SubscriberStatus.CONFIRMED.value:
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == row.id)
            .values(status=SubscriberStatus.UNSUBSCRIBED.value, updated_at=now)
        )
