"""The delivery ledger on SQLite and PostgreSQL: never two rows, never two senders."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from pipeline.model import Newsletter, Office
from pipeline.store import Store
from pipeline.store.deliveries import DeliveryState, Outcome

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


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
