"""Corrections of items in sent editions and their readers' notices (ADR 0009).

receivers     who got the item in that edition: sent deliveries whose segment (recorded
              in delivery_segments when the edition was planned) contained it
create        the correction, the annotation's new headline/comment, one notice per
              receiver (queued for a mail, waiting for the next digest) and the audit
              entry: one transaction
for_edition / for_items / get / counts         what the desk, archive and calendars show

The notices of "mail now" are a ledger like the digest's (ADR 0004):
claim     queued → claimed, with a batch token, the claiming process and its lease
start     claimed → sending, committed BEFORE the request leaves; returns what moved
record    sending (or unknown, same token) → sent | failed | queued | unknown
recover   only rows of a process that is gone (lease run out, or known dead on this
          host): claimed → queued, sending → unknown (never resent silently)

notes_for(edition)   the waiting notices the reader's next digest carries, frozen when
          that edition is planned (correction_reports, like dossier_reports); a report
          counts unless that delivery ended failed or skipped: then the next digest again
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, or_, select, update

from pipeline.errors import CorrectionNotFound, InvalidInput
from pipeline.model import (
    Correction,
    CorrectionChange,
    CorrectionDelivery,
    CorrectionField,
    CorrectionNotice,
    DeliveryState,
    NoticeState,
    Outcome,
    ProcessRef,
)
from pipeline.store.audit import write_audit
from pipeline.store.base import wrap_errors
from pipeline.store.item_rows import refresh_search_text
from pipeline.store.schema import (
    correction_notices,
    correction_reports,
    corrections,
    deliveries,
    delivery_segments,
    editions,
    item_annotations,
    items,
)

CHUNK = 1000


class CorrectionsStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ------------------------------------------------------------ who got the item

    def receivers(self, edition_id: int, item_id: int) -> tuple[builtins.list[int], bool]:
        """Subscriber ids whose delivery of the edition contained the item and was sent,
        and whether the edition's segments were recorded at all (editions planned before
        migration 0018 were not: nobody can be named for sure)."""
        with wrap_errors("reading who got an item"), self._engine.connect() as conn:
            keys = [
                r.segment_key
                for r in conn.execute(
                    select(delivery_segments).where(delivery_segments.c.edition_id == edition_id)
                )
                if item_id in (r.item_ids or [])
            ]
            recorded = (
                conn.execute(
                    select(func.count()).where(delivery_segments.c.edition_id == edition_id)
                ).scalar_one()
                > 0
            )
            found: set[int] = set()
            for at in range(0, len(keys), CHUNK):
                found.update(
                    conn.execute(
                        select(deliveries.c.subscriber_id).where(
                            deliveries.c.edition_id == edition_id,
                            deliveries.c.segment_key.in_(keys[at : at + CHUNK]),
                            deliveries.c.state == DeliveryState.SENT.value,
                        )
                    ).scalars()
                )
            return sorted(found), recorded

    # ------------------------------------------------------------ the correction

    def create(
        self,
        *,
        edition_id: int,
        item_id: int,
        changes: Sequence[CorrectionChange],
        withdrawn: bool,
        reason: str,
        delivery: CorrectionDelivery,
        receivers: Collection[int],
        actor: str,
        now: dt.datetime,
    ) -> Correction:
        """Record the correction and its notices, change the annotation: one transaction."""
        state = NoticeState.QUEUED if delivery is CorrectionDelivery.MAIL else NoticeState.WAITING
        with wrap_errors("recording a correction"), self._engine.begin() as conn:
            correction_id = conn.execute(
                insert(corrections)
                .values(
                    edition_id=edition_id,
                    item_id=item_id,
                    changes=[{"field": c.field.value, "old": c.old, "new": c.new} for c in changes],
                    withdrawn=withdrawn,
                    reason=reason,
                    delivery=delivery.value,
                    created_at=now,
                    created_by=actor,
                )
                .returning(corrections.c.id)
            ).scalar_one()
            _apply_annotation(conn, item_id, changes, actor, now)
            rows = [
                {
                    "correction_id": correction_id,
                    "subscriber_id": sid,
                    "state": state.value,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for sid in sorted(set(receivers))
            ]
            for at in range(0, len(rows), CHUNK):
                conn.execute(insert(correction_notices), rows[at : at + CHUNK])
            found = _correction(
                conn.execute(select(corrections).where(corrections.c.id == correction_id)).one(),
                len(rows),
            )
            detail = f"Meldung {item_id}: {found.summary} ({len(rows)} Empfänger, "
            detail += f"{'Mail' if delivery is CorrectionDelivery.MAIL else 'nächste Ausgabe'})"
            write_audit(conn, now, actor, "edition.corrected", edition_id=edition_id, detail=detail)
            write_audit(
                conn, now, actor, "item.corrected", item_id=item_id, detail=f"Grund: {reason}"
            )
            conn.execute(update(items).where(items.c.id == item_id).values(updated_at=now))
            return found

    def get(self, correction_id: int) -> Correction:
        with wrap_errors("reading corrections"), self._engine.connect() as conn:
            row = conn.execute(select(corrections).where(corrections.c.id == correction_id)).first()
            if row is None:
                raise CorrectionNotFound(correction_id)
            return _correction(row, _receivers(conn, [correction_id]).get(correction_id, 0))

    def for_edition(self, edition_id: int) -> builtins.list[Correction]:
        return self._where(corrections.c.edition_id == edition_id)

    def for_items(self, item_ids: Iterable[int]) -> builtins.list[Correction]:
        ids = sorted(set(item_ids))
        found: builtins.list[Correction] = []
        for at in range(0, len(ids), CHUNK):
            found += self._where(corrections.c.item_id.in_(ids[at : at + CHUNK]))
        return sorted(found, key=lambda c: (c.created_at, c.id))

    def _where(self, where: Any) -> builtins.list[Correction]:
        with wrap_errors("reading corrections"), self._engine.connect() as conn:
            rows = builtins.list(
                conn.execute(
                    select(corrections)
                    .where(where)
                    .order_by(corrections.c.created_at, corrections.c.id)
                )
            )
            counts = _receivers(conn, [r.id for r in rows])
            return [_correction(r, counts.get(r.id, 0)) for r in rows]

    def counts(self, correction_id: int) -> dict[str, int]:
        """The notices per state; `waiting` ones split by whether a digest carried them
        (`reported`: planned into an edition whose delivery did not fail)."""
        with wrap_errors("counting notices"), self._engine.connect() as conn:
            out = {s.value: 0 for s in NoticeState}
            for state, n in conn.execute(
                select(correction_notices.c.state, func.count())
                .where(correction_notices.c.correction_id == correction_id)
                .group_by(correction_notices.c.state)
            ):
                out[state] = int(n)
            out["reported"] = len(_reported(conn, [correction_id]))
            return out

    def notices(self, correction_id: int) -> builtins.list[CorrectionNotice]:
        with wrap_errors("reading notices"), self._engine.connect() as conn:
            return [
                _notice(r)
                for r in conn.execute(
                    select(correction_notices)
                    .where(correction_notices.c.correction_id == correction_id)
                    .order_by(correction_notices.c.id)
                )
            ]

    def unknown_per_edition(self) -> builtins.list[tuple[int, str, int]]:
        """Correction mails whose outcome is unknown (the sender died after the request
        left), per edition: (edition id, its title, how many). Staff decide about them."""
        stmt = (
            select(editions.c.id, editions.c.title, func.count())
            .select_from(
                correction_notices.join(
                    corrections, corrections.c.id == correction_notices.c.correction_id
                ).join(editions, editions.c.id == corrections.c.edition_id)
            )
            .where(correction_notices.c.state == NoticeState.UNKNOWN.value)
            .group_by(editions.c.id, editions.c.title)
            .order_by(editions.c.id.desc())
        )
        with wrap_errors("reading unknown correction mails"), self._engine.connect() as conn:
            return [(int(r[0]), str(r[1]), int(r[2])) for r in conn.execute(stmt)]

    # ------------------------------------------------------------ the mail ledger

    def pending(self) -> builtins.list[int]:
        """Corrections with notices to mail: queued, or claimed/sending (perhaps orphaned)."""
        with wrap_errors("reading notices"), self._engine.connect() as conn:
            return builtins.list(
                conn.execute(
                    select(correction_notices.c.correction_id)
                    .where(
                        correction_notices.c.state.in_(
                            [
                                NoticeState.QUEUED.value,
                                NoticeState.CLAIMED.value,
                                NoticeState.SENDING.value,
                            ]
                        )
                    )
                    .distinct()
                    .order_by(correction_notices.c.correction_id)
                ).scalars()
            )

    def holders(self, correction_id: int) -> builtins.list[ProcessRef]:
        """The processes holding claimed or sending notices of the correction."""
        with wrap_errors("reading notices"), self._engine.connect() as conn:
            rows = conn.execute(
                select(
                    correction_notices.c.sender_host,
                    correction_notices.c.sender_pid,
                    correction_notices.c.sender_key,
                )
                .where(
                    correction_notices.c.correction_id == correction_id,
                    correction_notices.c.state.in_(
                        [NoticeState.CLAIMED.value, NoticeState.SENDING.value]
                    ),
                )
                .distinct()
            )
            return [
                ProcessRef(host=r.sender_host or "", pid=r.sender_pid or 0, key=r.sender_key or "")
                for r in rows
            ]

    def recover(
        self, correction_id: int, *, now: dt.datetime, dead: Collection[ProcessRef] = ()
    ) -> tuple[int, int]:
        """Rows of processes that are gone (lease run out, or in `dead`): claimed → queued,
        sending → unknown. Returns (requeued, unknown). A live process's rows stay."""
        gone = [correction_notices.c.lease_until < now, correction_notices.c.lease_until.is_(None)]
        for p in dead:
            gone.append(
                and_(
                    correction_notices.c.sender_host == p.host,
                    correction_notices.c.sender_pid == p.pid,
                    correction_notices.c.sender_key == p.key,
                )
            )
        mine = [correction_notices.c.correction_id == correction_id, or_(*gone)]
        with wrap_errors("recovering notices"), self._engine.begin() as conn:
            requeued = conn.execute(
                update(correction_notices)
                .where(*mine, correction_notices.c.state == NoticeState.CLAIMED.value)
                .values(state=NoticeState.QUEUED.value, claim_token=None, updated_at=now)
            ).rowcount
            unknown = conn.execute(
                update(correction_notices)
                .where(*mine, correction_notices.c.state == NoticeState.SENDING.value)
                .values(
                    state=NoticeState.UNKNOWN.value,
                    error="the sender stopped after the request left",
                    updated_at=now,
                )  # the token stays: a sender that comes back with the answer writes it
            ).rowcount
            return int(requeued), int(unknown)

    def claim(
        self,
        correction_id: int,
        *,
        limit: int,
        token: str,
        process: ProcessRef,
        lease_until: dt.datetime,
        now: dt.datetime,
    ) -> builtins.list[CorrectionNotice]:
        """Queued → claimed, up to `limit` rows (conditional UPDATE: two senders never
        take the same row)."""
        candidates = (
            select(correction_notices.c.id)
            .where(
                correction_notices.c.correction_id == correction_id,
                correction_notices.c.state == NoticeState.QUEUED.value,
            )
            .order_by(correction_notices.c.id)
            .limit(limit)
            .scalar_subquery()
        )
        with wrap_errors("claiming notices"), self._engine.begin() as conn:
            conn.execute(
                update(correction_notices)
                .where(
                    correction_notices.c.id.in_(candidates),
                    correction_notices.c.state == NoticeState.QUEUED.value,
                )
                .values(
                    state=NoticeState.CLAIMED.value,
                    claim_token=token,
                    claimed_at=now,
                    sender_host=process.host,
                    sender_pid=process.pid,
                    sender_key=process.key,
                    lease_until=lease_until,
                    attempts=correction_notices.c.attempts + 1,
                    updated_at=now,
                ),
                execution_options={"synchronize_session": False},
            )
            return [
                _notice(r)
                for r in conn.execute(
                    select(correction_notices)
                    .where(
                        correction_notices.c.correction_id == correction_id,
                        correction_notices.c.claim_token == token,
                        correction_notices.c.state == NoticeState.CLAIMED.value,
                    )
                    .order_by(correction_notices.c.id)
                )
            ]

    def renew(self, token_prefix: str, *, lease_until: dt.datetime) -> bool:
        """Extend the lease of this process's claimed and sending rows."""
        with wrap_errors("renewing a lease"), self._engine.begin() as conn:
            conn.execute(
                update(correction_notices)
                .where(
                    correction_notices.c.claim_token.startswith(token_prefix, autoescape=True),
                    correction_notices.c.state.in_(
                        [NoticeState.CLAIMED.value, NoticeState.SENDING.value]
                    ),
                )
                .values(lease_until=lease_until)
            )
        return True

    def start(self, ids: Iterable[int], *, token: str, now: dt.datetime) -> set[int]:
        """Claimed → sending, committed before the request leaves; the ids it moved."""
        id_list = builtins.list(ids)
        moved: set[int] = set()
        with wrap_errors("starting notices"), self._engine.begin() as conn:
            for at in range(0, len(id_list), CHUNK):
                moved.update(
                    conn.execute(
                        update(correction_notices)
                        .where(
                            correction_notices.c.id.in_(id_list[at : at + CHUNK]),
                            correction_notices.c.claim_token == token,
                            correction_notices.c.state == NoticeState.CLAIMED.value,
                        )
                        .values(state=NoticeState.SENDING.value, updated_at=now)
                        .returning(correction_notices.c.id)
                    ).scalars()
                )
        return moved

    def settle(
        self, ids: Iterable[int], *, token: str, state: NoticeState, reason: str, now: dt.datetime
    ) -> int:
        """Claimed → skipped (unsubscribed since) or queued (released): rows of this batch."""
        id_list = builtins.list(ids)
        if not id_list:
            return 0
        with wrap_errors("updating notices"), self._engine.begin() as conn:
            return int(
                conn.execute(
                    update(correction_notices)
                    .where(
                        correction_notices.c.id.in_(id_list),
                        correction_notices.c.claim_token == token,
                        correction_notices.c.state == NoticeState.CLAIMED.value,
                    )
                    .values(state=state.value, error=reason or None, updated_at=now)
                ).rowcount
            )

    def record(self, outcomes: Sequence[Outcome], *, token: str, now: dt.datetime) -> None:
        """Sending (or unknown with this batch's token) → the outcome."""
        if not outcomes:
            return
        with wrap_errors("recording notices"), self._engine.begin() as conn:
            conn.execute(
                update(correction_notices)
                .where(
                    correction_notices.c.id == bindparam("b_id"),
                    correction_notices.c.claim_token == token,
                    or_(
                        correction_notices.c.state == NoticeState.SENDING.value,
                        correction_notices.c.state == NoticeState.UNKNOWN.value,
                    ),
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

    def resolve_unknown(
        self, correction_id: int, *, resend: bool, actor: str, now: dt.datetime
    ) -> int:
        """Staff decide about unknown notices: count them as sent, or queue them again."""
        state = NoticeState.QUEUED if resend else NoticeState.SENT
        with wrap_errors("resolving notices"), self._engine.begin() as conn:
            changed = int(
                conn.execute(
                    update(correction_notices)
                    .where(
                        correction_notices.c.correction_id == correction_id,
                        correction_notices.c.state == NoticeState.UNKNOWN.value,
                    )
                    .values(state=state.value, claim_token=None, updated_at=now)
                ).rowcount
            )
            if not changed:
                raise InvalidInput("Es gibt keine ungeklärten Korrektur-Mails (mehr).")
            edition_id = conn.execute(
                select(corrections.c.edition_id).where(corrections.c.id == correction_id)
            ).scalar_one()
            action = "correction.resend" if resend else "correction.sent"
            write_audit(
                conn, now, actor, action, edition_id=edition_id,
                detail=f"Korrektur {correction_id}: {changed} ungeklärte Mails",
            )  # fmt: skip
            return changed

    # ------------------------------------------------------------ the next digest

    def notes_for(
        self, edition_id: int, subscriber_ids: Iterable[int]
    ) -> dict[int, tuple[Correction, ...]]:
        """Per subscriber, the corrections whose block "Korrektur" their digest of this
        edition carries (waiting notices of earlier editions of the same newsletter).

        Frozen once per edition, like dossier news: the first call before the edition is
        planned stores the pairs; every later call (a resumed send) reads the same ones.
        A notice counts as carried unless that reader's delivery of the carrying edition
        ended failed or skipped: then the next digest carries it again. Never twice."""
        wanted = set(subscriber_ids)
        with wrap_errors("planning correction notices"), self._engine.begin() as conn:
            edition = conn.execute(
                select(editions.c.newsletter_id, editions.c.planned_at).where(
                    editions.c.id == edition_id
                )
            ).first()
            if edition is None:
                return {}
            pairs = {
                (r.subscriber_id, r.correction_id)
                for r in conn.execute(
                    select(correction_reports).where(correction_reports.c.edition_id == edition_id)
                )
            }
            if not pairs and edition.planned_at is None:
                waiting = [
                    (r.subscriber_id, r.correction_id)
                    for r in conn.execute(
                        select(
                            correction_notices.c.subscriber_id, correction_notices.c.correction_id
                        )
                        .join(corrections, corrections.c.id == correction_notices.c.correction_id)
                        .join(editions, editions.c.id == corrections.c.edition_id)
                        .where(
                            correction_notices.c.state == NoticeState.WAITING.value,
                            editions.c.newsletter_id == edition.newsletter_id,
                            corrections.c.edition_id != edition_id,
                        )
                    )
                    if r.subscriber_id in wanted
                ]
                if waiting:
                    done = _reported(conn, sorted({c for _, c in waiting}))
                    pairs = {p for p in waiting if p not in done}
                    if pairs:
                        conn.execute(
                            insert(correction_reports),
                            [
                                {"edition_id": edition_id, "subscriber_id": s, "correction_id": c}
                                for s, c in sorted(pairs)
                            ],
                        )
            mine = {p for p in pairs if p[0] in wanted}
            if not mine:
                return {}
            ids = sorted({c for _, c in mine})
            rows = {
                r.id: _correction(r, 0)
                for r in conn.execute(select(corrections).where(corrections.c.id.in_(ids)))
            }
            found: dict[int, builtins.list[Correction]] = {}
            for sid, cid in sorted(mine):
                found.setdefault(sid, []).append(rows[cid])
            return {sid: tuple(cs) for sid, cs in found.items()}

    def record_segments(self, edition_id: int, contents: dict[str, Sequence[int]]) -> int:
        """Add what segments of an edition contained where nothing is recorded for that
        key (editions planned before migration 0018); returns how many were added."""
        with wrap_errors("recording segments"), self._engine.begin() as conn:
            known = set(
                conn.execute(
                    select(delivery_segments.c.segment_key).where(
                        delivery_segments.c.edition_id == edition_id
                    )
                ).scalars()
            )
            used = set(
                conn.execute(
                    select(deliveries.c.segment_key)
                    .where(deliveries.c.edition_id == edition_id)
                    .distinct()
                ).scalars()
            )
            rows = [
                {"edition_id": edition_id, "segment_key": k, "item_ids": builtins.list(v)}
                for k, v in contents.items()
                if k in used and k not in known
            ]
            for at in range(0, len(rows), CHUNK):
                conn.execute(insert(delivery_segments), rows[at : at + CHUNK])
            return len(rows)

    def unrecorded(self, edition_id: int) -> int:
        """Sent deliveries of the edition whose segment's items are not recorded."""
        with wrap_errors("reading segments"), self._engine.connect() as conn:
            recorded = select(delivery_segments.c.segment_key).where(
                delivery_segments.c.edition_id == edition_id
            )
            return int(
                conn.execute(
                    select(func.count()).where(
                        deliveries.c.edition_id == edition_id,
                        deliveries.c.state == DeliveryState.SENT.value,
                        deliveries.c.segment_key.not_in(recorded),
                    )
                ).scalar_one()
            )

    def segments(self, edition_id: int) -> dict[str, tuple[int, ...]]:
        """The recorded items of each segment of the edition (segment key → item ids)."""
        with wrap_errors("reading segments"), self._engine.connect() as conn:
            return {
                r.segment_key: tuple(r.item_ids or ())
                for r in conn.execute(
                    select(delivery_segments).where(delivery_segments.c.edition_id == edition_id)
                )
            }


# ---------------------------------------------------------------- helpers


def _reported(conn: Connection, correction_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(subscriber, correction) pairs a digest carried or still will: the carrying
    edition's delivery is not failed or skipped, or it is not planned yet."""
    if not correction_ids:
        return set()
    rows = conn.execute(
        select(correction_reports.c.subscriber_id, correction_reports.c.correction_id)
        .join(editions, editions.c.id == correction_reports.c.edition_id)
        .outerjoin(
            deliveries,
            and_(
                deliveries.c.edition_id == correction_reports.c.edition_id,
                deliveries.c.subscriber_id == correction_reports.c.subscriber_id,
            ),
        )
        .where(
            correction_reports.c.correction_id.in_(builtins.list(correction_ids)),
            or_(
                deliveries.c.state.not_in(
                    (DeliveryState.FAILED.value, DeliveryState.SKIPPED.value)
                ),
                and_(deliveries.c.id.is_(None), editions.c.planned_at.is_(None)),
            ),
        )
    )
    return {(r.subscriber_id, r.correction_id) for r in rows}


def _receivers(conn: Connection, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    return {
        cid: int(n)
        for cid, n in conn.execute(
            select(correction_notices.c.correction_id, func.count())
            .where(correction_notices.c.correction_id.in_(builtins.list(ids)))
            .group_by(correction_notices.c.correction_id)
        )
    }


def _apply_annotation(
    conn: Connection,
    item_id: int,
    changes: Sequence[CorrectionChange],
    actor: str,
    now: dt.datetime,
) -> None:
    """A corrected headline or comment is the office's annotation from now on."""
    values: dict[str, Any] = {}
    for c in changes:
        if c.field is CorrectionField.HEADLINE:
            values["headline"] = c.new
        elif c.field is CorrectionField.COMMENT:
            values["comment_md"] = c.new
    if not values:
        return
    values |= {"updated_at": now, "updated_by": actor}
    changed = conn.execute(
        update(item_annotations)
        .where(item_annotations.c.item_id == item_id)
        .values(version=item_annotations.c.version + 1, **values)
    ).rowcount
    if not changed:
        conn.execute(
            insert(item_annotations).values(
                item_id=item_id,
                version=1,
                headline=values.get("headline", ""),
                comment_md=values.get("comment_md", ""),
                priority="fyi",
                audiences=[],
                updated_at=now,
                updated_by=actor,
            )
        )
    refresh_search_text(conn, item_id)


def _correction(r: Any, receivers: int) -> Correction:
    return Correction(
        id=r.id,
        edition_id=r.edition_id,
        item_id=r.item_id,
        changes=tuple(
            CorrectionChange(CorrectionField(c["field"]), c.get("old", ""), c.get("new", ""))
            for c in (r.changes or [])
        ),
        withdrawn=bool(r.withdrawn),
        reason=r.reason,
        delivery=CorrectionDelivery(r.delivery),
        created_at=r.created_at,
        created_by=r.created_by,
        receivers=receivers,
    )


def _notice(r: Any) -> CorrectionNotice:
    return CorrectionNotice(
        id=r.id,
        correction_id=r.correction_id,
        subscriber_id=r.subscriber_id,
        state=NoticeState(r.state),
        attempts=r.attempts,
        error=r.error,
    )
