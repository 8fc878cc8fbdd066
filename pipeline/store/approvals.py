"""Approval around an edition: acknowledged preflight warnings and four-eyes requests.

A request for approval ("Freigabe anfordern") is an audit entry
`edition.review_requested`; it is open while the edition is a draft and no approval
came after it (a reopened edition needs a new request).
"""

from __future__ import annotations

import builtins
import datetime as dt

from sqlalchemy import Engine, func, insert, select

from pipeline.errors import InvalidTransition
from pipeline.model import Acknowledgement, Edition, EditionState, ReviewRequest
from pipeline.store.audit import write_audit
from pipeline.store.base import wrap_errors
from pipeline.store.editions import _load, _state
from pipeline.store.schema import audit_log, edition_items, editions, preflight_acknowledgements

REVIEW_REQUESTED = "edition.review_requested"
ACKNOWLEDGED = "edition.acknowledge"
APPROVED = f"edition.{EditionState.APPROVED.value}"


class ApprovalsStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def acknowledge(
        self, edition_id: int, key: str, *, message: str, actor: str, now: dt.datetime
    ) -> Acknowledgement:
        """Staff let a warning stand; once per edition and key (a second time changes
        nothing and returns the first)."""
        t = preflight_acknowledgements
        with wrap_errors(f"acknowledging on edition {edition_id}"), self._engine.begin() as conn:
            _state(conn, edition_id)
            row = conn.execute(
                select(t).where(t.c.edition_id == edition_id, t.c.key == key)
            ).first()
            if row is None:
                conn.execute(insert(t).values(edition_id=edition_id, key=key, actor=actor, at=now))
                write_audit(conn, now, actor, ACKNOWLEDGED, edition_id=edition_id, detail=message)
                return Acknowledgement(edition_id, key, actor, now)
            return Acknowledgement(edition_id, row.key, row.actor, row.at)

    def acknowledgements(self, edition_id: int) -> builtins.list[Acknowledgement]:
        t = preflight_acknowledgements
        with wrap_errors("reading acknowledgements"), self._engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.edition_id == edition_id).order_by(t.c.at))
            return [Acknowledgement(r.edition_id, r.key, r.actor, r.at) for r in rows]

    def sent_before(self, edition: Edition) -> dict[int, Edition]:
        """Items of `edition` that an earlier sent edition of the same newsletter carried,
        each with the first such edition."""
        wanted = sorted(set(edition.item_ids))
        if not wanted:
            return {}
        stmt = (
            select(edition_items.c.item_id, editions.c.id)
            .join(editions, editions.c.id == edition_items.c.edition_id)
            .where(
                editions.c.state == EditionState.SENT.value,
                editions.c.newsletter_id == edition.newsletter_id,
                editions.c.id != edition.id,
                edition_items.c.item_id.in_(wanted),
            )
            .order_by(editions.c.sent_at.asc().nulls_last(), editions.c.id.asc())
        )
        with wrap_errors("reading earlier editions"), self._engine.connect() as conn:
            first: dict[int, int] = {}
            for item_id, edition_id in conn.execute(stmt):
                first.setdefault(int(item_id), int(edition_id))
            loaded = {e: _load(conn, e) for e in set(first.values())}
        return {item_id: loaded[e] for item_id, e in first.items()}

    def request_review(self, edition_id: int, *, actor: str, now: dt.datetime) -> ReviewRequest:
        with wrap_errors(f"requesting approval of {edition_id}"), self._engine.begin() as conn:
            state = _state(conn, edition_id)
            if state is not EditionState.DRAFT:
                raise InvalidTransition(edition_id, state.value, EditionState.APPROVED.value)
            write_audit(conn, now, actor, REVIEW_REQUESTED, edition_id=edition_id)
        return ReviewRequest(edition_id, actor, now)

    def open_requests(self, edition_id: int | None = None) -> builtins.list[ReviewRequest]:
        """Open requests for approval (the newest per edition), oldest first."""
        a = audit_log
        newest = (
            select(a.c.edition_id, func.max(a.c.id).label("id"))
            .where(a.c.action == REVIEW_REQUESTED)
            .group_by(a.c.edition_id)
            .subquery()
        )
        later = audit_log.alias("later")
        approved_after = (
            select(later.c.id)
            .where(later.c.edition_id == newest.c.edition_id, later.c.action == APPROVED)
            .where(later.c.id > newest.c.id)
            .exists()
        )
        stmt = (
            select(a.c.edition_id, a.c.actor, a.c.at)
            .join(newest, newest.c.id == a.c.id)
            .join(editions, editions.c.id == a.c.edition_id)
            .where(editions.c.state == EditionState.DRAFT.value, ~approved_after)
            .order_by(a.c.at, a.c.id)
        )
        if edition_id is not None:
            stmt = stmt.where(a.c.edition_id == edition_id)
        with wrap_errors("reading requests for approval"), self._engine.connect() as conn:
            return [ReviewRequest(int(r.edition_id), r.actor, r.at) for r in conn.execute(stmt)]
