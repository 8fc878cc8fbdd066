"""UTCDateTime on SQLite: aware datetimes in, aware UTC datetimes out, whatever the text.

The column's text is read in one step (`fromisoformat`) when it is what SQLAlchemy writes;
anything else (rows written by hand, by SQL's CURRENT_TIMESTAMP, by an older release)
takes SQLAlchemy's own parse, as before.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from pipeline.store.schema import UTCDateTime

BERLIN = dt.timezone(dt.timedelta(hours=1))


def _table() -> tuple[sa.Engine, sa.Table]:
    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    table = sa.Table(
        "t", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UTCDateTime)
    )
    meta.create_all(engine)
    return engine, table


def test_what_it_writes_reads_back_as_the_same_instant_in_utc() -> None:
    rng = random.Random(16)
    start = dt.datetime(1999, 1, 1, tzinfo=dt.UTC)
    values = [start + dt.timedelta(seconds=rng.uniform(0, 9e8)) for _ in range(200)]
    values += [dt.datetime(2026, 12, 7, 8, 0, tzinfo=BERLIN), dt.datetime(2026, 3, 29, 1, 59, 59)]
    values[-1] = values[-1].replace(tzinfo=dt.UTC)  # whole seconds: ".000000" stored
    engine, table = _table()
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": i, "at": v} for i, v in enumerate(values)])
        conn.execute(table.insert(), {"id": len(values), "at": None})
        read = conn.execute(sa.select(table.c.at).order_by(table.c.id)).scalars().all()
    assert read[:-1] == values and read[-1] is None
    assert all(v.utcoffset() == dt.timedelta(0) for v in read[:-1])


def test_text_written_otherwise_still_reads_as_utc() -> None:
    engine, table = _table()
    with engine.begin() as conn:
        for n, text in enumerate(["2026-11-25 09:00:00", "2026-11-25 09:00:00.5", "2026-11-25"]):
            conn.execute(sa.text("INSERT INTO t (id, at) VALUES (:id, :at)"), {"id": n, "at": text})
        conn.execute(sa.text("INSERT INTO t (id, at) VALUES (9, CURRENT_TIMESTAMP)"))
        read = conn.execute(sa.select(table.c.at).order_by(table.c.id)).scalars().all()
    assert read[:3] == [
        dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 25, 9, 0, 0, 500000, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
    ]
    assert read[3].tzinfo is not None and read[3].utcoffset() == dt.timedelta(0)
