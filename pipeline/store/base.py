"""Shared helpers of the store parts: error translation and row conversion."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table
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


def upsert(conn: Connection, table: Table) -> Any:
    """INSERT … that takes ON CONFLICT (DO NOTHING / DO UPDATE) for the dialect at hand.

    The dialect's module is imported here, not at start-up: PostgreSQL's costs about
    50 ms, and a SQLite installation never needs it."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
