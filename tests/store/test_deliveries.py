"""The delivery ledger on SQLite and PostgreSQL: never two rows, never two senders."""

from __future__ import annotations

import datetime as dt
import random
import re
import threading

import pytest
import sqlalchemy as sa

from pipeline.errors import EditionNotFound, InvalidInput, InvalidTransition, StoreError
from pipeline.model import (
    DeliveryState,
    EditionState,
    Newsletter,
    NewSubscriber,
    Office,
    Outcome,
    ProcessRef,
    Profile,
    Sender,
    SenderOutcome,
)
from pipeline.store import Store
from subscribers.addresses import hash_of

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)


@pytest.fixture
def edition_id(store: Store) -> int:
    office = Office("Büro", (Newsletter("weekly", "EU-Wochenbrief"),))
    e = store.editions.create(
        "weekly", title="T", intro="", sections=[("A", [])], actor="anna", now=NOW
    )
    assert office.newsletter("weekly") is not None
    return e.id


def test_planning_twice_never_makes_a_second_row(store: Store, edition_id: int) -> None:
    rows = [(n, "seg-a" if n % 2 else "seg-b") for n in range(1, 2501)]
    assert store.deliveries.plan(edition_id, rows, now=NOW) == 2500
    assert store.deliveries.plan(edition_id, rows, now=NOW) == 0
    assert store.deliveries.counts(edition_id)["queued"] == 2500
    assert store.deliveries.pending_segments(edition_id) == ["seg-a", "seg-b"]


def test_claims_of_two_senders_never_overlap(store: Store, edition_id: int) -> None:
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 401)], now=NOW)
    taken: dict[str, list[int]] = {}

    def sender(name: str) -> None:
        ids: list[int] = []
        for n in range(1000):  # bounded: 400 rows, 25 a batch
            batch = store.deliveries.claim(edition_id, "s", limit=25, token=f"{name}-{n}", now=NOW)
            if not batch:
                break
            ids += [d.subscriber_id for d in batch]
        taken[name] = ids

    threads = [threading.Thread(target=sender, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everyone = [sid for ids in taken.values() for sid in ids]
    assert sorted(everyone) == list(range(1, 401))  # each exactly once


def test_a_full_claim_puts_its_cut_last_segment_back_untouched(
    store: Store, edition_id: int
) -> None:
    """Segments of 4, 6, 5 and 20 readers, claims of 8: the first claim holds only "a",
    "b" goes back as it was (queued, its attempt uncounted) and leaves whole next."""
    sizes = {"a": 4, "b": 6, "c": 5, "d": 20}
    plan = [(n, key) for n, key in enumerate((k for k in sizes for _ in range(sizes[k])), 1)]
    store.deliveries.plan(edition_id, plan, now=NOW)
    first = store.deliveries.claim(edition_id, None, limit=8, token="x", now=NOW)
    assert [d.segment_key for d in first] == ["a"] * 4
    queued = store.deliveries.list(edition_id, DeliveryState.QUEUED)
    assert sorted(d.segment_key for d in queued) == ["b"] * 6 + ["c"] * 5 + ["d"] * 20
    assert {d.attempts for d in queued} == {0}
    second = store.deliveries.claim(edition_id, None, limit=8, token="y", now=NOW)
    assert [d.segment_key for d in second] == ["b"] * 6  # "c" would not fit whole
    third = store.deliveries.claim(edition_id, None, limit=8, token="z", now=NOW)
    assert [(d.segment_key, d.attempts) for d in third] == [("c", 1)] * 5
    # a segment bigger than a claim leaves in claims of the limit, not one by one
    big = [store.deliveries.claim(edition_id, None, limit=8, token=t, now=NOW) for t in "pqr"]
    assert [len(rows) for rows in big] == [8, 8, 4]


def test_concurrent_claims_take_whole_segments_and_never_come_back_empty(
    store: Store, edition_id: int
) -> None:
    """Four senders claim at once (PostgreSQL: the UPDATE's subquery reads its own
    snapshot; SQLite: one writer). Every segment of up to a claim's size is held by one
    claim, and no claim finds nothing while rows are still queued."""
    rng = random.Random(7)
    plan: list[tuple[int, str]] = []
    for k in range(120):  # 1 to 9 readers each: a claim of 20 usually ends in a cut
        plan += [(len(plan) + n, f"seg-{k:03d}") for n in range(1, rng.randint(2, 10))]
    store.deliveries.plan(edition_id, plan, now=NOW)
    start = threading.Barrier(4)
    claims: list[tuple[str, list[str]]] = []
    empty_while_queued: list[str] = []

    def sender(name: str) -> None:
        start.wait()
        for n in range(1000):
            token = f"{name}-{n}"
            rows = store.deliveries.claim(edition_id, None, limit=20, token=token, now=NOW)
            if not rows:
                if store.deliveries.counts(edition_id)["queued"]:
                    empty_while_queued.append(token)
                return
            claims.append((token, [d.segment_key for d in rows]))

    threads = [threading.Thread(target=sender, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    holders: dict[str, set[str]] = {}
    for token, keys in claims:
        for key in keys:
            holders.setdefault(key, set()).add(token)
    assert sum(len(keys) for _, keys in claims) == len(plan)  # everyone, once
    assert {k: t for k, t in holders.items() if len(t) > 1} == {}
    assert empty_while_queued == []


def test_an_outcome_given_twice_or_under_another_token_changes_a_row_once(
    store: Store, edition_id: int
) -> None:
    """The first outcome for a row and its token counts; one under another token is not
    the holder's (the row's start and its arrays on PostgreSQL, the record per row)."""
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 5)], now=NOW)
    held = [d.id for d in store.deliveries.claim(edition_id, "s", limit=4, token="a", now=NOW)]
    assert store.deliveries.start_many([(held, "a"), (held[:1], "a")], now=NOW) == set(held)
    store.deliveries.record_many(
        [
            (
                [
                    Outcome(held[0], DeliveryState.SENT, message_id="first"),
                    Outcome(held[0], DeliveryState.FAILED, error="second"),
                    Outcome(held[1], DeliveryState.QUEUED, error="HTTP 503: try later"),
                    Outcome(held[2], DeliveryState.UNKNOWN, error="timeout after it left"),
                ],
                "a",
            ),
            ([Outcome(held[3], DeliveryState.SENT, message_id="intruder")], "b"),
            ([Outcome(held[3], DeliveryState.SENT, message_id="m4")], "a"),
        ],
        now=NOW,
    )
    rows = {d.id: d for d in store.deliveries.list(edition_id)}
    assert (rows[held[0]].state, rows[held[0]].message_id) == (DeliveryState.SENT, "first")
    assert (rows[held[1]].state, rows[held[1]].error) == (
        DeliveryState.QUEUED,
        "HTTP 503: try later",
    )
    assert rows[held[2]].state is DeliveryState.UNKNOWN
    assert (rows[held[3]].state, rows[held[3]].message_id) == (DeliveryState.SENT, "m4")
    # the sender that knows the answer writes it over an unknown row (recovery's mark)
    store.deliveries.record(
        [Outcome(held[2], DeliveryState.SENT, message_id="m3")], token="a", now=LATER
    )
    sent = store.deliveries.list(edition_id, DeliveryState.SENT)
    assert {d.id: d.message_id for d in sent} == {held[0]: "first", held[2]: "m3", held[3]: "m4"}


def test_plan_and_start_are_one_statement_each_on_postgresql(store: Store, edition_id: int) -> None:
    """A plan of 2,500 readers and a start of 1,000: on PostgreSQL each is one statement
    over arrays (no executemany: psycopg runs one statement per row), on SQLite one
    statement per row (executemany is its fast path)."""
    seen: list[tuple[str, bool]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("INSERT INTO DELIVERIES", "UPDATE DELIVERIES")):
            seen.append((statement.split()[0].upper(), executemany))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 2501)], now=NOW)
        held = store.deliveries.claim(edition_id, "s", limit=1000, token="a", now=NOW)
        assert store.deliveries.start_many([([d.id for d in held], "a")], now=NOW) == {
            d.id for d in held
        }
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    c = store.deliveries.counts(edition_id)
    assert (c["queued"], c["sending"]) == (1500, 1000)
    if store.dialect == "postgresql":
        assert seen == [("INSERT", False), ("UPDATE", False), ("UPDATE", False)]
    else:  # 3 plan chunks of executemany, the claim, the start's executemany
        assert seen == [("INSERT", True)] * 3 + [("UPDATE", False), ("UPDATE", True)]


def test_a_crash_before_the_request_requeues_after_it_is_unknown(
    store: Store, edition_id: int
) -> None:
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 11)], now=NOW)
    first = store.deliveries.claim(edition_id, "s", limit=5, token="a", now=NOW)
    store.deliveries.start([d.id for d in first], token="a", now=NOW)  # request left
    second = store.deliveries.claim(edition_id, "s", limit=5, token="b", now=NOW)
    # ... and both senders die here. A new run recovers:
    recovery = store.deliveries.recover(edition_id, now=NOW)
    assert (recovery.requeued, recovery.unknown) == (5, 5)
    counts = store.deliveries.counts(edition_id)
    assert (counts["queued"], counts["unknown"]) == (5, 5)
    again = store.deliveries.claim(edition_id, "s", limit=100, token="c", now=NOW)
    assert {d.id for d in again} == {d.id for d in second}  # never the unknown ones
    assert store.deliveries.resolve_unknown(edition_id, resend=False, now=NOW) == 5
    assert store.deliveries.counts(edition_id)["sent"] == 5


def test_outcomes_are_recorded_only_by_the_holder(store: Store, edition_id: int) -> None:
    store.deliveries.plan(edition_id, [(1, "s"), (2, "s"), (3, "s")], now=NOW)
    held = store.deliveries.claim(edition_id, "s", limit=3, token="a", now=NOW)
    store.deliveries.start([d.id for d in held], token="a", now=NOW)
    outcomes = [
        Outcome(held[0].id, DeliveryState.SENT, message_id="m1"),
        Outcome(held[1].id, DeliveryState.FAILED, error="HTTP 400: invalid address"),
        Outcome(held[2].id, DeliveryState.QUEUED, error="HTTP 429"),
    ]
    store.deliveries.record(outcomes, token="intruder", now=NOW)
    assert store.deliveries.counts(edition_id)["sending"] == 3
    store.deliveries.record(outcomes, token="a", now=NOW)
    c = store.deliveries.counts(edition_id)
    assert (c["sent"], c["failed"], c["queued"], c["sending"]) == (1, 1, 1, 0)
    assert store.deliveries.list(edition_id, DeliveryState.SENT)[0].message_id == "m1"


def test_a_start_moves_and_names_only_the_rows_still_held(store: Store, edition_id: int) -> None:
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 9)], now=NOW)
    rows = [d.id for d in store.deliveries.claim(edition_id, "s", limit=8, token="a", now=NOW)]
    assert store.deliveries.release(rows[:2], token="a", now=NOW) == 2  # taken back meanwhile
    started = store.deliveries.start_many([(rows[:4], "a"), (rows[4:6], "a")], now=NOW)
    assert started == set(rows[2:6])
    assert store.deliveries.start_many([(rows[2:7], "a")], now=NOW) == {rows[6]}  # once only
    twice = [(rows[7:], "a"), (rows[7:], "a")]  # an id given twice moves once
    assert store.deliveries.start_many(twice, now=NOW) == {rows[7]}
    assert store.deliveries.start_many([], now=NOW) == set()
    c = store.deliveries.counts(edition_id)
    assert (c["queued"], c["claimed"], c["sending"]) == (2, 0, 6)


# ---------------------------------------------------------------- senders and their leases

LEASE = dt.timedelta(seconds=60)


def join(store: Store, edition_id: int, pid: int, at: dt.datetime = NOW) -> Sender:
    return store.senders.join(
        edition_id, ProcessRef("host-a", pid, ""), now=at, lease_until=at + LEASE
    )


def held_by(store: Store, edition_id: int, sender: Sender, n: int, token: str) -> list[int]:
    rows = store.deliveries.claim(
        edition_id, None, limit=n, token=token, now=NOW, sender_id=sender.id
    )
    return [d.id for d in rows]


def test_recovery_never_touches_a_live_senders_rows(store: Store, edition_id: int) -> None:
    """The overlap of issue 10: a second sender starts while the first is at work."""
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 21)], now=NOW)
    a = join(store, edition_id, 101)
    claimed = held_by(store, edition_id, a, 5, "a1")
    in_flight = held_by(store, edition_id, a, 5, "a2")
    assert store.deliveries.start(in_flight, token="a2", now=NOW) == set(in_flight)
    join(store, edition_id, 202)  # the second sender arrives and recovers
    recovery = store.deliveries.recover(edition_id, now=NOW + LEASE / 2)
    assert (recovery.requeued, recovery.unknown, recovery.lost) == (0, 0, ())
    assert store.deliveries.held(edition_id) == {a.id: 10}
    assert store.deliveries.start(claimed, token="a1", now=NOW) == set(claimed)  # still a's
    for ids, token in ((claimed, "a1"), (in_flight, "a2")):
        store.deliveries.record([Outcome(i, DeliveryState.SENT) for i in ids], token=token, now=NOW)
    assert store.deliveries.counts(edition_id)["sent"] == 10


def test_a_sender_past_its_lease_loses_its_rows_and_sends_none_of_the_claimed(
    store: Store, edition_id: int
) -> None:
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 11)], now=NOW)
    a = join(store, edition_id, 101)
    claimed = held_by(store, edition_id, a, 5, "a1")
    in_flight = held_by(store, edition_id, a, 5, "a2")
    store.deliveries.start(in_flight, token="a2", now=NOW)
    # a is frozen (SIGSTOP, a long pause): its lease runs out; b recovers
    recovery = store.deliveries.recover(edition_id, now=NOW + LEASE + dt.timedelta(seconds=1))
    assert (recovery.requeued, recovery.unknown) == (5, 5)
    assert [s.id for s in recovery.lost] == [a.id]
    lost = store.senders.get(a.id)
    assert lost is not None and lost.outcome is SenderOutcome.LOST
    # a wakes up: its renewal fails, its claimed rows are no longer its to start ...
    assert not store.senders.renew(a.id, now=NOW, lease_until=NOW + 2 * LEASE)
    assert store.deliveries.start(claimed, token="a1", now=NOW) == set()
    # ... but the answer to its request in flight is a's to write: they were delivered
    store.deliveries.record(
        [Outcome(i, DeliveryState.SENT, message_id="m") for i in in_flight], token="a2", now=NOW
    )
    c = store.deliveries.counts(edition_id)
    assert (c["sent"], c["unknown"], c["queued"]) == (5, 0, 5)


def test_a_sender_whose_process_is_dead_is_gone_at_once(store: Store, edition_id: int) -> None:
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 6)], now=NOW)
    a = join(store, edition_id, 101)
    held_by(store, edition_id, a, 5, "a1")
    assert store.deliveries.recover(edition_id, now=NOW).requeued == 0
    recovery = store.deliveries.recover(edition_id, now=NOW, dead=[a.id])
    assert (recovery.requeued, [s.id for s in recovery.lost]) == (5, [a.id])


def test_rows_left_by_a_sender_that_ended_are_taken_back(store: Store, edition_id: int) -> None:
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 6)], now=NOW)
    a = join(store, edition_id, 101)
    store.deliveries.start(held_by(store, edition_id, a, 5, "a1"), token="a1", now=NOW)
    store.senders.end(a.id, SenderOutcome.FAILED, now=NOW, detail="RuntimeError: boom")
    recovery = store.deliveries.recover(edition_id, now=NOW)
    assert (recovery.requeued, recovery.unknown, recovery.lost) == (0, 5, ())
    ended = store.senders.get(a.id)
    assert ended is not None and ended.outcome is SenderOutcome.FAILED  # not relabelled


def test_staff_decisions_win_over_a_late_answer(store: Store, edition_id: int) -> None:
    """Unknown rows that staff queued again are not overwritten by the lost sender."""
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 4)], now=NOW)
    a = join(store, edition_id, 101)
    in_flight = held_by(store, edition_id, a, 3, "a1")
    store.deliveries.start(in_flight, token="a1", now=NOW)
    store.deliveries.recover(edition_id, now=NOW, dead=[a.id])
    assert store.deliveries.resolve_unknown(edition_id, resend=True, now=NOW) == 3
    store.deliveries.record(
        [Outcome(i, DeliveryState.SENT) for i in in_flight], token="a1", now=NOW
    )
    assert store.deliveries.counts(edition_id)["queued"] == 3


def test_senders_are_listed_with_how_they_ended(store: Store, edition_id: int) -> None:
    a = join(store, edition_id, 101)
    b = join(store, edition_id, 202, at=NOW + dt.timedelta(seconds=5))
    assert [s.id for s in store.senders.active(edition_id)] == [a.id, b.id]
    assert a.instance == "host-a:101" and a.running(NOW) and not a.running(NOW + 2 * LEASE)
    store.senders.end(
        a.id, SenderOutcome.STOPPED, now=NOW, detail="SendGrid answered 503", queued=7
    )
    assert [s.id for s in store.senders.active(edition_id)] == [b.id]
    assert store.senders.latest([edition_id])[edition_id].id == b.id
    store.senders.end(b.id, SenderOutcome.DONE, now=NOW)
    stopped = store.senders.get(a.id)
    assert stopped is not None and (stopped.outcome, stopped.queued) == (SenderOutcome.STOPPED, 7)
    assert stopped.detail == "SendGrid answered 503" and not stopped.running(NOW)
    with pytest.raises(ValueError):
        store.senders.end(a.id, SenderOutcome.RUNNING, now=NOW)
    assert store.senders.latest([]) == {} and store.senders.active(4242) == []


def test_an_edition_is_not_finished_while_rows_are_pending(store: Store, edition_id: int) -> None:
    """Rows queued again by staff after a sender's last look keep the edition sending."""
    approve_and_start(store, edition_id)
    store.deliveries.plan(edition_id, [(1, "s")], now=NOW)
    e = store.editions.finish_sending(edition_id, actor="sender", now=NOW)
    assert e.state is EditionState.SENDING and e.sent_at is None
    held = store.deliveries.claim(edition_id, None, limit=1, token="t", now=NOW)
    store.deliveries.start([d.id for d in held], token="t", now=NOW)
    assert (
        store.editions.finish_sending(edition_id, actor="s", now=NOW).state is EditionState.SENDING
    )
    store.deliveries.record([Outcome(held[0].id, DeliveryState.SENT)], token="t", now=NOW)
    assert store.editions.finish_sending(edition_id, actor="s", now=NOW).state is EditionState.SENT


# ---------------------------------------------------------------- planned once per edition


def test_an_edition_is_planned_once_and_later_plans_add_nobody(
    store: Store, edition_id: int
) -> None:
    assert not store.deliveries.planned(edition_id)
    assert store.deliveries.plan(edition_id, [(1, "s"), (2, "s")], now=NOW) == 2
    assert store.deliveries.planned(edition_id)
    # a resume after a crash or a staff resend: someone confirmed since the first plan
    assert store.deliveries.plan(edition_id, [(1, "s"), (2, "s"), (3, "s")], now=NOW) == 0
    assert sorted(d.subscriber_id for d in store.deliveries.list(edition_id)) == [1, 2]
    with pytest.raises(EditionNotFound):
        store.deliveries.plan(4242, [(1, "s")], now=NOW)
    with pytest.raises(EditionNotFound):
        store.deliveries.planned(4242)


def test_an_empty_plan_is_a_plan_too(store: Store, edition_id: int) -> None:
    assert store.deliveries.plan(edition_id, [], now=NOW) == 0  # nobody confirmed yet
    assert store.deliveries.planned(edition_id)
    assert store.deliveries.plan(edition_id, [(1, "s")], now=NOW) == 0
    assert store.deliveries.counts(edition_id)["queued"] == 0


def test_a_plan_that_fails_halfway_leaves_nothing_and_the_next_plan_is_whole(
    store: Store, edition_id: int
) -> None:
    good = [(n, "s") for n in range(1, 1501)]
    broken = [*good, (None, "s")]  # the second chunk of 1,000 fails (NOT NULL)
    with pytest.raises(StoreError):
        store.deliveries.plan(edition_id, broken, now=NOW)  # type: ignore[arg-type]
    assert not store.deliveries.planned(edition_id)
    assert sum(store.deliveries.counts(edition_id).values()) == 0  # not even the first 1,000
    assert store.deliveries.plan(edition_id, good, now=NOW) == 1500
    assert store.deliveries.planned(edition_id)


def test_two_senders_planning_at_once_plan_once(store: Store, edition_id: int) -> None:
    results: list[int] = []
    barrier = threading.Barrier(4)

    def sender(extra: int) -> None:
        barrier.wait()
        rows = [(n, "s") for n in range(1, 201)] + [(1000 + extra, "s")]
        for _ in range(50):  # SQLite may answer "database is locked": try again
            try:
                results.append(store.deliveries.plan(edition_id, rows, now=NOW))
                return
            except StoreError:
                continue

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 0, 0, 201]
    assert store.deliveries.counts(edition_id)["queued"] == 201


def test_existing_ledgers_count_as_planned_after_the_upgrade(store: Store) -> None:
    """Migration 0008: an edition with deliveries was planned when its first row came."""
    store.downgrade("0007")
    # as UTCDateTime writes it: text in UTC on SQLite, timestamptz on PostgreSQL
    at: object = "2026-11-25 09:00:00.000000" if store.dialect == "sqlite" else NOW
    with store.engine.begin() as conn:
        for n in (1, 2):
            conn.execute(
                sa.text(
                    "INSERT INTO editions (id, newsletter_id, title, intro, state, version,"
                    " created_at, created_by, updated_at, last_editor, sent_at)"
                    " VALUES (:id, 'weekly', 'T', '', :state, 1, :at, 'a', :at, 'a', :sent)"
                ),
                {"id": n, "state": "sent" if n == 1 else "approved", "at": at,
                 "sent": at if n == 1 else None},
            )  # fmt: skip
        conn.execute(
            sa.text(
                "INSERT INTO deliveries (edition_id, subscriber_id, segment_key, state, attempts,"
                " created_at, updated_at) VALUES (1, 7, 's', 'sent', 1, :at, :at)"
            ),
            {"at": at},
        )
    store.upgrade()
    assert store.deliveries.planned(1) and not store.deliveries.planned(2)
    assert store.deliveries.plan(1, [(7, "s"), (8, "s")], now=NOW) == 0
    assert store.deliveries.plan(2, [(8, "s")], now=NOW) == 1


# ---------------------------------------------------------------- sent_at is the first send's


def test_finishing_again_keeps_the_first_sent_at(store: Store, edition_id: int) -> None:
    approve_and_start(store, edition_id)
    first = store.editions.finish_sending(edition_id, actor="sender", now=NOW)
    assert (first.state, first.sent_at) == (EditionState.SENT, NOW)
    assert store.editions.finish_sending(edition_id, actor="sender", now=LATER).sent_at == NOW
    store.editions.transition(
        edition_id,
        from_states=(EditionState.SENT,),
        to_state=EditionState.SENDING,
        actor="anna",
        now=LATER,
    )  # staff: "Erneut senden"
    again = store.editions.finish_sending(edition_id, actor="sender", now=LATER)
    assert (again.state, again.sent_at) == (EditionState.SENT, NOW)
    [latest, *_] = store.editions.audit(edition_id)
    assert latest.action == "edition.sent" and latest.at == LATER
    assert "Erneuter Versand" in latest.detail
    draft = store.editions.create(
        "weekly", title="T", intro="", sections=[("A", [])], actor="anna", now=NOW
    )
    with pytest.raises(InvalidTransition):
        store.editions.finish_sending(draft.id, actor="sender", now=NOW)


def approve_and_start(store: Store, edition_id: int) -> None:
    for before, after in [
        (EditionState.DRAFT, EditionState.APPROVED),
        (EditionState.APPROVED, EditionState.SENDING),
    ]:
        store.editions.transition(
            edition_id, from_states=(before,), to_state=after, actor="t", now=NOW
        )


# ---------------------------------------------------------------- the sender's statements: indexes


def test_the_senders_statements_find_their_rows_through_an_index(
    store: Store, edition_id: int
) -> None:
    """No full scan of deliveries (it grows by one row per subscriber and edition): each
    statement of recover/claim/start/record/skip/release finds its rows by the primary key
    or ix_deliveries_claim. claim_token needs no index of its own."""
    other = store.editions.create(
        "weekly", title="U", intro="", sections=[("A", [])], actor="anna", now=NOW
    )
    store.deliveries.plan(other.id, [(n, "s") for n in range(1, 301)], now=NOW)
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 21)], now=NOW)
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "deliveries" in statement and not statement.lstrip().upper().startswith("EXPLAIN"):
            seen.append((statement, parameters[0] if executemany else parameters))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        store.deliveries.recover(edition_id, now=NOW)
        held = store.deliveries.claim(edition_id, None, limit=10, token="a", now=NOW)
        store.deliveries.release([held[-1].id], token="a", now=NOW)
        store.deliveries.skip([held[-2].id], token="a", reason="x", now=NOW)
        store.deliveries.start([d.id for d in held[:-2]], token="a", now=NOW)
        store.deliveries.record(
            [Outcome(d.id, DeliveryState.SENT, message_id="m") for d in held[:-2]],
            token="a",
            now=NOW,
        )
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    assert len(seen) >= 7
    for statement, _ in seen:  # both databases: the first column of an index is bound
        where = statement.split("WHERE", 1)[-1]
        assert re.search(r"deliveries\.(id|edition_id) (=|IN)", where), statement
    if store.dialect == "sqlite":  # SQLite's planner needs no statistics: ask it
        with store.engine.connect() as conn:
            for statement, parameters in seen:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)  # type: ignore[arg-type]
                plan = "\n".join(str(row[-1]) for row in rows)
                assert "SCAN deliveries" not in plan, f"{statement}\n{plan}"
                if statement.lstrip().upper().startswith("UPDATE") and "LIMIT" in statement:
                    # the claim: its rows in (segment_key, id) order from ix_deliveries_claim,
                    # not all queued rows read and sorted (migration 0028)
                    assert "ix_deliveries_claim" in plan, plan
                    assert "TEMP B-TREE" not in plan, plan


# ---------------------------------------------------------------- staff's decisions


def _ledger_edition(store: Store, state: EditionState) -> tuple[int, list[int]]:
    """An edition in `state` with deliveries: two unknown, one sent, one failed."""
    edition = store.editions.create(
        "weekly", title="KW", intro="", sections=[("A", [])], actor="t", now=NOW
    )
    store.editions.transition(
        edition.id, from_states=(EditionState.DRAFT,), to_state=state, actor="t", now=NOW
    )
    subs = []
    for address in ["a@x.de", "b@x.de", "c@x.de", "d@x.de"]:
        new = NewSubscriber(address, hash_of(address), Profile(), "v1", NOW)
        subs.append(store.subscribers.add(new, now=NOW).id)
    store.deliveries.plan(edition.id, [(s, "de-x") for s in subs], now=NOW)
    rows = store.deliveries.claim(edition.id, "de-x", limit=10, token="t1", now=NOW)
    store.deliveries.start([r.id for r in rows], token="t1", now=NOW)
    states = [DeliveryState.UNKNOWN, DeliveryState.UNKNOWN, DeliveryState.SENT]
    states.append(DeliveryState.FAILED)
    store.deliveries.record(
        [Outcome(r.id, s, error="x") for r, s in zip(rows, states, strict=True)],
        token="t1",
        now=NOW,
    )
    return edition.id, [r.id for r in rows]


def test_store_resolve_and_problems(store: Store) -> None:
    edition_id, ids = _ledger_edition(store, EditionState.SENT)
    problems = store.deliveries.problems(edition_id)
    assert [(p.delivery.id, p.email) for p in problems] == [
        (ids[0], "a@x.de"),
        (ids[1], "b@x.de"),
        (ids[3], "d@x.de"),
    ]  # unknown first, then failed
    later = NOW + dt.timedelta(minutes=5)
    with pytest.raises(InvalidInput):
        store.deliveries.resolve(edition_id, [ids[0], ids[2]], resend=True, actor="a", now=later)
    assert store.deliveries.counts(edition_id)["unknown"] == 2  # all or nothing
    done = store.deliveries.resolve(edition_id, [ids[0]], resend=True, actor="anna", now=later)
    assert (done.changed, done.resumed) == (1, True)
    assert store.editions.get(edition_id).state is EditionState.SENDING
    done = store.deliveries.resolve(edition_id, None, resend=False, actor="anna", now=later)
    assert (done.changed, done.resumed) == (1, False)
    counts = store.deliveries.counts(edition_id)
    assert (counts["queued"], counts["sent"], counts["unknown"]) == (1, 2, 0)
    actions = [e.action for e in store.editions.audit(edition_id)[:3]]
    assert actions == ["deliveries.sent", "edition.sending", "deliveries.resend"]
    with pytest.raises(EditionNotFound):
        store.deliveries.resolve(4242, None, resend=False, actor="a", now=later)


def test_store_resend_in_a_sending_edition_keeps_its_state(store: Store) -> None:
    edition_id, _ = _ledger_edition(store, EditionState.SENDING)
    done = store.deliveries.resolve(edition_id, None, resend=True, actor="anna", now=NOW)
    assert (done.changed, done.resumed) == (2, False)
    assert store.editions.get(edition_id).state is EditionState.SENDING
