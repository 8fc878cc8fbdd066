"""The office's note on a dossier (migration 0014) and the inbox's look-up of followed
dossiers, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from pipeline.errors import DossierNotFound
from pipeline.store import Store
from pipeline.store.schema import audit_log
from tests.store.test_dossiers import NOW, add_items, ep_record


def test_a_note_is_stored_replaced_and_audited(store: Store) -> None:
    store.dossiers.upsert([ep_record()], now=NOW)
    assert store.dossiers.note("2025/0260(COD)") is None
    assert store.dossiers.set_note("2025/260(COD)", "**Erst**", actor="anna", now=NOW)
    later = NOW + dt.timedelta(hours=1)
    assert store.dossiers.set_note("COM(2025) 123", "Dann", actor="bernd", now=later)
    assert not store.dossiers.set_note("2025/0260(COD)", "Dann", actor="anna", now=later)
    note = store.dossiers.note("2025/0260(COD)")
    assert note is not None
    assert (note.note_md, note.updated_by, note.updated_at) == ("Dann", "bernd", later)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.actor, audit_log.c.detail).where(
                audit_log.c.action == "dossier.note"
            )
        ).all()
    assert sorted(map(tuple, rows)) == [("anna", "2025/0260(COD)"), ("bernd", "2025/0260(COD)")]
    with pytest.raises(DossierNotFound):
        store.dossiers.set_note("2099/0001(COD)", "x", actor="anna", now=NOW)


def test_followed_of_items_names_only_followed_dossiers_of_attached_items(store: Store) -> None:
    ids = add_items(store, {1: ("2025/0260(COD)",), 2: ("2026/0010(COD)",), 3: ()})
    store.dossiers.upsert([ep_record(), ep_record(reference="2026/0010(COD)", aliases=())], now=NOW)
    store.dossiers.thread(now=NOW)
    store.dossiers.follow("2025/0260(COD)", "anna", now=NOW)
    every = list(ids.values())
    assert store.dossiers.followed_of_items("anna", every) == {ids[1]: ["2025/0260(COD)"]}
    assert store.dossiers.followed_of_items("bernd", every) == {}
    assert store.dossiers.followed_of_items("anna", []) == {}
    store.dossiers.detach("2025/0260(COD)", ids[1], actor="anna", now=NOW)
    assert store.dossiers.followed_of_items("anna", every) == {}


def test_schema_py_matches_migration_0014_which_goes_down_and_up(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pipeline.store.schema import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diff if "dossier_notes" in repr(d)] == []
    store.dossiers.upsert([ep_record()], now=NOW)
    store.dossiers.set_note("2025/0260(COD)", "Notiz", actor="anna", now=NOW)
    store.downgrade("0013")
    assert store.revision() == "0013"
    store.upgrade()
    assert store.revision() == store.head_revision()
    assert store.dossiers.note("2025/0260(COD)") is None
