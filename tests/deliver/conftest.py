"""SendGrid peers: Prism serving SendGrid's spec, a recording proxy, a scripted server."""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "peers" / "sendgrid-oai" / "tsg_mail_v3.json"
PRISM_VERSION = "5.14.2"
PRISM_PREFIX = ROOT / ".cache" / "prism"
PRISM_BIN = PRISM_PREFIX / "node_modules" / ".bin" / "prism"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(reason: str) -> None:
    """In CI a missing peer is a failure, never a skip."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _install_prism() -> None:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        _missing("node/npm not found: the SendGrid peer (Stoplight Prism) needs them")
    assert npm is not None
    package = f"@stoplight/prism-cli@{PRISM_VERSION}"
    proc = subprocess.run(
        [npm, "install", "--prefix", str(PRISM_PREFIX), package, "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0 or not PRISM_BIN.exists():
        pytest.fail(f"npm install of Prism failed ({proc.returncode}):\n{proc.stderr[-2000:]}")


def _wait_for_http(port: int, proc: subprocess.Popen[bytes], log: Path) -> bool:
    """True once Prism answers on the port; False when it exited (the port was taken
    between finding it free and Prism binding it: another port is tried)."""
    deadline = time.monotonic() + 120  # a start-up wait on a busy machine, not a limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            if "EADDRINUSE" in log.read_text(errors="replace"):
                return False
            pytest.fail(f"Prism exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            return True  # any HTTP answer means it is serving
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    pytest.fail(f"Prism did not answer within 120 s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prism mock of SendGrid's Mail Send spec on loopback; installed under .cache/ if missing."""
    if not SPEC.is_file():
        pytest.fail(f"SendGrid's spec is missing at {SPEC}: check out shared/ beside the repo")
    if not PRISM_BIN.exists():
        # pytest-xdist workers start their sessions together: one installs, the others
        # wait for it and find Prism there
        PRISM_PREFIX.mkdir(parents=True, exist_ok=True)
        with open(PRISM_PREFIX.parent / "prism.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not PRISM_BIN.exists():
                _install_prism()
    for _attempt in range(5):
        port = _free_port()
        log = tmp_path_factory.mktemp("prism") / "prism.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, ended by our PID below
            )
        try:
            if _wait_for_http(port, proc, log):
                break
        except BaseException:
            _stop(proc)
            raise
    else:
        pytest.fail("Prism found no free port in 5 tries")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@dataclass
class Exchange:
    """One request that crossed the socket, and the answer."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    exchanges: list[Exchange]
    lock: threading.Lock
    inject: dict[str, str]  # the proxy adds these request headers (e.g. Prefer: code=401)


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[_Server, threading.Thread]:
    server = _Server(("127.0.0.1", 0), handler)
    server.exchanges = []
    server.lock = threading.Lock()
    server.inject = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read(self) -> Exchange:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ex = Exchange(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        with self.server.lock:
            self.server.exchanges.append(ex)
        return ex

    def _answer(self, ex: Exchange, status: int, headers: dict[str, str], body: bytes) -> None:
        ex.status, ex.response_headers = status, {k.lower(): v for k, v in headers.items()}
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("connection", "transfer-encoding", "content-length", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def _proxy_handler(upstream_port: int) -> type[_Handler]:
    class Proxy(_Handler):
        def do_POST(self) -> None:
            ex = self._read()
            conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                with self.server.lock:
                    headers.update(self.server.inject)
                conn.request(self.command, self.path, ex.body, headers)
                resp = conn.getresponse()
                body = resp.read()
                self._answer(ex, resp.status, dict(resp.getheaders()), body)
            finally:
                conn.close()

    return Proxy


@pytest.fixture(scope="session")
def _proxy(prism_url: str) -> Iterator[_Server]:
    server, thread = _serve(_proxy_handler(int(prism_url.rsplit(":", 1)[1])))
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@dataclass
class Peer:
    """Prism behind a recording proxy: `url` for the mailer, `exchanges` what crossed.

    `prefer("code=401")` makes the proxy add `Prefer: code=401` to what it forwards, so
    Prism answers that status from the spec even when the client cannot be told to
    (a subprocess, the CLI); `prefer(None)` stops it.
    """

    url: str
    exchanges: list[Exchange]
    _server: _Server

    def prefer(self, value: str | None) -> None:
        with self._server.lock:
            self._server.inject.clear()
            if value is not None:
                self._server.inject["Prefer"] = value


@pytest.fixture
def peer(_proxy: _Server) -> Iterator[Peer]:
    with _proxy.lock:
        _proxy.exchanges.clear()
        _proxy.inject.clear()
    yield Peer(f"http://127.0.0.1:{_proxy.server_address[1]}", _proxy.exchanges, _proxy)
    with _proxy.lock:
        _proxy.inject.clear()


# A server of our own for what Prism cannot do: 429 with Retry-After, answering late.
Reply = tuple[int, dict[str, str]] | Callable[[threading.Event], tuple[int, dict[str, str]]]


@dataclass
class Scripted:
    url: str
    exchanges: list[Exchange]
    release: threading.Event  # set to let a slow answer go


@pytest.fixture
def scripted() -> Iterator[Callable[[list[Reply]], Scripted]]:
    """`scripted([(429, {"Retry-After": "7"}), (202, {})])`: answers in order, the last repeats.

    A reply may be a function of the server's `release` event (set at teardown), to answer late.
    """
    started: list[tuple[_Server, threading.Thread, threading.Event]] = []

    def start(replies: list[Reply]) -> Scripted:
        release = threading.Event()

        class Handler(_Handler):
            def do_POST(self) -> None:
                ex = self._read()
                with self.server.lock:
                    n = len(self.server.exchanges) - 1
                reply = replies[min(n, len(replies) - 1)]
                status, headers = reply(release) if callable(reply) else reply
                self._answer(ex, status, headers, b"")

        server, thread = _serve(Handler)
        started.append((server, thread, release))
        return Scripted(f"http://127.0.0.1:{server.server_address[1]}", server.exchanges, release)

    yield start
    for server, thread, release in started:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join()


# A server of our own that answers by looking at the request (SendGrid's error bodies).
Respond = Callable[[Exchange, int], tuple[int, dict[str, str], bytes]]


@pytest.fixture
def responder() -> Iterator[Callable[[Respond], Scripted]]:
    """`responder(fn)`: fn(exchange, n) -> (status, headers, body); n counts from 0."""
    started: list[tuple[_Server, threading.Thread]] = []

    def start(respond: Respond) -> Scripted:
        class Handler(_Handler):
            def do_POST(self) -> None:
                ex = self._read()
                with self.server.lock:
                    n = len(self.server.exchanges) - 1
                status, headers, body = respond(ex, n)
                self._answer(ex, status, headers, body)

        server, thread = _serve(Handler)
        started.append((server, thread))
        return Scripted(
            f"http://127.0.0.1:{server.server_address[1]}", server.exchanges, threading.Event()
        )

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join()


class Sleeps(list[float]):
    """A `sleep` that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def at_ceiling(ceiling: float) -> float:
    """The jitter pinned to its ceiling, so the recorded waits show the backoff's growth
    (the random part is tested on its own in test_backoff.py)."""
    return ceiling


# A SendGrid stand-in that counts every recipient it accepts, answers slowly and can hold
# a request: the witness of "nobody twice" when senders overlap, crash or freeze.
Answer = Callable[[int], tuple[int, dict[str, str]]]
RESET = 0  # an Answer's status: reset the connection instead of answering


class CountingPeer:
    """Counts the recipients of every request it answers 202 (`accepted`), after a seeded
    random delay per request (`delays`, seconds). `hold(n)` keeps the n-th request (1 = the
    next one) until `release()`, `hold(n, count=k)` the k requests from the n-th on
    (`held_all`: their recipients; `in_flight`: requests arrived and not yet answered);
    `answer(n)` may give another status to the n-th request, or RESET: the connection is
    reset (TCP RST) after the request was read, with no answer (`reset`: those requests).

    A recipient counts as accepted when the 202 is written, whether or not the client is
    still there to read it: SendGrid would have sent the mail.
    """

    def __init__(self, delays: tuple[float, float] = (0.05, 0.3), seed: int = 0) -> None:
        import random

        self.accepted: Counter[str] = Counter()
        self.requests: list[tuple[str, ...]] = []  # recipients of each request, in arrival order
        self.answered = 0
        self.most_in_flight = 0  # the most requests arrived and not yet answered at once
        self.reset: list[tuple[str, ...]] = []
        self.held: tuple[str, ...] | None = None
        self.held_all: list[tuple[str, ...]] = []
        self.answer: Answer = lambda n: (202, {"X-Message-Id": f"m{n}"})
        self._cond = threading.Condition()
        self._hold_at: int | None = None
        self._hold_count = 1
        self._release = threading.Event()
        self._rng = random.Random(seed)
        self.delays = delays
        peer = self

        class Handler(_Handler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                emails = tuple(
                    p["to"][0]["email"] for p in json.loads(body).get("personalizations", [])
                )
                with peer._cond:
                    peer.requests.append(emails)
                    n = len(peer.requests)
                    peer.most_in_flight = max(peer.most_in_flight, peer.in_flight)
                    at = peer._hold_at
                    hold = at is not None and at <= n < at + peer._hold_count
                    if hold:
                        peer.held = peer.held or emails
                        peer.held_all.append(emails)
                    delay = peer._rng.uniform(*peer.delays)
                    peer._cond.notify_all()
                if hold:
                    peer._release.wait(300)  # released by the test
                time.sleep(delay)  # the peer's own slowness, not synchronisation
                status, headers = peer.answer(n)
                if status == RESET:  # SO_LINGER 0: close() sends RST, not FIN
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                with peer._cond:
                    if status == 202:
                        peer.accepted.update(emails)
                    if status == RESET:
                        peer.reset.append(emails)
                    peer.answered += 1
                    peer._cond.notify_all()
                if status == RESET:
                    return
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.send_header("Connection", "close")
                    self.end_headers()
                except OSError:
                    pass  # the sender died waiting (a kill test): SendGrid sent it anyway

        self._server, self._thread = _serve(Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def in_flight(self) -> int:
        return len(self.requests) - self.answered

    def hold(self, n: int = 1, *, count: int = 1) -> None:
        """Hold the n-th request from now (1: the next one), and the `count` - 1 after it,
        until `release()`."""
        with self._cond:
            self._hold_at = len(self.requests) + n
            self._hold_count = count
            self.held, self.held_all = None, []
            self._release.clear()

    def release(self) -> None:
        self._release.set()

    def wait(self, what: Callable[[CountingPeer], bool], timeout: float = 180.0) -> None:
        """Wait until `what(peer)` holds (checked whenever a request arrives or is answered)."""
        with self._cond:
            if not self._cond.wait_for(lambda: what(self), timeout):
                raise AssertionError(f"the peer waited {timeout} s in vain for {what.__doc__}")

    def twice(self) -> dict[str, int]:
        return {email: n for email, n in self.accepted.items() if n > 1}

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def counting_peer() -> Iterator[CountingPeer]:
    peer = CountingPeer(delays=(0.1, 0.4))
    yield peer
    peer.close()
