"""Counts for operations: what `eudigest status`, the desk's status page and /metrics read.

Aggregates only: no addresses, no names. Every method is one read transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Engine, case, func, literal, or_, select

from pipeline.model import PENDING_DELIVERY_STATES as PENDING
from pipeline.model import DeliveryState, EditionState, SubscriberStatus
from pipeline.store.base import wrap_errors
from pipeline.store.schema import (
    deliveries,
    editions,
    items,
    job_runs,
    subscribers,
    webhook_events,
)


@dataclass(frozen=True, slots=True)
class EditionDue:
    """An edition the sender should be working on: scheduled in the past, sending, or
    halted (a person must fix something first: `halt_reason`, in German)."""

    id: int
    newsletter_id: str
    title: str
    state: EditionState
    scheduled_at: dt.datetime | None
    updated_at: dt.datetime
    planned_at: dt.datetime | None = None  # when its first deliveries were queued
    pending: int = 0  # deliveries not yet sent, failed, skipped or unknown
    halt_reason: str | None = None
    halted_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class JobRunStats:
    """The stored runs of one job with one outcome (runs are pruned by housekeeping)."""

    job: str
    outcome: str
    count: int
    timed: int  # runs with a start and an end
    seconds: float  # their total duration


@dataclass(frozen=True, slots=True)
class DeliveryIssue:
    """Deliveries of one edition in one state that staff should look at (unknown, failed)."""

    edition_id: int
    title: str
    state: DeliveryState
    count: int


@dataclass(frozen=True, slots=True)
class DailyActivity:
    """Per local day, oldest first: what the status page draws. Every series has one
    number per day in `days`."""

    days: tuple[dt.date, ...]
    items_by_source: dict[str, tuple[int, ...]]  # items first fetched, per source id
    failed_runs: tuple[int, ...]  # job runs failed, timed out, interrupted or missed
    sent: tuple[int, ...]  # deliveries sent
    bounces: tuple[int, ...]  # bounce and dropped events
    complaints: tuple[int, ...]  # spam reports


@dataclass(frozen=True, slots=True)
class LastSent:
    """The newest edition that went out, with its deliveries by state."""

    id: int
    title: str
    newsletter_id: str
    sent_at: dt.datetime
    counts: dict[str, int]


BOUNCE_EVENTS = ("bounce", "dropped")
COMPLAINT_EVENTS = ("spamreport",)
FAILED_RUN_OUTCOMES = ("failed", "timeout", "interrupted", "missed")


def local_days(now: dt.datetime, tz: ZoneInfo, days: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """The last `days` local days up to today, as [start, end) instants, oldest first."""
    today = now.astimezone(tz).date()
    first = today - dt.timedelta(days=days - 1)
    starts = [
        dt.datetime.combine(first + dt.timedelta(days=n), dt.time(), tzinfo=tz)
        for n in range(days + 1)
    ]
    return [(starts[n], starts[n + 1]) for n in range(days)]


def _day_index(
    column: ColumnElement[dt.datetime], bounds: list[tuple[dt.datetime, dt.datetime]]
) -> ColumnElement[int]:
    """The row's local day as an index into `bounds` (rows before the window: 0, so
    filter them out): one CASE, so one GROUP BY counts every day in any database."""
    return case(*[(column < hi, n) for n, (_, hi) in enumerate(bounds)], else_=len(bounds))


class StatsStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def deliveries_by_state(self) -> dict[str, int]:
        """Every delivery state with its number of rows (0 included)."""
        return self._count_by(deliveries.c.state, [s.value for s in DeliveryState])

    def editions_by_state(self) -> dict[str, int]:
        return self._count_by(editions.c.state, [s.value for s in EditionState])

    def subscribers_by_status(self) -> dict[str, int]:
        return self._count_by(subscribers.c.status, [s.value for s in SubscriberStatus])

    def items_by_source(self) -> dict[str, int]:
        with wrap_errors("counting items"), self._engine.connect() as conn:
            rows = conn.execute(select(items.c.source_id, func.count()).group_by(items.c.source_id))
            return {str(r[0]): int(r[1]) for r in rows}

    def editions_due(self, now: dt.datetime) -> list[EditionDue]:
        """Scheduled editions whose time has come, and every edition sending or halted."""
        stmt = (
            select(
                editions.c.id,
                editions.c.newsletter_id,
                editions.c.title,
                editions.c.state,
                editions.c.scheduled_at,
                editions.c.updated_at,
                editions.c.halt_reason,
                editions.c.halted_at,
            )
            .where(
                or_(
                    (editions.c.state == EditionState.SCHEDULED.value)
                    & (editions.c.scheduled_at <= now),
                    editions.c.state.in_([EditionState.SENDING.value, EditionState.HALTED.value]),
                )
            )
            .order_by(editions.c.scheduled_at, editions.c.id)
        )
        with wrap_errors("reading editions due"), self._engine.connect() as conn:
            found = list(conn.execute(stmt))
            progress = {
                r[0]: (r[1], int(r[2] or 0))
                for r in conn.execute(
                    select(
                        deliveries.c.edition_id,
                        func.min(deliveries.c.created_at),
                        func.sum(case((deliveries.c.state.in_(PENDING), 1), else_=0)),
                    )
                    .where(deliveries.c.edition_id.in_([r.id for r in found]))
                    .group_by(deliveries.c.edition_id)
                )
            }
            return [
                EditionDue(
                    id=r.id,
                    newsletter_id=r.newsletter_id,
                    title=r.title,
                    state=EditionState(r.state),
                    scheduled_at=r.scheduled_at,
                    updated_at=r.updated_at,
                    planned_at=progress.get(r.id, (None, 0))[0],
                    pending=progress.get(r.id, (None, 0))[1],
                    halt_reason=r.halt_reason,
                    halted_at=r.halted_at,
                )
                for r in found
            ]

    def delivery_issues(
        self, states: tuple[DeliveryState, ...] = (DeliveryState.UNKNOWN, DeliveryState.FAILED)
    ) -> list[DeliveryIssue]:
        """Per edition and state, how many deliveries are in one of `states`; newest first."""
        stmt = (
            select(editions.c.id, editions.c.title, deliveries.c.state, func.count())
            .join(editions, editions.c.id == deliveries.c.edition_id)
            .where(deliveries.c.state.in_([s.value for s in states]))
            .group_by(editions.c.id, editions.c.title, deliveries.c.state)
            .order_by(editions.c.id.desc(), deliveries.c.state)
        )
        with wrap_errors("reading delivery issues"), self._engine.connect() as conn:
            return [
                DeliveryIssue(
                    edition_id=int(r[0]), title=r[1], state=DeliveryState(r[2]), count=int(r[3])
                )
                for r in conn.execute(stmt)
            ]

    def job_runs(self) -> list[JobRunStats]:
        """Per job and outcome: how many stored runs, and the duration of the timed ones."""
        stmt = select(
            job_runs.c.job, job_runs.c.outcome, job_runs.c.started_at, job_runs.c.finished_at
        )
        totals: dict[tuple[str, str], list[float]] = {}
        with wrap_errors("reading job runs"), self._engine.connect() as conn:
            for job, outcome, started, finished in conn.execute(stmt):
                t = totals.setdefault((job, outcome), [0, 0, 0.0])
                t[0] += 1
                if started is not None and finished is not None:
                    t[1] += 1
                    t[2] += max(0.0, (finished - started).total_seconds())
        return [
            JobRunStats(job, outcome, int(t[0]), int(t[1]), t[2])
            for (job, outcome), t in sorted(totals.items())
        ]

    def daily_activity(self, *, now: dt.datetime, tz: ZoneInfo, days: int = 14) -> DailyActivity:
        """Counts per local day over the last `days` days (today included). Each query
        reads only rows of the window (a WHERE on its time column) and is one scan."""
        bounds = local_days(now, tz, days)
        start, end = bounds[0][0], bounds[-1][1]
        n = len(bounds)

        def series(rows: Iterable[Sequence[Any]]) -> dict[str, tuple[int, ...]]:
            """(key, day index, count) rows → per key, one count per day."""
            out: dict[str, list[int]] = {}
            for key, day, count in rows:
                if 0 <= int(day) < n:
                    out.setdefault(str(key), [0] * n)[int(day)] += int(count)
            return {k: tuple(v) for k, v in out.items()}

        def counted(
            column: ColumnElement[Any], time: ColumnElement[dt.datetime], *where: Any
        ) -> Any:
            day = _day_index(time, bounds).label("day")
            return (
                select(column, day, func.count())
                .where(time >= start, time < end, *where)
                .group_by(column, day)
            )

        zero = (0,) * n
        with wrap_errors("counting activity per day"), self._engine.connect() as conn:
            by_source = series(conn.execute(counted(items.c.source_id, items.c.fetched_at)))
            failed = series(
                conn.execute(
                    counted(
                        literal("failed"),
                        job_runs.c.scheduled_for,
                        job_runs.c.outcome.in_(FAILED_RUN_OUTCOMES),
                    )
                )
            )
            sent = series(
                conn.execute(
                    counted(
                        literal("sent"),
                        deliveries.c.sent_at,
                        deliveries.c.state == DeliveryState.SENT.value,
                    )
                )
            )
            events = series(
                conn.execute(
                    counted(
                        webhook_events.c.event,
                        webhook_events.c.occurred_at,
                        webhook_events.c.event.in_(BOUNCE_EVENTS + COMPLAINT_EVENTS),
                    )
                )
            )

        def total(names: tuple[str, ...]) -> tuple[int, ...]:
            return tuple(sum(events.get(e, zero)[i] for e in names) for i in range(n))

        return DailyActivity(
            days=tuple(lo.date() for lo, _ in bounds),
            items_by_source=by_source,
            failed_runs=failed.get("failed", zero),
            sent=sent.get("sent", zero),
            bounces=total(BOUNCE_EVENTS),
            complaints=total(COMPLAINT_EVENTS),
        )

    def last_sent(self) -> LastSent | None:
        """The edition sent most recently, with its deliveries counted by state."""
        with wrap_errors("reading the last edition sent"), self._engine.connect() as conn:
            e = conn.execute(
                select(
                    editions.c.id, editions.c.title, editions.c.newsletter_id, editions.c.sent_at
                )
                .where(editions.c.sent_at.is_not(None))
                .order_by(editions.c.sent_at.desc(), editions.c.id.desc())
                .limit(1)
            ).first()
            if e is None:
                return None
            counts = dict.fromkeys([s.value for s in DeliveryState], 0)
            counts.update(
                {
                    str(r[0]): int(r[1])
                    for r in conn.execute(
                        select(deliveries.c.state, func.count())
                        .where(deliveries.c.edition_id == e.id)
                        .group_by(deliveries.c.state)
                    )
                }
            )
            return LastSent(e.id, e.title, e.newsletter_id, e.sent_at, counts)

    def _count_by(self, column: object, known: list[str]) -> dict[str, int]:
        with wrap_errors("counting rows"), self._engine.connect() as conn:
            rows = conn.execute(
                select(column, func.count()).group_by(column)  # type: ignore[call-overload]
            )
            out = dict.fromkeys(known, 0)
            out.update({str(r[0]): int(r[1]) for r in rows})
            return out
