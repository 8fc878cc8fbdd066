"""Funding calls' facets (`item_eligibility`, migration 0025): written at ingest, corrected
by staff, read with the items, and the inbox's filters on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, delete, select

from pipeline.errors import ItemNotFound
from pipeline.model.eligibility import Eligibility, parse_applicants
from pipeline.store.audit import write_audit
from pipeline.store.base import upsert, wrap_errors
from pipeline.store.item_rows import chunks
from pipeline.store.schema import item_eligibility, items


def _row(item_id: int, e: Eligibility, now: dt.datetime) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "programme": e.programme[:200],
        "applicants": "," + ",".join(a.value for a in e.applicants) + "," if e.applicants else "",
        "action_type": e.action_type[:200],
        "budget_eur": e.budget_eur,
        "funding_rate": e.funding_rate,
        "rate_note": e.rate_note[:200],
        "german_applicants": e.german_applicants,
        "edited_by": e.edited_by[:100],
        "updated_at": now,
    }


def _value(r: Any) -> Eligibility:
    return Eligibility(
        programme=r.programme,
        applicants=parse_applicants(r.applicants),
        action_type=r.action_type,
        budget_eur=None if r.budget_eur is None else int(r.budget_eur),
        funding_rate=r.funding_rate,
        rate_note=r.rate_note,
        german_applicants=r.german_applicants,
        edited_by=r.edited_by,
    )


def write_derived(conn: Connection, item_id: int, e: Eligibility | None, now: dt.datetime) -> None:
    """Ingest's facets for an item, unless staff corrected them (then they stay)."""
    if e is None or e.empty:
        return
    row = _row(item_id, e, now)
    insert = upsert(conn, item_eligibility)
    keep = item_eligibility.c.edited_by == ""
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[item_eligibility.c.item_id],
            set_={k: insert.excluded[k] for k in row if k != "item_id"},
            where=keep,
        ),
        [row],
    )


def read(conn: Connection, ids: Collection[int]) -> dict[int, Eligibility]:
    found: dict[int, Eligibility] = {}
    for chunk in chunks(ids):
        for r in conn.execute(
            select(item_eligibility).where(item_eligibility.c.item_id.in_(chunk))
        ):
            found[r.item_id] = _value(r)
    return found


def applicant_filter(applicant: str) -> ColumnElement[bool]:
    """Items whose call names this applicant (the inbox's "antragsberechtigt" filter)."""
    return items.c.id.in_(
        select(item_eligibility.c.item_id).where(
            item_eligibility.c.applicants.like(f"%,{applicant},%")
        )
    )


def programme_filter(programme: str) -> ColumnElement[bool]:
    return items.c.id.in_(
        select(item_eligibility.c.item_id).where(item_eligibility.c.programme == programme)
    )


class EligibilityStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, item_id: int) -> Eligibility | None:
        with wrap_errors("reading a call's eligibility"), self._engine.connect() as conn:
            return read(conn, [item_id]).get(item_id)

    def correct(
        self, item_id: int, e: Eligibility | None, *, by: str, now: dt.datetime
    ) -> Eligibility | None:
        """Staff's facets replace the derived ones for good; None clears them
        (the call then reads "siehe Aufruf" and ingest may derive them again)."""
        with wrap_errors("correcting a call's eligibility"), self._engine.begin() as conn:
            if conn.execute(select(items.c.id).where(items.c.id == item_id)).first() is None:
                raise ItemNotFound(item_id)
            conn.execute(delete(item_eligibility).where(item_eligibility.c.item_id == item_id))
            detail = (
                "gelöscht" if e is None or e.empty else ", ".join(a.value for a in e.applicants)
            )
            write_audit(conn, now, by, "eligibility", item_id=item_id, detail=detail[:200])
            if e is None or e.empty:
                return None
            stored = replace(e, edited_by=by or "Redaktion")
            conn.execute(item_eligibility.insert(), [_row(item_id, stored, now)])
            return stored

    def programmes(self) -> list[str]:
        """The programmes named, for the inbox's filter."""
        with wrap_errors("listing programmes"), self._engine.connect() as conn:
            rows = conn.execute(
                select(item_eligibility.c.programme)
                .where(item_eligibility.c.programme != "")
                .distinct()
                .order_by(item_eligibility.c.programme)
            )
            return [r.programme for r in rows]
