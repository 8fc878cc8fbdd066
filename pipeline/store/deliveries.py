"""The delivery ledger: exactly one row per (edition, subscriber), and who may send it.

plan      insert the rows as queued, once per edition       (marks the edition planned in
          the same transaction: a resumed send never widens the audience), and what
          each segment contained (delivery_segments: who got which item, ADR 0009)
recover   only rows of senders that are gone (lease expired, ended, process known dead;
          rows claimed before senders existed): never a live sender's rows
          claimed → queued (the request never left)
          sending → unknown (it may have left: staff decide, never resent silently)
claim     queued → claimed, with this batch's token and the sender's id (conditional
          UPDATE: two senders never take the same row); whole segments, however the
          claims of several senders interleave (PostgreSQL: one claim of an edition
          at a time, by an advisory lock); `claimed(token)` reads what a claim whose
          answer was lost in an outage took
start     claimed → sending, committed BEFORE the request leaves; returns the rows it
          moved: a row taken from the sender meanwhile is not sent (`again`: the start
          repeated after its answer was lost also counts rows its tokens moved before)
record    sending → sent | failed | queued (transient) | unknown; also a row another
          sender's recovery marked unknown while this one's request was out: the sender
          that knows the answer writes it
resolve   unknown → sent | queued, by staff (a SENT edition goes back to SENDING
          when rows are queued again, so the next `send-due` resumes it)
"""

from __future__ import annotations

import builtins
import datetime as dt
import functools
import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, Update, bindparam, func, insert, or_, select, text, update

from pipeline.errors import EditionNotFound, InvalidInput
from pipeline.model import (
    Delivery,
    DeliveryProblem,
    DeliveryState,
    EditionState,
    Outcome,
    Recovery,
    Resolution,
    SenderOutcome,
)
from pipeline.store.audit import write_audit
from pipeline.store.base import Prepared, driver_value, wrap_errors
from pipeline.store.schema import (
    deliveries,
    delivery_segments,
    editions,
    senders,
    subscribers,
)
from pipeline.store.senders import _sender
from pipeline.store.subscribers import receiving_each

# ---------------------------------------------------------------- the sender's statements
#
# A send of 100,000 readers makes ~13,400 requests, each started and recorded in its own
# transaction: the statements of claim/start/record are built once, here, with their
# parameters bound by name (b_…: a column's own name is reserved in an UPDATE).
# SQLAlchemy then neither builds them nor computes their cache key again per call, and
# `b_now` is converted once per statement. The conditions are those the ledger always had.

_QUEUED = DeliveryState.QUEUED.value
_CLAIMED = DeliveryState.CLAIMED.value
_SENDING = DeliveryState.SENDING.value
_STATES = {s.value: s for s in DeliveryState}

# a plan's rows, executemany (Prepared: the time converted once, not twice per row)
_QUEUE = insert(deliveries).values(
    edition_id=bindparam("b_edition"),
    subscriber_id=bindparam("b_subscriber"),
    segment_key=bindparam("b_segment"),
    state=_QUEUED,
    attempts=0,
    created_at=bindparam("b_now"),
    updated_at=bindparam("b_now"),
)


def _claim_statement(*, by_segment: bool) -> Update:
    where = [deliveries.c.edition_id == bindparam("b_edition"), deliveries.c.state == _QUEUED]
    if by_segment:
        where.append(deliveries.c.segment_key == bindparam("b_segment"))
    candidates = (
        select(deliveries.c.id)
        .where(*where)
        .order_by(deliveries.c.segment_key, deliveries.c.id)
        .limit(bindparam("b_limit"))
        .scalar_subquery()
    )
    return (
        update(deliveries)
        .where(
            deliveries.c.id.in_(candidates),
            deliveries.c.state == _QUEUED,  # re-checked per row
        )
        .values(
            state=_CLAIMED,
            claim_token=bindparam("b_token"),
            sender_id=bindparam("b_sender"),
            claimed_at=bindparam("b_now"),
            attempts=deliveries.c.attempts + 1,
            updated_at=bindparam("b_now"),
        )
    )


_CLAIM_ANY = _claim_statement(by_segment=False)
_CLAIM_SEGMENT = _claim_statement(by_segment=True)
# PostgreSQL: concurrent claims would each pick the same first queued rows (the UPDATE's
# subquery reads its snapshot; the loser re-checks only the rows it waited for and gets
# few or none); with this lock, taken per edition before the UPDATE, each claim's
# statement reads what the claim before it left. SQLite has one writer anyway.
_CLAIM_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
# a full claim's last segment, put back in the claim's own transaction (see claim):
# as if never claimed (its attempt uncounted); ix_deliveries_claim finds the rows
_UNCLAIM_LAST = (
    update(deliveries)
    .where(
        deliveries.c.edition_id == bindparam("b_edition"),
        deliveries.c.state == _CLAIMED,
        deliveries.c.segment_key == bindparam("b_segment"),
        deliveries.c.claim_token == bindparam("b_token"),
    )
    .values(state=_QUEUED, attempts=deliveries.c.attempts - 1, updated_at=bindparam("b_now"))
)
# the rows a claim took, without the times (nobody reads them: no conversion per row);
# edition and state find the few claimed rows through ix_deliveries_claim: no
# index on claim_token is needed
_CLAIMED_ROWS = (
    select(
        deliveries.c.id,
        deliveries.c.edition_id,
        deliveries.c.subscriber_id,
        deliveries.c.segment_key,
        deliveries.c.state,
        deliveries.c.attempts,
        deliveries.c.message_id,
        deliveries.c.error,
    )
    .where(
        deliveries.c.edition_id == bindparam("b_edition"),
        deliveries.c.claim_token == bindparam("b_token"),
        deliveries.c.state == _CLAIMED,
    )
    .order_by(deliveries.c.segment_key, deliveries.c.id)
)
_START = (
    update(deliveries)
    .where(
        deliveries.c.id.in_(bindparam("b_ids", expanding=True)),
        deliveries.c.claim_token == bindparam("b_token"),
        deliveries.c.state == _CLAIMED,
    )
    .values(state=_SENDING, updated_at=bindparam("b_now"))
    .returning(deliveries.c.id)
)
# a start tried again after an outage: the rows its lost first try moved already
_STARTED = select(deliveries.c.id).where(
    deliveries.c.id.in_(bindparam("b_ids", expanding=True)),
    deliveries.c.claim_token == bindparam("b_token"),
    deliveries.c.state == _SENDING,
)
# the same, one row at a time (executemany): when the rows changed are as many as the
# ids, each one moved; otherwise _START tells which
_START_EACH = (
    update(deliveries)
    .where(
        deliveries.c.id == bindparam("b_id"),
        deliveries.c.claim_token == bindparam("b_token"),
        deliveries.c.state == _CLAIMED,
    )
    .values(state=_SENDING, updated_at=bindparam("b_now"))
)


class _Partly(Exception):
    """Not every row of a start moved: its transaction is rolled back."""


# one row per outcome, executemany (IN cannot be used with executemany)
_RECORD = (
    update(deliveries)
    .where(
        deliveries.c.id == bindparam("b_id"),
        deliveries.c.claim_token == bindparam("b_token"),
        or_(
            deliveries.c.state == _SENDING,
            deliveries.c.state == DeliveryState.UNKNOWN.value,
        ),
    )
    .values(
        state=bindparam("b_state"),
        message_id=bindparam("b_message_id"),
        error=bindparam("b_error"),
        sent_at=bindparam("b_sent_at"),
        updated_at=bindparam("b_now"),
    )
)

# PostgreSQL: the plan and the start above as one statement over arrays of the rows
# (unnest) instead of one statement per row (psycopg runs an executemany as a pipeline
# of statements, with its own work per row in Python). Same conditions, same effects; a
# row given twice changes once, as before (the second finds it moved). Measured: a plan
# of 100,000 rows 2.0 → 0.35 s of CPU (wall 2.9 → 1.5 s); on a ledger of 56,000 rows a
# start of 35 rows 0.78 → 0.38 ms of CPU. The record stays an executemany: at the sizes
# a send records (one to a few answers, 7 rows each) the arrays were 10-17 % slower.
_PG_QUEUE = text(
    "INSERT INTO deliveries (edition_id, subscriber_id, segment_key, state, attempts,"
    " created_at, updated_at)"
    f" SELECT :edition, v.subscriber_id, v.segment_key, '{_QUEUED}', 0, :now, :now"
    " FROM unnest(CAST(:subscribers AS integer[]), CAST(:segments AS text[]))"
    " AS v(subscriber_id, segment_key)"
)
_PG_START = text(
    f"UPDATE deliveries SET state = '{_SENDING}', updated_at = :now"
    " FROM unnest(CAST(:ids AS integer[]), CAST(:tokens AS text[])) AS v(id, token)"
    " WHERE deliveries.id = v.id AND deliveries.claim_token = v.token"
    f" AND deliveries.state = '{_CLAIMED}'"
)
# who of a batch may receive (the sender checks again before each claim is sent)
_RECEIVING = select(subscribers.c.id).where(
    subscribers.c.id.in_(bindparam("b_ids", expanding=True)),
    *receiving_each(bindparam("b_newsletter")),
)


class DeliveriesStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @functools.cached_property
    def _pg(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    @functools.cached_property
    def _queue(self) -> Prepared:
        return Prepared(_QUEUE, self._engine.dialect)

    @functools.cached_property
    def _start(self) -> Prepared:
        return Prepared(_START_EACH, self._engine.dialect)

    @functools.cached_property
    def _record(self) -> Prepared:
        return Prepared(_RECORD, self._engine.dialect)

    def plan(
        self,
        edition_id: int,
        rows: Sequence[tuple[int, str]],
        *,
        now: dt.datetime,
        contents: Mapping[str, Sequence[int]] | None = None,
    ) -> int:
        """Queue (subscriber id, segment key) pairs, once per edition; returns how many.

        `contents` (segment key → item ids) is recorded in the same transaction
        (delivery_segments): which items a delivery had, for corrections (ADR 0009).

        The first plan of an edition inserts its rows and marks the edition planned in the
        same transaction (a crash while planning leaves neither, so the next run plans it
        whole). Every later call changes nothing: a resumed send, after a crash or after
        staff queued unknown rows again, sends to the audience of the first plan and never
        to someone who confirmed since.
        """
        with wrap_errors("planning deliveries"), self._engine.begin() as conn:
            marked = conn.execute(
                update(editions)
                .where(editions.c.id == edition_id, editions.c.planned_at.is_(None))
                .values(planned_at=now)
            ).rowcount
            if marked != 1:
                if (
                    conn.execute(select(editions.c.id).where(editions.c.id == edition_id)).first()
                    is None
                ):
                    raise EditionNotFound(edition_id)
                return 0  # planned before: the ledger is the audience
            known = set(
                conn.execute(
                    select(deliveries.c.subscriber_id).where(deliveries.c.edition_id == edition_id)
                ).scalars()
            )
            fresh = [(sid, key) for sid, key in dict(rows).items() if sid not in known]
            stamp = driver_value(deliveries.c.created_at, now, conn.dialect)  # once
            if self._pg:  # 10,000 rows a statement
                for start in range(0, len(fresh), 10_000):
                    chunk = fresh[start : start + 10_000]
                    args = {
                        "edition": edition_id,
                        "subscribers": [sid for sid, _ in chunk],
                        "segments": [key for _, key in chunk],
                        "now": stamp,
                    }
                    conn.execute(_PG_QUEUE, args)
            else:  # one statement a row, the parameters 1,000 at a time
                for start in range(0, len(fresh), 1000):
                    self._queue.run_many(
                        conn,
                        [
                            {
                                "b_edition": edition_id,
                                "b_subscriber": sid,
                                "b_segment": key,
                                "b_now": stamp,
                            }
                            for sid, key in fresh[start : start + 1000]
                        ],
                    )
            used = {key for _, key in rows}
            segments = [
                {"edition_id": edition_id, "segment_key": key, "item_ids": list(ids)}
                for key, ids in (contents or {}).items()
                if key in used
            ]
            for start in range(0, len(segments), 1000):
                conn.execute(insert(delivery_segments), segments[start : start + 1000])
            return len(fresh)

    def planned(self, edition_id: int) -> bool:
        """Whether the edition's ledger was planned (its audience is fixed)."""
        with wrap_errors("reading editions"), self._engine.connect() as conn:
            found = conn.execute(
                select(editions.c.planned_at).where(editions.c.id == edition_id)
            ).first()
        if found is None:
            raise EditionNotFound(edition_id)
        return found[0] is not None

    def recover(self, edition_id: int, *, now: dt.datetime, dead: Collection[int] = ()) -> Recovery:
        """Take back the rows of senders that are gone: claimed → queued, sending → unknown.

        Gone: ended, past its lease, or in `dead` (the caller found its process gone on
        this host). A running sender that is gone becomes `lost` in the same transaction,
        so its renewals fail from then on. A live sender's rows are never touched.
        """
        dead_ids = sorted(set(dead))
        with wrap_errors("recovering deliveries"), self._engine.begin() as conn:
            gone_now = or_(senders.c.lease_until < now, senders.c.id.in_(dead_ids))
            lost = [
                _sender(r)
                for r in conn.execute(
                    update(senders)
                    .where(
                        senders.c.edition_id == edition_id,
                        senders.c.ended_at.is_(None),
                        gone_now,
                    )
                    .values(
                        outcome=SenderOutcome.LOST.value,
                        ended_at=now,
                        detail="gone: its lease ran out or its process ended; rows taken back",
                    )
                    .returning(*senders.c)
                )
            ]
            ended = select(senders.c.id).where(
                senders.c.edition_id == edition_id, senders.c.ended_at.is_not(None)
            )
            orphaned = or_(deliveries.c.sender_id.is_(None), deliveries.c.sender_id.in_(ended))
            requeued = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.edition_id == edition_id,
                    deliveries.c.state == DeliveryState.CLAIMED.value,
                    orphaned,
                )
                .values(
                    state=DeliveryState.QUEUED.value,
                    claim_token=None,
                    sender_id=None,
                    updated_at=now,
                )
            ).rowcount
            unknown = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.edition_id == edition_id,
                    deliveries.c.state == DeliveryState.SENDING.value,
                    orphaned,
                )
                .values(
                    state=DeliveryState.UNKNOWN.value,
                    error="the sender stopped after the request left",
                    updated_at=now,
                )  # the token stays: if that sender comes back with the answer, it wins
            ).rowcount
            return Recovery(int(requeued), int(unknown), tuple(lost))

    def held(self, edition_id: int) -> dict[int | None, int]:
        """Claimed and sending rows of the edition per sender (None: no sender)."""
        with wrap_errors("reading deliveries"), self._engine.connect() as conn:
            rows = conn.execute(
                select(deliveries.c.sender_id, func.count())
                .where(
                    deliveries.c.edition_id == edition_id,
                    deliveries.c.state.in_(
                        [DeliveryState.CLAIMED.value, DeliveryState.SENDING.value]
                    ),
                )
                .group_by(deliveries.c.sender_id)
            )
            return {r[0]: int(r[1]) for r in rows}

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
        self,
        edition_id: int,
        segment_key: str | None,
        *,
        limit: int,
        token: str,
        now: dt.datetime,
        sender_id: int | None = None,
    ) -> builtins.list[Delivery]:
        """Take up to `limit` queued rows of a segment (None: of any segments, in segment
        order, so that one claim holds whole small segments); `token` names this one
        batch (unique per claim: it is how start/record/skip/release find the rows);
        `sender_id` the sender that holds them (recovery leaves a live sender's rows).

        A full claim of several segments ends in a segment that may go on in the queue:
        that segment's rows go back in the same transaction, so no other sender ever
        sees its first part taken and its rest queued, and it leaves whole in a later
        claim: one request per segment (per `limit` of a bigger one), however the
        claims of several senders interleave."""
        params = {
            "b_edition": edition_id,
            "b_segment": segment_key,
            "b_limit": limit,
            "b_token": token,
            "b_sender": sender_id,
            "b_now": now,
        }
        with wrap_errors("claiming deliveries"), self._engine.begin() as conn:
            if self._pg:  # claims of one edition one after another
                conn.execute(_CLAIM_LOCK, {"k": _claim_lock_key(edition_id)})
            conn.execute(_CLAIM_ANY if segment_key is None else _CLAIM_SEGMENT, params)
            rows = conn.execute(_CLAIMED_ROWS, params).all()
            last = rows[-1].segment_key if rows else None
            if segment_key is None and len(rows) >= limit and rows[0].segment_key != last:
                conn.execute(_UNCLAIM_LAST, {**params, "b_segment": last})
                rows = [r for r in rows if r.segment_key != last]
            return _claimed(rows)

    def claimed(self, edition_id: int, token: str) -> builtins.list[Delivery]:
        """The rows the claim named `token` holds (still claimed, in segment order): what
        a claim took whose answer was lost (the database went away as it committed)."""
        params = {"b_edition": edition_id, "b_token": token}
        with wrap_errors("reading claimed deliveries"), self._engine.connect() as conn:
            return _claimed(conn.execute(_CLAIMED_ROWS, params).all())

    def start(self, ids: Iterable[int], *, token: str, now: dt.datetime) -> set[int]:
        """Claimed → sending: committed before the request leaves (the crash boundary).

        Returns the ids it moved: only those may be sent. A row missing from the answer
        was taken from this sender (it was found gone and its rows recovered)."""
        return self.start_many([(ids, token)], now=now)

    def start_many(
        self,
        groups: Sequence[tuple[Iterable[int], str]],
        *,
        now: dt.datetime,
        again: bool = False,
    ) -> set[int]:
        """`start` for several batches (ids, token) in one transaction: the requests of a
        sender that keeps several in flight are started together before they leave.

        `again`: the same start once more, after a try whose answer was lost (the
        database went away as it committed): rows that try moved count as moved. Only
        their sender moves its tokens' rows to sending, and it sends nothing before
        the start is answered, so none of them has left."""
        pairs = [(i, token) for ids, token in groups for i in ids]
        with wrap_errors("starting deliveries"):
            stamp = driver_value(deliveries.c.updated_at, now, self._engine.dialect)
            try:
                with self._engine.begin() as conn:
                    if self._pg:
                        ids, tokens = [i for i, _ in pairs], [t for _, t in pairs]
                        args = {"ids": ids, "tokens": tokens, "now": stamp}
                        moved_n = conn.execute(_PG_START, args).rowcount
                    else:
                        rows = [{"b_id": i, "b_token": t, "b_now": stamp} for i, t in pairs]
                        moved_n = self._start.run_many(conn, rows)
                    if moved_n == len(pairs):
                        return {i for i, _ in pairs}  # each row moved (one at most per id)
                    raise _Partly  # undone: which ones is asked below
            except _Partly:
                pass
            # some were taken from this sender meanwhile (or an id came twice): the rows
            # that move, by RETURNING (a claim's groups share its token: one statement)
            by_token: dict[str, list[int]] = {}
            for i, token in pairs:
                by_token.setdefault(token, []).append(i)
            moved: set[int] = set()
            with self._engine.begin() as conn:
                for token, id_list in by_token.items():
                    for at in range(0, len(id_list), 1000):
                        part = {"b_ids": id_list[at : at + 1000], "b_token": token, "b_now": now}
                        moved.update(conn.execute(_START, part).scalars().all())
                        if again:
                            moved.update(conn.execute(_STARTED, part).scalars().all())
            return moved

    def release(self, ids: Iterable[int], *, token: str, now: dt.datetime) -> int:
        """Claimed → queued: this sender stops before sending them (the next run takes them)."""
        return self._move(ids, token, DeliveryState.CLAIMED, DeliveryState.QUEUED, now)

    def receiving(self, newsletter_id: str, subscriber_ids: Iterable[int]) -> set[int]:
        """Which of these subscribers may receive the newsletter now (the rule of
        `subscribers.confirmed_for`, checked for one batch instead of for everyone)."""
        id_list = list(subscriber_ids)
        found: set[int] = set()
        with wrap_errors("reading recipients"), self._engine.connect() as conn:
            for start in range(0, len(id_list), 1000):
                found.update(
                    conn.execute(
                        _RECEIVING,
                        {"b_ids": id_list[start : start + 1000], "b_newsletter": newsletter_id},
                    )
                    .scalars()
                    .all()
                )
        return found

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
        """Sending → the outcome, only for rows of this batch (`token`): also a row that
        another sender's recovery marked unknown while this request was out, because this
        sender knows what happened to it (staff resolving it clears the token)."""
        self.record_many([(outcomes, token)], now=now)

    def record_many(
        self, batches: Sequence[tuple[Sequence[Outcome], str]], *, now: dt.datetime
    ) -> None:
        """`record` for several answered batches (outcomes, token) in one transaction."""
        if not any(outcomes for outcomes, _ in batches):
            return
        with wrap_errors("recording deliveries"):
            rows = self._record_rows(batches, now)
            with self._engine.begin() as conn:
                self._record.run_many(conn, rows)

    def _record_rows(
        self, batches: Sequence[tuple[Sequence[Outcome], str]], now: dt.datetime
    ) -> builtins.list[dict[str, object]]:
        stamp = driver_value(deliveries.c.updated_at, now, self._engine.dialect)  # once
        sent = DeliveryState.SENT
        return [
            {
                "b_id": o.delivery_id,
                "b_token": token,
                "b_state": o.state.value,
                "b_message_id": o.message_id,
                "b_error": (o.error or "")[:1000] or None,
                "b_sent_at": stamp if o.state is sent else None,
                "b_now": stamp,
            }
            for outcomes, token in batches
            for o in outcomes
        ]

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

    def resolve(
        self,
        edition_id: int,
        delivery_ids: Sequence[int] | None,
        *,
        resend: bool,
        actor: str,
        now: dt.datetime,
    ) -> Resolution:
        """Staff decide about unknown rows (all of the edition's, or exactly these ids):
        treat them as sent, or queue them again; with an audit entry, in one transaction.

        Queued again in a SENT edition, the edition goes back to SENDING: `send-due`
        resumes SENDING editions and sends exactly the queued rows. Ids that are not
        unknown rows of this edition (any more) refuse the whole request.
        """
        state = DeliveryState.QUEUED if resend else DeliveryState.SENT
        where = [
            deliveries.c.edition_id == edition_id,
            deliveries.c.state == DeliveryState.UNKNOWN.value,
        ]
        with wrap_errors("resolving unknown deliveries"), self._engine.begin() as conn:
            current = conn.execute(
                select(editions.c.state).where(editions.c.id == edition_id)
            ).scalar()
            if current is None:
                raise EditionNotFound(edition_id)
            if delivery_ids is not None:
                wanted = sorted(set(delivery_ids))
                found = set(
                    conn.execute(
                        select(deliveries.c.id).where(*where, deliveries.c.id.in_(wanted))
                    ).scalars()
                )
                missing = [i for i in wanted if i not in found]
                if missing:
                    raise InvalidInput(
                        f"Zustellung {missing[0]} ist nicht (mehr) ungeklärt oder gehört nicht"
                        " zu dieser Ausgabe. Es wurde nichts geändert."
                    )
                where.append(deliveries.c.id.in_(wanted))
            changed = int(
                conn.execute(
                    update(deliveries)
                    .where(*where)
                    .values(state=state.value, claim_token=None, updated_at=now)
                ).rowcount
            )
            if not changed:
                raise InvalidInput("Es gibt keine ungeklärten Zustellungen (mehr).")
            resumed = False
            if resend:
                resumed = (
                    conn.execute(
                        update(editions)
                        .where(
                            editions.c.id == edition_id,
                            editions.c.state == EditionState.SENT.value,
                        )
                        .values(
                            state=EditionState.SENDING.value,
                            version=editions.c.version + 1,
                            updated_at=now,
                        )
                    ).rowcount
                    == 1
                )
            which = "alle" if delivery_ids is None else "ausgewählt"
            detail = f"{changed} {'Zustellung' if changed == 1 else 'Zustellungen'} ({which})"
            action = "deliveries.resend" if resend else "deliveries.sent"
            write_audit(conn, now, actor, action, edition_id=edition_id, detail=detail)
            if resumed:
                write_audit(
                    conn,
                    now,
                    actor,
                    f"edition.{EditionState.SENDING.value}",
                    edition_id=edition_id,
                    detail="erneuter Versand: der nächste Lauf sendet die wartenden Zustellungen",
                )
            return Resolution(changed=changed, resumed=resumed)

    def problems(self, edition_id: int, *, limit: int = 500) -> builtins.list[DeliveryProblem]:
        """Failed and unknown rows of an edition with their addresses (staff only)."""
        stmt = (
            select(deliveries, subscribers.c.email.label("subscriber_email"))
            .select_from(
                deliveries.outerjoin(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
            )
            .where(
                deliveries.c.edition_id == edition_id,
                deliveries.c.state.in_([DeliveryState.FAILED.value, DeliveryState.UNKNOWN.value]),
            )
            .order_by(deliveries.c.state.desc(), deliveries.c.id)
            .limit(limit)
        )
        with wrap_errors("reading deliveries"), self._engine.connect() as conn:
            return [
                DeliveryProblem(_delivery(r), r._mapping["subscriber_email"])
                for r in conn.execute(stmt)
            ]

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


def _claim_lock_key(edition_id: int) -> int:
    """A stable signed 64-bit key of an edition's claim lock (PostgreSQL)."""
    digest = hashlib.sha256(f"eudigest.deliveries.claim:{edition_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _claimed(rows: Sequence[Any]) -> builtins.list[Delivery]:
    """Deliveries from rows of _CLAIMED_ROWS (no times)."""
    return [Delivery(i, e, s, k, _STATES[st], a, m, err) for i, e, s, k, st, a, m, err in rows]


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
