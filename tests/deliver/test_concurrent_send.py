"""Requests to SendGrid in flight together (issue 16), on SQLite and PostgreSQL; and
the send that waits out a short database outage meanwhile.

The sender keeps up to `SendGridMailer.concurrency` requests out at once; the ledger is
written on the sender's own thread (claimed → sending before a request leaves, the
outcome after its answer). A 429 closes a gate every thread waits at. Proved through
sockets: `CountingPeer` holds requests until released (so "four at once" is a state the
test waits for, not a timing), `scripted` answers 429 or 503; waits are recorded, never
slept.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import jobs
from pipeline.bootstrap import Services, build_mailer
from pipeline.catalog import load_taxonomy
from pipeline.config import Settings
from pipeline.deliver.send import OUTAGE_PAUSES_S, SendProgress, SendReport
from pipeline.deliver.sendgrid import SendGridMailer, Waits
from pipeline.errors import StoreUnavailable
from pipeline.model import Batch, EditionState, Recipient
from pipeline.store import Store
from tests.deliver.conftest import RESET, CountingPeer, Reply, Scripted, Sleeps, at_ceiling
from tests.deliver.test_overlapping_senders import add_readers
from tests.deliver.test_send import BASE, make_edition
from tests.subscribers.conftest import make_settings
from tests.web.conftest import EC_DE, EP_EN, NOW, Clock, make_services

KEY = "SG.concurrent-test-key.abcdef"


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
    peer = CountingPeer(delays=(0.0, 0.02))
    yield peer
    peer.close()


@contextlib.contextmanager
def sending_meanwhile(
    services: Services, edition_id: int, peer: CountingPeer, **kw: Any
) -> Iterator[list[SendReport]]:
    """`jobs.send` on a thread of its own while the block looks at the peer; then the
    peer's held requests are released and the send's report is in the list."""
    outcome: list[SendReport] = []
    sender = threading.Thread(target=lambda: outcome.append(jobs.send(services, edition_id, **kw)))
    sender.start()
    try:
        yield outcome
    finally:
        peer.release()
        sender.join(120)


def test_four_requests_in_flight_at_once_and_everyone_once(
    services: Services, peer: CountingPeer
) -> None:
    receives = add_readers(services, n=300)
    edition_id, _ = make_edition(services)
    services.mailer = SendGridMailer(KEY, host=peer.url, concurrency=4, sleep=Sleeps())
    peer.hold(1, count=4)
    with sending_meanwhile(services, edition_id, peer) as outcome:
        # the four first requests are out together, none answered yet
        peer.wait(lambda p: len(p.held_all) == 4 and p.in_flight == 4)
        counts = services.store.deliveries.counts(edition_id)
        assert counts["sending"] == sum(len(r) for r in peer.held_all)  # started before they left
    [report] = outcome
    assert report.finished and report.sent == len(receives)
    assert peer.twice() == {} and set(peer.accepted) == receives
    assert services.store.editions.get(edition_id).state is EditionState.SENT
    assert len(peer.requests) > 4  # more segments than workers: the workers were reused


def test_eudigest_sendgrid_concurrency_bounds_the_requests_in_flight(
    services: Services, peer: CountingPeer, tmp_path: Path
) -> None:
    """EUDIGEST_SENDGRID_CONCURRENCY=3: three requests go out together, and while they
    are held a fourth never leaves; over the whole send never more than three at once."""
    configured = make_settings(
        tmp_path / "sendgrid",
        EUDIGEST_BASE_URL=BASE,
        EUDIGEST_MAIL_BACKEND="sendgrid",
        EUDIGEST_SENDGRID_HOST=peer.url,
        EUDIGEST_SENDGRID_CONCURRENCY="3",
        SENDGRID_API_KEY=KEY,
    )
    receives = add_readers(services, n=300)
    edition_id, _ = make_edition(services)
    services.mailer = build_mailer(configured)
    peer.hold(1, count=4)  # a fourth request would be held too, and counted
    with sending_meanwhile(services, edition_id, peer, batch_size=40) as outcome:
        peer.wait(lambda p: len(p.held_all) == 3 and p.in_flight == 3)
        counts = services.store.deliveries.counts(edition_id)
        # nothing more was started: a start waits for a free worker
        assert counts["sending"] == sum(len(r) for r in peer.held_all)
    [report] = outcome
    assert report.finished and report.sent == len(receives)
    assert peer.most_in_flight == 3 and len(peer.requests) > 10
    assert peer.twice() == {} and set(peer.accepted) == receives


def test_a_slow_request_holds_only_its_own_worker(services: Services, peer: CountingPeer) -> None:
    """SendGrid slow for one request (it would take 30 s): the other workers go on
    sending meanwhile, and the slow one's readers get it once when it is answered."""
    receives = add_readers(services, n=300)
    edition_id, _ = make_edition(services)
    services.mailer = SendGridMailer(KEY, host=peer.url, concurrency=4, sleep=Sleeps())
    peer.hold(2)  # the second request: slow
    with sending_meanwhile(services, edition_id, peer, batch_size=40) as outcome:
        # ten requests answered after it, while it is still out
        peer.wait(lambda p: p.held is not None and p.answered >= 10 and p.in_flight >= 1)
        assert not peer.accepted.keys() & set(peer.held or ())
    [report] = outcome
    assert report.finished and report.sent == len(receives)
    assert peer.twice() == {} and set(peer.accepted) == receives


def test_a_connection_reset_mid_request_leaves_its_readers_unknown_and_the_others_sent(
    services: Services, peer: CountingPeer
) -> None:
    """The connection of one request is reset after SendGrid read it, while three other
    requests are out. Whether SendGrid sent it cannot be known: its readers are unknown
    (for staff to decide), never sent again silently; the requests in flight and the rest
    of the edition go out once."""
    receives = add_readers(services, n=300)
    edition_id, _ = make_edition(services)
    services.mailer = SendGridMailer(KEY, host=peer.url, concurrency=4, sleep=Sleeps())
    peer.hold(1, count=3)  # the first three requests are out
    answer = peer.answer
    peer.answer = lambda n: (RESET, {}) if n == 4 else answer(n)
    with sending_meanwhile(services, edition_id, peer, batch_size=40) as outcome:
        peer.wait(lambda p: len(p.reset) == 1 and p.in_flight == 3)  # reset beside three
    [report] = outcome
    [lost] = peer.reset
    assert report.finished
    assert report.unknown == len(lost) and report.sent == len(receives) - len(lost)
    asked = Counter(email for request in peer.requests for email in request)
    assert all(asked[email] == 1 for email in lost)  # never sent again
    assert peer.twice() == {} and set(peer.accepted) == receives - set(lost)
    counts = services.store.deliveries.counts(edition_id)
    assert counts["unknown"] == len(lost) and counts["sending"] == counts["queued"] == 0


def one(n: int) -> Batch:
    headers = {
        "List-Unsubscribe": f"<{BASE}/u/{n}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return Batch(
        subject="Ihr Digest",
        text="Text",
        html="<p>Text</p>",
        from_email="digest@region-stuttgart.example",
        recipients=(Recipient(f"leser{n}@kommune.example.org", headers=headers),),
    )


def in_thread(fn: Callable[[], object]) -> None:
    """Run `fn` on a thread of its own (the sender's workers are threads) and wait."""
    worker = threading.Thread(target=fn)
    worker.start()
    worker.join(60)


def test_a_429_slows_every_worker_down_not_only_the_one_told(
    scripted: Callable[[list[Reply]], Scripted],
) -> None:
    server = scripted([(429, {"Retry-After": "5"}), (202, {})])
    sleeps = Sleeps()
    mailer = SendGridMailer(KEY, host=server.url, sleep=sleeps, monotonic=lambda: 100.0)
    in_thread(lambda: mailer.send_batch(one(1)))  # told: waits 5 s, then sent
    in_thread(lambda: mailer.send_batch(one(2)))  # not told: waits at the gate all the same
    assert sleeps == [5.0, 5.0]
    assert [e.status for e in server.exchanges] == [429, 202, 202]


def test_a_429_while_another_request_is_out_makes_that_workers_next_request_wait(
    peer: CountingPeer,
) -> None:
    """Two workers at once: B's request is out when A is told 429 (Retry-After: 5). B's
    request is answered as usual, and B's next request waits at the gate like A's retry;
    nothing is sent twice."""
    sleeps = Sleeps()
    mailer = SendGridMailer(
        KEY, host=peer.url, concurrency=2, sleep=sleeps, monotonic=lambda: 100.0
    )
    answer = peer.answer
    peer.answer = lambda n: (429, {"Retry-After": "5"}) if n == 2 else answer(n)
    peer.hold(1)  # B's first request stays out
    worker_b = threading.Thread(
        target=lambda: [mailer.send_batch(one(n)) for n in (1, 2)]  # one after the other
    )
    worker_b.start()
    try:
        peer.wait(lambda p: p.held is not None)
        in_thread(lambda: mailer.send_batch(one(3)))  # A: 429, waits 5 s, sent
        assert sleeps == [5.0] and mailer.gate.closed == 1
    finally:
        peer.release()
        worker_b.join(60)
    assert sleeps == [5.0, 5.0]  # B's second request waited at the gate too
    assert [r[0] for r in peer.requests] == [
        "leser1@kommune.example.org",  # B, held
        "leser3@kommune.example.org",  # A, 429
        "leser3@kommune.example.org",  # A again, after 5 s
        "leser2@kommune.example.org",  # B's next, after the gate
    ]
    assert peer.twice() == {}


def test_a_503_without_retry_after_makes_only_its_own_worker_wait(
    scripted: Callable[[list[Reply]], Scripted],
) -> None:
    server = scripted([(503, {}), (202, {})])
    sleeps = Sleeps()
    mailer = SendGridMailer(
        KEY, host=server.url, sleep=sleeps, monotonic=lambda: 100.0, jitter=lambda c: c
    )
    in_thread(lambda: mailer.send_batch(one(1)))
    in_thread(lambda: mailer.send_batch(one(2)))
    assert sleeps == [0.2]  # the backoff of the one that failed; the gate stayed open
    assert [e.status for e in server.exchanges] == [503, 202, 202]


@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, None), (503, None), (429, "2"), (503, "1")]
)
def test_a_storm_with_requests_in_flight_stops_within_the_shared_retry_budget(
    services: Services, peer: CountingPeer, status: int, retry_after: str | None
) -> None:
    """Every request refused: the four workers share one retry budget (10 + 20 % of the
    requests), no request is tried more than six times, nobody is given up, and the run
    stops with everyone still queued for the next one (exit 3 in the CLI). With a
    Retry-After, every retry waits the time asked and closes the gate for all four
    workers (their waits there are what is left of it)."""
    receives = add_readers(services, n=300)
    edition_id, _ = make_edition(services)
    sleeps = Sleeps()
    mailer = SendGridMailer(KEY, host=peer.url, concurrency=4, sleep=sleeps)
    services.mailer = mailer
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    peer.answer = lambda n: (status, headers)
    report = jobs.send(services, edition_id)
    if retry_after is not None:
        assert mailer.gate.closed == mailer.backoff.retries  # each retry closed the gate
        assert sleeps.count(float(retry_after)) >= mailer.backoff.retries
        assert min(sleeps) > 0 and max(sleeps) == float(retry_after)
    assert not report.finished and report.stopped and f"answered {status}" in report.stopped
    assert (report.sent, report.failed, report.unknown) == (0, 0, 0)
    assert report.queued == len(receives)
    tries = Counter(peer.requests)
    assert max(tries.values()) <= 6, tries
    assert mailer.backoff.requests == len(tries)  # every request reached the peer
    assert sum(tries.values()) - len(tries) == mailer.backoff.retries
    # the last retry was taken while fewer than 10 + 20 % of the requests had been retried
    assert mailer.backoff.retries - 1 < 10 + 0.2 * mailer.backoff.requests


# ---------------------------------------------------------------- a stop ends the waits


def _until(condition: Callable[[], bool]) -> None:
    """Until `condition` holds (a state of other threads), or fail after a minute."""
    pause = threading.Event()
    for _ in range(6000):
        if condition():
            return
        pause.wait(0.01)
    raise AssertionError("the state was never reached")


def test_an_interrupt_ends_real_waits_under_way_and_not_later_ones() -> None:
    waits = Waits()  # the clock's own waits, an hour long
    slept: list[bool] = []
    sleeper = threading.Thread(target=lambda: slept.append(waits.sleep(3600.0)))
    sleeper.start()
    _until(lambda: waits.waiting == 1)
    waits.interrupt()
    sleeper.join(60)
    assert slept == [False] and waits.waiting == 0  # cut short, and said so
    assert waits.sleep(0.0) is True  # a wait begun after the interrupt is not cut


def test_requests_waiting_to_be_retried_give_up_unsent_when_interrupted(
    peer: CountingPeer,
) -> None:
    """Two requests refused with 503 wait 30 s each (real waits) to be retried; the
    sender stops meanwhile: both give up now, not retried, neither sent nor unknown."""
    peer.answer = lambda n: (503, {})
    mailer = SendGridMailer(KEY, host=peer.url, concurrency=2, backoff_s=30.0, jitter=at_ceiling)
    results: list[list[object]] = []
    workers = [
        threading.Thread(target=lambda n=n: results.append(mailer.send_batch(one(n))))
        for n in (1, 2)
    ]
    for w in workers:
        w.start()
    _until(lambda: mailer.waiting == 2)
    mailer.interrupt()
    for w in workers:
        w.join(60)
    assert len(peer.requests) == 2  # neither was retried
    for [result] in results:
        assert not (result.ok or result.permanent or result.unknown)  # type: ignore[attr-defined]
        assert "not retried: the send stopped" in result.error  # type: ignore[attr-defined]


def test_a_stopping_send_does_not_wait_out_the_backoff_of_its_other_requests(
    services: Services, peer: CountingPeer
) -> None:
    """The budget has room for one retry: the first refused request waits 30 s (real
    waits) to take it, the next refused one finds the budget spent and the run stops.
    The stop ends the first one's wait: it is not retried, and everyone stays queued."""
    receives = add_readers(services, n=300)
    edition_id, _ = make_edition(services)
    mailer = SendGridMailer(
        KEY,
        host=peer.url,
        concurrency=4,
        backoff_s=30.0,
        jitter=at_ceiling,
        retry_minimum=1,
        retry_ratio=0.0,
    )
    services.mailer = mailer
    peer.answer = lambda n: (503, {})
    report = jobs.send(services, edition_id)
    assert not report.finished and report.stopped and "too many failures" in report.stopped
    assert (report.sent, report.failed, report.unknown) == (0, 0, 0)
    assert report.queued == len(receives)
    tries = Counter(peer.requests)
    assert mailer.backoff.retries == 1 and max(tries.values()) == 1  # the retry never left


# ---------------------------------------------------------------- progress in the log


def _timed_by_the_peer(services: Services, peer: CountingPeer) -> tuple[set[str], int]:
    """300 readers and an edition, sent one request at a time; each answer of the peer
    moves the send's clock on by 4 s. The readers who receive it, and the edition."""
    receives = add_readers(services, n=300)
    edition_id, _ = make_edition(services)
    clock = Clock(NOW)
    services.clock = clock

    def answer(n: int) -> tuple[int, dict[str, str]]:
        clock.advance(seconds=4)
        return 202, {"X-Message-Id": f"m{n}"}

    peer.answer = answer
    services.mailer = SendGridMailer(KEY, host=peer.url, concurrency=1, sleep=Sleeps())
    return receives, edition_id


def test_a_long_send_logs_how_far_it_is_and_the_time_left(
    services: Services, peer: CountingPeer, caplog: pytest.LogCaptureFixture
) -> None:
    """Every answer of the peer moves the send's clock on by 4 s: every 10 s of it the
    log says how many of the edition's deliveries are done, at what pace, and how long
    the rest will take."""
    receives, edition_id = _timed_by_the_peer(services, peer)
    caplog.set_level(logging.INFO, logger="eudigest.deliver")
    told: list[SendProgress] = []  # the command line's status at a terminal
    report = jobs.send(services, edition_id, progress=told.append)
    assert report.finished and report.sent == len(receives)
    shown = re.compile(
        rf"edition {edition_id}: (\d+) of (\d+) done \((\d+) %\), (\d+) sent; "
        r"(\d+)/s(, about (\d+ s|\d+ min( \d+ s)?) left)?"
    )
    lines = [m for r in caplog.records if (m := shown.fullmatch(r.getMessage()))]
    assert len(lines) >= 2, [r.getMessage() for r in caplog.records]
    done = [int(m[1]) for m in lines]
    assert done == sorted(done) and all(int(m[2]) == len(receives) for m in lines)
    assert all(int(m[3]) == 100 * int(m[1]) // len(receives) for m in lines)
    assert all(int(m[5]) > 0 for m in lines)  # a pace once something was done
    assert all((m[6] is None) == (m[1] == m[2]) for m in lines)  # time left until done
    assert [p.line() for p in told] == [m[0] for m in lines]  # told what the log says


def test_the_progress_line_reads_as_an_operator_expects() -> None:
    assert SendProgress(7, done=45_000, total=100_000, sent=44_870, per_second=1500.0).line() == (
        "edition 7: 45,000 of 100,000 done (45 %), 44,870 sent; 1,500/s, about 37 s left"
    )
    assert SendProgress(7, done=1_000, total=100_000, sent=990, per_second=10.0).line() == (
        "edition 7: 1,000 of 100,000 done (1 %), 990 sent; 10/s, about 2 h 45 min left"
    )
    assert SendProgress(7, done=0, total=10, sent=0, per_second=0.0).line() == (
        "edition 7: 0 of 10 done (0 %), 0 sent"  # no pace yet
    )
    assert SendProgress(7, done=10, total=10, sent=9, per_second=2.0).line() == (
        "edition 7: 10 of 10 done (100 %), 9 sent; 2/s"
    )


def test_a_progress_count_the_database_refuses_does_not_stop_the_send(
    services: Services, peer: CountingPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The progress line is only a report: when its count fails (the database away for a
    moment), the send goes on and finishes."""
    receives, edition_id = _timed_by_the_peer(services, peer)
    counts = services.store.deliveries.counts
    calls: list[int] = []

    def flaky(edition: int) -> dict[str, int]:
        calls.append(edition)
        if len(calls) in (2, 3):  # the first progress counts after the start
            raise StoreUnavailable("counting deliveries: database unavailable")
        return counts(edition)

    monkeypatch.setattr(services.store.deliveries, "counts", flaky)
    told: list[SendProgress] = []
    report = jobs.send(services, edition_id, progress=told.append)
    assert report.finished and report.sent == len(receives)
    assert len(calls) > 3 and told  # it counted again later, and said so


# ---------------------------------------------------------------- the database away a moment
#
# Each step of the send loop that meets an unreachable database is tried again after 1, 2,
# 4 and 8 s (`deliver.send.OUTAGE_PAUSES_S`; recorded here, never slept). The outage is
# put into one step of the ledger at a time, while requests are in flight, in two ways:
# refused (the step fails before it reaches the database: a connection refused) and lost
# answer (the step commits, then its answer is lost: the connection drops as the COMMIT is
# acknowledged). The retry must not claim a second batch under one token, nor take started
# rows for stolen ones (they would stay `sending`, then turn unknown, though no request
# ever left with them). The real outage of a whole process (PostgreSQL behind a TCP proxy
# that is cut and mended) is in test_exit_codes.py.

BATCH = 40  # several claims, each of whole segments (or of 40 rows of a bigger one)


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
