"""Migration 0023: saved inbox views and items put off ("Später"), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

import pipeline.store
from pipeline.errors import DuplicateItem, NotFound
from pipeline.model import Role
from pipeline.store import Store

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)


def test_views_belong_to_one_user_and_names_are_unique_per_user(store: Store) -> None:
    anna = store.users.add("anna", Role.EDITOR, "x" * 20, now=NOW)
    bernd = store.users.add("bernd", Role.EDITOR, "x" * 20, now=NOW)
    view = store.views.add(anna.id, "Energie", "topic=energy_climate", now=NOW)
    store.views.add(bernd.id, "Energie", "q=Wasserstoff", now=NOW)
    with pytest.raises(DuplicateItem):
        store.views.add(anna.id, "ENERGIE", "", now=NOW)
    with pytest.raises(NotFound):
        store.views.get(bernd.id, view.id)
    with pytest.raises(NotFound):
        store.views.rename(bernd.id, view.id, "Meins")
    assert store.views.rename(anna.id, view.id, "Energie & Klima").name == "Energie & Klima"
    assert [v.query for v in store.views.list(anna.id)] == ["topic=energy_climate"]
    store.views.delete(anna.id, view.id)
    assert store.views.list(anna.id) == [] and len(store.views.list(bernd.id)) == 1


def test_schema_py_matches_migration_0023_which_goes_down_and_up(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pipeline.store.schema import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diff if "saved_views" in repr(d) or "deferred_until" in repr(d)] == []
    script = Path(pipeline.store.__file__).parent / "migrations/versions"
    (path,) = script.glob("0023_*.py")
    match = re.search(r'^down_revision = "(\w+)"', path.read_text(encoding="utf-8"), re.M)
    assert match is not None
    store.downgrade(match.group(1))
    store.upgrade()
    assert store.revision() == store.head_revision()
