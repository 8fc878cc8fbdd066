"""Senders: the processes at work on an edition, each with a lease (ADR 0004).

join    register a sender of an edition, running, with a lease
renew   extend the lease while it runs (only a running sender: a lost one stays lost)
end     running → done | stopped | halted | failed, with a one-line reason
active  the senders of an edition that have not ended (running or gone: callers decide
        with `Sender.running(now)` and the process check of `pipeline.deliver.lease`)
latest  the newest sender of an edition (how its last send ended)
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Row

from pipeline.model import ProcessRef, Sender, SenderOutcome
from pipeline.store.base import wrap_errors
from pipeline.store.schema import senders

ENDINGS = (
    SenderOutcome.DONE,
    SenderOutcome.STOPPED,
    SenderOutcome.HALTED,
    SenderOutcome.FAILED,
)


class SendersStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def join(
        self,
        edition_id: int,
        process: ProcessRef,
        *,
        now: dt.datetime,
        lease_until: dt.datetime,
    ) -> Sender:
        with wrap_errors("registering a sender"), self._engine.begin() as conn:
            sender_id = conn.execute(
                insert(senders)
                .values(
                    edition_id=edition_id,
                    instance=process.instance,
                    host=process.host,
                    pid=process.pid,
                    process_key=process.key,
                    started_at=now,
                    beat_at=now,
                    lease_until=lease_until,
                    outcome=SenderOutcome.RUNNING.value,
                )
                .returning(senders.c.id)
            ).scalar_one()
            return _sender(conn.execute(select(senders).where(senders.c.id == sender_id)).one())

    def renew(self, sender_id: int, *, now: dt.datetime, lease_until: dt.datetime) -> bool:
        """Extend the lease; False when the sender is no longer running (ended or lost)."""
        with wrap_errors("renewing a sender's lease"), self._engine.begin() as conn:
            return (
                conn.execute(
                    update(senders)
                    .where(
                        senders.c.id == sender_id,
                        senders.c.outcome == SenderOutcome.RUNNING.value,
                    )
                    .values(beat_at=now, lease_until=lease_until)
                ).rowcount
                == 1
            )

    def end(
        self,
        sender_id: int,
        outcome: SenderOutcome,
        *,
        now: dt.datetime,
        detail: str | None = None,
        queued: int | None = None,
    ) -> None:
        if outcome not in ENDINGS:
            raise ValueError(f"not an ending of a sender: {outcome!r}")
        with wrap_errors("ending a sender"), self._engine.begin() as conn:
            conn.execute(
                update(senders)
                .where(senders.c.id == sender_id, senders.c.ended_at.is_(None))
                .values(
                    outcome=outcome.value,
                    ended_at=now,
                    lease_until=now,
                    detail=(detail or None) and detail[:2000],
                    queued=queued,
                )
            )

    def get(self, sender_id: int) -> Sender | None:
        with wrap_errors("reading senders"), self._engine.connect() as conn:
            row = conn.execute(select(senders).where(senders.c.id == sender_id)).first()
            return _sender(row) if row is not None else None

    def active(self, edition_id: int) -> builtins.list[Sender]:
        """Senders of the edition that have not ended, oldest first."""
        with wrap_errors("reading senders"), self._engine.connect() as conn:
            rows = conn.execute(
                select(senders)
                .where(senders.c.edition_id == edition_id, senders.c.ended_at.is_(None))
                .order_by(senders.c.id)
            )
            return [_sender(r) for r in rows]

    def latest(self, edition_ids: Collection[int]) -> dict[int, Sender]:
        """The newest sender of each of these editions (editions never sent: absent)."""
        if not edition_ids:
            return {}
        with wrap_errors("reading senders"), self._engine.connect() as conn:
            newest = (
                select(func.max(senders.c.id))
                .where(senders.c.edition_id.in_(list(edition_ids)))
                .group_by(senders.c.edition_id)
                .scalar_subquery()
            )
            rows = conn.execute(select(senders).where(senders.c.id.in_(newest)))
            return {r.edition_id: _sender(r) for r in rows}

    def list(self, edition_id: int, *, limit: int = 50) -> builtins.list[Sender]:
        """The edition's senders, newest first."""
        with wrap_errors("reading senders"), self._engine.connect() as conn:
            rows = conn.execute(
                select(senders)
                .where(senders.c.edition_id == edition_id)
                .order_by(senders.c.id.desc())
                .limit(limit)
            )
            return [_sender(r) for r in rows]


def _sender(r: Row[Any]) -> Sender:
    return Sender(
        id=r.id,
        edition_id=r.edition_id,
        process=ProcessRef(host=r.host, pid=r.pid, key=r.process_key),
        started_at=r.started_at,
        beat_at=r.beat_at,
        lease_until=r.lease_until,
        outcome=SenderOutcome(r.outcome),
        ended_at=r.ended_at,
        detail=r.detail,
        queued=r.queued,
    )
