"""Send an approved edition exactly once per confirmed subscriber (ADR 0004).

    APPROVED | SCHEDULED | SENDING ──transition──▶ SENDING
    recover (claimed → queued, sending → unknown)
    plan (subscriber, segment key) for everyone who receives something
    per pending segment: claim ▸ re-check subscribed ▸ start ▸ send_batch ▸ record
    nothing queued/claimed/sending any more ──▶ SENT

Per-recipient parts (links, greeting, List-Unsubscribe) come from `recipient_for`,
which the shell (jobs.py) builds: stages never make subscriber links themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pipeline.compose.render import RenderedDigest
from pipeline.compose.segments import Segment, SegmentKey, resolve_segments
from pipeline.deliver.batch import Batch, Recipient, RecipientResult
from pipeline.model import Edition, EditionState, Subscriber
from pipeline.store import Store
from pipeline.store.deliveries import Delivery, DeliveryState, Outcome

log = logging.getLogger("eudigest.deliver")

SENDABLE = (EditionState.APPROVED, EditionState.SCHEDULED, EditionState.SENDING)
ACTOR = "sender"


class BatchMailer(Protocol):
    def send_batch(self, batch: Batch) -> list[RecipientResult]: ...


@dataclass(frozen=True, slots=True)
class SendReport:
    sent: int
    failed: int
    unknown: int
    skipped: int
    queued: int = 0  # left for a later run (transient failures)
    edition_id: int = 0
    finished: bool = False  # the edition is SENT

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.unknown == 0


@dataclass(frozen=True, slots=True)
class Envelope:
    """What every message of the edition shares: sender and categories."""

    from_email: str
    from_name: str = ""
    reply_to: str = ""
    categories: tuple[str, ...] = ()


def segment_key(key: SegmentKey) -> str:
    """A stable short name for a segment's content (the ledger's segment_key)."""
    language, _ = key
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
    return f"{language}-{digest}"


def send_edition(
    store: Store,
    mailer: BatchMailer,
    edition_id: int,
    *,
    render: Callable[[Segment], RenderedDigest],
    recipient_for: Callable[[Subscriber], Recipient],
    token_prefix: str,
    now: Callable[[], dt.datetime],
    envelope: Envelope,
    batch_size: int = 1000,
) -> SendReport:
    """Send (or resume sending) an edition; returns the ledger's counts for it."""
    edition = store.editions.transition(
        edition_id,
        from_states=SENDABLE,
        to_state=EditionState.SENDING,
        actor=ACTOR,
        now=now(),
    )
    requeued, unknown = store.deliveries.recover(edition_id, now=now())
    if requeued or unknown:
        log.warning(
            "edition %d: resumed; %d claimed rows queued again, %d in-flight rows unknown",
            edition_id,
            requeued,
            unknown,
        )
    segments = _segments(store, edition)
    by_subscriber = {s.id: seg for seg in segments for s in seg.subscribers}
    store.deliveries.plan(
        edition_id,
        [(sid, segment_key(seg.key)) for sid, seg in by_subscriber.items()],
        now=now(),
    )
    rendered: dict[SegmentKey, RenderedDigest] = {}

    def content(seg: Segment) -> RenderedDigest:
        if seg.key not in rendered:
            rendered[seg.key] = render(seg)
        return rendered[seg.key]

    for key in store.deliveries.pending_segments(edition_id):
        while True:
            token = f"{token_prefix}:{uuid.uuid4()}"
            claimed = store.deliveries.claim(
                edition_id, key, limit=batch_size, token=token, now=now()
            )
            if not claimed:
                break
            transient = _send_claimed(
                store,
                mailer,
                edition,
                claimed,
                token=token,
                by_subscriber=by_subscriber,
                content=content,
                recipient_for=recipient_for,
                envelope=envelope,
                now=now,
            )
            if transient:
                break  # back off: the next run tries these rows again

    counts = store.deliveries.counts(edition_id)
    finished = not (counts["queued"] or counts["claimed"] or counts["sending"])
    if finished:
        store.editions.transition(
            edition_id,
            from_states=(EditionState.SENDING,),
            to_state=EditionState.SENT,
            actor=ACTOR,
            now=now(),
            sent_at=now(),
        )
    return SendReport(
        sent=counts["sent"],
        failed=counts["failed"],
        unknown=counts["unknown"],
        skipped=counts["skipped"],
        queued=counts["queued"] + counts["claimed"] + counts["sending"],
        edition_id=edition_id,
        finished=finished,
    )


def _segments(store: Store, edition: Edition) -> list[Segment]:
    recipients = store.subscribers.confirmed_for(edition.newsletter_id)
    items = store.items.get_many(edition.item_ids)
    sections = [
        (s.title, [items[i] for i in s.item_ids if i in items])
        for s in sorted(edition.sections, key=lambda s: s.position)
    ]
    return resolve_segments(sections, recipients, edition.newsletter_id)


def _send_claimed(
    store: Store,
    mailer: BatchMailer,
    edition: Edition,
    claimed: Sequence[Delivery],
    *,
    token: str,
    by_subscriber: dict[int, Segment],
    content: Callable[[Segment], RenderedDigest],
    recipient_for: Callable[[Subscriber], Recipient],
    envelope: Envelope,
    now: Callable[[], dt.datetime],
) -> bool:
    """One claimed batch; returns True when a transient failure asks to stop for now."""
    current = {s.id: s for s in store.subscribers.confirmed_for(edition.newsletter_id)}
    edition_id = edition.id
    gone = [d.id for d in claimed if d.subscriber_id not in current]
    if gone:
        store.deliveries.skip(gone, token=token, reason="no longer subscribed", now=now())
    nothing = [
        d.id for d in claimed if d.subscriber_id in current and d.subscriber_id not in by_subscriber
    ]
    if nothing:
        store.deliveries.skip(nothing, token=token, reason="nothing to receive", now=now())
    groups: dict[SegmentKey, list[Delivery]] = {}
    for d in claimed:
        if d.subscriber_id in current and d.subscriber_id in by_subscriber:
            groups.setdefault(by_subscriber[d.subscriber_id].key, []).append(d)
    transient = False
    for rows in groups.values():
        segment = by_subscriber[rows[0].subscriber_id]
        digest = content(segment)
        recipients = [
            dataclasses.replace(
                recipient_for(current[d.subscriber_id]),
                custom_args={"edition_id": f"e{edition_id}", "delivery_id": f"d{d.id}"},
            )
            for d in rows
        ]
        batch = Batch(
            subject=digest.subject,
            text=digest.text,
            html=digest.html,
            from_email=envelope.from_email,
            from_name=envelope.from_name,
            reply_to=envelope.reply_to,
            categories=envelope.categories,
            recipients=tuple(recipients),
        )
        store.deliveries.start([d.id for d in rows], token=token, now=now())
        results = mailer.send_batch(batch)
        outcomes = [_outcome(d, r) for d, r in zip(rows, results, strict=True)]
        store.deliveries.record(outcomes, token=token, now=now())
        transient = transient or any(o.state is DeliveryState.QUEUED for o in outcomes)
    return transient


def _outcome(delivery: Delivery, result: RecipientResult) -> Outcome:
    if result.ok:
        return Outcome(delivery.id, DeliveryState.SENT, message_id=result.message_id)
    if result.unknown:
        return Outcome(delivery.id, DeliveryState.UNKNOWN, error=result.error)
    if result.permanent:
        return Outcome(delivery.id, DeliveryState.FAILED, error=result.error)
    return Outcome(delivery.id, DeliveryState.QUEUED, error=result.error)
