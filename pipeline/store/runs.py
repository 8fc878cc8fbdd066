"""Job runs of the scheduler: one row per (job, run key), claimed before the job runs.

claim     insert (job, key) as running          (INSERT … ON CONFLICT DO NOTHING: a second
          scheduler instance, a DST double fire or a manual re-run finds the row and stops)
          or take over an interrupted run, or a running one whose lease has passed;
          `exclusive`: while another run of the job is running within its lease (on any
          instance), the claimed row becomes `skipped` instead, in the same transaction
          (serialised per job: PostgreSQL advisory lock; SQLite has one writer)
renew     extend the lease of a running run (the runner does, while the run executes)
attempt   one more try of a claimed run (retries), with a fresh lease
finish    running → ok | failed | timeout | interrupted (interrupted runs may be claimed again)
          skipped: never ran, because an earlier run of the job was still running
record    insert a row that never ran: missed (caught up too late), failed (database was down)
beat      the scheduler's heartbeat, one row per instance
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, or_, select, text, update
from sqlalchemy.engine import Row

from pipeline.model import OUTCOMES as OUTCOMES
from pipeline.model import JobRun
from pipeline.store.base import upsert, wrap_errors
from pipeline.store.schema import job_runs, scheduler_heartbeats


class RunsStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(
        self,
        job: str,
        key: str,
        scheduled_for: dt.datetime,
        *,
        instance: str,
        now: dt.datetime,
        lease_until: dt.datetime,
        exclusive: bool = False,
    ) -> JobRun | None:
        """Claim the run (job, key) for `instance`; None when it is taken or already done.

        With `exclusive`, a run of the job still running elsewhere (within its lease)
        makes this one `skipped` (returned as such: it is recorded, and never runs)."""
        with wrap_errors(f"claiming run {job} {key}"), self._engine.begin() as conn:
            if exclusive and conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(job)})
            inserted = conn.execute(
                _insert(conn)
                .values(
                    job=job,
                    run_key=key,
                    scheduled_for=scheduled_for,
                    started_at=now,
                    outcome="running",
                    instance=instance,
                    attempts=1,
                    lease_until=lease_until,
                )
                .on_conflict_do_nothing(index_elements=["job", "run_key"])
                .returning(job_runs.c.id)
            ).first()
            if inserted is None:  # the row exists: taken, done, or ours to take over
                taken = conn.execute(
                    update(job_runs)
                    .where(
                        job_runs.c.job == job,
                        job_runs.c.run_key == key,
                        or_(
                            job_runs.c.outcome == "interrupted",
                            (job_runs.c.outcome == "running") & (job_runs.c.lease_until < now),
                        ),
                    )
                    .values(
                        outcome="running",
                        instance=instance,
                        started_at=now,
                        finished_at=None,
                        detail=None,
                        attempts=job_runs.c.attempts + 1,
                        lease_until=lease_until,
                    )
                ).rowcount
                if taken != 1:
                    return None
            if exclusive:
                running = conn.execute(
                    select(job_runs)
                    .where(
                        job_runs.c.job == job,
                        job_runs.c.run_key != key,
                        job_runs.c.outcome == "running",
                        job_runs.c.lease_until >= now,
                    )
                    .order_by(job_runs.c.started_at)
                ).first()
                if running is not None:
                    since = running.started_at.isoformat(timespec="seconds")
                    conn.execute(
                        update(job_runs)
                        .where(job_runs.c.job == job, job_runs.c.run_key == key)
                        .values(
                            outcome="skipped",
                            finished_at=now,
                            lease_until=None,
                            detail=f"not started: run {running.run_key} was still running "
                            f"on {running.instance} (since {since})",
                        )
                    )
            return _get(conn, job, key)

    def renew(self, run_id: int, *, lease_until: dt.datetime) -> bool:
        """Extend the lease of a running run; False when it is no longer running."""
        with wrap_errors(f"renewing run {run_id}"), self._engine.begin() as conn:
            return (
                conn.execute(
                    update(job_runs)
                    .where(job_runs.c.id == run_id, job_runs.c.outcome == "running")
                    .values(lease_until=lease_until)
                ).rowcount
                == 1
            )

    def attempt(self, run_id: int, *, lease_until: dt.datetime) -> None:
        """Count one more try of a claimed run and extend its lease."""
        with wrap_errors(f"updating run {run_id}"), self._engine.begin() as conn:
            conn.execute(
                update(job_runs)
                .where(job_runs.c.id == run_id)
                .values(attempts=job_runs.c.attempts + 1, lease_until=lease_until)
            )

    def finish(self, run_id: int, outcome: str, detail: str | None, *, now: dt.datetime) -> None:
        if outcome not in OUTCOMES or outcome == "running":
            raise ValueError(f"not a final outcome: {outcome!r}")
        with wrap_errors(f"finishing run {run_id}"), self._engine.begin() as conn:
            conn.execute(
                update(job_runs)
                .where(job_runs.c.id == run_id)
                .values(
                    outcome=outcome,
                    detail=(detail or None) and detail[:2000],
                    finished_at=now,
                    lease_until=None,
                )
            )

    def record(
        self,
        job: str,
        key: str,
        scheduled_for: dt.datetime,
        outcome: str,
        *,
        instance: str,
        now: dt.datetime,
        detail: str | None = None,
    ) -> bool:
        """Insert a run that did not run here (missed; failed while the database was down).

        Returns False when the (job, key) row already exists (someone ran it)."""
        if outcome not in ("missed", "failed"):
            raise ValueError(f"only missed or failed runs are recorded: {outcome!r}")
        with wrap_errors(f"recording run {job} {key}"), self._engine.begin() as conn:
            return (
                conn.execute(
                    _insert(conn)
                    .values(
                        job=job,
                        run_key=key,
                        scheduled_for=scheduled_for,
                        started_at=None,
                        finished_at=now,
                        outcome=outcome,
                        instance=instance,
                        detail=detail,
                        attempts=0,
                    )
                    .on_conflict_do_nothing(index_elements=["job", "run_key"])
                    .returning(job_runs.c.id)
                ).first()
                is not None
            )

    def get(self, job: str, key: str) -> JobRun | None:
        with wrap_errors("reading job runs"), self._engine.connect() as conn:
            return _get(conn, job, key)

    def by_keys(self, job: str, keys: Collection[str]) -> dict[str, JobRun]:
        if not keys:
            return {}
        with wrap_errors("reading job runs"), self._engine.connect() as conn:
            rows = conn.execute(
                select(job_runs).where(job_runs.c.job == job, job_runs.c.run_key.in_(list(keys)))
            )
            return {r.run_key: _run(r) for r in rows}

    def last_scheduled(self, job: str) -> dt.datetime | None:
        """The newest scheduled time of a run of `job` (manual runs excluded)."""
        with wrap_errors("reading job runs"), self._engine.connect() as conn:
            value: dt.datetime | None = conn.execute(
                select(func.max(job_runs.c.scheduled_for)).where(
                    job_runs.c.job == job, ~job_runs.c.run_key.startswith("manual:")
                )
            ).scalar()
            return value

    def list(self, job: str | None = None, limit: int = 100) -> builtins.list[JobRun]:
        """Runs, newest scheduled time first."""
        stmt = select(job_runs).order_by(job_runs.c.scheduled_for.desc(), job_runs.c.id.desc())
        if job is not None:
            stmt = stmt.where(job_runs.c.job == job)
        with wrap_errors("reading job runs"), self._engine.connect() as conn:
            return [_run(r) for r in conn.execute(stmt.limit(limit))]

    def latest_per_job(self) -> dict[str, JobRun]:
        """The newest run (by scheduled time) of each job; skipped fire times are not runs
        (a long run that failed must not hide behind the fire times it made skip)."""
        ran = job_runs.c.outcome != "skipped"
        with wrap_errors("reading job runs"), self._engine.connect() as conn:
            latest = (
                select(job_runs.c.job, func.max(job_runs.c.scheduled_for).label("at"))
                .where(ran)
                .group_by(job_runs.c.job)
                .subquery()
            )
            rows = conn.execute(
                select(job_runs)
                .join(
                    latest,
                    (latest.c.job == job_runs.c.job) & (latest.c.at == job_runs.c.scheduled_for),
                )
                .where(ran)
                .order_by(job_runs.c.id)
            )
            return {r.job: _run(r) for r in rows}  # the highest id wins a tie

    def beat(self, instance: str, *, now: dt.datetime) -> None:
        """The scheduler's heartbeat (one row per instance)."""
        with wrap_errors("writing the scheduler heartbeat"), self._engine.begin() as conn:
            conn.execute(
                _insert(conn, scheduler_heartbeats)
                .values(instance=instance, started_at=now, beat_at=now)
                .on_conflict_do_update(index_elements=["instance"], set_={"beat_at": now})
            )

    def heartbeats(self) -> builtins.list[tuple[str, dt.datetime]]:
        """(instance, last beat), newest first."""
        with wrap_errors("reading scheduler heartbeats"), self._engine.connect() as conn:
            return [
                (r.instance, r.beat_at)
                for r in conn.execute(
                    select(scheduler_heartbeats).order_by(scheduler_heartbeats.c.beat_at.desc())
                )
            ]

    def prune(self, before: dt.datetime) -> int:
        """Delete finished runs scheduled before `before` and heartbeats older than it."""
        with wrap_errors("pruning job runs"), self._engine.begin() as conn:
            n = conn.execute(
                delete(job_runs).where(
                    job_runs.c.scheduled_for < before, job_runs.c.outcome != "running"
                )
            ).rowcount
            conn.execute(
                delete(scheduler_heartbeats).where(scheduler_heartbeats.c.beat_at < before)
            )
            return int(n)


def _lock_key(job: str) -> int:
    """A stable signed 64-bit key of the job's advisory lock (PostgreSQL)."""
    digest = hashlib.sha256(f"eudigest.job_runs:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _insert(conn: Connection, table: Any = job_runs) -> Any:
    """INSERT … ON CONFLICT for the dialect at hand."""
    return upsert(conn, table)


def _get(conn: Connection, job: str, key: str) -> JobRun | None:
    row = conn.execute(
        select(job_runs).where(job_runs.c.job == job, job_runs.c.run_key == key)
    ).first()
    return _run(row) if row is not None else None


def _run(r: Row[Any]) -> JobRun:
    return JobRun(
        id=r.id,
        job=r.job,
        scheduled_for=r.scheduled_for,
        started_at=r.started_at,
        finished_at=r.finished_at,
        outcome=r.outcome,
        instance=r.instance,
        detail=r.detail,
        key=r.run_key,
        attempts=r.attempts,
    )
