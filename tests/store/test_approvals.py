"""Migration 0020: acknowledged preflight warnings, requests for approval and personal
API tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from pipeline.curate import staff, tokens
from pipeline.errors import InvalidInput, InvalidTransition
from pipeline.model import EditionState, Role
from pipeline.store import Store
from pipeline.store.schema import api_tokens

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)


def test_requests_stay_open_until_an_approval(store: Store) -> None:
    e = store.editions.create(
        "weekly", title="KW 48", intro="", sections=[("A", [])], actor="anna", now=NOW
    )
    other = store.editions.create(
        "weekly", title="KW 49", intro="", sections=[("A", [])], actor="anna", now=NOW
    )
    assert store.approvals.open_requests() == []
    store.approvals.request_review(e.id, actor="anna", now=NOW)
    later = NOW + dt.timedelta(minutes=5)
    store.approvals.request_review(e.id, actor="anna", now=later)  # asked again: one request
    store.approvals.request_review(other.id, actor="carla", now=NOW)
    assert [(r.edition_id, r.requested_by, r.at) for r in store.approvals.open_requests()] == [
        (other.id, "carla", NOW),
        (e.id, "anna", later),
    ]
    assert [r.edition_id for r in store.approvals.open_requests(e.id)] == [e.id]
    store.editions.transition(
        e.id, from_states=[EditionState.DRAFT], to_state=EditionState.APPROVED,
        actor="bernd", now=later,
    )  # fmt: skip
    with pytest.raises(InvalidTransition):
        store.approvals.request_review(e.id, actor="anna", now=later)
    assert [r.edition_id for r in store.approvals.open_requests()] == [other.id]
    # reopened: the old request does not count again
    store.editions.transition(
        e.id, from_states=[EditionState.APPROVED], to_state=EditionState.DRAFT,
        actor="anna", now=later,
    )  # fmt: skip
    assert [r.edition_id for r in store.approvals.open_requests()] == [other.id]


def test_acknowledgements_once_per_key(store: Store) -> None:
    e = store.editions.create(
        "weekly", title="KW 48", intro="", sections=[("A", [])], actor="anna", now=NOW
    )
    first = store.approvals.acknowledge(e.id, "reach:1/1/0", message="m", actor="anna", now=NOW)
    again = store.approvals.acknowledge(
        e.id, "reach:1/1/0", message="m", actor="bernd", now=NOW + dt.timedelta(hours=1)
    )
    assert again == first
    assert store.approvals.acknowledgements(e.id) == [first]
    assert [a.action for a in store.editions.audit(e.id)].count("edition.acknowledge") == 1


def test_tokens_are_stored_as_hashes_and_revoked(store: Store) -> None:
    anna = staff.add_user(store, "anna", Role.EDITOR, "anna-passwort-123", now=NOW)
    bernd = staff.add_user(store, "bernd", Role.EDITOR, "bernd-passwort-12", now=NOW)
    record, token = tokens.create(store, anna, "  Laptop  ", now=NOW)
    assert record.label == "Laptop" and token.startswith("eud_")
    with store.engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert stored == tokens.token_hash(token) and token not in stored
    assert tokens.account_for(store, "anna", token, now=NOW) == store.users.get(anna.id)
    assert tokens.account_for(store, "bernd", token, now=NOW) is None
    assert tokens.account_for(store, "anna", token + "x", now=NOW) is None
    with pytest.raises(InvalidInput, match="nicht oder er ist schon widerrufen"):
        tokens.revoke(store, bernd, record.id, now=NOW)  # not hers to revoke
    tokens.revoke(store, anna, record.id, now=NOW)
    assert tokens.account_for(store, "anna", token, now=NOW) is None
    store.users.set_active(anna.id, False)
    _, fresh = tokens.create(store, anna, "neu", now=NOW)
    assert tokens.account_for(store, "anna", fresh, now=NOW) is None  # deactivated


def test_schema_py_matches_migration_0020_which_goes_down_and_up(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pipeline.store.schema import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    mine = ("preflight_acknowledgements", "api_tokens")
    assert [d for d in diff if any(t in repr(d) for t in mine)] == []
    store.downgrade("0019")
    assert store.revision() == "0019"
    store.upgrade()
    assert store.revision() == store.head_revision()
