"""Exactly once when senders overlap, crash or freeze (issue 10), on SQLite and PostgreSQL.

Every sender here is the real console script (`eudigest send`, `eudigest send-due`) in a
process of its own, sending through the SendGrid client to a loopback stand-in that
counts every recipient it accepts (`CountingPeer`) and answers each request after a
random 0.1–0.4 s (the probe of the issue: 0.3–1 s). The edition goes to 2,103 of 2,400
confirmed subscribers in 12 requests (a claim takes 1,000 rows, whole segments), so that
two senders really share the queue.

What must hold in every case: the peer accepted nobody twice, and every subscriber who
receives something exactly once (a delivery the ledger calls `unknown` is one whose
request was in flight when its sender died: the peer may have it, never twice). The
moments that matter are reached by waiting for conditions (a request held at the peer,
rows in the ledger, a sender marked lost), never by sleeping.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.model import DeliveryState, EditionState, NewSubscriber, Profile, SenderOutcome
from pipeline.store import Store
from subscribers.addresses import hash_of
from tests.conftest import _pg_store
from tests.deliver.conftest import CountingPeer
from tests.deliver.test_send import BASE, crash, make_edition
from tests.subscribers.conftest import environ, make_settings
from tests.web.conftest import NOW, Clock, make_services

EUDIGEST = str(Path(sys.executable).with_name("eudigest"))
KEY = "SG.overlap-test-key.abcdef"
READERS = 2400
TOPIC_CHOICES = ((), ("energy_climate",), ("funding",), ("cohesion",), ("mobility",),
                 ("energy_climate", "funding"), ("funding", "cohesion"), ("digital",))  # fmt: skip
WANTS = {  # topic → items of make_edition's edition that carry it
    "energy_climate": {"hydrogen"},
    "mobility": {"hydrogen"},
    "funding": {"call"},
    "cohesion": {"cohesion"},
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'eudigest.db'}"
        return
    for store in _pg_store():
        yield store.engine.url.render_as_string(hide_password=False)


@dataclass
class Setup:
    settings: Settings
    services: Services
    env: dict[str, str]
    edition_id: int
    receives: set[str]  # who gets something (everyone else is skipped: nothing to receive)

    @property
    def store(self) -> Store:
        return self.services.store


def add_readers(services: Services, n: int = READERS, seed: int = 10) -> set[str]:
    """`n` confirmed subscribers of the weekly letter with a seeded mix of topics (8 %
    English); returns the addresses that receive something from make_edition's edition."""
    rng = random.Random(seed)
    rows, receives = [], set()
    for i in range(n):
        email = f"leser{i:04d}@kommune{i % 37}.example.org"
        topics = rng.choice(TOPIC_CHOICES)
        language = "en" if rng.random() < 0.08 else "de"
        profile = Profile(topics=topics, newsletters=("weekly",), language=language)
        rows.append(NewSubscriber(email, hash_of(email), profile, "v1", consent_at=NOW))
        if not topics or any(t in WANTS for t in topics):
            receives.add(email)
    services.store.subscribers.add_many(rows, now=NOW)
    return receives


def child_env(tmp_path: Path, database_url: str, **env: str) -> dict[str, str]:
    """What an `eudigest` process of these tests sees: nothing of the caller's EUDIGEST_*."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EUDIGEST_", "SENDGRID_"))}
    clean.update(
        environ(
            tmp_path,
            EUDIGEST_DATABASE_URL=database_url,
            EUDIGEST_BASE_URL=BASE,
            EUDIGEST_LOG_FORMAT="json",
            EUDIGEST_LOG_LEVEL="INFO",
            **env,
        )
    )
    return clean


@pytest.fixture
def setup(tmp_path: Path, database_url: str, counting_peer: CountingPeer) -> Iterator[Setup]:
    settings = make_settings(tmp_path, EUDIGEST_BASE_URL=BASE, EUDIGEST_DATABASE_URL=database_url)
    services = make_services(settings, Clock())
    receives = add_readers(services)
    edition_id, _ = make_edition(services)
    env = child_env(
        tmp_path,
        database_url,
        EUDIGEST_MAIL_BACKEND="sendgrid",
        EUDIGEST_SENDGRID_HOST=counting_peer.url,
        SENDGRID_API_KEY=KEY,
    )
    yield Setup(settings, services, env, edition_id, receives)
    services.close()


def start(setup: Setup, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [EUDIGEST, *args],
        env={**setup.env, **env},
        cwd=setup.settings.data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def wait_for(what: Callable[[], bool], seconds: float = 180.0) -> None:
    """Poll a condition of the database (the peer has its own `wait`)."""
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s in vain for {what.__doc__ or what}")
        time.sleep(0.05)


def assert_everyone_once(setup: Setup, peer: CountingPeer, *, unknown: int = 0) -> None:
    """Nobody twice; everyone who receives something exactly once (or, for rows left
    unknown by a dead sender, at most once); the ledger agrees with the peer."""
    assert peer.twice() == {}, f"{len(peer.twice())} readers got the edition twice"
    counts = setup.store.deliveries.counts(setup.edition_id)
    assert counts["unknown"] == unknown, counts
    assert counts["queued"] == counts["claimed"] == counts["sending"] == 0, counts
    assert counts["sent"] + counts["unknown"] == len(setup.receives), counts
    assert sum(counts.values()) == len(setup.receives), counts  # only they are planned
    unknown_to = {
        setup.store.subscribers.get(d.subscriber_id).email
        for d in setup.store.deliveries.list(setup.edition_id, DeliveryState.UNKNOWN)
    }
    assert set(peer.accepted) - unknown_to == setup.receives - unknown_to
    assert set(peer.accepted) <= setup.receives
    assert setup.store.editions.get(setup.edition_id).state is EditionState.SENT


def second_sender_at_work(setup: Setup) -> Callable[[], bool]:
    def at_work() -> bool:
        """a second sender registered for the edition"""
        return len(setup.store.senders.list(setup.edition_id)) >= 2

    return at_work


def took_back(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "took back the deliveries" in line]


# ---------------------------------------------------------------- two senders, several offsets


@pytest.mark.parametrize("after", [0, 2, 6])
def test_two_sends_of_one_edition_send_everyone_once(
    setup: Setup, counting_peer: CountingPeer, after: int
) -> None:
    """The second `eudigest send` starts once the peer has answered `after` requests of the
    first (0: at its first request); they share the queue and both report the finished
    edition. The first waits at its next request until the second is at work, so that
    they overlap however long a process takes to start on a busy machine."""
    counting_peer.hold(after + 1)
    first = start(setup, "send", str(setup.edition_id))
    counting_peer.wait(lambda p: p.held is not None)
    second = start(setup, "send", str(setup.edition_id))
    wait_for(second_sender_at_work(setup))
    counting_peer.release()
    results = [finish(first), finish(second)]
    assert [r[0] for r in results] == [0, 0], results
    assert_everyone_once(setup, counting_peer)
    assert not any(took_back(err) for _, _, err in results)  # nothing was ever orphaned
    senders = setup.store.senders.list(setup.edition_id)
    assert len(senders) == 2 and {s.outcome for s in senders} == {SenderOutcome.DONE}


def test_a_second_sender_while_a_request_is_in_flight_steals_nothing(
    setup: Setup, counting_peer: CountingPeer
) -> None:
    """Issue 10's trace: the first sender's request is out (its rows `sending`), more of
    its rows are claimed; a second sender starts, takes the rest of the queue and waits.
    Before the fix it queued the first one's claimed rows again and marked its request's
    rows unknown: 968 readers twice."""
    counting_peer.hold(1)
    # one request at a time: with more in flight the first would claim the whole queue
    first = start(setup, "send", str(setup.edition_id), EUDIGEST_SENDGRID_CONCURRENCY="1")
    counting_peer.wait(lambda p: p.held is not None)
    second = start(setup, "send", str(setup.edition_id))

    def the_second_took_the_rest() -> bool:
        """the queue empty, the first sender's rows still in its hands"""
        counts = setup.store.deliveries.counts(setup.edition_id)
        return counts["queued"] == 0 and len(setup.store.deliveries.held(setup.edition_id)) == 1

    wait_for(the_second_took_the_rest)
    [mine] = [s for s in setup.store.senders.list(setup.edition_id) if s.process.pid == first.pid]
    assert set(setup.store.deliveries.held(setup.edition_id)) == {mine.id}
    counting_peer.release()
    results = [finish(first), finish(second)]
    assert [r[0] for r in results] == [0, 0], results
    assert_everyone_once(setup, counting_peer)
    assert not any(took_back(err) for _, _, err in results)
    assert "waiting for them" in results[1][2]


@pytest.mark.parametrize("after", [0, 3])
def test_send_beside_send_due_sends_everyone_once(
    setup: Setup, counting_peer: CountingPeer, after: int
) -> None:
    """A manual send overlapping the five-minute `send-due` (the edition was scheduled)."""
    due = NOW - dt.timedelta(hours=1)
    setup.store.editions.transition(
        setup.edition_id,
        from_states=(EditionState.APPROVED,),
        to_state=EditionState.SCHEDULED,
        actor="anna",
        now=due,
        scheduled_at=due,
    )
    counting_peer.hold(after + 1)  # send-due waits there until the manual send is at work
    cron = start(setup, "send-due", "--json")
    counting_peer.wait(lambda p: p.held is not None)
    manual = start(setup, "send", str(setup.edition_id))
    wait_for(second_sender_at_work(setup))
    counting_peer.release()
    results = [finish(cron), finish(manual)]
    assert [r[0] for r in results] == [0, 0], results
    assert_everyone_once(setup, counting_peer)
    report = json.loads(results[0][1])
    [edition] = report["editions"]
    # send-due either sent it (and the manual send joined) or left it to the manual send
    assert edition["finished"] or edition["elsewhere"], report


def test_send_due_leaves_an_edition_a_live_sender_is_sending(
    setup: Setup, counting_peer: CountingPeer
) -> None:
    counting_peer.hold(1)
    manual = start(setup, "send", str(setup.edition_id))
    counting_peer.wait(lambda p: p.held is not None)
    cron = start(setup, "send-due")
    code, out, err = finish(cron)
    assert code == 0, (out, err)
    assert f"edition {setup.edition_id} (being sent by " in out and "left to it" in out
    counting_peer.release()
    assert finish(manual)[0] == 0
    assert_everyone_once(setup, counting_peer)


# ---------------------------------------------------------------- kills and freezes


def test_a_sender_killed_beside_another_is_finished_by_the_survivor(
    setup: Setup, counting_peer: CountingPeer
) -> None:
    """SIGKILL while its request is out: the survivor sees the process is gone (this host,
    its pid), queues its claimed rows again and sends them, and marks the rows of the
    request in flight unknown; nobody twice."""
    counting_peer.hold(2)
    # One request at a time: when the second is held, the first's answer is recorded, so
    # the held request's rows are the only ones in doubt. (With 32 in flight, answers that
    # came in but were not recorded yet at the kill are in doubt too, as many as the
    # timing gives; the test below holds every request in flight for that case.)
    victim = start(setup, "send", str(setup.edition_id), EUDIGEST_SENDGRID_CONCURRENCY="1")
    counting_peer.wait(lambda p: p.held is not None)
    survivor = start(setup, "send", str(setup.edition_id))
    wait_for(lambda: len(setup.store.senders.active(setup.edition_id)) == 2)
    victim.kill()
    victim.communicate()
    counting_peer.release()  # SendGrid takes the request; nobody hears the answer
    code, out, err = finish(survivor)
    assert code == 1, (out, err)  # finished, but some deliveries are unknown: staff decide
    held = counting_peer.held
    assert held is not None
    assert_everyone_once(setup, counting_peer, unknown=len(held))
    assert took_back(err)
    victim_row = next(
        s for s in setup.store.senders.list(setup.edition_id) if s.process.pid == victim.pid
    )
    assert victim_row.outcome is SenderOutcome.LOST


def test_a_frozen_sender_loses_its_rows_after_its_lease_and_sends_none_of_them(
    setup: Setup, counting_peer: CountingPeer
) -> None:
    """SIGSTOP (a VM pause, a debugger, swapping): alive for this host, silent for its
    lease. After the lease the survivor takes its claimed rows; when the frozen sender
    wakes, the answer to its request in flight still counts (sent, not unknown), and it
    sends none of the rows it lost."""
    lease = {"EUDIGEST_SEND_LEASE_SECONDS": "3"}
    counting_peer.hold(1)
    # one request at a time: frozen while it waits for its request, not in the middle of
    # a ledger transaction (a process frozen inside one holds SQLite's write lock, and
    # PostgreSQL's row locks, until it wakes: nobody can take its rows before)
    frozen = start(setup, "send", str(setup.edition_id), EUDIGEST_SENDGRID_CONCURRENCY="1", **lease)
    counting_peer.wait(lambda p: p.held is not None)
    frozen.send_signal(signal.SIGSTOP)
    try:
        survivor = start(setup, "send", str(setup.edition_id), **lease)

        def frozen_one_lost() -> bool:
            """the frozen sender marked lost"""
            return any(
                s.outcome is SenderOutcome.LOST for s in setup.store.senders.list(setup.edition_id)
            )

        wait_for(frozen_one_lost)
        counting_peer.release()
    finally:
        frozen.send_signal(signal.SIGCONT)
    results = [finish(survivor), finish(frozen)]
    assert peer_twice_free(counting_peer)
    assert_everyone_once(setup, counting_peer)  # the late answer replaced "unknown"
    assert took_back(results[0][2])
    assert "taken from this sender" in results[1][2] or "found gone" in results[1][2]


def peer_twice_free(peer: CountingPeer) -> bool:
    return peer.twice() == {}


# ---------------------------------------------------------------- requests in flight together


def test_a_sender_killed_with_several_requests_in_flight_leaves_them_unknown(
    setup: Setup, counting_peer: CountingPeer
) -> None:
    """Issue 16: a sender keeps four requests in flight (EUDIGEST_SENDGRID_CONCURRENCY=4)
    and is killed while all four are out; a second sender on the same database, started
    beside it, takes over its claimed rows, marks the four requests' rows unknown (the
    peer accepted them: SendGrid would have sent them) and sends the rest; nobody twice,
    nobody lost."""
    counting_peer.hold(1, count=4)
    victim = start(setup, "send", str(setup.edition_id), EUDIGEST_SENDGRID_CONCURRENCY="4")
    counting_peer.wait(lambda p: len(p.held_all) == 4 and p.in_flight == 4)
    survivor = start(setup, "send", str(setup.edition_id), EUDIGEST_SENDGRID_CONCURRENCY="4")
    wait_for(lambda: len(setup.store.senders.active(setup.edition_id)) == 2)
    victim.kill()
    victim.communicate()
    counting_peer.release()  # SendGrid takes the four requests; nobody hears the answers
    code, out, err = finish(survivor)
    assert code == 1, (out, err)  # finished; the four requests' rows are for staff
    in_flight = {email for request in counting_peer.held_all for email in request}
    assert_everyone_once(setup, counting_peer, unknown=len(in_flight))
    unknown_to = {
        setup.store.subscribers.get(d.subscriber_id).email
        for d in setup.store.deliveries.list(setup.edition_id, DeliveryState.UNKNOWN)
    }
    assert unknown_to == in_flight
    assert took_back(err)


def emails_in(setup: Setup, state: DeliveryState) -> set[str]:
    return {
        setup.store.subscribers.get(d.subscriber_id).email
        for d in setup.store.deliveries.list(setup.edition_id, state)
    }


@pytest.mark.parametrize(
    ("point", "n"),
    [
        ("claimed", 2),  # a second claim committed, the first one's requests out
        ("start", 2),  # inside the second start: its rows stay claimed
        ("started", 2),  # the second start committed, its requests never left
        ("record", 2),  # answers in hand, not written
        ("recorded", 1),  # the first answers written, others out
    ],
)
def test_a_sender_killed_at_each_step_with_requests_in_flight_sends_nobody_twice(
    setup: Setup, counting_peer: CountingPeer, point: str, n: int
) -> None:
    """Issue 16: a sender with the default concurrency (up to 32 requests out) kills
    itself (SIGKILL) at one step of the ledger while requests are in flight. Exactly the
    rows that were `sending` at the kill become unknown (whether SendGrid has them cannot
    be known); the claimed ones go back to the queue; the next run sends the rest:
    nobody twice, everyone else once."""
    crash(setup.settings, setup.settings.data_dir, setup.edition_id, 400, point, n, env=setup.env)
    sending = emails_in(setup, DeliveryState.SENDING)
    if point == "record":
        assert sending  # the answers in hand were of rows still `sending`

    code, out, err = finish(start(setup, "send", str(setup.edition_id)))
    assert code == (1 if sending else 0), (out, err)
    assert_everyone_once(setup, counting_peer, unknown=len(sending))
    assert emails_in(setup, DeliveryState.UNKNOWN) == sending


# ---------------------------------------------------------------- one send, several processes


def helper_of(setup: Setup, parent: subprocess.Popen[str]) -> int:
    """The pid of the one sender of the edition that is not `parent`."""
    [pid] = [
        s.process.pid
        for s in setup.store.senders.list(setup.edition_id)
        if s.process.pid != parent.pid
    ]
    return pid


def both_hold_rows(setup: Setup) -> Callable[[], bool]:
    def both() -> bool:
        """two senders holding rows of the edition"""
        return len(setup.store.deliveries.held(setup.edition_id)) == 2

    return both


def two_processes_holding_rows(
    setup: Setup, peer: CountingPeer
) -> tuple[subprocess.Popen[str], int]:
    """`eudigest send ID --processes 2`, one request at a time each, the first request held
    at the peer until both the parent and its helper hold rows; (parent, helper's pid)."""
    peer.hold(1)
    parent = start(
        setup, "send", str(setup.edition_id), "--processes", "2", EUDIGEST_SENDGRID_CONCURRENCY="1"
    )
    peer.wait(lambda p: p.held is not None)
    wait_for(both_hold_rows(setup))
    return parent, helper_of(setup, parent)


def ended(pid: int) -> bool:
    """The process is gone (or a zombie nobody has reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def test_one_send_with_two_processes_shares_the_edition_and_reports_once(
    setup: Setup, counting_peer: CountingPeer
) -> None:
    """`eudigest send ID --processes 2` starts a helper as it starts; the first request is
    held until both hold rows, so they really share the queue (one request at a time
    each). One report, both senders done, nobody twice."""
    parent, helper = two_processes_holding_rows(setup, counting_peer)
    counting_peer.release()
    code, out, err = finish(parent)
    assert code == 0, (out, err)
    assert out.count(f"edition {setup.edition_id} (sent)") == 1, out  # the parent's alone
    assert_everyone_once(setup, counting_peer)
    senders = setup.store.senders.list(setup.edition_id)
    assert {s.process.pid for s in senders} == {parent.pid, helper}
    assert {s.outcome for s in senders} == {SenderOutcome.DONE}
    assert ended(helper)
    assert not took_back(err)


def test_a_helper_killed_mid_send_is_taken_over_by_its_parent(
    setup: Setup, counting_peer: CountingPeer
) -> None:
    """SIGKILL to the helper while both hold rows: the parent sees its child dead, queues
    its claimed rows again, marks what it had in flight unknown, and finishes; nobody
    twice, nobody lost, the exit code says whether staff must look at unknown rows."""
    parent, helper = two_processes_holding_rows(setup, counting_peer)
    os.kill(helper, signal.SIGKILL)
    counting_peer.release()
    code, out, err = finish(parent)
    unknown = setup.store.deliveries.counts(setup.edition_id)["unknown"]
    assert code == (1 if unknown else 0), (out, err)
    assert_everyone_once(setup, counting_peer, unknown=unknown)
    assert took_back(err)
    helper_row = next(
        s for s in setup.store.senders.list(setup.edition_id) if s.process.pid == helper
    )
    assert helper_row.outcome is SenderOutcome.LOST


def test_a_parent_killed_mid_send_takes_its_helper_with_it(
    setup: Setup, counting_peer: CountingPeer
) -> None:
    """SIGKILL to `eudigest send` (the OOM killer, `kill -9`): its helper ends too (Linux:
    PR_SET_PDEATHSIG) instead of sending on behind the operator's back; the next
    `eudigest send` takes back both and finishes the edition; nobody twice."""
    parent, helper = two_processes_holding_rows(setup, counting_peer)
    parent.kill()
    parent.communicate()
    wait_for(lambda: ended(helper))
    counting_peer.release()
    assert setup.store.editions.get(setup.edition_id).state is EditionState.SENDING
    code, out, err = finish(start(setup, "send", str(setup.edition_id), "--processes", "1"))
    unknown = setup.store.deliveries.counts(setup.edition_id)["unknown"]
    assert unknown >= 1  # at least the parent's held request
    assert code == 1, (out, err)
    assert_everyone_once(setup, counting_peer, unknown=unknown)
    outcomes = {s.process.pid: s.outcome for s in setup.store.senders.list(setup.edition_id)}
    assert outcomes[parent.pid] is SenderOutcome.LOST and outcomes[helper] is SenderOutcome.LOST
