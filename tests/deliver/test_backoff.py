"""Retries of transient SendGrid failures: full jitter, a ceiling that grows with failures
in a row across requests, and a retry budget, so that a steady error rate cannot multiply
the time of a send (issue 10: a 3 s send took 449 s with a fixed 2 s backoff).

The pure `Backoff` is tested with a seeded random source; the mailer against the
counting stand-in, which fails every n-th request, with recorded (never real) waits.
"""

from __future__ import annotations

import random

from pipeline.deliver.sendgrid import Backoff, SendGridMailer
from tests.deliver.conftest import CountingPeer, Sleeps
from tests.deliver.test_sendgrid_peer import batch


def test_waits_are_random_below_a_ceiling_that_doubles_with_each_failure_in_a_row() -> None:
    rng = random.Random(7)
    backoff = Backoff(base=0.5, cap=4.0, jitter=lambda top: rng.uniform(0.0, top))
    waits, ceilings = [], []
    backoff.requested()
    for _ in range(6):
        backoff.failed()
        ceilings.append(backoff.ceiling())
        waits.append(backoff.delay(None))
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]  # capped
    assert all(0.0 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert len(set(waits)) == len(waits)  # jittered: no two senders retry in step


def test_a_success_of_any_request_brings_the_ceiling_down_again() -> None:
    backoff = Backoff(base=0.5)
    for _ in range(3):
        backoff.requested()
        backoff.failed()
    assert backoff.ceiling() == 2.0
    backoff.succeeded()
    backoff.requested()
    backoff.failed()
    assert backoff.ceiling() == 0.5  # a steady, low error rate keeps the waits short


def test_retry_after_is_honoured_as_it_is() -> None:
    backoff = Backoff(max_wait=120.0, jitter=lambda top: top)
    assert backoff.delay(7.0) == 7.0
    assert backoff.delay(300.0) == 120.0


def test_the_budget_allows_retries_for_a_fifth_of_the_requests_plus_ten() -> None:
    backoff = Backoff(ratio=0.2, minimum=10)
    retried = 0
    for _ in range(100):
        backoff.requested()
        backoff.failed()
        if backoff.may_retry():
            backoff.delay(None)
            retried += 1
    assert retried == 30  # 10 + 0.2 × 100


def fails_every(n: int) -> CountingPeer:
    peer = CountingPeer(delays=(0.0, 0.0))
    peer.answer = lambda k: (503, {}) if k % n == 0 else (202, {"X-Message-Id": f"m{k}"})
    return peer


def test_a_steady_error_rate_costs_short_waits_not_a_hundredfold_send() -> None:
    """Every 6th request answers 503 (17 %): each is retried at once after a wait below
    0.2 s; 200 requests cost 39 retries and at most 39 × 0.2 s of waits, where the fixed
    2 s backoff waited 78 s (and the probe's sends lasted 150 times longer than without errors)."""
    peer = fails_every(6)
    sleeps = Sleeps()
    mailer = SendGridMailer("SG.test", host=peer.url, sleep=sleeps)
    try:
        results = [mailer.send_batch(batch(1, first=i))[0] for i in range(200)]
    finally:
        peer.close()
    assert all(r.ok for r in results)
    assert len(peer.accepted) == 200 and peer.twice() == {}
    assert len(sleeps) == mailer.backoff.retries == len(peer.requests) // 6 == 39
    assert max(sleeps) <= 0.2 and sum(sleeps) <= 39 * 0.2


def test_past_the_budget_a_failure_is_left_to_the_next_run() -> None:
    """Every other request fails: retries stop at 10 + 20 % of the requests; the rest
    comes back transient (the sender stops, the rows stay queued)."""
    peer = fails_every(2)
    sleeps = Sleeps()
    mailer = SendGridMailer("SG.test", host=peer.url, sleep=sleeps, jitter=lambda top: top)
    try:
        results = [mailer.send_batch(batch(1, first=i))[0] for i in range(100)]
    finally:
        peer.close()
    given_up = [r for r in results if not r.ok]
    assert given_up and all(not r.permanent and not r.unknown for r in given_up)
    assert "too many failures for now" in (given_up[0].error or "")
    assert mailer.backoff.retries <= 10 + 0.2 * 100
    assert peer.twice() == {}
