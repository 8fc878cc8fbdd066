"""Shared helpers of the store parts: error translation and row conversion."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Select, Table, func, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from pipeline.errors import DuplicateItem, StoreError, StoreUnavailable


@contextmanager
def wrap_errors(doing: str) -> Iterator[None]:
    """Turn driver errors into domain errors, keeping the driver error as __cause__."""
    try:
        yield
    except IntegrityError as exc:
        raise DuplicateItem(f"{doing}: {_first_line(exc)}") from exc
    except OperationalError as exc:
        raise StoreUnavailable(f"{doing}: database unavailable: {_first_line(exc)}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"{doing}: {_first_line(exc)}") from exc


def _first_line(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


# Lists count their rows up to here; past it they say "über 10.000" (counting every
# match of a broad filter over 50,000 items or 100,000 subscribers costs more than the
# page itself).
COUNT_CAP = 10_000


def bounded_count(conn: Connection, stmt: Select[Any], cap: int) -> tuple[int, bool]:
    """How many rows `stmt` gives, counting no further than `cap`: (count, exact).
    When not exact, at least `cap` rows match and `cap` is returned."""
    n = int(
        conn.execute(select(func.count()).select_from(stmt.limit(cap + 1).subquery())).scalar_one()
    )
    return (n, True) if n <= cap else (cap, False)


def distinct_values(conn: Connection, column: Any) -> list[Any]:
    """SELECT DISTINCT of an indexed column with few values, by skipping from one value
    to the next through the index (a loose index scan: a recursive query of one index
    probe per value) instead of reading every row."""
    first = select(func.min(column).label("v")).cte("distinct_values", recursive=True)
    following = select(select(func.min(column)).where(column > first.c.v).scalar_subquery()).where(
        first.c.v.is_not(None)
    )
    walk = first.union_all(following)
    return list(conn.execute(select(walk.c.v).where(walk.c.v.is_not(None))).scalars())


def upsert(conn: Connection, table: Table) -> Any:
    """INSERT … that takes ON CONFLICT (DO NOTHING / DO UPDATE) for the dialect at hand.

    The dialect's module is imported here, not at start-up: PostgreSQL's costs about
    50 ms, and a SQLite installation never needs it."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
