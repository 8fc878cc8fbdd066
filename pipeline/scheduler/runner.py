"""Claimed job runs: what happens at a fire time, at start (catch-up) and by hand.

    fire(job, scheduled_for):
        key = local wall-clock time of scheduled_for in the job's zone
        store.runs.claim(job, key)      -> taken or done elsewhere: do nothing
            (database down: retry per policy; still down: remember, record as failed later)
            an earlier run of the job still running on any instance (unless the job
            says `overlap: true`) -> recorded as skipped, not run
        execute in a child process (killed at job.timeout), retry per policy; the run's
            lease is renewed meanwhile (a dead instance's run frees the job in RUN_LEASE_S)
        store.runs.finish(outcome)      ok | failed | timeout | interrupted (released)

    catch_up(now):                       at start, from our own record of runs
        fire times since the job's newest recorded run (or the grace window)
        without a run: the newest within misfire_grace_time runs (each, if coalesce
        is false); older ones are recorded as missed

Deciding (which fire times are due, missed) is separate from doing (claim, execute).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipeline.deliver.lease import Renewal
from pipeline.errors import StoreError
from pipeline.model import JobRun
from pipeline.scheduler.child import EXIT_NO_RETRY, RESULT_PREFIX
from pipeline.scheduler.cronfile import CronFile, CronJob
from pipeline.store import Store

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

log = logging.getLogger("eudigest.scheduler")

MAX_LOOKBACK = dt.timedelta(days=7)  # catch-up looks no further back than this
MAX_MISSED_RECORDED = 100  # per job and start; older ones are only counted in the log
RUN_LEASE_S = 120.0  # a running run not renewed for this long belongs to a dead instance
RUN_RENEW_S = 30.0


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class ExecResult:
    outcome: str  # ok | failed | timeout | interrupted
    detail: str
    log: str = ""  # what the child wrote on stderr (a traceback when it failed)
    retry: bool = True  # False: a failure retrying cannot fix (configuration, refused key)
    cpu_s: float | None = None  # the run's CPU time, its children's included (when it ended)
    max_rss_mb: float | None = None  # its largest resident size


class Executor(Protocol):
    def __call__(
        self, job: CronJob, key: str, scheduled_for: dt.datetime, stop: threading.Event
    ) -> ExecResult: ...


PRELOAD = ("pipeline.scheduler.preload",)  # the start-up server's imports (ADR 0011)


class ProcessExecutor:
    """Runs a job in a child process (`pipeline.scheduler.child`), killed at its timeout.

    The child is forked from a start-up server that imported the jobs' code once, when
    the scheduler started (multiprocessing's forkserver, ADR 0011): a run pays for no
    interpreter start and no imports, only for its work; each run is still a process of
    its own, in its own session (killed with everything it started), with the
    environment and working directory given here, its output in files read at its end.

    When `stop` is set (SIGTERM), a running child gets `stop_grace_s` to finish; then it
    is killed and the run is released (interrupted) for the next start or instance."""

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        stop_grace_s: float = 20.0,
        cwd: Path | None = None,
        preload: Sequence[str] = PRELOAD,
    ) -> None:
        self.environ = dict(environ)
        self.stop_grace_s = stop_grace_s
        self.cwd = cwd
        self.preload = tuple(preload)

    def start(self) -> None:
        """Start the start-up server now (at the scheduler's start), and return once it has
        imported what the runs share, so that no run waits for that. Without it, the first
        run starts the server. It lives as long as this process; code upgraded on disk
        takes effect when the scheduler restarts, as the scheduler's own code does."""
        import multiprocessing

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(self.preload))
        ready = ctx.Process(target=_ready, name="eudigest-start")
        ready.start()  # forked once the server has imported everything: the first run
        ready.join()  # does not wait for the imports

    def __call__(
        self, job: CronJob, key: str, scheduled_for: dt.datetime, stop: threading.Event
    ) -> ExecResult:
        import multiprocessing
        import tempfile

        from pipeline.scheduler.child import run_forked

        argv = [
            job.job,
            *("--job-id", job.id, "--key", key),
            *("--scheduled-for", scheduled_for.isoformat()),
        ]
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(self.preload))  # used when the server starts
        with tempfile.TemporaryDirectory(prefix="eudigest-run-") as tmp:
            out, err, usage = Path(tmp, "stdout"), Path(tmp, "stderr"), Path(tmp, "usage")
            proc = ctx.Process(
                target=run_forked,
                args=(argv, self.environ, str(self.cwd or Path.cwd()), tmp),
                name=f"eudigest-{job.id}",
            )
            proc.start()
            ended = self._wait(proc, job, stop)
            proc.join()
            stdout, stderr, used = _read(out), _read(err), _read(usage)
        code = proc.exitcode
        proc.close()
        if ended is not None:
            outcome, detail = ended
            return ExecResult(outcome, detail, stderr)
        assert code is not None
        if code == 0:
            detail = "done"
            for line in stdout.splitlines():
                if line.startswith(RESULT_PREFIX):
                    detail = str(json.loads(line[len(RESULT_PREFIX) :]).get("detail", "done"))
            figures = json.loads(used) if used else {}
            return ExecResult(
                "ok",
                detail,
                stderr,
                cpu_s=figures.get("cpu_s"),
                max_rss_mb=figures.get("max_rss_mb"),
            )
        if code < 0:
            name = signal.Signals(-code).name
            if stop.is_set():
                return ExecResult("interrupted", f"stopped by {name} at shutdown; released", stderr)
            return ExecResult("failed", f"killed by {name}", stderr)
        lines = [line for line in stderr.splitlines() if line.strip()]
        detail = lines[-1][:500] if lines else f"exit {code}"
        return ExecResult("failed", detail, stderr, retry=code != EXIT_NO_RETRY)

    def _wait(
        self, proc: BaseProcess, job: CronJob, stop: threading.Event
    ) -> tuple[str, str] | None:
        """Wait for the child's end; kill it at its timeout or after the stop's grace
        (then the outcome and detail), else None."""
        deadline = time.monotonic() + job.timeout
        stop_deadline: float | None = None
        pid = proc.pid
        assert pid is not None  # started
        while proc.exitcode is None:
            proc.join(0.1)
            if proc.exitcode is not None:
                break
            now = time.monotonic()
            if stop.is_set() and stop_deadline is None:
                stop_deadline = now + self.stop_grace_s
            if now >= deadline:
                _kill(pid)
                return "timeout", f"killed after the timeout of {job.timeout} s"
            if stop_deadline is not None and now >= stop_deadline:
                _kill(pid)
                return "interrupted", "the scheduler stopped; released"
        return None


def _ready() -> None:
    """The first process forked from the start-up server (ProcessExecutor.start)."""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:  # killed before it opened its output
        return ""


def _kill(pid: int) -> None:
    """The child and everything it started (its session); the child alone if it was
    killed before it made its session."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What a start found: runs to do now, runs recorded as missed."""

    run: list[tuple[CronJob, dt.datetime]] = field(default_factory=list)
    missed: list[tuple[CronJob, dt.datetime]] = field(default_factory=list)
    missed_not_recorded: int = 0


@dataclass(frozen=True, slots=True)
class Fired:
    """The answer of `fire`: the run as it ended, or the run someone else has."""

    job: str
    key: str
    scheduled_for: dt.datetime
    run: JobRun | None  # ours, finished; None when not claimed
    existing: JobRun | None = None  # the run found when the claim failed
    error: str | None = None  # the database was unavailable

    @property
    def claimed(self) -> bool:
        return self.run is not None

    @property
    def skipped(self) -> bool:
        """Recorded, not run: an earlier run of the job was still running."""
        return self.run is not None and self.run.outcome == "skipped"


class Runner:
    def __init__(
        self,
        store: Store,
        cron: CronFile,
        execute: Executor,
        *,
        instance: str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        stop: threading.Event | None = None,
        renew_every: float = RUN_RENEW_S,
    ) -> None:
        self.store = store
        self.cron = cron
        self.execute = execute
        self.instance = instance or instance_name()
        self.clock = clock
        self.stop = stop or threading.Event()
        self.renew_every = renew_every
        self._lock = threading.Lock()
        self._pending: list[Callable[[], object]] = []  # writes waiting for the database

    # ------------------------------------------------------------ firing

    def fire_due(self, job_id: str) -> Fired | None:
        """APScheduler calls this at a fire time: run the newest fire time not after now."""
        job = self._job(job_id)
        try:
            scheduled_for = job.previous_fire(self.clock())
            if scheduled_for is None:
                return None
            return self.fire(job, scheduled_for)
        except Exception:  # never let one job's trouble stop the scheduler
            log.exception("job %s: unexpected error in the scheduler", job.id)
            return None

    def fire(self, job: CronJob, scheduled_for: dt.datetime) -> Fired:
        return self._fire(job, job.run_key(scheduled_for), scheduled_for)

    def fire_manual(self, job: CronJob) -> Fired:
        """`eudigest run --force`: a run under a key of its own."""
        now = self.clock()
        return self._fire(job, f"manual:{now.isoformat(timespec='seconds')}", now)

    def _fire(self, job: CronJob, key: str, scheduled_for: dt.datetime) -> Fired:
        self.flush()
        try:
            run = self._claim(job, key, scheduled_for)
        except StoreError as exc:
            detail = f"database unavailable at the fire time: {exc}"
            log.error("job %s %s: %s; it is recorded as failed when it is back", job.id, key, exc)
            self._later(
                lambda: self.store.runs.record(
                    job.id, key, scheduled_for, "failed",
                    instance=self.instance, now=self.clock(), detail=detail,
                )
            )  # fmt: skip
            return Fired(job.id, key, scheduled_for, None, error=str(exc))
        if run is None:
            existing = self._existing(job.id, key)
            who = f" by {existing.instance} ({existing.outcome})" if existing else ""
            log.info("job %s %s: already claimed%s; nothing to do", job.id, key, who)
            return Fired(job.id, key, scheduled_for, None, existing=existing)
        if run.outcome == "skipped":
            log.warning("job %s %s: skipped: %s", job.id, key, run.detail)
            return Fired(job.id, key, scheduled_for, run)
        log.info("job %s %s: claimed by %s, run %d", job.id, key, self.instance, run.id)
        started = time.monotonic()
        with Renewal(lambda: self._renew(run.id), every=self.renew_every, name=f"run {run.id}"):
            result, retries = self._execute(job, key, scheduled_for, run)
        elapsed = time.monotonic() - started
        if result.outcome == "ok":
            used = "" if result.cpu_s is None else f", {result.cpu_s:.2f} s CPU"
            used += "" if result.max_rss_mb is None else f", {result.max_rss_mb:.0f} MB"
            log.info("job %s %s: ok in %.1f s%s: %s", job.id, key, elapsed, used, result.detail)
            if result.log:
                log.debug("job %s %s output:\n%s", job.id, key, result.log.rstrip())
        else:
            log.error(
                "job %s %s: %s after %.1f s: %s%s",
                job.id, key, result.outcome, elapsed, result.detail,
                ("\n" + result.log.rstrip()) if result.log else "",
            )  # fmt: skip
        finished = self.clock()
        self._write(
            lambda: self.store.runs.finish(run.id, result.outcome, result.detail, now=self.clock())
        )
        done = replace(
            run,
            outcome=result.outcome,
            detail=result.detail,
            finished_at=finished,
            attempts=run.attempts + retries,
        )
        return Fired(job.id, key, scheduled_for, done)

    def _execute(
        self, job: CronJob, key: str, scheduled_for: dt.datetime, run: JobRun
    ) -> tuple[ExecResult, int]:
        """Execute the run, retrying per the job's policy; the result and the retries."""
        result = self.execute(job, key, scheduled_for, self.stop)
        retries = 0
        while (
            result.outcome in ("failed", "timeout") and result.retry and retries < job.retry.limit
        ):
            retries += 1
            delay = job.retry.delay(retries)
            log.warning(
                "job %s %s: %s (%s); retry %d of %d in %g s",
                job.id, key, result.outcome, result.detail, retries, job.retry.limit, delay,
            )  # fmt: skip
            if result.log:
                log.warning("job %s %s output:\n%s", job.id, key, result.log.rstrip())
            if self.stop.wait(delay):
                result = replace(
                    result, detail=result.detail + " (no retry: the scheduler stopped)"
                )
                break
            self._write(lambda: self.store.runs.attempt(run.id, lease_until=self._lease()))
            result = self.execute(job, key, scheduled_for, self.stop)
        if result.outcome == "failed" and not result.retry and job.retry.limit:
            result = replace(
                result, detail=result.detail + " (not retried: fix it, then run again)"
            )
        return result, retries

    def _claim(self, job: CronJob, key: str, scheduled_for: dt.datetime) -> JobRun | None:
        """Claim, retrying per the job's policy while the database is unavailable."""
        tries = 0
        while True:
            try:
                return self.store.runs.claim(
                    job.id, key, scheduled_for,
                    instance=self.instance, now=self.clock(), lease_until=self._lease(),
                    exclusive=not job.overlap,
                )  # fmt: skip
            except StoreError as exc:
                if tries >= job.retry.limit:
                    raise
                tries += 1
                delay = job.retry.delay(tries)
                log.warning(
                    "job %s %s: cannot claim (%s); retry %d of %d in %g s",
                    job.id, key, exc, tries, job.retry.limit, delay,
                )  # fmt: skip
                if self.stop.wait(delay):
                    raise

    def _lease(self) -> dt.datetime:
        """Until when a run counts as running unless renewed (then another instance may
        take it over, and the job may start again)."""
        return self.clock() + dt.timedelta(seconds=RUN_LEASE_S)

    def _renew(self, run_id: int) -> bool:
        return self.store.runs.renew(run_id, lease_until=self._lease())

    def _existing(self, job_id: str, key: str) -> JobRun | None:
        try:
            return self.store.runs.get(job_id, key)
        except StoreError:
            return None

    # ------------------------------------------------------------ catch-up

    def plan_catch_up(self) -> CatchUp:
        """Decide (no writes): which missed fire times to run now and which were missed."""
        now = self.clock()
        plan = CatchUp()
        missed_not_recorded = 0
        for job in self.cron.jobs:
            grace = dt.timedelta(seconds=job.misfire_grace_time)
            last = self.store.runs.last_scheduled(job.id)
            # from the newest recorded run (itself included: it may have been interrupted)
            start = (
                max(last - dt.timedelta(microseconds=1), now - MAX_LOOKBACK)
                if last is not None
                else now - grace
            )
            times: dict[str, dt.datetime] = {}
            for t in job.fires(start, now, limit=50_000):
                times.setdefault(job.run_key(t), t)  # the repeated autumn hour is one run
            known = self._known(job.id, list(times))
            open_ = [
                (key, t)
                for key, t in times.items()
                if key not in known or known[key].outcome == "interrupted"
            ]
            due = [(k, t) for k, t in open_ if now - t <= grace]
            late = [(k, t) for k, t in open_ if now - t > grace and k not in known]
            if job.coalesce and len(due) > 1:
                if last is not None:  # before the first run ever, nothing was missed
                    late += due[:-1]
                due = due[-1:]
            plan.run.extend((job, t) for _, t in due)
            late.sort(key=lambda kt: kt[1])
            missed_not_recorded += max(0, len(late) - MAX_MISSED_RECORDED)
            plan.missed.extend((job, t) for _, t in late[-MAX_MISSED_RECORDED:])
        return replace(plan, missed_not_recorded=missed_not_recorded)

    def catch_up(self) -> CatchUp:
        """At start: record missed runs, then run the ones within their grace window."""
        try:
            plan = self.plan_catch_up()
            for job, t in plan.missed:
                grace = job.misfire_grace_time
                self.store.runs.record(
                    job.id, job.run_key(t), t, "missed",
                    instance=self.instance, now=self.clock(),
                    detail="not run: the scheduler was down (older than the catch-up window "
                    f"of {grace} s, or folded into the newer run caught up)",
                )  # fmt: skip
        except StoreError as exc:
            log.error("catch-up skipped: %s", exc)
            return CatchUp()
        if plan.missed or plan.missed_not_recorded:
            log.warning(
                "catch-up: %d runs missed while the scheduler was down%s: %s",
                len(plan.missed) + plan.missed_not_recorded,
                f" ({plan.missed_not_recorded} older not recorded)"
                if plan.missed_not_recorded
                else "",
                ", ".join(sorted({j.id for j, _ in plan.missed})),
            )
        for job, t in plan.run:
            if self.stop.is_set():
                break
            log.info("catch-up: job %s %s", job.id, job.run_key(t))
            self.fire(job, t)
        return plan

    def _known(self, job_id: str, keys: Sequence[str]) -> dict[str, JobRun]:
        known: dict[str, JobRun] = {}
        for i in range(0, len(keys), 500):
            known.update(self.store.runs.by_keys(job_id, keys[i : i + 500]))
        return known

    # ------------------------------------------------------------ by hand

    def run_by_hand(self, job_id: str, *, force: bool = False) -> Fired:
        """`eudigest run`: claim the newest due fire time (or, forced, a key of its own)."""
        job = self._job(job_id)
        if force:
            return self.fire_manual(job)
        scheduled_for = job.previous_fire(self.clock())
        if scheduled_for is None:
            return self.fire_manual(job)
        return self.fire(job, scheduled_for)

    # ------------------------------------------------------------ heartbeat, pending writes

    def beat(self) -> bool:
        """Write the heartbeat and any writes that waited for the database."""
        try:
            self.store.runs.beat(self.instance, now=self.clock())
        except StoreError as exc:
            log.error("heartbeat not written: %s", exc)
            return False
        self.flush()
        return True

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for i, write in enumerate(pending):
            try:
                write()
            except StoreError:
                with self._lock:
                    self._pending[:0] = pending[i:]
                return
        if pending:
            log.info("%d delayed run records written", len(pending))

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def _write(self, write: Callable[[], object]) -> None:
        try:
            write()
        except StoreError as exc:
            log.error("cannot record a run now (%s); it is written when the database is back", exc)
            self._later(write)

    def _later(self, write: Callable[[], object]) -> None:
        with self._lock:
            self._pending.append(write)

    def _job(self, job_id: str) -> CronJob:
        job = self.cron.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job
