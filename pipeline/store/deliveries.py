"""The delivery ledger: exactly one row per (edition, subscriber), and who may send it.

plan      insert missing rows as queued                      (idempotent: unique key)
recover   claimed → queued (the request never left)          (after a crash)
          sending → unknown (it may have left: staff decide, never resent silently)
claim     queued → claimed, with this sender's token          (conditional UPDATE:
          two senders never take the same row)
start     claimed → sending, committed BEFORE the request leaves
record    sending → sent | failed | queued (transient) | unknown
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, bindparam, func, insert, select, update

from pipeline.store.base import wrap_errors
from pipeline.store.schema import deliveries


class DeliveryState(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"  # taken by a sender; its request has not left yet
    SENDING = "sending"  # the request is (or was) on its way
    SENT = "sent"
    FAILED = "failed"  # permanent: SendGrid refused this recipient
    UNKNOWN = "unknown"  # the sender died or timed out after the request left
    SKIPPED = "skipped"  # no longer subscribed, suppressed or nothing to receive


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    edition_id: int
    subscriber_id: int
    segment_key: str
    state: DeliveryState
    attempts: int = 0
    message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: int
    state: DeliveryState  # SENT, FAILED, QUEUED (transient: try again later) or UNKNOWN
    message_id: str | None = None
    error: str | None = None


class DeliveriesStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def plan(self, edition_id: int, rows: Sequence[tuple[int, str]], *, now: dt.datetime) -> int:
        """Queue (subscriber id, segment key) pairs not yet in the ledger; returns how many."""
        with wrap_errors("planning deliveries"), self._engine.begin() as conn:
            known = set(
                conn.execute(
                    select(deliveries.c.subscriber_id).where(deliveries.c.edition_id == edition_id)
                ).scalars()
            )
            fresh = [
                {
                    "edition_id": edition_id,
                    "subscriber_id": sid,
                    "segment_key": key,
                    "state": DeliveryState.QUEUED.value,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for sid, key in dict(rows).items()
                if sid not in known
            ]
            for start in range(0, len(fresh), 1000):
                conn.execute(insert(deliveries), fresh[start : start + 1000])
            return len(fresh)

    def recover(self, edition_id: int, *, now: dt.datetime) -> tuple[int, int]:
        """After a crash: claimed rows go back to the queue, sending rows become unknown."""
        with wrap_errors("recovering deliveries"), self._engine.begin() as conn:
            requeued = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.edition_id == edition_id,
                    deliveries.c.state == DeliveryState.CLAIMED.value,
                )
                .values(state=DeliveryState.QUEUED.value, claim_token=None, updated_at=now)
            ).rowcount
            unknown = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.edition_id == edition_id,
                    deliveries.c.state == DeliveryState.SENDING.value,
                )
                .values(
                    state=DeliveryState.UNKNOWN.value,
                    error="the sender stopped after the request left",
                    updated_at=now,
                )
            ).rowcount
            return int(requeued), int(unknown)

    def pending_segments(self, edition_id: int) -> builtins.list[str]:
        with wrap_errors("reading deliveries"), self._engine.connect() as conn:
            return list(
                conn.execute(
                    select(deliveries.c.segment_key)
                    .where(
                        deliveries.c.edition_id == edition_id,
                        deliveries.c.state == DeliveryState.QUEUED.value,
                    )
                    .distinct()
                    .order_by(deliveries.c.segment_key)
                ).scalars()
            )

    def claim(
        self, edition_id: int, segment_key: str, *, limit: int, token: str, now: dt.datetime
    ) -> builtins.list[Delivery]:
        """Take up to `limit` queued rows of a segment; `token` names this one batch
        (unique per claim: it is how start/record/skip find the rows again)."""
        candidates = (
            select(deliveries.c.id)
            .where(
                deliveries.c.edition_id == edition_id,
                deliveries.c.segment_key == segment_key,
                deliveries.c.state == DeliveryState.QUEUED.value,
            )
            .order_by(deliveries.c.id)
            .limit(limit)
            .scalar_subquery()
        )
        with wrap_errors("claiming deliveries"), self._engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.id.in_(candidates),
                    deliveries.c.state == DeliveryState.QUEUED.value,  # re-checked per row
                )
                .values(
                    state=DeliveryState.CLAIMED.value,
                    claim_token=token,
                    claimed_at=now,
                    attempts=deliveries.c.attempts + 1,
                    updated_at=now,
                ),
                execution_options={"synchronize_session": False},
            )
            rows = conn.execute(
                select(deliveries)
                .where(
                    deliveries.c.claim_token == token,
                    deliveries.c.state == DeliveryState.CLAIMED.value,
                )
                .order_by(deliveries.c.id)
            )
            return [_delivery(r) for r in rows]

    def start(self, ids: Iterable[int], *, token: str, now: dt.datetime) -> int:
        """Claimed → sending: committed before the request leaves (the crash boundary)."""
        return self._move(ids, token, DeliveryState.CLAIMED, DeliveryState.SENDING, now)

    def skip(self, ids: Iterable[int], *, token: str, reason: str, now: dt.datetime) -> int:
        id_list = list(ids)
        with wrap_errors("skipping deliveries"), self._engine.begin() as conn:
            return int(
                conn.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.id.in_(id_list),
                        deliveries.c.claim_token == token,
                        deliveries.c.state == DeliveryState.CLAIMED.value,
                    )
                    .values(state=DeliveryState.SKIPPED.value, error=reason, updated_at=now)
                ).rowcount
            )

    def record(self, outcomes: Sequence[Outcome], *, token: str, now: dt.datetime) -> None:
        """Sending → the outcome, only for rows this sender holds."""
        if not outcomes:
            return
        with wrap_errors("recording deliveries"), self._engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == bindparam("b_id"),
                    deliveries.c.claim_token == token,
                    deliveries.c.state == DeliveryState.SENDING.value,
                )
                .values(
                    state=bindparam("b_state"),
                    message_id=bindparam("b_message_id"),
                    error=bindparam("b_error"),
                    sent_at=bindparam("b_sent_at"),
                    updated_at=now,
                ),
                [
                    {
                        "b_id": o.delivery_id,
                        "b_state": o.state.value,
                        "b_message_id": o.message_id,
                        "b_error": (o.error or "")[:1000] or None,
                        "b_sent_at": now if o.state is DeliveryState.SENT else None,
                    }
                    for o in outcomes
                ],
            )

    def resolve_unknown(self, edition_id: int, *, resend: bool, now: dt.datetime) -> int:
        """Staff decide about unknown rows: treat them as sent, or queue them again."""
        state = DeliveryState.QUEUED if resend else DeliveryState.SENT
        with wrap_errors("resolving unknown deliveries"), self._engine.begin() as conn:
            return int(
                conn.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.edition_id == edition_id,
                        deliveries.c.state == DeliveryState.UNKNOWN.value,
                    )
                    .values(state=state.value, claim_token=None, updated_at=now)
                ).rowcount
            )

    def counts(self, edition_id: int) -> dict[str, int]:
        with wrap_errors("counting deliveries"), self._engine.connect() as conn:
            rows = conn.execute(
                select(deliveries.c.state, func.count())
                .where(deliveries.c.edition_id == edition_id)
                .group_by(deliveries.c.state)
            )
            out = {s.value: 0 for s in DeliveryState}
            out.update({r[0]: int(r[1]) for r in rows})
            return out

    def list(self, edition_id: int, state: DeliveryState | None = None) -> builtins.list[Delivery]:
        stmt = select(deliveries).where(deliveries.c.edition_id == edition_id)
        if state is not None:
            stmt = stmt.where(deliveries.c.state == state.value)
        with wrap_errors("reading deliveries"), self._engine.connect() as conn:
            return [_delivery(r) for r in conn.execute(stmt.order_by(deliveries.c.id))]

    def _move(
        self,
        ids: Iterable[int],
        token: str,
        from_state: DeliveryState,
        to_state: DeliveryState,
        now: dt.datetime,
    ) -> int:
        id_list = list(ids)
        with wrap_errors("updating deliveries"), self._engine.begin() as conn:
            return int(
                conn.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.id.in_(id_list),
                        deliveries.c.claim_token == token,
                        deliveries.c.state == from_state.value,
                    )
                    .values(state=to_state.value, updated_at=now)
                ).rowcount
            )


def _delivery(r: object) -> Delivery:
    m = r._mapping  # type: ignore[attr-defined]
    return Delivery(
        id=m["id"],
        edition_id=m["edition_id"],
        subscriber_id=m["subscriber_id"],
        segment_key=m["segment_key"],
        state=DeliveryState(m["state"]),
        attempts=m["attempts"],
        message_id=m["message_id"],
        error=m["error"],
    )
