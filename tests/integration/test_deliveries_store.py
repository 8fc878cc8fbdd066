"""The delivery ledger on SQLite and PostgreSQL: never two rows, never two senders."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
import sqlalchemy as sa

from pipeline.errors import EditionNotFound, InvalidTransition, StoreError
from pipeline.model import EditionState, Newsletter, Office
from pipeline.store import Store
from pipeline.store.deliveries import DeliveryState, Outcome

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


def test_a_crash_before_the_request_requeues_after_it_is_unknown(
    store: Store, edition_id: int
) -> None:
    store.deliveries.plan(edition_id, [(n, "s") for n in range(1, 11)], now=NOW)
    first = store.deliveries.claim(edition_id, "s", limit=5, token="a", now=NOW)
    store.deliveries.start([d.id for d in first], token="a", now=NOW)  # request left
    second = store.deliveries.claim(edition_id, "s", limit=5, token="b", now=NOW)
    # ... and both senders die here. A new run recovers:
    assert store.deliveries.recover(edition_id, now=NOW) == (5, 5)
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
    or ix_deliveries_edition_state. claim_token needs no index of its own."""
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
