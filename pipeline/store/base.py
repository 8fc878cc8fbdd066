"""Shared helpers of the store parts: error translation and row conversion."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
