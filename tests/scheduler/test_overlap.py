"""A job still running on one instance is not started again on another (issue 10).

Each fire time has its own claim key, so the claim alone let a second instance start
`send-due` for the next fire time while the first was still sending. Now a claim of a
job whose earlier run is running within its lease is recorded as `skipped`, unless the
job says `overlap: true`. The runner renews a run's lease while it executes, so the run
of an instance that died frees the job after RUN_LEASE_S.

Unit part: two runners on one database with a hand-moved clock and a recording executor
that fires the other runner while it "runs". Process part: two scheduler processes on
PostgreSQL running the real `send-due` every two seconds, with a send that lasts longer,
through the counting SendGrid stand-in.
"""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.model import EditionState, JobRun
from pipeline.scheduler.runner import RUN_LEASE_S, Runner
from pipeline.store import Store
from pipeline.store.schema import job_runs
from tests.conftest import _pg_store
from tests.deliver.conftest import CountingPeer
from tests.deliver.test_overlapping_senders import KEY, add_readers
from tests.deliver.test_send import BASE, make_edition
from tests.scheduler.conftest import Clock, Recorder, cron_of, one_job, utc
from tests.scheduler.test_process import start_scheduler, wait_for
from tests.subscribers.conftest import make_settings
from tests.web.conftest import Clock as ServicesClock
from tests.web.conftest import make_services

EVERY_5 = one_job("*/5 * * * *", extra="misfire_grace_time: 600")
T0 = utc(2026, 11, 25, 8, 30, 2)


def two_runners(
    store: Store, tmp_path: Path, text: str, clock: Clock, rec: Recorder
) -> tuple[Runner, Runner]:
    """Two instances; their runs renew their leases every 10 ms (on the moved clock)."""
    cron = cron_of(tmp_path, text)
    return (
        Runner(store, cron, rec, instance="host-a:1", clock=clock, renew_every=0.01),
        Runner(store, cron, rec, instance="host-b:2", clock=clock, renew_every=0.01),
    )


def lease_of(store: Store, key: str) -> dt.datetime | None:
    with store.engine.connect() as conn:
        return conn.execute(
            select(job_runs.c.lease_until).where(job_runs.c.run_key == key)
        ).scalar()


def renewed_past(store: Store, key: str, clock: Clock) -> None:
    """Wait until the run's renewal has seen the moved clock (a lease past it)."""

    def renewed() -> bool:
        """the lease renewed past the moved clock"""
        until = lease_of(store, key)
        return until is not None and until > clock.now

    wait_for(renewed, 120)  # a deadline for a hang, not a time limit


def test_a_run_still_running_elsewhere_makes_the_next_fire_time_skip(
    store: Store, tmp_path: Path
) -> None:
    clock, rec = Clock(T0), Recorder()
    a, b = two_runners(store, tmp_path, EVERY_5, clock, rec)
    seen: list[object] = []

    def meanwhile() -> None:  # a's run of 09:30 lasts past 09:35: b fires 09:35
        if len(rec.calls) == 1:
            clock.now = T0 + dt.timedelta(minutes=5)
            renewed_past(store, "2026-11-25T09:30:00", clock)
            seen.append(b.fire_due("tick"))

    rec.during = meanwhile
    first = a.fire_due("tick")
    assert first is not None and first.run is not None and first.run.outcome == "ok"
    [skipped] = seen
    assert skipped.skipped and skipped.run.key == "2026-11-25T09:35:00"  # type: ignore[attr-defined]
    assert rec.calls == [("tick", "2026-11-25T09:30:00")]  # 09:35 never ran
    runs = {r.key: r for r in store.runs.list()}
    assert runs["2026-11-25T09:35:00"].outcome == "skipped"
    assert runs["2026-11-25T09:35:00"].detail == (
        "not started: run 2026-11-25T09:30:00 was still running on host-a:1 "
        "(since 2026-11-25T08:30:02+00:00)"
    )
    # the skipped fire time is done: no catch-up runs it later, and status still shows
    # the run that ran (a failure must not hide behind the fire times it made skip)
    assert b.plan_catch_up().run == []
    assert store.runs.latest_per_job()["tick"].key == "2026-11-25T09:30:00"


def test_a_job_that_may_overlap_runs_alongside(store: Store, tmp_path: Path) -> None:
    clock, rec = Clock(T0), Recorder()
    a, b = two_runners(store, tmp_path, EVERY_5 + "    overlap: true\n", clock, rec)

    def meanwhile() -> None:
        if len(rec.calls) == 1:
            clock.now = T0 + dt.timedelta(minutes=5)
            renewed_past(store, "2026-11-25T09:30:00", clock)
            b.fire_due("tick")

    rec.during = meanwhile
    a.fire_due("tick")
    assert sorted(k for _, k in rec.calls) == ["2026-11-25T09:30:00", "2026-11-25T09:35:00"]
    assert {r.outcome for r in store.runs.list()} == {"ok"}


@pytest.mark.parametrize(("lease_s", "outcome"), [(600, "skipped"), (RUN_LEASE_S, "ok")])
def test_the_run_of_a_dead_instance_frees_the_job_once_its_lease_ran_out(
    store: Store, tmp_path: Path, lease_s: float, outcome: str
) -> None:
    """An instance died mid-run (no finish, no renewal): while its lease lasts its run
    still counts as running; after it (RUN_LEASE_S from its last renewal) the job runs."""
    clock, rec = Clock(T0), Recorder()
    _, b = two_runners(store, tmp_path, EVERY_5, clock, rec)
    dead = store.runs.claim(
        "tick",
        "2026-11-25T09:30:00",
        utc(2026, 11, 25, 8, 30),
        instance="host-c:3",
        now=T0,
        lease_until=T0 + dt.timedelta(seconds=lease_s),
        exclusive=True,
    )
    assert isinstance(dead, JobRun) and dead.outcome == "running"
    clock.now = T0 + dt.timedelta(minutes=5)
    fired = b.fire_due("tick")
    assert fired is not None and fired.run is not None and fired.run.outcome == outcome
    assert rec.calls == ([] if outcome == "skipped" else [("tick", "2026-11-25T09:35:00")])


def test_a_run_renews_its_lease_while_it_executes(store: Store, tmp_path: Path) -> None:
    clock, rec = Clock(T0), Recorder()
    a, _ = two_runners(store, tmp_path, EVERY_5, clock, rec)

    def meanwhile() -> None:  # the run takes 10 minutes on the clock; renewals keep it
        clock.now = T0 + dt.timedelta(minutes=10)
        renewed_past(store, "2026-11-25T09:30:00", clock)

    rec.during = meanwhile
    fired = a.fire_due("tick")
    assert fired is not None and fired.run is not None and fired.run.outcome == "ok"
    assert lease_of(store, "2026-11-25T09:30:00") is None  # finished: no lease any more


# ---------------------------------------------------------------- two scheduler processes


@pytest.fixture
def pg() -> Iterator[Store]:
    yield from _pg_store()


@pytest.fixture
def counting_peer() -> Iterator[CountingPeer]:
    peer = CountingPeer(delays=(0.3, 0.8))  # 12 requests: a send of 5-7 s, send-due every 2 s
    yield peer
    peer.close()


SEND_DUE_EVERY_2S = one_job(
    "*/2 * * * * *",
    job="pipeline.jobs:send_due",
    id="send-due",
    extra="misfire_grace_time: 30\ntimeout: 300",
)


@pytest.mark.postgres
def test_two_schedulers_with_send_due_every_2_s_and_a_longer_send_send_everyone_once(
    pg: Store, tmp_path: Path, counting_peer: CountingPeer
) -> None:
    url = pg.engine.url.render_as_string(hide_password=False)
    settings = make_settings(tmp_path, EUDIGEST_BASE_URL=BASE, EUDIGEST_DATABASE_URL=url)
    services = make_services(settings, ServicesClock())
    try:
        receives = add_readers(services, 2400)
        edition_id, _ = make_edition(services)
        due = utc(2026, 11, 25, 7, 0)
        services.store.editions.transition(
            edition_id,
            from_states=(EditionState.APPROVED,),
            to_state=EditionState.SCHEDULED,
            actor="anna",
            now=due,
            scheduled_at=due,
        )
    finally:
        services.close()
    env = {
        "EUDIGEST_MAIL_BACKEND": "sendgrid",
        "EUDIGEST_SENDGRID_HOST": counting_peer.url,
        "SENDGRID_API_KEY": KEY,
        "EUDIGEST_BASE_URL": BASE,
        "EUDIGEST_OFFICE": str(tmp_path / "office.yaml"),
        "EUDIGEST_SECRET_KEY": settings.secret_key or "",
        # one request at a time: the 12 requests take 5-7 s, so fire times come while the
        # send runs, however fast a run starts (forked from the start-up server, ADR 0011)
        "EUDIGEST_SENDGRID_CONCURRENCY": "1",
    }
    procs = [
        start_scheduler(tmp_path / name, url, SEND_DUE_EVERY_2S, 30.0, extra_env=env)
        for name in ("a", "b")
    ]
    outputs = []
    try:

        def sent() -> bool:
            """the edition sent"""
            return pg.editions.get(edition_id).state is EditionState.SENT

        wait_for(sent, 300)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            out, _ = proc.communicate(timeout=120)
            outputs.append(out)
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert counting_peer.twice() == {}
    assert set(counting_peer.accepted) == receives
    runs = [r for r in pg.runs.list(limit=1000) if r.job == "send-due"]
    skipped = [r for r in runs if r.outcome == "skipped"]
    assert skipped, [(r.key, r.outcome, r.instance) for r in runs]  # the overlap, recorded
    assert all("was still running on" in (r.detail or "") for r in skipped)
    assert {r.instance for r in runs} >= {r.instance for r in skipped}
    senders = pg.senders.list(edition_id)
    assert len(senders) == 1, senders  # one run sent it; the others skipped or left it
