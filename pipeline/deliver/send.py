"""Send an approved edition exactly once per confirmed subscriber (ADR 0004).

    APPROVED | SCHEDULED | SENDING ──transition──▶ SENDING    (DRAFT, SENT: NotSendable)
    recover (claimed → queued, sending → unknown)
    plan (subscriber, segment key) for everyone who receives something, once per
      edition: a resume (crash, staff "Erneut senden") sends only the ledger's rows
    claim ≤ 1,000 queued rows (whole segments, in segment order) ▸ re-check subscribed
      ▸ per segment: start ▸ send_batch ▸ record
        transient failure (429, 5xx, no connection) ──▶ stop the run; rows stay queued
        halt (SendGrid 401/403: the key) ──▶ rows back to queued, raise SendStopped
    nothing queued/claimed/sending any more ──▶ SENT (sent_at: the first send's, kept)

A permanent failure marks only that delivery failed: it never suppresses the address
(only bounce, dropped and spam events of the Event Webhook do), so the next edition
is tried again.

Per-recipient parts (links, greeting, List-Unsubscribe) come from `recipient_for`,
which the shell (jobs.py) builds: stages never make subscriber links themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pipeline.compose.render import RenderedDigest
from pipeline.compose.segments import Segment, SegmentKey, resolve_segments
from pipeline.deliver.batch import Batch, Recipient, RecipientResult
from pipeline.errors import DeliveryError, InvalidTransition
from pipeline.model import Edition, EditionState, Subscriber
from pipeline.store import Store
from pipeline.store.deliveries import Delivery, DeliveryState, Outcome

log = logging.getLogger("eudigest.deliver")

SENDABLE = (EditionState.APPROVED, EditionState.SCHEDULED, EditionState.SENDING)
RENDERINGS_KEPT = 64
ACTOR = "sender"


class BatchMailer(Protocol):
    def send_batch(self, batch: Batch) -> list[RecipientResult]: ...


class SendStopped(DeliveryError):
    """The backend refuses all sending (SendGrid 401/403): the run stopped, rows stay queued."""

    def __init__(self, edition_id: int, reason: str, counts: dict[str, int]) -> None:
        reason = redact(reason)
        self.edition_id = edition_id
        self.reason = reason
        self.sent = counts.get("sent", 0)
        self.queued = counts.get("queued", 0) + counts.get("claimed", 0)
        super().__init__(
            f"edition {edition_id}: sending stopped: {reason}. Sent so far {self.sent}; "
            f"{self.queued} still queued, none marked failed. Fix the configuration, then "
            f"run `eudigest send {edition_id}` (or send-due) again.",
            permanent=True,
        )


class SendDueStopped(SendStopped):
    """`send-due` stopped at an edition the backend refused: the key is wrong for every
    edition, so no later one is tried. Carries the reports of the editions done before;
    its message is one line (the scheduler records it as the run's reason)."""

    def __init__(
        self, stopped: SendStopped, *, done: Sequence[SendReport], untried: Sequence[int]
    ) -> None:
        self.edition_id = stopped.edition_id
        self.reason = stopped.reason
        self.sent, self.queued = stopped.sent, stopped.queued
        self.reports = list(done)
        self.untried = list(untried)
        parts = [
            f"send-due stopped at edition {self.edition_id}: {self.reason}",
            f"edition {self.edition_id}: sent so far {self.sent}, {self.queued} still queued, "
            "none marked failed",
        ]
        if self.reports:
            parts.append(
                "finished before it: "
                + _listed(
                    f"edition {r.edition_id} (sent {r.sent}, failed {r.failed}, "
                    f"unknown {r.unknown}{'' if r.finished else ', not finished'})"
                    for r in self.reports
                )
            )
        if self.untried:
            which = "edition" if len(self.untried) == 1 else "editions"
            parts.append(f"not tried: {which} {_listed(str(i) for i in self.untried)}")
        parts.append("fix the configuration, then run `eudigest send-due` again")
        DeliveryError.__init__(self, "; ".join(parts) + ".", permanent=True)


class NotSendable(InvalidTransition):
    """`send` of an edition that is not approved, scheduled or sending: nothing leaves."""

    def __init__(self, edition_id: int, state: str) -> None:
        super().__init__(edition_id, state, EditionState.SENDING.value)
        if state == EditionState.DRAFT.value:
            why = (
                "is a draft (not approved, or its approval was withdrawn by reopening or "
                "unscheduling it): approve it, then send or schedule it"
            )
        elif state == EditionState.SENT.value:
            why = (
                "was sent already and is never sent twice (unknown deliveries are sent again "
                "from the desk: „Erneut senden“)"
            )
        else:
            why = f"is {state}, and only an approved or scheduled edition can be sent"
        self.args = (f"edition {edition_id} {why}; nothing was sent",)


_KEY_LIKE = re.compile(r"SG\.[A-Za-z0-9_\-]{6,}(?:\.[A-Za-z0-9_\-]+)?")


def redact(text: str) -> str:
    """No API key in a message (SendGrid never echoes it; this holds if a proxy does)."""
    return _KEY_LIKE.sub("SG.***", text)


def _listed(parts: Iterable[str], limit: int = 10) -> str:
    shown = list(parts)
    more = len(shown) - limit
    return ", ".join(shown[:limit]) + (f" and {more} more" if more > 0 else "")


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
    """Send (or resume sending) an edition; returns the ledger's counts for it.

    The audience is planned once per edition: a resumed send (after a crash, or after
    staff queued unknown deliveries again) sends only the rows already in the ledger.
    """
    try:
        edition = store.editions.transition(
            edition_id,
            from_states=SENDABLE,
            to_state=EditionState.SENDING,
            actor=ACTOR,
            now=now(),
        )
    except InvalidTransition as exc:
        raise NotSendable(edition_id, exc.from_state) from None
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
    people = {s.id: s for seg in segments for s in seg.subscribers}
    planned = store.deliveries.plan(
        edition_id,
        [(sid, segment_key(seg.key)) for sid, seg in by_subscriber.items()],
        now=now(),
    )  # changes nothing when the edition was planned before: its ledger is the audience
    if planned:
        log.debug("edition %d: %d deliveries planned", edition_id, planned)
    # Claims come in segment order, so a segment's rendering is needed for a short while
    # only: keep the last few (100,000 readers make ~20,000 segments of ~70 KB each).
    rendered: OrderedDict[SegmentKey, RenderedDigest] = OrderedDict()

    def content(seg: Segment) -> RenderedDigest:
        if seg.key in rendered:
            rendered.move_to_end(seg.key)
        else:
            rendered[seg.key] = render(seg)
            if len(rendered) > RENDERINGS_KEPT:
                rendered.popitem(last=False)
        return rendered[seg.key]

    stop: RecipientResult | None = None
    while stop is None:
        token = f"{token_prefix}:{uuid.uuid4()}"
        claimed = store.deliveries.claim(edition_id, None, limit=batch_size, token=token, now=now())
        if not claimed:
            break
        rows = _whole_segments(store, claimed, batch_size=batch_size, token=token, now=now)
        stop = _send_claimed(
            store,
            mailer,
            edition,
            rows,
            token=token,
            by_subscriber=by_subscriber,
            people=people,
            content=content,
            recipient_for=recipient_for,
            envelope=envelope,
            now=now,
        )
    if stop is not None and stop.halt:
        raise SendStopped(edition_id, stop.error or "refused", _counts(store, edition_id))
    if stop is not None:  # transient: back off; the next run tries the queued rows
        log.warning(
            "edition %d: stopped after a transient failure (%s); the rest stays queued",
            edition_id,
            stop.error,
        )

    counts = _counts(store, edition_id)
    finished = not (counts["queued"] or counts["claimed"] or counts["sending"])
    if finished:
        # sent_at stays the first completed send's; a resend's end is an audit entry
        store.editions.finish_sending(edition_id, actor=ACTOR, now=now())
    return SendReport(
        sent=counts["sent"],
        failed=counts["failed"],
        unknown=counts["unknown"],
        skipped=counts["skipped"],
        queued=counts["queued"] + counts["claimed"] + counts["sending"],
        edition_id=edition_id,
        finished=finished,
    )


def _whole_segments(
    store: Store,
    claimed: Sequence[Delivery],
    *,
    batch_size: int,
    token: str,
    now: Callable[[], dt.datetime],
) -> Sequence[Delivery]:
    """A full claim spans segments in segment order: its last segment may go on in the
    queue, so it goes back and starts the next claim, whole. One request per segment
    (per 1,000 of a big one), however the claims fall."""
    if len(claimed) < batch_size or claimed[0].segment_key == claimed[-1].segment_key:
        return claimed
    last = claimed[-1].segment_key
    store.deliveries.release(
        [d.id for d in claimed if d.segment_key == last], token=token, now=now()
    )
    return [d for d in claimed if d.segment_key != last]


def _counts(store: Store, edition_id: int) -> dict[str, int]:
    return store.deliveries.counts(edition_id)


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
    people: dict[int, Subscriber],
    content: Callable[[Segment], RenderedDigest],
    recipient_for: Callable[[Subscriber], Recipient],
    envelope: Envelope,
    now: Callable[[], dt.datetime],
) -> RecipientResult | None:
    """One claimed batch; returns the first result that asks to stop (transient or halt).

    Who may still receive is re-checked for just these rows (an unsubscribe or a
    bounce during a long send counts); their profile is the one the segments used.
    """
    current = store.deliveries.receiving(edition.newsletter_id, [d.subscriber_id for d in claimed])
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
    stop: RecipientResult | None = None
    for rows in groups.values():
        if stop is not None:  # the backend is in trouble or refuses everything: stop
            store.deliveries.release([d.id for d in rows], token=token, now=now())
            continue
        segment = by_subscriber[rows[0].subscriber_id]
        digest = content(segment)
        recipients = [
            dataclasses.replace(
                recipient_for(people[d.subscriber_id]),
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
        if stop is None or not stop.halt:
            asks = [r for r in results if r.halt] or [
                r for r in results if not r.ok and not r.permanent and not r.unknown
            ]
            stop = asks[0] if asks else stop
    return stop


def _outcome(delivery: Delivery, result: RecipientResult) -> Outcome:
    if result.halt:  # never sent: back to the queue, for the run after the fix
        return Outcome(delivery.id, DeliveryState.QUEUED, error=result.error)
    if result.ok:
        return Outcome(delivery.id, DeliveryState.SENT, message_id=result.message_id)
    if result.unknown:
        return Outcome(delivery.id, DeliveryState.UNKNOWN, error=result.error)
    if result.permanent:
        return Outcome(delivery.id, DeliveryState.FAILED, error=result.error)
    return Outcome(delivery.id, DeliveryState.QUEUED, error=result.error)
