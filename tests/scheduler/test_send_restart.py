"""The scheduler is down across an edition's send time; after the restart it goes out once.

The shipped cron.yaml's `send-due` job runs the real `jobs.send_due` in a child process
on the outbox backend (SQLite). Proven: the catch-up after the restart sends the edition,
the same fire time fired again (a second instance, a late APScheduler fire) does nothing,
a later fire sends nothing more, and every subscriber has exactly one .eml file.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.bootstrap import Services
from pipeline.model import EditionState
from pipeline.scheduler.cronfile import CronFile, load_cron
from pipeline.scheduler.runner import ProcessExecutor, Runner, utcnow
from tests.deliver.test_send import BASE, PROFILES, make_edition, per_address, three_profiles
from tests.scheduler.conftest import ROOT
from tests.subscribers.conftest import Outbox, environ, make_settings
from tests.web.conftest import Clock, make_services


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    services = make_services(make_settings(tmp_path, EUDIGEST_BASE_URL=BASE), Clock())
    yield services
    services.close()


def test_an_edition_due_while_the_scheduler_was_down_goes_out_once(
    services: Services, tmp_path: Path
) -> None:
    store = services.store
    job = load_cron(ROOT / "cron.yaml").get("send-due")
    assert job is not None
    cron = CronFile(ROOT / "cron.yaml", [job])  # the other jobs would fetch from the network
    env = {**os.environ, **environ(tmp_path, EUDIGEST_BASE_URL=BASE), "PYTHONPATH": str(ROOT)}
    execute = ProcessExecutor(env)
    now = utcnow()

    # Before the stop: the scheduler ran send-due 20 minutes ago; nothing was due.
    before = job.previous_fire(now - dt.timedelta(minutes=20))
    assert before is not None
    first = Runner(store, cron, execute, instance="before:1").fire(job, before)
    assert first.run is not None and first.run.outcome == "ok"

    # While it is down, an approved edition's send time passes.
    three_profiles(services)
    edition_id, _ = make_edition(services)
    store.editions.transition(
        edition_id,
        from_states=(EditionState.APPROVED,),
        to_state=EditionState.SCHEDULED,
        actor="anna",
        now=now,
        scheduled_at=now - dt.timedelta(minutes=2),
    )

    # Restart: the catch-up runs the newest missed send-due once; older ones are missed.
    restarted = Runner(store, cron, execute, instance="after:2")
    plan = restarted.catch_up()
    assert [j.id for j, _ in plan.run] == ["send-due"]
    assert store.editions.get(edition_id).state is EditionState.SENT
    caught_up = plan.run[0][1]
    # the same fire time again (another instance, a late fire) does nothing
    other = Runner(store, cron, execute, instance="other:3")
    assert other.fire(job, caught_up).run is None
    # the next fire time runs and finds nothing more to send
    later = other.fire(job, caught_up + dt.timedelta(minutes=5))
    assert later.run is not None and later.run.outcome == "ok"

    outbox = Outbox(services.settings.data_dir / "outbox")
    assert per_address(outbox) == {address: 1 for address in PROFILES}
    runs = [r for r in store.runs.list(job="send-due", limit=100) if r.outcome != "missed"]
    assert [r.instance for r in runs] == ["other:3", "after:2", "before:1"]
    assert (runs[1].detail or "") == "editions sent: 1, mails: 3"
