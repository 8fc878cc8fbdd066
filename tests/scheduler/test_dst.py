"""Europe/Brussels DST: the repeated autumn hour runs once, the skipped spring hour still runs.

APScheduler fires a 02:30 job twice on the autumn change day (02:30 CEST, then 02:30
CET). Both fire times have the same claim key (the local wall-clock time), so the second
does nothing. In spring 02:30 does not exist: APScheduler fires at 03:30 CEST, once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.scheduler.runner import Runner
from pipeline.store import Store
from tests.scheduler.conftest import Clock, Recorder, cron_of, one_job, utc

NIGHTLY = one_job("30 2 * * *")
HALF_HOURLY = one_job("*/30 * * * *")


def test_the_autumn_hour_fires_twice_with_one_key(tmp_path: Path) -> None:
    job = cron_of(tmp_path, NIGHTLY).jobs[0]
    fires = job.fires(utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    assert fires == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)]  # 02:30 CEST and CET
    assert {job.run_key(t) for t in fires} == {"2026-10-25T02:30:00"}


def test_the_spring_hour_fires_once_at_0330(tmp_path: Path) -> None:
    job = cron_of(tmp_path, NIGHTLY).jobs[0]
    fires = job.fires(utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))
    assert fires == [utc(2026, 3, 29, 1, 30)]
    assert [job.run_key(t) for t in fires] == ["2026-03-29T03:30:00"]


def test_a_double_fire_in_autumn_runs_once(store: Store, tmp_path: Path) -> None:
    """Both fires arrive as APScheduler sends them (clock at each fire time)."""
    clock, rec = Clock(utc(2026, 10, 25, 0, 30)), Recorder()
    runner = Runner(store, cron_of(tmp_path, HALF_HOURLY), rec, instance="a:1", clock=clock)
    t = utc(2026, 10, 24, 23, 0)  # 01:00 CEST
    while t <= utc(2026, 10, 25, 3, 0):  # until 04:00 CET
        clock.set(t + dt.timedelta(seconds=1))
        runner.fire_due("tick")
        t += dt.timedelta(minutes=30)
    local = [k[11:16] for _, k in rec.calls]
    assert local == ["01:00", "01:30", "02:00", "02:30", "03:00", "03:30", "04:00"]
    runs = store.runs.list()
    assert len(runs) == 7 and all(r.outcome == "ok" for r in runs)
    # the UTC instant of the first 02:30 (CEST) is kept for display
    [r0230] = [r for r in runs if r.key.endswith("02:30:00")]
    assert r0230.scheduled_for == utc(2026, 10, 25, 0, 30)


def test_a_spring_night_job_runs_once(store: Store, tmp_path: Path) -> None:
    clock, rec = Clock(utc(2026, 3, 29, 1, 30, 1)), Recorder()
    runner = Runner(store, cron_of(tmp_path, NIGHTLY), rec, instance="a:1", clock=clock)
    runner.fire_due("tick")
    clock.set(utc(2026, 3, 29, 1, 31))
    runner.fire_due("tick")  # a late or repeated fire
    assert rec.calls == [("tick", "2026-03-29T03:30:00")]


def test_catch_up_across_the_autumn_change_counts_the_repeated_hour_once(
    store: Store, tmp_path: Path
) -> None:
    text = one_job("*/30 * * * *", extra="misfire_grace_time: 60")
    clock, rec = Clock(utc(2026, 10, 24, 23, 0, 1)), Recorder()
    Runner(store, cron_of(tmp_path, text), rec, instance="a:1", clock=clock).fire_due("tick")
    clock.set(utc(2026, 10, 25, 3, 0, 30))  # down from 01:00 CEST to 04:00 CET
    plan = Runner(store, cron_of(tmp_path, text), rec, instance="a:2", clock=clock).catch_up()
    assert len(plan.run) == 1 and rec.calls[-1][1] == "2026-10-25T04:00:00"
    missed = sorted(r.key[11:16] for r in store.runs.list() if r.outcome == "missed")
    assert missed == ["01:30", "02:00", "02:30", "03:00", "03:30"]
