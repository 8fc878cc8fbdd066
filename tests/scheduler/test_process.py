"""Real child processes: a job that raises, a job that hangs, a scheduler that gets SIGTERM.

These run the jobs of tests/scheduler/testjobs.py through `ProcessExecutor` (one child
process per run) and, for SIGTERM, a whole scheduler process (run_scheduler.py).
Waiting loops have generous deadlines; nothing asserts how long something took.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.scheduler.runner import ProcessExecutor, Runner
from pipeline.scheduler.service import serve
from pipeline.store import Store
from tests.scheduler.conftest import (
    ROOT,
    Clock,
    child_environ,
    cron_of,
    one_job,
    ticks,
    utc,
    write_cron,
)

TWO_JOBS = one_job("*/5 * * * *", job="tests.scheduler.testjobs:boom", id="boom") + one_job(
    "*/5 * * * *"
).removeprefix("jobs:\n")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    url = f"sqlite:///{tmp_path / 'eudigest.db'}"
    store = Store(url)
    store.upgrade()
    yield store, url
    store.close()


def wait_for(what: Callable[[], bool], seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s in vain for {what.__doc__ or what}")
        time.sleep(0.05)


def test_a_job_that_raises_is_recorded_with_its_traceback_and_the_others_run(
    db: tuple[Store, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, url = db
    clock = Clock(utc(2026, 11, 25, 8, 30, 1))
    execute = ProcessExecutor(child_environ(tmp_path, url))
    runner = Runner(store, cron_of(tmp_path, TWO_JOBS), execute, instance="a:1", clock=clock)
    with caplog.at_level(logging.INFO, logger="eudigest.scheduler"):
        runner.fire_due("boom")
        runner.fire_due("tick")
    runs = {r.job: r for r in store.runs.list()}
    assert runs["boom"].outcome == "failed"
    assert runs["boom"].detail == "RuntimeError: the job broke on purpose"
    assert runs["tick"].outcome == "ok" and runs["tick"].detail == "ticked"
    failure = next(r for r in caplog.records if r.levelno == logging.ERROR)
    message = failure.getMessage()
    assert "job boom 2026-11-25T09:30:00: failed" in message
    assert "Traceback (most recent call last)" in message and 'testjobs.py", line' in message
    assert [t[3] for t in ticks(tmp_path)] == ["boom", "tick"]


def test_a_run_starts_forked_with_the_jobs_code_imported_and_its_own_environment(
    db: tuple[Store, str], tmp_path: Path
) -> None:
    """ADR 0011: the child is forked from the start-up server, which imported the jobs'
    code once; the run still gets the environment and directory it is given, not the
    scheduler's."""
    store, url = db
    workdir = tmp_path / "work"
    workdir.mkdir()
    text = one_job("*/5 * * * *", job="tests.scheduler.testjobs:where", id="where")
    env = child_environ(tmp_path, url, EUDIGEST_TEST_MARK="for-this-run")
    assert "EUDIGEST_TEST_MARK" not in os.environ
    execute = ProcessExecutor(env, cwd=workdir)
    execute.start()
    clock = Clock(utc(2026, 11, 25, 8, 30, 1))
    cron = cron_of(tmp_path, text)
    Runner(store, cron, execute, clock=clock).fire_due("where")
    [run] = store.runs.list()
    assert run.outcome == "ok"
    assert run.detail == f"preloaded=True cwd={workdir} mark=for-this-run"
    [[_, _, pid, _]] = ticks(tmp_path)
    assert int(pid) != os.getpid()
    again = execute(cron.jobs[0], "by-hand", utc(2026, 11, 25, 8, 35), threading.Event())
    assert again.outcome == "ok" and again.cpu_s is not None and again.max_rss_mb


def test_a_start_up_server_killed_meanwhile_is_started_again_by_the_next_run(
    db: tuple[Store, str], tmp_path: Path
) -> None:
    """The OOM killer may take the server between two runs: the next run starts a new
    one (multiprocessing does) and runs; nothing is lost but that run's head start."""
    import multiprocessing.forkserver

    _, url = db
    text = one_job("*/5 * * * *", job="tests.scheduler.testjobs:where", id="where")
    execute = ProcessExecutor(child_environ(tmp_path, url))
    execute.start()
    job = cron_of(tmp_path, text).jobs[0]
    first = execute(job, "one", utc(2026, 11, 25, 8, 30), threading.Event())
    server = multiprocessing.forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    os.kill(server, signal.SIGKILL)
    wait_for(lambda: _gone(server))
    second = execute(job, "two", utc(2026, 11, 25, 8, 35), threading.Event())
    assert first.outcome == second.outcome == "ok"
    assert second.detail.startswith("preloaded=True")  # the new server preloaded too
    assert multiprocessing.forkserver._forkserver._forkserver_pid != server  # type: ignore[attr-defined]


STAND_IN = """
import multiprocessing.forkserver, os, sys, time
from pipeline.scheduler.runner import ProcessExecutor
ProcessExecutor(dict(os.environ)).start()
print(multiprocessing.forkserver._forkserver._forkserver_pid, flush=True)
sys.stdin.read()  # until the test kills it
"""


def test_the_start_up_server_ends_when_its_scheduler_is_killed() -> None:
    """A scheduler killed with SIGKILL (no cleanup of its own) leaves no server behind:
    the server reads the scheduler's end from a pipe and exits."""
    with subprocess.Popen(
        [sys.executable, "-c", STAND_IN],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as scheduler:
        try:
            assert scheduler.stdout is not None
            server = int(scheduler.stdout.readline())
            assert not _gone(server)
        finally:
            scheduler.kill()
    wait_for(lambda: _gone(server), seconds=60)


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting for whoever reaps orphans here."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_a_timeout_kills_what_the_job_started_too(db: tuple[Store, str], tmp_path: Path) -> None:
    """The forked child makes a session of its own: the kill at the timeout reaches the
    process it started, which would otherwise run on for an hour as an orphan."""
    store, url = db
    text = one_job(
        "*/5 * * * *",
        job="tests.scheduler.testjobs:hang_with_child",
        id="hang",
        extra="timeout: 10",
    )
    execute = ProcessExecutor(child_environ(tmp_path, url))
    clock = Clock(utc(2026, 11, 25, 8, 30, 1))
    Runner(store, cron_of(tmp_path, text), execute, clock=clock).fire_due("hang")
    [run] = store.runs.list()
    assert run.outcome == "timeout"
    [[_, _, pid, started]] = ticks(tmp_path)
    grandchild = int(started.removeprefix("child="))
    wait_for(lambda: _gone(int(pid)) and _gone(grandchild), seconds=30)


@pytest.mark.parametrize(
    ("job", "runs"),
    [("boom", 3), ("misconfigured", 1)],  # a RuntimeError is retried; a ConfigError is not
)
def test_retries_are_spent_only_on_failures_a_retry_can_fix(
    db: tuple[Store, str], tmp_path: Path, job: str, runs: int
) -> None:
    store, url = db
    text = one_job(
        "*/5 * * * *",
        job=f"tests.scheduler.testjobs:{job}",
        id=job,
        extra="retry: {limit: 2, backoff: 1}",
    )
    execute = ProcessExecutor(child_environ(tmp_path, url))
    clock = Clock(utc(2026, 11, 25, 8, 30, 1))
    Runner(store, cron_of(tmp_path, text), execute, clock=clock).fire_due(job)
    [run] = store.runs.list()
    assert run.outcome == "failed"
    assert [t[3] for t in ticks(tmp_path)] == [job] * runs
    assert run.detail is not None
    assert run.detail.endswith("(not retried: fix it, then run again)") is (runs == 1)


def children_of(pid: int) -> list[str]:
    """The command lines of the processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError):
            continue  # ended meanwhile
    return found


def test_a_hanging_job_is_killed_at_its_timeout(db: tuple[Store, str], tmp_path: Path) -> None:
    """The timeout counts from the child's start, which takes a while on a busy machine:
    10 s leave it time to reach the job (and mark it) before it is killed."""
    store, url = db
    text = one_job(
        "*/5 * * * *", job="tests.scheduler.testjobs:hang", id="hang", extra="timeout: 10"
    )
    execute = ProcessExecutor(child_environ(tmp_path, url))
    clock = Clock(utc(2026, 11, 25, 8, 30, 1))
    fired = Runner(store, cron_of(tmp_path, text), execute, clock=clock).fire_due("hang")
    assert fired is not None and fired.run is not None
    [run] = store.runs.list()
    assert run.outcome == "timeout" and run.detail == "killed after the timeout of 10 s"
    [[_, _, pid, _]] = ticks(tmp_path)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)  # the child is gone (killed and reaped)
    assert not [c for c in children_of(os.getpid()) if "testjobs:hang" in c]


def test_the_scheduler_runs_each_fire_time_once_in_real_time(
    db: tuple[Store, str], tmp_path: Path
) -> None:
    """A few seconds of APScheduler with a job every second and a failing one every two:
    each fire time runs once, the failures do not disturb the other job, heartbeats go."""
    store, url = db
    text = one_job("* * * * * *") + one_job(
        "*/2 * * * * *", job="tests.scheduler.testjobs:boom", id="boom"
    ).removeprefix("jobs:\n")
    runner = Runner(
        store, cron_of(tmp_path, text, seconds=True), ProcessExecutor(child_environ(tmp_path, url))
    )
    thread = threading.Thread(target=serve, args=(runner,), kwargs={"heartbeat_s": 0.2})
    thread.start()
    try:

        def enough() -> bool:
            """four ticks and two failures"""
            kinds = Counter(t[3] for t in ticks(tmp_path))
            return kinds["tick"] >= 4 and kinds["boom"] >= 2

        wait_for(enough)
    finally:
        runner.stop.set()
        thread.join()
    tick_keys = Counter(t[1] for t in ticks(tmp_path) if t[3] == "tick")
    assert set(tick_keys.values()) == {1}
    runs = store.runs.list(limit=1000)
    assert {r.key for r in runs if r.job == "tick" and r.outcome == "ok"} == set(tick_keys)
    # a fire time that came while the previous run was still going (a child process takes
    # about a second to start on a busy machine) is recorded as skipped, never run beside it
    boom = [r for r in runs if r.job == "boom"]
    assert "failed" in {r.outcome for r in boom} <= {"failed", "skipped"}
    assert all("was still running" in (r.detail or "") for r in runs if r.outcome == "skipped")
    assert [h for h, _ in store.runs.heartbeats()] == [runner.instance]


def start_scheduler(
    tmp_path: Path,
    url: str,
    text: str,
    grace: float,
    *,
    ticks_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cron = write_cron(tmp_path, text, "cron-test.yaml")
    env = child_environ(tmp_path, url, **(extra_env or {}))
    if ticks_dir is not None:
        env["EUDIGEST_TEST_TICKS"] = str(ticks_dir / "ticks.txt")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.scheduler.run_scheduler", str(cron), "--grace", str(grace)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize(
    ("job", "grace", "outcome", "last_mark"),
    [("slow", 30.0, "ok", "slow-done"), ("hang", 0.3, "interrupted", "hang")],
)
def test_sigterm_finishes_or_releases_the_run_in_progress(
    db: tuple[Store, str], tmp_path: Path, job: str, grace: float, outcome: str, last_mark: str
) -> None:
    store, url = db
    text = one_job("*/3 * * * * *", job=f"tests.scheduler.testjobs:{job}", id=job)
    proc = start_scheduler(tmp_path, url, text, grace)
    try:
        wait_for(lambda: any(t[3] == job for t in ticks(tmp_path)), 90)
        proc.send_signal(signal.SIGTERM)
        assert proc.stdout is not None
        before = []
        for line in proc.stdout:  # until the scheduler says it is stopping (or ends)
            before.append(line)
            if "stopping" in line:
                break
        (tmp_path / "release").touch()  # `slow` may end now, while the scheduler waits
        rest, _ = proc.communicate(timeout=90)
        output = "".join(before) + rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert "stopped" in output
    assert ticks(tmp_path)[-1][3] == last_mark
    # fire times that came while the run went on are recorded as skipped, not run
    [run] = [r for r in store.runs.list() if r.outcome != "skipped"]
    assert run.outcome == outcome, output
    if outcome == "interrupted":
        pid = int(ticks(tmp_path)[-1][2])
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        # released: the next start (or another instance) may claim it again
        job_def = cron_of(tmp_path, text, seconds=True).jobs[0]
        again = store.runs.claim(
            job, run.key, run.scheduled_for, instance="b:1", now=utc(2030, 1, 1),
            lease_until=utc(2030, 1, 2),
        )  # fmt: skip
        assert again is not None and again.attempts == 2 and job_def.id == job
