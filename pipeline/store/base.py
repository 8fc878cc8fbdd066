"""Shared helpers of the store parts: error translation and row conversion."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import ClauseElement, ColumnElement, Connection, Select, Table, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError, StatementError
from sqlalchemy.sql.compiler import SQLCompiler

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


class Prepared:
    """A statement compiled once for a dialect, run many times through `exec_driver_sql`.

    For an executemany of thousands of rows: SQLAlchemy converts the parameters of each
    row one by one (its bind processors, per row and column); here each row is only put
    in the driver's order. The values must therefore be in the driver's form already:
    convert a column's value with `driver_value` (once per call, not per row). Binds with
    a value in the statement (`column == "sent"`) are filled in from the statement.
    """

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=dialect, for_executemany=True))
        self.sql = compiled.string
        self._fixed = dict(compiled.params)  # the statement's own values; None for the rest
        # positional drivers (SQLite: ?) take a tuple in the statement's order
        self._order: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None
        if dialect.positional:
            names = tuple(compiled.positiontup or ())
            if len(names) > 1:  # the one case itemgetter answers with a tuple
                self._order = operator.itemgetter(*names)
            else:
                self._order = lambda m: tuple(m[k] for k in names)

    def run_many(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
        """Run the statement once per row (executemany); returns the driver's rowcount
        (SQLite and psycopg: the rows changed by all of them together)."""
        fixed, order = self._fixed, self._order
        merged = [{**fixed, **row} for row in rows]
        if not merged:  # (exec_driver_sql would run it once, without parameters)
            return 0
        if order is not None:
            return conn.exec_driver_sql(self.sql, [order(m) for m in merged]).rowcount
        return conn.exec_driver_sql(self.sql, merged).rowcount


def driver_value(column: ColumnElement[Any], value: Any, dialect: Dialect) -> Any:
    """`value` as SQLAlchemy would hand it to the driver for `column` (its type's bind
    processing: `UTCDateTime` refuses a naive datetime, converts to UTC, and on SQLite
    formats it as text)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    try:
        return value if process is None else process(value)
    except Exception as exc:  # as SQLAlchemy reports it when it converts (wrap_errors)
        raise StatementError(f"converting a value for {column}", None, None, exc) from exc


def upsert(conn: Connection, table: Table) -> Any:
    """INSERT … that takes ON CONFLICT (DO NOTHING / DO UPDATE) for the dialect at hand.

    The dialect's module is imported here, not at start-up: PostgreSQL's costs about
    50 ms, and a SQLite installation never needs it."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
