"""A send rides out a short database outage (issue 16: "the database gone for ten
seconds in the middle of a send"), on SQLite and PostgreSQL.

Each step of the send loop that meets an unreachable database is tried again after 1, 2,
4 and 8 s (`deliver.send.OUTAGE_PAUSES_S`); the pauses are recorded here, never slept.
The outage is put into one step of the ledger at a time, while requests are in flight
to the counting SendGrid stand-in, in two ways:

- refused: the step fails before it reaches the database (a connection refused);
- lost answer: the step commits, then its answer is lost (the connection drops as the
  COMMIT is acknowledged). The retry must not claim a second batch under one token, nor
  take started rows for stolen ones (they would stay `sending`, then turn unknown,
  though no request ever left with them).

Witnesses: the peer (nobody twice, everyone once) and the ledger (nothing unknown,
nothing left claimed or sending). The real outage of a whole process (PostgreSQL behind
a TCP proxy that is cut and mended) is in test_exit_codes.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.catalog import load_taxonomy
from pipeline.config import Settings
from pipeline.deliver.send import OUTAGE_PAUSES_S
from pipeline.deliver.sendgrid import SendGridMailer
from pipeline.errors import StoreUnavailable
from pipeline.model import EditionState
from pipeline.store import Store
from tests.deliver.conftest import CountingPeer, Sleeps
from tests.deliver.test_overlapping_senders import add_readers
from tests.deliver.test_send import BASE, make_edition
from tests.subscribers.conftest import make_settings
from tests.web.conftest import EC_DE, EP_EN, NOW, Clock, make_services

KEY = "SG.outage-test-key.abcdef"
BATCH = 40  # several claims, each of whole segments (or of 40 rows of a bigger one)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)


@pytest.fixture
def services(settings: Settings, store: Store) -> Iterator[Services]:
    services = make_services(settings, Clock())
    services.store.close()
    services.store = store
    store.topics.sync(load_taxonomy(settings.taxonomy_path))
    store.sources.register([EC_DE, EP_EN], now=NOW)
    yield services


@pytest.fixture
def peer() -> Iterator[CountingPeer]:
    peer = CountingPeer(delays=(0.0, 0.01))
    yield peer
    peer.close()


class Outage:
    """Wraps one method of the deliveries store: from its `at`-th call on, `calls` calls
    fail with StoreUnavailable; `lost`: each of them runs first (commits), then fails."""

    def __init__(self, original: Callable[..., Any], *, at: int, calls: int, lost: bool) -> None:
        self.original, self.at, self.calls, self.lost = original, at, calls, lost
        self.seen = 0
        self.failed = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.seen += 1
        if self.seen < self.at or self.failed >= self.calls:
            return self.original(*args, **kwargs)
        self.failed += 1
        if self.lost:
            self.original(*args, **kwargs)
        raise StoreUnavailable("database unavailable: connection to server lost")


def outage_in(services: Services, monkeypatch: pytest.MonkeyPatch, step: str, **kw: Any) -> Outage:
    deliveries = services.store.deliveries
    outage = Outage(getattr(deliveries, step), **kw)
    monkeypatch.setattr(deliveries, step, outage)
    return outage


def sending(services: Services, peer: CountingPeer) -> tuple[set[str], int]:
    """300 readers, an edition, and four requests in flight at a time."""
    receives = add_readers(services, n=300)
    edition_id, _ = make_edition(services)
    services.mailer = SendGridMailer(KEY, host=peer.url, concurrency=4, sleep=Sleeps())
    return receives, edition_id


def assert_everyone_once(
    services: Services, peer: CountingPeer, receives: set[str], edition_id: int, skipped: int = 0
) -> None:
    assert peer.twice() == {}
    assert set(peer.accepted) == receives
    counts = services.store.deliveries.counts(edition_id)
    assert counts["sent"] == len(receives) and counts["skipped"] == skipped
    assert counts["unknown"] == counts["claimed"] == counts["sending"] == counts["queued"] == 0
    assert services.store.editions.get(edition_id).state is EditionState.SENT


@pytest.mark.parametrize(
    ("step", "lost"),
    [
        ("claim", False),
        ("claim", True),  # the batch was claimed: the retry takes it, not a second one
        ("start_many", False),
        ("start_many", True),  # the rows moved to sending: the retry sends them
        ("record_many", False),
        ("record_many", True),  # recorded twice: each row changes once
        ("receiving", False),
        ("skip", False),
        ("skip", True),
        ("held", False),
        ("plan", False),
        ("plan", True),
    ],
)
def test_a_step_that_meets_a_short_outage_is_tried_again_and_everyone_gets_it_once(
    services: Services,
    peer: CountingPeer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    step: str,
    lost: bool,
) -> None:
    receives, edition_id = sending(services, peer)
    if step == "skip":  # someone of the first claim leaves during the send: skipped
        left: list[int] = []
        receiving = services.store.deliveries.receiving

        def leaving(newsletter_id: str, ids: Any) -> set[int]:
            current = receiving(newsletter_id, ids)
            if not left:
                left.append(min(current))
            return current - set(left)

        monkeypatch.setattr(services.store.deliveries, "receiving", leaving)
    # the third call of most steps is mid-send, with requests in flight; `held` and
    # `plan` are called once or twice in all. Refused: three calls in a row (1 + 2 + 4 s
    # of pauses); a lost answer: once (its retry may not call the step again)
    at = 1 if step in ("held", "plan", "skip") else 3
    calls = 1 if lost else 3
    outage = outage_in(services, monkeypatch, step, at=at, calls=calls, lost=lost)
    sleeps = Sleeps()
    caplog.set_level(logging.WARNING, logger="eudigest.deliver")

    report = jobs.send(services, edition_id, batch_size=BATCH, sleep=sleeps)

    if step == "skip":
        receives.discard(services.store.subscribers.get(left[0]).email)
    assert outage.failed == calls
    assert sleeps == [1.0, 2.0, 4.0][:calls]  # the outage's pauses, nothing else
    assert report.finished and report.sent == len(receives)
    assert_everyone_once(services, peer, receives, edition_id, skipped=int(step == "skip"))
    said = [r.getMessage() for r in caplog.records if "yet" in r.getMessage()]
    assert len(said) == calls and all("again in" in line for line in said), said


def test_claims_whose_answers_are_lost_take_their_own_batch_and_never_a_second(
    services: Services, peer: CountingPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every claim's answer is lost once: each retry finds the batch its first try took
    and claims nothing more (a claim of more than BATCH rows, or of a segment cut short
    for another sender, would break the one-request-per-segment bound)."""
    receives, edition_id = sending(services, peer)
    deliveries = services.store.deliveries
    claim = deliveries.claim
    tokens: list[str] = []

    def lossy(*args: Any, token: str, **kw: Any) -> Any:
        rows = claim(*args, token=token, **kw)
        if token not in tokens:  # the first try of each claim: committed, answer lost
            tokens.append(token)
            raise StoreUnavailable("database unavailable: server closed the connection")
        return rows

    monkeypatch.setattr(deliveries, "claim", lossy)
    sleeps = Sleeps()
    report = jobs.send(services, edition_id, batch_size=BATCH, sleep=sleeps)
    assert len(tokens) > 3 and sleeps == [1.0] * len(tokens)
    assert report.finished
    # a second claim under the token would have joined two batches: a request of more
    # than a claim's rows (the biggest segment has more readers than BATCH)
    assert max(len(r) for r in peer.requests) == BATCH
    assert_everyone_once(services, peer, receives, edition_id)


def test_an_outage_longer_than_the_pauses_stops_the_send_and_the_next_run_finishes(
    services: Services, peer: CountingPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    receives, edition_id = sending(services, peer)
    outage = outage_in(
        services, monkeypatch, "claim", at=3, calls=len(OUTAGE_PAUSES_S) + 1, lost=False
    )
    sleeps = Sleeps()
    with pytest.raises(StoreUnavailable):
        jobs.send(services, edition_id, batch_size=BATCH, sleep=sleeps)
    assert sleeps == list(OUTAGE_PAUSES_S)  # 15 s in all, then the send stops
    # the requests in flight were settled before it stopped: nothing unknown
    counts = services.store.deliveries.counts(edition_id)
    assert counts["unknown"] == counts["sending"] == 0
    assert 0 < counts["sent"] < len(receives)

    monkeypatch.setattr(services.store.deliveries, "claim", outage.original)
    report = jobs.send(services, edition_id, batch_size=BATCH, sleep=Sleeps())
    assert report.finished
    assert_everyone_once(services, peer, receives, edition_id)
