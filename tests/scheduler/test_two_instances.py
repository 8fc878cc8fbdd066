"""Two scheduler processes on one PostgreSQL database, a job firing every second.

What this proves: for every fire time in the few seconds both processes ran, the job's
side effect (a line in a file, written by the job's child process) happened exactly once,
and both processes did try to run it (each logs either its claim or "already claimed"),
so the claim in the database, not luck, kept it single. The schedule uses the seconds
field that only tests may use; APScheduler's crontab has minute resolution otherwise.
"""

from __future__ import annotations

import re
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.store import Store
from tests.conftest import _pg_store
from tests.scheduler.conftest import one_job, ticks
from tests.scheduler.test_process import start_scheduler, wait_for


@pytest.fixture
def pg() -> Iterator[Store]:
    yield from _pg_store()


@pytest.mark.postgres
def test_two_schedulers_run_each_fire_time_exactly_once(pg: Store, tmp_path: Path) -> None:
    url = pg.engine.url.render_as_string(hide_password=False)
    text = one_job("* * * * * *", extra="misfire_grace_time: 30")
    a = start_scheduler(tmp_path / "a", url, text, 5.0, ticks_dir=tmp_path)
    b = start_scheduler(tmp_path / "b", url, text, 5.0, ticks_dir=tmp_path)
    outputs: list[str] = []
    try:

        def both_running() -> bool:
            """both schedulers beating"""
            return len(pg.runs.heartbeats()) == 2

        wait_for(both_running, 120)
        before = len(ticks(tmp_path))

        def four_more() -> bool:
            """four more fire times run"""
            return len(ticks(tmp_path)) >= before + 4

        wait_for(four_more, 120)
    finally:
        for proc in (a, b):
            proc.send_signal(signal.SIGTERM)
        for proc in (a, b):
            out, _ = proc.communicate(timeout=120)
            outputs.append(out)
    assert [a.returncode, b.returncode] == [0, 0], outputs
    per_key = Counter(t[1] for t in ticks(tmp_path))
    assert per_key and set(per_key.values()) == {1}, per_key
    runs = pg.runs.list(limit=1000)
    assert {r.key for r in runs if r.outcome == "ok"} == set(per_key)
    # both instances went for the same fire times: claimed by one, refused to the other
    tried = [
        set(re.findall(r"job tick (\S+): (?:claimed|already claimed)", out)) for out in outputs
    ]
    both = tried[0] & tried[1] & set(per_key)
    assert both, (tried, per_key)
    beating = {h for h, _ in pg.runs.heartbeats()}
    assert len(beating) == 2 and {r.instance for r in runs} <= beating
