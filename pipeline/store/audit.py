"""The audit trail: who changed what, when. Written in the transaction of the change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Connection, insert, select

from pipeline.model import AuditEntry
from pipeline.store.schema import audit_log

MAX_DETAIL = 2000


def write_audit(
    conn: Connection,
    now: dt.datetime,
    actor: str,
    action: str,
    *,
    item_id: int | None = None,
    edition_id: int | None = None,
    detail: str = "",
) -> None:
    conn.execute(
        insert(audit_log).values(
            at=now,
            actor=actor,
            action=action,
            item_id=item_id,
            edition_id=edition_id,
            detail=detail[:MAX_DETAIL],
        )
    )


def write_audit_many(
    conn: Connection, now: dt.datetime, actor: str, action: str, item_ids: list[int], detail: str
) -> None:
    if item_ids:
        conn.execute(
            insert(audit_log),
            [
                {
                    "at": now,
                    "actor": actor,
                    "action": action,
                    "item_id": i,
                    "edition_id": None,
                    "detail": detail[:MAX_DETAIL],
                }
                for i in item_ids
            ],
        )


def entries(conn: Connection, where: ColumnElement[bool], limit: int = 200) -> list[AuditEntry]:
    rows = conn.execute(
        select(audit_log).where(where).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
    )
    return [
        AuditEntry(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            item_id=r.item_id,
            edition_id=r.edition_id,
            detail=r.detail,
        )
        for r in rows.fetchmany(limit)
    ]
