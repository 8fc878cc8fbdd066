"""A script can tell from `eudigest send`'s exit code whether the edition's work is done.

    0  done                      1  done, some deliveries failed or unknown
    3  stopped early, the rest is still queued and the next run continues
    4  the database is unreachable

Each case runs the console script against a real peer: the counting SendGrid stand-in
answering 429 or 503 to everything, no peer at all, an outbox on a 256 KB tmpfs (a disk
that fills up, mounted in a user and mount namespace of the child's own), and
PostgreSQL behind a TCP proxy the test cuts in the middle of a send. After each stop,
the next run finishes the edition and nobody gets it twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import shutil
import socket
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.model import EditionState, SenderOutcome
from pipeline.store import Store
from tests.conftest import IN_CI, _pg_store
from tests.deliver.conftest import CountingPeer
from tests.deliver.test_overlapping_senders import (
    EUDIGEST,
    KEY,
    add_readers,
    child_env,
    finish,
)
from tests.deliver.test_send import BASE, make_edition
from tests.subscribers.conftest import Outbox, make_settings
from tests.support.ports import refusing_port
from tests.web.conftest import Clock, make_services

EXIT_OK, EXIT_ATTENTION, EXIT_USAGE, EXIT_STOPPED, EXIT_STORE = 0, 1, 2, 3, 4


class Case:
    def __init__(self, tmp_path: Path, database_url: str, readers: int) -> None:
        self.tmp_path = tmp_path
        self.url = database_url
        settings = make_settings(
            tmp_path, EUDIGEST_BASE_URL=BASE, EUDIGEST_DATABASE_URL=database_url
        )
        self.services = make_services(settings, Clock())
        self.receives = add_readers(self.services, readers)
        self.edition_id, _ = make_edition(self.services)

    @property
    def store(self) -> Store:
        return self.services.store

    def start(self, *, cmd: tuple[str, ...] = (), **env: str) -> subprocess.Popen[str]:
        """`eudigest send` of the edition, running."""
        return subprocess.Popen(
            [*cmd, EUDIGEST, "send", str(self.edition_id)],
            env=child_env(self.tmp_path, self.url, **env),
            cwd=self.tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def send(self, *, cmd: tuple[str, ...] = (), **env: str) -> tuple[int, str, str]:
        return finish(self.start(cmd=cmd, **env))

    def sendgrid(self, url: str) -> dict[str, str]:
        return {
            "EUDIGEST_MAIL_BACKEND": "sendgrid",
            "EUDIGEST_SENDGRID_HOST": url,
            "SENDGRID_API_KEY": KEY,
        }

    def counts(self) -> dict[str, int]:
        return self.store.deliveries.counts(self.edition_id)


@pytest.fixture(autouse=True)
def quick_peer(counting_peer: CountingPeer) -> None:
    counting_peer.delays = (0.0, 0.02)  # nothing here is about a slow peer


@pytest.fixture
def sqlite_case(tmp_path: Path) -> Iterator[Case]:
    case = Case(tmp_path, f"sqlite:///{tmp_path / 'var' / 'eudigest.db'}", readers=40)
    yield case
    case.services.close()


# ---------------------------------------------------------------- stopped early: exit 3


@pytest.mark.parametrize("status", [429, 503])
def test_a_storm_of_refusals_stops_the_send_with_exit_3_and_the_next_run_finishes(
    sqlite_case: Case, counting_peer: CountingPeer, status: int
) -> None:
    case = sqlite_case
    counting_peer.answer = lambda n: (status, {})
    # one request at a time (the storm with requests in flight together:
    # test_concurrent_send.py)
    code, out, err = case.send(
        **case.sendgrid(counting_peer.url), EUDIGEST_SENDGRID_CONCURRENCY="1"
    )
    assert code == EXIT_STOPPED, (out, err)
    assert "(stopped early)" in out and "still queued" in out
    assert f"edition {case.edition_id} stopped early: SendGrid answered {status}" in err
    assert "the next run" in err
    counts = case.counts()
    assert counts["failed"] == counts["unknown"] == counts["sent"] == 0  # nobody given up
    assert counts["queued"] == len(case.receives)
    [sender] = case.store.senders.list(case.edition_id)
    assert sender.outcome is SenderOutcome.STOPPED and sender.queued == len(case.receives)
    assert len(counting_peer.requests) == 6  # one request, five retries, then it stopped

    status_run = subprocess.run(
        [EUDIGEST, "status", "--json"],
        env=child_env(case.tmp_path, case.url),
        cwd=case.tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert status_run.returncode == EXIT_ATTENTION
    problems = json.loads(status_run.stdout)["problems"]
    stopped = [p for p in problems if p["check"] == "edition_interrupted"]
    assert stopped and f"SendGrid answered {status}" in stopped[0]["message"], problems
    shown = subprocess.run(
        [EUDIGEST, "edition", "show", str(case.edition_id), "--json"],
        env=child_env(case.tmp_path, case.url),
        cwd=case.tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    [sent_by] = json.loads(shown.stdout)["senders"]
    assert sent_by["outcome"] == "stopped" and sent_by["queued"] == len(case.receives)

    counting_peer.answer = lambda n: (202, {})
    code, out, err = case.send(**case.sendgrid(counting_peer.url))
    assert code == EXIT_OK, (out, err)
    assert Counter(counting_peer.accepted) == Counter(case.receives)
    assert case.store.editions.get(case.edition_id).state is EditionState.SENT


def test_at_a_terminal_the_send_shows_a_status_line_and_ends_with_the_counts(
    sqlite_case: Case,
) -> None:
    """stderr a terminal (a pseudo-terminal here): rich's status line says the send is
    under way (and how far, every 10 s); stdout keeps the plain counts."""
    case = sqlite_case
    terminal, child_end = pty.openpty()
    proc = subprocess.Popen(
        [EUDIGEST, "send", str(case.edition_id)],
        env=child_env(case.tmp_path, case.url),
        cwd=case.tmp_path,
        stdout=subprocess.PIPE,
        stderr=child_end,
        text=True,
    )
    os.close(child_end)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once the child has closed its end
        while chunk := os.read(terminal, 65536):
            shown += chunk
    os.close(terminal)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == EXIT_OK, (out, shown)
    assert "sending…" in shown.decode("utf-8", "replace")
    assert f"edition {case.edition_id} (sent): sent {len(case.receives)}," in out


def test_no_peer_at_all_stops_with_exit_3(sqlite_case: Case) -> None:
    with refusing_port() as port:
        url = f"http://127.0.0.1:{port}"
        code, out, err = sqlite_case.send(**sqlite_case.sendgrid(url))
    assert code == EXIT_STOPPED, (out, err)
    assert "no connection to SendGrid" in err
    assert sqlite_case.counts()["queued"] == len(sqlite_case.receives)


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def test_an_outbox_disk_that_fills_up_stops_with_exit_3_and_nothing_is_lost(
    sqlite_case: Case, tmp_path: Path
) -> None:
    """The outbox on a 256 KB tmpfs in the child's own mount namespace: ENOSPC after a few
    mails. What was written is copied out before the namespace ends."""
    if not _unshare_works():
        if IN_CI:
            pytest.fail("unshare -rm (util-linux, user namespaces) is needed for this test")
        pytest.skip("no user and mount namespaces here")
    case = sqlite_case
    small, saved, roomy = tmp_path / "small", tmp_path / "saved", tmp_path / "roomy"
    for d in (small, saved, roomy):
        d.mkdir()
    script = (
        'mount -t tmpfs -o size=256k tmpfs "$0" || exit 90; "$@"; rc=$?; '
        'cp -a "$0"/. "$1"/ 2>/dev/null; exit $rc'
    )
    code, out, err = case.send(
        cmd=("unshare", "-rm", "sh", "-c", script.replace('"$1"', f'"{saved}"'), str(small)),
        EUDIGEST_OUTBOX_DIR=str(small),
    )
    assert code == EXIT_STOPPED, (out, err)
    assert "No space left on device" in err
    first = Counter(m.to for m in Outbox(saved).all())
    counts = case.counts()
    assert 0 < counts["sent"] == sum(first.values()) < len(case.receives)
    assert counts["queued"] == len(case.receives) - counts["sent"] and counts["failed"] == 0

    code, out, err = case.send(EUDIGEST_OUTBOX_DIR=str(roomy))
    assert code == EXIT_OK, (out, err)
    both = first + Counter(m.to for m in Outbox(roomy).all())
    assert both == Counter(case.receives)  # each reader once, across the two runs


# ---------------------------------------------------------------- the database: exit 4


class Proxy:
    """TCP proxy to PostgreSQL that the test can cut (every connection, and new ones)."""

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut_ = threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_.is_set():
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.upstream))
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.cut_.set()
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def mend(self) -> None:
        self.cut_.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                s.close()


@pytest.fixture
def pg_case(tmp_path: Path) -> Iterator[tuple[Case, Proxy]]:
    for store in _pg_store():
        url = store.engine.url
        proxy = Proxy(url.port or 5432)
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        case = Case(tmp_path, proxied, readers=300)
        yield case, proxy
        case.services.close()
        proxy.close()


@pytest.mark.postgres
def test_a_database_outage_mid_send_exits_4_and_the_next_run_sends_nobody_twice(
    pg_case: tuple[Case, Proxy], counting_peer: CountingPeer
) -> None:
    case, proxy = pg_case
    counting_peer.hold(3)
    proc = case.start(**case.sendgrid(counting_peer.url))
    counting_peer.wait(lambda p: p.held is not None)
    proxy.cut()  # the database goes away while the third request is out
    counting_peer.release()
    code, out, err = finish(proc)
    assert code == EXIT_STORE, (out, err)
    assert "the database is unreachable" in err
    assert "cannot record" in err  # it kept the answer through the retries first

    proxy.mend()
    code, out, err = case.send(**case.sendgrid(counting_peer.url))
    assert code == EXIT_ATTENTION, (out, err)  # the third request's rows: unknown
    assert counting_peer.twice() == {}
    counts = case.counts()
    # the held request's rows, and those of any other request in flight whose answer
    # could not be written any more: unknown (the peer has them all, none twice)
    assert counts["unknown"] >= len(counting_peer.held or ())
    assert counts["sent"] + counts["unknown"] == len(case.receives)
    assert set(counting_peer.accepted) == case.receives


@pytest.mark.postgres
def test_a_database_outage_shorter_than_the_pauses_is_ridden_out(
    pg_case: tuple[Case, Proxy], counting_peer: CountingPeer
) -> None:
    """The database goes away while the third request is out and comes back once the
    sender says it will try again: the send finishes in the same run (exit 0), every
    answer recorded, nobody twice, nothing unknown. Which step meets the outage first
    (a record, a claim, a start) is up to the sender's threads: each one waits it out."""
    case, proxy = pg_case
    counting_peer.hold(3)
    said: list[str] = []
    waiting = threading.Event()

    def read_log() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            said.append(line)
            if "yet" in line and "again in" in line:
                waiting.set()

    with case.start(**case.sendgrid(counting_peer.url)) as proc:
        reader = threading.Thread(target=read_log, daemon=True)
        reader.start()
        counting_peer.wait(lambda p: p.held is not None)
        proxy.cut()  # the database goes away while the third request is out
        counting_peer.release()
        assert waiting.wait(120), "".join(said)[-3000:]
        proxy.mend()  # back before the pauses run out
        assert proc.stdout is not None
        out = proc.stdout.read()
        code = proc.wait(300)
        reader.join(60)
    assert code == EXIT_OK, (out, "".join(said)[-3000:])
    assert counting_peer.twice() == {}
    assert set(counting_peer.accepted) == case.receives
    counts = case.counts()
    assert counts["sent"] == len(case.receives) and counts["unknown"] == 0
    assert case.store.editions.get(case.edition_id).state is EditionState.SENT


@pytest.mark.postgres
def test_no_database_at_the_start_exits_4(tmp_path: Path) -> None:
    with refusing_port() as port:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
        done = subprocess.run(
            [EUDIGEST, "send", "1"],
            env=child_env(tmp_path, url),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
    assert done.returncode == EXIT_STORE, done
    assert "the database is unreachable" in done.stderr
