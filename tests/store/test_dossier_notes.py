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


def test_unseen_events_count_from_the_follow_and_the_last_look(store: Store) -> None:
    """A follow sees what is there; later events (not forecasts) are unseen until
    mark_seen, which only a follower's look stores."""
    from pipeline.model import DossierEvent, EventKind

    store.dossiers.upsert([ep_record()], now=NOW)
    assert store.dossiers.mark_seen("2025/0260(COD)", "anna") is None  # not following
    store.dossiers.follow("2025/260(COD)", "anna", now=NOW)
    assert store.dossiers.unseen("anna") == []

    base = ep_record().events
    vote = DossierEvent(dt.date(2026, 4, 2), EventKind.PLENARY_VOTE, "ep-procedures", key="e3")
    later = DossierEvent(
        dt.date(2026, 10, 1), EventKind.COUNCIL_POSITION, "ep-procedures", key="f2", forecast=True
    )
    store.dossiers.upsert([ep_record(events=(*base, vote, later))], now=NOW)
    [news] = store.dossiers.unseen("anna")
    assert (news.reference, news.count, news.label) == ("2025/0260(COD)", 1, "1 neues Ereignis")
    assert news.latest.kind is EventKind.PLENARY_VOTE and news.latest.id > 0
    assert news.title.startswith("Nichtanwendung") and news.stage_label == "1. Lesung Parlament"
    assert store.dossiers.unseen("bernd") == []

    before = store.dossiers.mark_seen("COM(2025) 123", "anna")
    assert before is not None and before < news.latest.id
    assert store.dossiers.unseen("anna") == []
    assert store.dossiers.mark_seen("2025/0260(COD)", "anna") == news.latest.id
    with pytest.raises(DossierNotFound):
        store.dossiers.mark_seen("2099/0001(COD)", "anna")


def test_schema_py_matches_migration_0022_which_goes_down_and_up(store: Store) -> None:
    """Going up from the revision before it, an existing follow has seen every event."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pipeline.store.schema import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diff if "dossier_follows" in repr(d)] == []
    store.dossiers.upsert([ep_record()], now=NOW)
    import re
    from pathlib import Path

    import pipeline.store

    script = Path(pipeline.store.__file__).parent / "migrations/versions/0022_dossier_seen.py"
    match = re.search(r'^down_revision = "(\w+)"', script.read_text(encoding="utf-8"), re.M)
    assert match is not None
    before = match.group(1)  # the revision 0022 follows (merges re-chain it)
    store.downgrade(before)
    assert store.revision() == before
    from sqlalchemy import text

    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO dossier_follows (dossier_id, user_name, followed_at)"
                " SELECT id, 'anna', :now FROM dossiers"
            ),
            {"now": NOW},
        )
    store.upgrade()
    assert store.revision() == store.head_revision()
    assert store.dossiers.unseen("anna") == []
    assert store.dossiers.get("2025/0260(COD)", today=NOW.date()).followers == ("anna",)
