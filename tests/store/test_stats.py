"""Counts per local day for the status page's charts (StatsStore.daily_activity)."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from pipeline.store import Store
from pipeline.store.schema import job_runs, webhook_events

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)  # 09:30 in Brussels


def _event(store: Store, n: int, event: str, when: dt.datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(webhook_events).values(
                dedupe_key=hashlib.sha256(f"k{n}".encode()).hexdigest(),
                event=event,
                occurred_at=when,
                received_at=when,
                email_hash=hashlib.sha256(f"e{n}".encode()).hexdigest(),
                reason="",
            )
        )


def test_daily_activity_counts_by_local_day_inside_the_window(store: Store) -> None:
    before_midnight = dt.datetime(2026, 11, 24, 22, 59, tzinfo=dt.UTC)  # 23:59 on the 24th
    midnight = dt.datetime(2026, 11, 24, 23, 0, tzinfo=dt.UTC)  # 00:00 on the 25th
    _event(store, 1, "bounce", before_midnight)
    _event(store, 2, "dropped", midnight)
    _event(store, 3, "spamreport", midnight)
    _event(store, 4, "bounce", NOW - dt.timedelta(days=3))  # outside a 3-day window
    _event(store, 5, "delivered", midnight)  # not a bounce
    with store.engine.begin() as conn:
        for n, outcome in enumerate(["failed", "missed", "ok", "timeout"]):
            conn.execute(
                insert(job_runs).values(
                    job="ingest",
                    run_key=f"k{n}",
                    scheduled_for=midnight,
                    outcome=outcome,
                    instance="h:1",
                    attempts=1,
                )
            )

    a = store.stats.daily_activity(now=NOW, tz=BRUSSELS, days=3)

    assert a.days == (dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25))
    assert a.bounces == (0, 1, 1)
    assert a.complaints == (0, 0, 1)
    assert a.failed_runs == (0, 0, 3)
    assert a.sent == (0, 0, 0)
    assert a.items_by_source == {}
    assert store.stats.last_sent() is None


def test_daily_activity_of_an_empty_store_is_zeros(store: Store) -> None:
    a = store.stats.daily_activity(now=NOW, tz=BRUSSELS, days=14)
    assert len(a.days) == 14 and a.days[-1] == dt.date(2026, 11, 25)
    assert a.sent == a.bounces == a.complaints == a.failed_runs == (0,) * 14
