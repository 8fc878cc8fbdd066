"""The claim layer and catch-up, with a hand-moved clock and a recording executor.

What is proven here: which runs the runner starts, under which key, and what it records;
a second runner (another instance) on the same database never starts a run twice. The
executor is a fake: real child processes are in test_process.py.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from pipeline.scheduler.runner import ExecResult, Runner
from pipeline.store import Store
from tests.scheduler.conftest import Clock, Recorder, cron_of, one_job, utc

EVERY_5 = one_job("*/5 * * * *", extra="misfire_grace_time: 600")


def runner(
    store: Store, tmp_path: Path, text: str, clock: Clock, rec: Recorder, name: str
) -> Runner:
    return Runner(store, cron_of(tmp_path, text), rec, instance=name, clock=clock)


def test_a_fire_time_is_claimed_once_across_instances(store: Store, tmp_path: Path) -> None:
    clock, rec = Clock(utc(2026, 11, 25, 8, 30, 2)), Recorder()
    a = runner(store, tmp_path, EVERY_5, clock, rec, "host-a:1")
    b = runner(store, tmp_path, EVERY_5, clock, rec, "host-b:2")
    fired = a.fire_due("tick")
    again = b.fire_due("tick")
    assert fired is not None and fired.run is not None and fired.run.outcome == "ok"
    assert again is not None and again.run is None
    assert again.existing is not None and again.existing.instance == "host-a:1"
    assert rec.calls == [("tick", "2026-11-25T09:30:00")]
    [run] = store.runs.list()
    assert (run.key, run.outcome, run.instance, run.attempts) == (
        "2026-11-25T09:30:00", "ok", "host-a:1", 1,
    )  # fmt: skip
    assert run.scheduled_for == utc(2026, 11, 25, 8, 30)
    assert run.duration_s is not None and run.finished_at is not None


def test_many_threads_racing_for_one_fire_time_run_it_once(store: Store, tmp_path: Path) -> None:
    """Eight instances claim the same fire times at once (threads, one database)."""
    clock = Clock(utc(2026, 11, 25, 8, 30))
    rec = Recorder()
    cron = cron_of(tmp_path, EVERY_5)
    runners = [Runner(store, cron, rec, instance=f"i{n}:{n}", clock=clock) for n in range(8)]
    times = [utc(2026, 11, 25, 8, 30) + dt.timedelta(minutes=5 * k) for k in range(5)]
    gate = threading.Barrier(len(runners))

    def work(r: Runner) -> None:
        for t in times:
            gate.wait()
            r.fire(cron.jobs[0], t)

    threads = [threading.Thread(target=work, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(rec.keys().values()) == [1] * len(times)
    assert len(store.runs.list()) == len(times)


def test_a_manual_run_claims_the_due_fire_time_and_force_uses_its_own_key(
    store: Store, tmp_path: Path
) -> None:
    clock, rec = Clock(utc(2026, 11, 25, 8, 33)), Recorder()
    r = runner(store, tmp_path, EVERY_5, clock, rec, "cli:1")
    first = r.run_by_hand("tick")
    assert first.run is not None and first.key == "2026-11-25T09:30:00"
    second = r.run_by_hand("tick")
    assert second.run is None and second.existing is not None
    assert second.existing.outcome == "ok" and second.existing.instance == "cli:1"
    forced = r.run_by_hand("tick", force=True)
    assert forced.run is not None and forced.key == "manual:2026-11-25T08:33:00+00:00"
    assert rec.keys() == {"2026-11-25T09:30:00": 1, "manual:2026-11-25T08:33:00+00:00": 1}
    # a manual key does not count as the newest scheduled run for the catch-up
    assert store.runs.last_scheduled("tick") == utc(2026, 11, 25, 8, 30)


def test_catch_up_runs_the_newest_missed_run_once_and_records_older_ones(
    store: Store, tmp_path: Path
) -> None:
    clock, rec = Clock(utc(2026, 11, 25, 8, 30, 1)), Recorder()
    r = runner(store, tmp_path, EVERY_5, clock, rec, "a:1")
    r.fire_due("tick")  # 09:30 ran; then the scheduler was down until 10:03
    clock.set(utc(2026, 11, 25, 9, 3))
    restarted = runner(store, tmp_path, EVERY_5, clock, rec, "a:2")
    plan = restarted.catch_up()
    # 09:35 … 10:00 were missed; within the 10-minute grace: 09:55 and 10:00 (coalesced)
    assert [t.isoformat() for _, t in plan.run] == ["2026-11-25T09:00:00+00:00"]
    assert rec.calls[-1] == ("tick", "2026-11-25T10:00:00")
    runs = {run.key[11:16]: run.outcome for run in store.runs.list()}
    assert runs == {
        "09:30": "ok", "09:35": "missed", "09:40": "missed", "09:45": "missed",
        "09:50": "missed", "09:55": "missed", "10:00": "ok",
    }  # fmt: skip
    # a second start catches up nothing more
    again = runner(store, tmp_path, EVERY_5, clock, rec, "a:3").catch_up()
    assert again.run == [] and again.missed == []
    assert len(rec.calls) == 2


def test_catch_up_without_coalesce_runs_each_run_within_grace(store: Store, tmp_path: Path) -> None:
    text = one_job("*/5 * * * *", extra="misfire_grace_time: 600\ncoalesce: false")
    clock, rec = Clock(utc(2026, 11, 25, 8, 30, 1)), Recorder()
    runner(store, tmp_path, text, clock, rec, "a:1").fire_due("tick")
    clock.set(utc(2026, 11, 25, 8, 51))
    runner(store, tmp_path, text, clock, rec, "a:2").catch_up()
    assert [k[11:16] for _, k in rec.calls] == ["09:30", "09:45", "09:50"]


def test_a_first_start_looks_back_only_over_the_grace_window(store: Store, tmp_path: Path) -> None:
    clock, rec = Clock(utc(2026, 11, 25, 8, 34)), Recorder()
    plan = runner(store, tmp_path, EVERY_5, clock, rec, "a:1").catch_up()
    assert len(plan.run) == 1 and rec.calls == [("tick", "2026-11-25T09:30:00")]
    # 09:25 is folded into the 09:30 run (coalesce); before the first run nothing was missed
    runs = {r.key[11:16]: r.outcome for r in store.runs.list()}
    assert runs == {"09:30": "ok"}


def test_an_interrupted_run_is_released_and_a_stale_one_taken_over(
    store: Store, tmp_path: Path
) -> None:
    clock = Clock(utc(2026, 11, 25, 8, 30, 1))
    rec = Recorder(answers=[ExecResult("interrupted", "the scheduler stopped; released")])
    r = runner(store, tmp_path, EVERY_5, clock, rec, "a:1")
    r.fire_due("tick")
    assert store.runs.list()[0].outcome == "interrupted"
    rec.answers = [ExecResult("ok", "done")]
    clock.set(utc(2026, 11, 25, 8, 31))
    plan = runner(store, tmp_path, EVERY_5, clock, rec, "a:2").catch_up()
    assert len(plan.run) == 1
    [run] = store.runs.list()
    assert (run.outcome, run.instance, run.attempts) == ("ok", "a:2", 2)
    # a run left "running" by a killed instance is taken over once its lease has passed
    job = r.cron.jobs[0]
    t = utc(2026, 11, 25, 8, 35)
    lease = utc(2026, 11, 25, 8, 40)
    assert store.runs.claim("tick", job.run_key(t), t, instance="dead:9", now=t, lease_until=lease)
    clock.set(utc(2026, 11, 25, 8, 36))
    assert r.fire(job, t).run is None  # still within its lease: someone is on it
    clock.set(utc(2026, 11, 25, 8, 41))
    taken = r.fire(job, t)
    assert taken.run is not None and taken.run.outcome == "ok"


def test_a_failing_job_is_retried_per_policy_and_recorded(store: Store, tmp_path: Path) -> None:
    text = one_job("*/5 * * * *", extra="retry: {limit: 2, backoff: 0}")
    clock = Clock(utc(2026, 11, 25, 8, 30, 1))
    rec = Recorder(
        answers=[ExecResult("failed", "RuntimeError: one"), ExecResult("timeout", "killed")]
    )
    fired = runner(store, tmp_path, text, clock, rec, "a:1").fire_due("tick")
    assert fired is not None and fired.run is not None
    assert len(rec.calls) == 3  # the first try and two retries
    [run] = store.runs.list()
    assert (run.outcome, run.detail, run.attempts) == ("timeout", "killed", 3)
    rec.answers = [ExecResult("failed", "x"), ExecResult("ok", "fine")]
    rec.calls.clear()
    clock.set(utc(2026, 11, 25, 8, 35, 1))
    runner(store, tmp_path, text, clock, rec, "a:1").fire_due("tick")
    assert store.runs.list()[0].outcome == "ok" and len(rec.calls) == 2


def test_latest_per_job_and_heartbeats(store: Store, tmp_path: Path) -> None:
    clock, rec = Clock(utc(2026, 11, 25, 8, 30, 1)), Recorder()
    r = runner(store, tmp_path, EVERY_5, clock, rec, "a:1")
    r.fire_due("tick")
    clock.set(utc(2026, 11, 25, 8, 35, 1))
    r.fire_due("tick")
    latest = store.runs.latest_per_job()
    assert list(latest) == ["tick"] and latest["tick"].key.endswith("09:35:00")
    assert r.beat()
    clock.set(utc(2026, 11, 25, 8, 36))
    assert r.beat()
    runner(store, tmp_path, EVERY_5, Clock(utc(2026, 11, 25, 8, 20)), rec, "b:2").beat()
    assert store.runs.heartbeats() == [
        ("a:1", utc(2026, 11, 25, 8, 36)),
        ("b:2", utc(2026, 11, 25, 8, 20)),
    ]
    assert store.runs.prune(utc(2026, 11, 25, 8, 33)) == 1  # the 09:30 run; b's heartbeat too
    assert [h for h, _ in store.runs.heartbeats()] == ["a:1"]
