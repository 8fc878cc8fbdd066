"""The correction notices' ledger (ADR 0009): claims never overlap, recovery touches only
the rows of a process that is gone, a returning sender's answer wins over `unknown`."""

from __future__ import annotations

import datetime as dt

from pipeline.model import (
    CorrectionChange,
    CorrectionDelivery,
    CorrectionField,
    DeliveryState,
    EditionState,
    NoticeState,
    Outcome,
    ProcessRef,
)
from pipeline.store import Store
from tests.web.conftest import EC_DE, EP_EN, NOW, seed_items

LIVE = ProcessRef(host="elsewhere", pid=1, key="boot/ns/1")  # never known dead here
LEASE = NOW + dt.timedelta(seconds=60)


def correction(
    store: Store, readers: int = 5, delivery: CorrectionDelivery = CorrectionDelivery.MAIL
) -> int:
    store.sources.register([EC_DE, EP_EN], now=NOW)
    ids = seed_items(store).ids
    edition = store.editions.create(
        "weekly", title="KW 48", intro="", sections=[("A", [ids["call"]])], actor="anna", now=NOW
    )
    for frm, to in (
        (EditionState.DRAFT, EditionState.APPROVED),
        (EditionState.APPROVED, EditionState.SENDING),
        (EditionState.SENDING, EditionState.SENT),
    ):
        store.editions.transition(edition.id, from_states=(frm,), to_state=to, actor="x", now=NOW)
    made = store.corrections.create(
        edition_id=edition.id,
        item_id=ids["call"],
        changes=[CorrectionChange(CorrectionField.HEADLINE, "alt", "neu")],
        withdrawn=False,
        reason="Falsch.",
        delivery=delivery,
        receivers=range(100, 100 + readers),
        actor="anna",
        now=NOW,
    )
    assert made.receivers == readers
    return made.id


def states(store: Store, cid: int) -> dict[str, int]:
    counts = store.corrections.counts(cid)
    return {k: v for k, v in counts.items() if v and k != "reported"}


def test_two_claims_never_take_the_same_notice(store: Store) -> None:
    cid = correction(store)
    a = store.corrections.claim(cid, limit=3, token="a:1", process=LIVE, lease_until=LEASE, now=NOW)
    b = store.corrections.claim(cid, limit=3, token="b:1", process=LIVE, lease_until=LEASE, now=NOW)
    assert len(a) == 3 and len(b) == 2
    assert not {n.id for n in a} & {n.id for n in b}
    assert (
        store.corrections.claim(cid, limit=3, token="c:1", process=LIVE, lease_until=LEASE, now=NOW)
        == []
    )


def test_recovery_leaves_a_live_senders_rows_and_takes_back_a_gone_ones(store: Store) -> None:
    cid = correction(store, readers=4)
    rows = store.corrections.claim(
        cid, limit=4, token="a:1", process=LIVE, lease_until=LEASE, now=NOW
    )
    started = store.corrections.start([rows[0].id, rows[1].id], token="a:1", now=NOW)
    assert started == {rows[0].id, rows[1].id}

    assert store.corrections.recover(cid, now=NOW) == (0, 0)  # within its lease: alive
    assert store.corrections.recover(cid, now=NOW, dead=[ProcessRef("x", 2, "k")]) == (0, 0)
    later = LEASE + dt.timedelta(seconds=1)
    assert store.corrections.recover(cid, now=later) == (
        2,
        2,
    )  # claimed → queued, sending → unknown
    assert states(store, cid) == {"queued": 2, "unknown": 2}
    assert store.corrections.start([rows[2].id], token="a:1", now=later) == set()  # not ours now

    # the frozen sender comes back with the answer for its in-flight rows: it wins
    store.corrections.record(
        [Outcome(rows[0].id, DeliveryState.SENT, message_id="m1")], token="a:1", now=later
    )
    assert states(store, cid) == {"queued": 2, "unknown": 1, "sent": 1}


def test_a_dead_process_is_taken_back_at_once(store: Store) -> None:
    cid = correction(store, readers=2)
    gone = ProcessRef(host="here", pid=4242, key="boot/ns/99")
    rows = store.corrections.claim(
        cid, limit=2, token="g:1", process=gone, lease_until=LEASE, now=NOW
    )
    store.corrections.start([rows[0].id], token="g:1", now=NOW)
    assert store.corrections.holders(cid) == [gone]
    assert store.corrections.recover(cid, now=NOW, dead=[gone]) == (1, 1)
    assert store.corrections.pending() == [cid]


def test_next_digest_notices_wait_and_are_not_mailed(store: Store) -> None:
    cid = correction(store, readers=3, delivery=CorrectionDelivery.NEXT)
    assert states(store, cid) == {NoticeState.WAITING.value: 3}
    assert store.corrections.pending() == []
