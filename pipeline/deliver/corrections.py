"""Send correction notices ("sofort als kurze Mail") exactly once per reader (ADR 0009).

    for each correction with notices to mail (`corrections.pending`):
      recover what processes that are gone left (lease run out, or known dead on this
        host): claimed → queued, sending → unknown; a live process's rows stay
      loop:
        claim ≤ batch queued notices (token, this process, a lease renewed on a thread)
          ▸ re-check subscribed (unsubscribed or erased since → skipped)
          ▸ start (only the rows still ours) ▸ send_batch ▸ record
          transient failure ──▶ stop; the rest stays queued for the next run
          halt (SendGrid 401/403) ──▶ back to queued; stop every correction
        nothing queued ──▶ next correction

The same crash boundary as the digest's ledger (ADR 0004): a notice is sent only from a
`sending` row committed before the request left, and a `sending` row is never sent
again automatically. The mail is one rendering per correction; per-reader parts
(greeting, links, List-Unsubscribe) come from `recipient_for`, built by the shell.

    notes_for_segments(store, edition, recipients, tz)   the block "Korrektur" of each
        reader's next digest (frozen by `corrections.notes_for` at the edition's planning)
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pipeline.compose.corrections import correction_note
from pipeline.compose.render import RenderedDigest
from pipeline.deliver.lease import Renewal, known_dead, lease_until, this_process
from pipeline.errors import EditionNotFound, SubscriberNotFound
from pipeline.model import (
    Batch,
    Correction,
    CorrectionDelivery,
    CorrectionNote,
    DeliveryState,
    Edition,
    Mailer,
    NoticeState,
    Outcome,
    ProcessRef,
    Recipient,
    RecipientResult,
    Subscriber,
)
from pipeline.store import Store

log = logging.getLogger("eudigest.deliver")


@dataclass(frozen=True, slots=True)
class CorrectionReport:
    correction_id: int
    sent: int
    failed: int
    unknown: int
    skipped: int
    queued: int
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.unknown == 0 and self.queued == 0


def send_corrections(
    store: Store,
    mailer: Mailer,
    *,
    render: Callable[[Correction], tuple[RenderedDigest, str]],
    recipient_for: Callable[[Subscriber], Recipient],
    envelope: Callable[[str], tuple[str, str, str, tuple[str, ...]]],
    token_prefix: str,
    now: Callable[[], dt.datetime],
    lease_seconds: float = 60.0,
    batch_size: int = 500,
    process: ProcessRef | None = None,
    correction_ids: Iterable[int] | None = None,
) -> list[CorrectionReport]:
    """Mail the queued notices of every pending correction (or of `correction_ids`).

    `render(correction)` gives the mail and its newsletter id; `envelope(newsletter_id)`
    gives (from address, from name, reply-to, categories)."""
    me = process or this_process()
    run = f"{token_prefix}:{uuid.uuid4().hex[:12]}"
    ids = list(correction_ids) if correction_ids is not None else store.corrections.pending()
    reports: list[CorrectionReport] = []

    def renew() -> bool:
        return store.corrections.renew(run, lease_until=lease_until(now(), lease_seconds))

    with Renewal(renew, every=max(0.5, lease_seconds / 4), name="correction lease"):
        halted: str | None = None
        for correction_id in ids:
            if halted is not None:
                break
            correction = store.corrections.get(correction_id)
            if correction.delivery is not CorrectionDelivery.MAIL:
                continue
            dead = [p for p in store.corrections.holders(correction_id) if known_dead(p)]
            requeued, unknown = store.corrections.recover(correction_id, now=now(), dead=dead)
            if requeued or unknown:
                log.warning(
                    "correction %d: took back the notices of a sender that is gone: %d claimed "
                    "queued again, %d in flight now unknown",
                    correction_id,
                    requeued,
                    unknown,
                )
            stop = _send_one(
                store,
                mailer,
                correction,
                render=render,
                recipient_for=recipient_for,
                envelope=envelope,
                run=run,
                me=me,
                now=now,
                lease_seconds=lease_seconds,
                batch_size=batch_size,
            )
            counts = store.corrections.counts(correction_id)
            reports.append(
                CorrectionReport(
                    correction_id=correction_id,
                    sent=counts[NoticeState.SENT.value],
                    failed=counts[NoticeState.FAILED.value],
                    unknown=counts[NoticeState.UNKNOWN.value],
                    skipped=counts[NoticeState.SKIPPED.value],
                    queued=sum(
                        counts[s.value]
                        for s in (NoticeState.QUEUED, NoticeState.CLAIMED, NoticeState.SENDING)
                    ),
                    stopped=stop[1] if stop else None,
                )
            )
            if stop is not None and stop[0] == "halt":
                halted = stop[1]
    return reports


def _send_one(
    store: Store,
    mailer: Mailer,
    correction: Correction,
    *,
    render: Callable[[Correction], tuple[RenderedDigest, str]],
    recipient_for: Callable[[Subscriber], Recipient],
    envelope: Callable[[str], tuple[str, str, str, tuple[str, ...]]],
    run: str,
    me: ProcessRef,
    now: Callable[[], dt.datetime],
    lease_seconds: float,
    batch_size: int,
) -> tuple[str, str] | None:
    """One correction's queued notices; returns (kind, reason) when it stopped early."""
    mail: RenderedDigest | None = None
    newsletter_id = ""
    n = 0
    while True:
        n += 1
        token = f"{run}:{n}"
        claimed = store.corrections.claim(
            correction.id,
            limit=batch_size,
            token=token,
            process=me,
            lease_until=lease_until(now(), lease_seconds),
            now=now(),
        )
        if not claimed:
            return None
        if mail is None:
            mail, newsletter_id = render(correction)
        current = store.deliveries.receiving(newsletter_id, [c.subscriber_id for c in claimed])
        gone = [c.id for c in claimed if c.subscriber_id not in current]
        store.corrections.settle(
            gone, token=token, state=NoticeState.SKIPPED, reason="no longer subscribed", now=now()
        )
        rows = [c for c in claimed if c.subscriber_id in current]
        moved = store.corrections.start([c.id for c in rows], token=token, now=now())
        rows = [c for c in rows if c.id in moved]
        if not rows:
            continue
        people = _people(store, [c.subscriber_id for c in rows])
        sendable = [c for c in rows if c.subscriber_id in people]
        missing = [c for c in rows if c.subscriber_id not in people]
        if missing:  # erased between the check and now: never sent
            store.corrections.record(
                [Outcome(c.id, DeliveryState.FAILED, error="erased") for c in missing],
                token=token,
                now=now(),
            )
        if not sendable:
            continue
        from_email, from_name, reply_to, categories = envelope(newsletter_id)
        batch = Batch(
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            from_email=from_email,
            from_name=from_name,
            reply_to=reply_to,
            categories=categories,
            recipients=tuple(
                recipient_for(people[c.subscriber_id]).with_custom_args(
                    {"correction_id": f"k{correction.id}", "notice_id": f"n{c.id}"}
                )
                for c in sendable
            ),
        )
        results = mailer.send_batch(batch)
        store.corrections.record(
            [_outcome(c.id, r) for c, r in zip(sendable, results, strict=True)],
            token=token,
            now=now(),
        )
        halts = [r for r in results if r.halt]
        if halts:
            return ("halt", halts[0].error or "refused")
        transient = [r for r in results if not r.ok and not r.permanent and not r.unknown]
        if transient:
            return ("transient", transient[0].error or "a transient failure")


def _people(store: Store, ids: Iterable[int]) -> dict[int, Subscriber]:
    found = {}
    for sid in ids:
        try:
            found[sid] = store.subscribers.get(sid)
        except SubscriberNotFound:
            continue
    return found


def _outcome(notice_id: int, result: RecipientResult) -> Outcome:
    if result.halt:
        return Outcome(notice_id, DeliveryState.QUEUED, error=result.error)
    if result.ok:
        return Outcome(notice_id, DeliveryState.SENT, message_id=result.message_id)
    if result.unknown:
        return Outcome(notice_id, DeliveryState.UNKNOWN, error=result.error)
    if result.permanent:
        return Outcome(notice_id, DeliveryState.FAILED, error=result.error)
    return Outcome(notice_id, DeliveryState.QUEUED, error=result.error)


def notes_for_segments(
    store: Store, edition: Edition, recipients: Iterable[int], tz: ZoneInfo
) -> Mapping[int, tuple[CorrectionNote, ...]]:
    """Each reader's block "Korrektur" in this edition (frozen at its planning)."""
    carried = store.corrections.notes_for(edition.id, recipients)
    if not carried:
        return {}
    every = {c.id: c for cs in carried.values() for c in cs}
    items = store.items.get_many({c.item_id for c in every.values()})
    editions: dict[int, Edition] = {}
    for c in every.values():
        if c.edition_id not in editions:
            try:
                editions[c.edition_id] = store.editions.get(c.edition_id)
            except EditionNotFound:  # deleted since: its corrections cannot be shown
                continue
    notes = {
        cid: correction_note(c, items.get(c.item_id), editions[c.edition_id], tz)
        for cid, c in every.items()
        if c.edition_id in editions
    }
    return {sid: tuple(notes[c.id] for c in cs if c.id in notes) for sid, cs in carried.items()}
