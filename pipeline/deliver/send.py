"""Send an approved edition exactly once per confirmed subscriber (ADR 0004).

    APPROVED | SCHEDULED | SENDING ──transition──▶ SENDING    (DRAFT, SENT: NotSendable)
    HALTED ──resume──▶ SENDING (`eudigest send ID` after the fix, like "Versand fortsetzen")
    join as a sender of the edition (a row with a lease, renewed on a thread while it works)
    recover what senders that are gone left (lease run out, ended, process known dead on
      this host): their claimed rows → queued, their sending rows → unknown.
      A live sender's rows are never touched.
    plan (subscriber, segment key) for everyone who receives something, once per
      edition: a resume (crash, staff "Erneut senden") sends only the ledger's rows;
      each reader's news of followed dossiers and the corrections their digest carries
      are frozen just before (news_for, corrections.notes_for); what each segment
      contained is recorded with the plan (delivery_segments: corrections, ADR 0009)
    loop (the ledger on this thread only; requests on the mailer's `concurrency` workers):
      claim ≤ 1,000 queued rows (whole segments, in segment order) ▸ re-check subscribed
        ▸ per segment, as many as there are free workers: start (one transaction; only
          the rows still ours) ▸ send_batch on a worker ▸ record the answers that are in
          (one transaction); stopping: release what was not started, settle what is out
          transient failure (429, 5xx, no connection, disk full) ──▶ stop; rows stay queued
          halt (SendGrid 401/403: the key) ──▶ rows back to queued, the edition HALTED
            with the reason in German, raise SendStopped
          rows taken from this sender (it was found gone) ──▶ not sent; stop
      nothing queued: other live senders still hold rows ──▶ wait for them (or recover
        theirs once they are gone); none ──▶ done
      the database unreachable: each step of the loop is tried again after 1, 2, 4 and
        8 s (a short outage, a failover), then the send stops (StoreUnavailable: exit 4).
        A claim or start whose answer was lost may have committed: the retry takes what
        it took (`claimed`, `start_many(again=True)`) instead of claiming more
    nothing queued/claimed/sending any more ──▶ SENT (sent_at: the first send's, kept)
    end the sender: done | stopped (the reason) | halted | failed

A blocker a person must fix before anything can go (EUDIGEST_BASE_URL not https, no
EUDIGEST_SECRET_KEY: `Settings.send_blockers`) halts the edition before it is claimed
(`halt_blocked`): nothing is planned or sent, and `send-due` leaves HALTED editions
alone until staff resume them, so nobody is left with "Wird versandt" and no reason.

Several senders of one edition share the queued rows (`eudigest send` beside a running
`send-due`, or the helper processes of one large send: deliver.processes); each waits at
the end until the others' rows are settled, so each reports the edition's final counts
(a helper leaves that to its parent). `send-due` leaves an edition alone while another
process is sending it (`live_senders`).

A permanent failure marks only that delivery failed: it never suppresses the address
(only bounce, dropped and spam events of the Event Webhook do), so the next edition
is tried again.

Per-recipient parts (links, greeting, List-Unsubscribe) come from `recipient_for`,
which the shell (jobs.py) builds: stages never make subscriber links themselves.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from pipeline.compose.render import RenderedDigest
from pipeline.compose.segments import resolve_segments
from pipeline.deliver.corrections import notes_for_segments
from pipeline.deliver.lease import Renewal, known_dead, lease_until, live, this_process
from pipeline.errors import DeliveryError, InvalidTransition, StoreError, StoreUnavailable
from pipeline.logs import redact as redact_address
from pipeline.model import (
    Batch,
    Correction,
    Delivery,
    DeliveryState,
    Edition,
    EditionState,
    Mailer,
    Outcome,
    ProcessRef,
    Recipient,
    RecipientResult,
    Recovery,
    Segment,
    SegmentKey,
    SendBlocker,
    Sender,
    SenderOutcome,
    Subscriber,
    corrected,
    refused_key_reason,
)
from pipeline.store import Store

log = logging.getLogger("eudigest.deliver")
T = TypeVar("T")

SENDABLE = (EditionState.APPROVED, EditionState.SCHEDULED, EditionState.SENDING)
RENDERINGS_KEPT = 16
ACTOR = "sender"
# A step of the send loop meets an unreachable database: tried again after these pauses
# (15 s in all: a restart, a failover), then the send stops. Answers are kept meanwhile.
OUTAGE_PAUSES_S = (1.0, 2.0, 4.0, 8.0)
PROGRESS_EVERY = dt.timedelta(seconds=10)  # how often a long send logs how far it is


@dataclass(frozen=True, slots=True)
class Lease:
    """How long a sender's lease lasts, how often it is renewed, how often a sender that
    waits for another one's rows looks again."""

    seconds: float = 60.0
    renew_every: float = 15.0
    poll_s: float = 1.0

    @classmethod
    def of(cls, seconds: float) -> Lease:
        return cls(seconds=seconds, renew_every=max(0.5, seconds / 4), poll_s=min(2.0, seconds / 8))


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
            f"{self.queued} still queued, none marked failed. The edition is halted "
            f"(„Versand angehalten“): fix the configuration, then resume it from the desk "
            f"(„Versand fortsetzen“) or run `eudigest send {edition_id}`.",
            permanent=True,
        )


class SendBlocked(SendStopped):
    """Nothing can go out until a person changes a setting (`Settings.send_blockers`):
    the edition is HALTED before anything was planned or sent. The message names the
    variable."""

    def __init__(self, edition_id: int, blockers: Sequence[SendBlocker]) -> None:
        self.blockers = list(blockers)
        self.edition_id = edition_id
        self.reason = "; ".join(b.message for b in self.blockers)
        self.sent = self.queued = 0
        DeliveryError.__init__(
            self,
            f"edition {edition_id}: sending stopped before anything was sent: {self.reason}. "
            f"The edition is halted („Versand angehalten“): set "
            f"{_listed(dict.fromkeys(b.variable for b in self.blockers))}, restart, then "
            f"resume it from the desk („Versand fortsetzen“) or run `eudigest send {edition_id}`.",
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
            parts.append(f"not tried: {which} {_listed(str(i) for i in self.untried)} (halted too)")
        parts.append(
            "fix the configuration, then resume the halted editions from the desk "
            "(„Versand fortsetzen“) or with `eudigest send ID`"
        )
        DeliveryError.__init__(self, "; ".join(parts) + ".", permanent=True)


class SendUnfinished(DeliveryError):
    """`send-due` ended with editions not done: a transient failure (429s, 5xx, SendGrid
    unreachable, the outbox disk full) stopped them, the rest is still queued and the next
    run continues. Carries every edition's report; its message is one line."""

    def __init__(self, reports: Sequence[SendReport]) -> None:
        self.reports = list(reports)
        stopped = [r for r in self.reports if r.interrupted]
        parts = [
            f"edition {r.edition_id} stopped early ({r.stopped or 'not finished'}): "
            f"sent {r.sent}, {r.queued} still queued"
            for r in stopped
        ]
        super().__init__(
            "send-due did not finish: " + "; ".join(parts) + "; the next run continues.",
            permanent=False,
        )


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
    stopped: str | None = None  # why this run stopped early (the rest waits for the next)
    elsewhere: str | None = None  # send-due left it to the process sending it ("host:pid")

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.unknown == 0

    @classmethod
    def of(cls, edition_id: int, counts: dict[str, int], **kw: object) -> SendReport:
        """The report of an edition from its ledger's counts (`deliveries.counts`)."""
        return cls(
            sent=counts["sent"],
            failed=counts["failed"],
            unknown=counts["unknown"],
            skipped=counts["skipped"],
            queued=counts["queued"] + counts["claimed"] + counts["sending"],
            edition_id=edition_id,
            **kw,  # type: ignore[arg-type]
        )

    @property
    def interrupted(self) -> bool:
        """Stopped before the edition was done: the next run continues."""
        return not self.finished and self.elsewhere is None


@dataclass(frozen=True, slots=True)
class Envelope:
    """What every message of the edition shares: sender and categories."""

    from_email: str
    from_name: str = ""
    reply_to: str = ""
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SendProgress:
    """How far an edition's send is (all its senders), and this run's pace."""

    edition_id: int
    done: int  # sent, failed, unknown or skipped
    total: int
    sent: int
    per_second: float  # done by anyone since this run began, per second of it

    @property
    def left_s(self) -> float | None:
        """Seconds until the rest is done at this pace (None: no pace yet)."""
        return (self.total - self.done) / self.per_second if self.per_second > 0 else None

    def line(self) -> str:
        """e.g. "edition 12: 45,000 of 100,000 done (45 %), 44,870 sent; 1,500/s, about
        37 s left" (English, as the log is)."""
        share = 100 * self.done // self.total if self.total else 100
        text = (
            f"edition {self.edition_id}: {self.done:,} of {self.total:,} done ({share} %), "
            f"{self.sent:,} sent"
        )
        left = self.left_s
        if left is not None:
            text += f"; {self.per_second:,.0f}/s"
            if left > 0:
                text += f", about {_duration(left)} left"
        return text


def _duration(seconds: float) -> str:
    whole = max(1, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def segment_key(key: SegmentKey) -> str:
    """A stable short name for a segment's content (the ledger's segment_key)."""
    language = key[0]
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
    return f"{language}-{digest}"


def send_edition(
    store: Store,
    mailer: Mailer,
    edition_id: int,
    *,
    render: Callable[[Segment], RenderedDigest],
    recipient_for: Callable[[Subscriber], Recipient],
    token_prefix: str,
    now: Callable[[], dt.datetime],
    envelope: Envelope,
    batch_size: int = 1000,
    lease: Lease | None = None,
    process: ProcessRef | None = None,
    sleep: Callable[[float], None] = time.sleep,
    tz: ZoneInfo | None = None,
    idle: Callable[[float], None] | None = None,
    leave_to: str | None = None,
    progress: Callable[[SendProgress], None] | None = None,
) -> SendReport:
    """Send (or resume sending) an edition; returns the ledger's counts for it.

    The audience is planned once per edition: a resumed send (after a crash, or after
    staff queued unknown deliveries again) sends only the rows already in the ledger.
    `idle` is how this sender waits while others hold the rest (default: `sleep` for the
    lease's poll interval); with `leave_to` (a helper: who reports the edition) this
    sender ends once nothing is queued instead of waiting for the others' rows.
    `progress` is told how far the edition is every PROGRESS_EVERY (as the log is).
    """
    terms = lease or Lease()
    if store.editions.get(edition_id).state is EditionState.HALTED:
        with contextlib.suppress(InvalidTransition):  # resumed by someone else meanwhile
            store.editions.resume(edition_id, actor=ACTOR, now=now())  # after the fix
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
    me = store.senders.join(
        edition_id,
        process or this_process(),
        now=now(),
        lease_until=lease_until(now(), terms.seconds),
    )

    def renew() -> bool:
        return store.senders.renew(me.id, now=now(), lease_until=lease_until(now(), terms.seconds))

    run = _Run(
        store,
        mailer,
        edition,
        me,
        render=render,
        recipient_for=recipient_for,
        token_prefix=token_prefix,
        now=now,
        envelope=envelope,
        batch_size=batch_size,
        poll_s=terms.poll_s,
        sleep=sleep,
        tz=tz or ZoneInfo("UTC"),
        idle=idle or sleep,
        leave_to=leave_to,
        on_progress=progress,
    )
    failure: BaseException | None = None
    with Renewal(renew, every=terms.renew_every, name=f"edition {edition_id} lease") as renewal:
        run.lost = renewal.lost
        try:
            report = run.send()
        except BaseException as exc:  # ended below, once the renewal has stopped
            failure = exc
    if isinstance(failure, SendStopped):
        _end(store, me, SenderOutcome.HALTED, now, failure.reason, failure.queued)
        halt(store, edition_id, refused_key_reason(failure.reason), failure.reason, now=now())
    elif failure is not None:
        _end(store, me, SenderOutcome.FAILED, now, f"{type(failure).__name__}: {failure}", None)
    if failure is not None:
        raise failure
    outcome = SenderOutcome.STOPPED if report.stopped else SenderOutcome.DONE
    _end(store, me, outcome, now, report.stopped, report.queued)
    return report


def halt(
    store: Store, edition_id: int, reason_de: str, reason: str, *, now: dt.datetime
) -> Edition | None:
    """The edition → HALTED with the German reason ("Versand angehalten: …"; `reason` is
    the English one, for the log); None when it is no longer sendable (sent meanwhile)."""
    try:
        edition = store.editions.halt(
            edition_id, from_states=SENDABLE, reason=reason_de, actor=ACTOR, now=now
        )
    except (InvalidTransition, StoreError) as exc:
        log.warning("edition %d: not marked halted: %s", edition_id, exc)
        return None
    log.error(
        "edition %d: sending halted until a person fixes it and resumes it: %s",
        edition_id,
        redact(reason),
    )
    return edition


def halt_blocked(
    store: Store, edition_id: int, blockers: Sequence[SendBlocker], *, now: dt.datetime
) -> SendBlocked:
    """A send that cannot start: halt the edition (when it is sendable) and return the
    error to raise. A draft or sent edition is refused as always (NotSendable)."""
    state = store.editions.get(edition_id).state
    if state not in (*SENDABLE, EditionState.HALTED):
        raise NotSendable(edition_id, state.value)
    blocked = SendBlocked(edition_id, blockers)
    halt(store, edition_id, " ".join(b.message_de for b in blockers), blocked.reason, now=now)
    return blocked


def live_senders(store: Store, edition_id: int, now: dt.datetime) -> list[Sender]:
    """The edition's senders that are at work: within their lease, process not known dead."""
    return live(store.senders.active(edition_id), now)


def _end(
    store: Store,
    me: Sender,
    outcome: SenderOutcome,
    now: Callable[[], dt.datetime],
    detail: str | None,
    queued: int | None,
) -> None:
    # status and the desk show the reason: no key and no address in it
    detail = redact_address(redact(detail)) if detail else None
    try:
        store.senders.end(me.id, outcome, now=now(), detail=detail, queued=queued)
    except StoreError as exc:  # its lease runs out; the next sender takes over
        log.warning("edition %d: sender %d not marked %s: %s", me.edition_id, me.id, outcome, exc)


@dataclass(frozen=True, slots=True)
class _Stop:
    kind: str  # transient | halt | lost
    reason: str


class _Run:
    """One sender's work on one edition (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        mailer: Mailer,
        edition: Edition,
        me: Sender,
        *,
        render: Callable[[Segment], RenderedDigest],
        recipient_for: Callable[[Subscriber], Recipient],
        token_prefix: str,
        now: Callable[[], dt.datetime],
        envelope: Envelope,
        batch_size: int,
        poll_s: float,
        sleep: Callable[[float], None],
        tz: ZoneInfo,
        idle: Callable[[float], None] | None = None,
        leave_to: str | None = None,
        on_progress: Callable[[SendProgress], None] | None = None,
    ) -> None:
        self.tz = tz
        self.store = store
        self.mailer = mailer
        self.edition = edition
        self.me = me
        self.render = render
        self.recipient_for = recipient_for
        self.token_prefix = token_prefix
        self.now = now
        self.envelope = envelope
        self.batch_size = batch_size
        self.poll_s = poll_s
        self.sleep = sleep
        self.idle = idle or sleep
        self.leave_to = leave_to
        self.on_progress = on_progress
        self.lost: threading.Event | None = None  # set when the lease is lost
        # Claims come in segment order, so a segment's rendering is needed for a short
        # while only: keep the last few (100,000 readers make ~13,000 segments of ~110 KB
        # as str; the requests in flight hold their own).
        self.rendered: OrderedDict[SegmentKey, RenderedDigest] = OrderedDict()
        self.began: tuple[dt.datetime, int] | None = None  # (when, done then): the pace
        self.next_progress: dt.datetime | None = None

    def progress(self) -> None:
        """Every PROGRESS_EVERY, the edition's counts and the time left at INFO: an
        operator with 100,000 digests to send before 8:00 sees in the log how far it is.
        Only the sender that reports the edition (not a helper) logs it; one grouped
        count of the ledger each time. `on_progress` is told the same (a terminal's
        status line)."""
        if self.leave_to is not None:
            return
        if self.on_progress is None and not log.isEnabledFor(logging.INFO):
            return
        now = self.now()
        if self.next_progress is not None and now < self.next_progress:
            return
        self.next_progress = now + PROGRESS_EVERY
        try:
            counts = _counts(self.store, self.edition.id)
        except StoreError as exc:  # only a report: the send's own steps meet the outage
            log.debug("edition %d: progress not counted: %s", self.edition.id, exc)
            return
        done = counts["sent"] + counts["failed"] + counts["unknown"] + counts["skipped"]
        if self.began is None:
            self.began = (now, done)
            return
        elapsed = (now - self.began[0]).total_seconds()
        report = SendProgress(
            self.edition.id,
            done=done,
            total=sum(counts.values()),
            sent=counts["sent"],
            per_second=(done - self.began[1]) / elapsed if elapsed > 0 else 0.0,
        )
        log.info("%s", report.line())
        if self.on_progress is not None:
            self.on_progress(report)

    def send(self) -> SendReport:
        store, edition_id = self.store, self.edition.id
        self.recover()
        segments = self.through_outage(
            "read the audience",
            lambda _: _segments(store, self.edition, self.tz, today=self.now().date()),
        )
        # each reader's segment and profile, one dict (100,000 readers: a few MB each)
        self.readers = {s.id: (seg, s) for seg in segments for s in seg.subscribers}
        keys = [segment_key(seg.key) for seg in segments]  # once per segment, not per reader
        planned = self.through_outage(
            "plan the deliveries",
            lambda _: store.deliveries.plan(
                edition_id,
                [
                    (s.id, key)
                    for seg, key in zip(segments, keys, strict=True)
                    for s in seg.subscribers
                ],
                now=self.now(),
                contents={key: seg.item_ids for seg, key in zip(segments, keys, strict=True)},
            ),
        )  # changes nothing when the edition was planned before: its ledger is the audience
        if planned:
            log.debug("edition %d: %d deliveries planned", edition_id, planned)

        stop: _Stop | None = None
        waiting_for: frozenset[int | None] = frozenset()
        flights = _Flights(self.mailer)
        self.progress()  # the pace counts from here
        try:
            while stop is None:
                stop = self.settle(flights, block=False)
                if stop is not None:
                    break
                self.progress()
                if self.lost is not None and self.lost.is_set():
                    stop = _Stop("lost", "this sender was found gone; its rows were taken back")
                    break
                if flights.full():
                    stop = self.settle(flights, block=True)
                    continue
                if flights.pending:
                    stop = self.launch(flights)
                    continue
                token = f"{self.token_prefix}:{uuid.uuid4()}"
                claimed = self.through_outage(
                    "claim deliveries", functools.partial(self.claim, token)
                )
                if claimed:  # whole segments (the store puts a cut last one back)
                    flights.pending.extend((group, token) for group in self.prepare(claimed, token))
                    continue
                if flights.busy:  # our own requests first: their answers may free rows
                    stop = self.settle(flights, block=True)
                    continue
                held = self.through_outage(
                    "read who holds deliveries", lambda _: store.deliveries.held(edition_id)
                )
                others = {k: v for k, v in held.items() if k != self.me.id}
                if not others or self.leave_to is not None:
                    break  # nothing queued, nothing in anyone's hands (or theirs to report)
                recovery = self.recover()
                if recovery.requeued or recovery.unknown:
                    continue
                if frozenset(others) != waiting_for:
                    waiting_for = frozenset(others)
                    log.info(
                        "edition %d: nothing queued; %d deliveries are with other senders (%s): "
                        "waiting for them",
                        edition_id,
                        sum(others.values()),
                        _listed(f"sender {k}" for k in sorted(others, key=lambda k: k or 0)),
                    )
                self.idle(self.poll_s)
            # stopping (or done): nothing more leaves; what is in flight is settled
            for rows, token in flights.pending:
                self.release([d.id for d in rows], token)
            flights.pending.clear()
            if stop is not None:  # requests waiting to retry give up now, unsent
                flights.interrupt()
            while flights.busy:
                later = self.settle(flights, block=True)
                if stop is None or (later is not None and later.kind == "halt"):
                    stop = later or stop
        except BaseException as exc:
            self.abandon(flights, after_outage=isinstance(exc, StoreUnavailable))
            raise
        finally:
            flights.close()

        if stop is not None and stop.kind == "halt":
            raise SendStopped(edition_id, stop.reason, self.counts())
        if stop is not None:  # transient or lost: back off; the next run tries the rest
            log.warning(
                "edition %d: stopped (%s); the rest stays queued for the next run",
                edition_id,
                stop.reason,
            )
        finished = (
            self.through_outage(
                "finish the edition",
                lambda _: store.editions.finish_sending(edition_id, actor=ACTOR, now=self.now()),
            ).state
            is EditionState.SENT
        )
        return SendReport.of(
            edition_id,
            self.counts(),
            finished=finished,
            stopped=None if finished or stop is None else redact(stop.reason),
            elsewhere=None if finished or stop is not None else self.leave_to,
        )

    def through_outage(self, doing: str, step: Callable[[int], T]) -> T:
        """`step(attempt)` (0, then 1, …), tried again after each of OUTAGE_PAUSES_S while
        the database is unreachable, then its StoreUnavailable: a send rides out a short
        outage with its requests' answers kept. A step whose answer may be lost after
        it committed must be safe to repeat (or ask, on a later attempt, what it did)."""
        for attempt, pause in enumerate((*OUTAGE_PAUSES_S, None)):
            try:
                return step(attempt)
            except StoreUnavailable as exc:
                if pause is None:
                    raise
                log.warning(
                    "edition %d: cannot %s yet (%s); again in %g s",
                    self.edition.id,
                    doing,
                    exc,
                    pause,
                )
                self.sleep(pause)
        raise AssertionError("unreachable")

    def claim(self, token: str, attempt: int) -> list[Delivery]:
        """Up to batch_size queued rows under `token`. Tried again after an outage: what
        the lost try took, if it committed (never a second batch under one token)."""
        if attempt:
            taken = self.store.deliveries.claimed(self.edition.id, token)
            if taken:
                return taken
        return self.store.deliveries.claim(
            self.edition.id,
            None,
            limit=self.batch_size,
            token=token,
            now=self.now(),
            sender_id=self.me.id,
        )

    def counts(self) -> dict[str, int]:
        return self.through_outage(
            "count the deliveries", lambda _: _counts(self.store, self.edition.id)
        )

    def recover(self) -> Recovery:
        """Take back what senders that are gone left of this edition (never a live one's)."""
        edition_id = self.edition.id
        dead = [
            s.id
            for s in self.through_outage(
                "read the senders", lambda _: self.store.senders.active(edition_id)
            )
            if s.id != self.me.id and known_dead(s.process)
        ]
        recovery = self.through_outage(
            "take back what senders that are gone left",
            lambda _: self.store.deliveries.recover(edition_id, now=self.now(), dead=dead),
        )
        if recovery.requeued or recovery.unknown:
            gone = _listed(f"{s.instance} (sender {s.id})" for s in recovery.lost)
            log.warning(
                "edition %d: took back the deliveries of a sender that is gone%s: %d claimed "
                "rows queued again, %d in-flight rows now unknown",
                edition_id,
                f" ({gone})" if gone else "",
                recovery.requeued,
                recovery.unknown,
            )
        return recovery

    def content(self, seg: Segment) -> RenderedDigest:
        rendered = self.rendered
        if seg.key in rendered:
            rendered.move_to_end(seg.key)
        else:
            rendered[seg.key] = self.render(seg)
            if len(rendered) > RENDERINGS_KEPT:
                rendered.popitem(last=False)
        return rendered[seg.key]

    def prepare(self, claimed: Sequence[Delivery], token: str) -> list[list[Delivery]]:
        """A claimed batch as one group of rows per segment (one request each, in order).

        Who may still receive is re-checked for just these rows (an unsubscribe or a
        bounce during a long send counts); their profile is the one the segments used.
        """
        store = self.store
        by_subscriber = self.readers
        current = self.through_outage(
            "read who may receive",
            lambda _: store.deliveries.receiving(
                self.edition.newsletter_id, [d.subscriber_id for d in claimed]
            ),
        )
        gone = [d.id for d in claimed if d.subscriber_id not in current]
        if gone:
            self.skip(gone, token, "no longer subscribed")
        nothing = [
            d.id
            for d in claimed
            if d.subscriber_id in current and d.subscriber_id not in by_subscriber
        ]
        if nothing:
            self.skip(nothing, token, "nothing to receive")
        groups: dict[SegmentKey, list[Delivery]] = {}
        for d in claimed:
            if d.subscriber_id in current and d.subscriber_id in by_subscriber:
                groups.setdefault(by_subscriber[d.subscriber_id][0].key, []).append(d)
        return list(groups.values())

    def release(self, ids: list[int], token: str) -> None:
        self.through_outage(
            "release deliveries",
            lambda _: self.store.deliveries.release(ids, token=token, now=self.now()),
        )

    def skip(self, ids: list[int], token: str, reason: str) -> None:
        self.through_outage(
            "skip deliveries",
            lambda _: self.store.deliveries.skip(ids, token=token, reason=reason, now=self.now()),
        )

    def launch(self, flights: _Flights) -> _Stop | None:
        """Start the next groups, as many as there are free workers (claimed → sending,
        one committed transaction), then hand their requests to the workers; returns
        why to stop when rows were taken from this sender."""
        groups = [flights.pending.popleft() for _ in range(min(flights.free, len(flights.pending)))]
        ids = [([d.id for d in rows], token) for rows, token in groups]
        moved = self.through_outage(
            f"start {len(groups)} requests",
            lambda attempt: self.store.deliveries.start_many(
                ids, now=self.now(), again=attempt > 0
            ),
        )
        stop: _Stop | None = None
        for rows, token in groups:
            if len(moved.intersection(d.id for d in rows)) < len(rows):
                log.warning(
                    "edition %d: %d of %d claimed deliveries were taken from this sender "
                    "(it was found gone); they are not sent by it",
                    self.edition.id,
                    sum(d.id not in moved for d in rows),
                    len(rows),
                )
                stop = _Stop("lost", "this sender was found gone; its rows were taken back")
                rows = [d for d in rows if d.id in moved]
            if rows:  # the content here (the renderer is not shared), the rest on the worker
                digest = self.content(self.readers[rows[0].subscriber_id][0])
                flights.submit(rows, token, functools.partial(self.batch, rows, digest))
        return stop

    def settle(self, flights: _Flights, *, block: bool) -> _Stop | None:
        """Record the answers that are in (waiting for one when `block`), all in one
        transaction; returns why to stop (halt before transient). A mailer that raised:
        the others are recorded, then its error is raised (its rows stay `sending`:
        unknown after recovery)."""
        stop: _Stop | None = None
        error: BaseException | None = None
        answered: list[tuple[Sequence[Outcome], str]] = []
        for rows, token, future in flights.done(block=block):
            try:
                results = future.result()
            except Exception as exc:  # raised below, once the rest is recorded
                error = error or exc
                continue
            answered.append(([_outcome(d, r) for d, r in zip(rows, results, strict=True)], token))
            halts = [r for r in results if r.halt]
            transient = [r for r in results if not r.ok and not r.permanent and not r.unknown]
            if halts and (stop is None or stop.kind != "halt"):
                stop = _Stop("halt", halts[0].error or "refused")
            elif transient and stop is None:
                stop = _Stop("transient", transient[0].error or "a transient failure")
        self.record(answered)
        if error is not None:
            raise error
        return stop

    def abandon(self, flights: _Flights, *, after_outage: bool) -> None:
        """The run fails: wait for the requests in flight and record what they answered
        where the database lets us (rows not recorded stay `sending`: unknown after
        recovery; claimed rows not started go back to the queue on recovery). After an
        outage that outlasted the pauses, one more try without waiting them out again."""
        flights.pending.clear()
        flights.interrupt()
        answered: list[tuple[Sequence[Outcome], str]] = []
        while flights.busy:
            for rows, token, future in flights.done(block=True):
                if future.exception() is None:
                    results = future.result()
                    answered.append(
                        ([_outcome(d, r) for d, r in zip(rows, results, strict=True)], token)
                    )
        try:
            if after_outage:
                if answered:
                    self.store.deliveries.record_many(answered, now=self.now())
            else:
                self.record(answered)
        except StoreUnavailable as exc:  # retried already: they stay `sending`
            log.warning(
                "edition %d: cannot record %d outcomes (%s); their rows stay sending: "
                "unknown once recovered",
                self.edition.id,
                sum(len(outcomes) for outcomes, _ in answered),
                exc,
            )
        except Exception:  # the run's own error is what is raised
            log.exception("edition %d: answers not recorded", self.edition.id)

    def batch(self, rows: Sequence[Delivery], digest: RenderedDigest) -> Batch:
        """The request of one group of a segment (`recipient_for` signs each reader's
        links: thread-safe, run on the worker)."""
        envelope, edition_id = self.envelope, self.edition.id
        edition_arg, readers, recipient_for = f"e{edition_id}", self.readers, self.recipient_for
        recipients = [
            recipient_for(readers[d.subscriber_id][1]).with_custom_args(
                {"edition_id": edition_arg, "delivery_id": f"d{d.id}"}
            )
            for d in rows
        ]
        return Batch(
            subject=digest.subject,
            text=digest.text,
            html=digest.html,
            from_email=envelope.from_email,
            from_name=envelope.from_name,
            reply_to=envelope.reply_to,
            categories=envelope.categories,
            recipients=tuple(recipients),
        )

    def record(self, answered: Sequence[tuple[Sequence[Outcome], str]]) -> None:
        """Write what the backend answered (outcomes and batch token of each request);
        retried through a short database outage, because rows left `sending` become
        unknown though the answer was known."""
        if not answered:
            return
        self.through_outage(  # an outcome recorded twice changes its row once
            f"record {sum(len(outcomes) for outcomes, _ in answered)} outcomes",
            lambda _: self.store.deliveries.record_many(answered, now=self.now()),
        )


class _Inline:
    """An executor for a mailer without concurrency (the outbox): runs at once."""

    def submit(
        self,
        fn: Callable[[Callable[[], Batch]], list[RecipientResult]],
        batch: Callable[[], Batch],
    ) -> Future[list[RecipientResult]]:
        future: Future[list[RecipientResult]] = Future()
        try:
            future.set_result(fn(batch))
        except BaseException as exc:  # handed to whoever reads the future
            future.set_exception(exc)
        return future

    def shutdown(self, *, wait: bool) -> None:
        pass


class _Flights:
    """The requests of one sender: groups started or about to be (`pending`: claimed,
    not started), and those in flight on the mailer's `concurrency` threads (a mailer
    without one sends in the calling thread, one request at a time)."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self.limit = max(1, int(getattr(mailer, "concurrency", 1)))
        self.pending: deque[tuple[list[Delivery], str]] = deque()
        self.inflight: dict[Future[list[RecipientResult]], tuple[list[Delivery], str]] = {}
        self._pool: ThreadPoolExecutor | _Inline = (
            ThreadPoolExecutor(self.limit, thread_name_prefix="sendgrid")
            if self.limit > 1
            else _Inline()
        )

    @property
    def busy(self) -> bool:
        return bool(self.inflight)

    def full(self) -> bool:
        return len(self.inflight) >= self.limit

    @property
    def free(self) -> int:
        return max(0, self.limit - len(self.inflight))

    def submit(self, rows: list[Delivery], token: str, batch: Callable[[], Batch]) -> None:
        """Build the batch and send it on a worker."""
        self.inflight[self._pool.submit(self._send, batch)] = (rows, token)

    def _send(self, batch: Callable[[], Batch]) -> list[RecipientResult]:
        return self.mailer.send_batch(batch())

    def done(
        self, *, block: bool
    ) -> list[tuple[list[Delivery], str, Future[list[RecipientResult]]]]:
        if not self.inflight:
            return []
        if block:
            finished, _ = futures.wait(self.inflight, return_when=futures.FIRST_COMPLETED)
        else:
            finished = {f for f in self.inflight if f.done()}
        out = []
        for future in finished:
            rows, token = self.inflight.pop(future)
            out.append((rows, token, future))
        return out

    def interrupt(self) -> None:
        """The run stops: requests in flight that wait to be retried give up (a mailer
        that can wait: SendGrid's), so the stop does not wait out their backoff."""
        interrupt = getattr(self.mailer, "interrupt", None)
        if interrupt is not None:
            interrupt()

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _counts(store: Store, edition_id: int) -> dict[str, int]:
    return store.deliveries.counts(edition_id)


def _segments(
    store: Store, edition: Edition, tz: ZoneInfo, *, today: dt.date | None = None
) -> list[Segment]:
    recipients = store.subscribers.confirmed_for(edition.newsletter_id)
    items = store.items.get_many(edition.item_ids)
    fixes: dict[int, list[Correction]] = {}
    for c in store.corrections.for_items(items):  # corrected links and deadlines (ADR 0009)
        fixes.setdefault(c.item_id, []).append(c)
    items = {i: corrected(item, fixes[i]) if i in fixes else item for i, item in items.items()}
    sections = [
        (s.title, [items[i] for i in s.item_ids if i in items])
        for s in sorted(edition.sections, key=lambda s: s.position)
    ]
    # "Neues in Ihren Verfahren": frozen at the edition's first plan (see news_for)
    news = store.dossiers.news_for(edition.id, (r.id for r in recipients), today=today)
    # "Korrektur": corrections of earlier editions the reader got, frozen the same way
    notes = notes_for_segments(store, edition, [r.id for r in recipients], tz)
    return resolve_segments(sections, recipients, edition.newsletter_id, news, notes)


def recover_segments(store: Store, edition: Edition, tz: ZoneInfo | None = None) -> int:
    """What the segments of an edition planned before their contents were recorded
    (migration 0018) contained, where it can be proven: the segments are computed again
    from today's readers, items and frozen dossier news, and a result counts only when
    its key hashes to a segment key of the ledger (the key holds the item ids of every
    section, so a match is exact). Readers who changed their topics since, or items
    whose topics changed, match nothing: their deliveries stay unattributed. Returns
    how many segments were recorded."""
    segments = _segments(store, edition, tz or ZoneInfo("UTC"))
    return store.corrections.record_segments(
        edition.id, {segment_key(seg.key): seg.item_ids for seg in segments}
    )


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
