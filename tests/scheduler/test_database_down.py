"""PostgreSQL unavailable at a fire time: the scheduler keeps going and records it later.

The runner reaches PostgreSQL through a loopback TCP proxy the test closes (connections
refused, open ones cut) and opens again on the same port: a real outage, not a mock.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.scheduler.runner import Runner
from pipeline.store import Store
from tests.conftest import IN_CI, PG_URL, ensure_pg_database
from tests.scheduler.conftest import Clock, Recorder, cron_of, one_job, utc


class Proxy:
    """127.0.0.1:<port> → the PostgreSQL server; `down()` and `up()` switch it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        assert self._listener is not None
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._listener = None
        with self._lock:
            for c in self._conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)  # wakes the pumps; close alone may not
                c.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied() -> Iterator[tuple[Store, Proxy]]:
    url = sa.make_url(PG_URL)
    admin = sa.create_engine(url)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        ensure_pg_database()
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.orig}")
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    via = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    store = Store(f"{via}?options=-csearch_path%3D{schema}")
    try:
        store.upgrade()
        yield store, proxy
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_a_fire_time_without_database_is_recorded_as_failed_once_it_is_back(
    proxied: tuple[Store, Proxy], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, proxy = proxied
    text = one_job("*/5 * * * *", extra="retry: {limit: 1, backoff: 0}")
    clock, rec = Clock(utc(2026, 11, 25, 8, 30, 1)), Recorder()
    runner = Runner(store, cron_of(tmp_path, text), rec, instance="a:1", clock=clock)
    proxy.down()
    fired = runner.fire_due("tick")
    assert fired is not None and fired.run is None and fired.error
    assert "database unavailable" in fired.error
    assert rec.calls == []  # nothing ran without a claim
    assert not runner.beat()  # the heartbeat fails too; the runner goes on
    assert runner.pending() == 1
    proxy.up()
    assert runner.beat()
    assert runner.pending() == 0
    [run] = store.runs.list()
    assert (run.key, run.outcome) == ("2026-11-25T09:30:00", "failed")
    assert run.detail and run.detail.startswith("database unavailable at the fire time")
    # the next fire time runs normally
    clock.set(utc(2026, 11, 25, 8, 35, 1))
    later = runner.fire_due("tick")
    assert later is not None and later.run is not None and later.run.outcome == "ok"
    assert "cannot claim" in caplog.text and "retry 1 of 1" in caplog.text


@pytest.mark.postgres
def test_a_database_back_within_the_retries_lets_the_run_go_ahead(
    proxied: tuple[Store, Proxy], tmp_path: Path
) -> None:
    store, proxy = proxied
    # retries 1, 2, 4, … s apart: up to a minute for the test to bring the database back
    text = one_job("*/5 * * * *", extra="retry: {limit: 6, backoff: 1}")
    clock, rec = Clock(utc(2026, 11, 25, 8, 30, 1)), Recorder()
    runner = Runner(store, cron_of(tmp_path, text), rec, instance="a:1", clock=clock)
    refused = threading.Event()

    class Spot(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "cannot claim" in record.getMessage():
                refused.set()

    spot = Spot()
    logger = logging.getLogger("eudigest.scheduler")
    logger.addHandler(spot)
    proxy.down()
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(runner.fire_due("tick")))
    try:
        thread.start()
        assert refused.wait(60)
        proxy.up()
        thread.join()
    finally:
        logger.removeHandler(spot)
    [run] = store.runs.list()
    assert (run.outcome, run.instance) == ("ok", "a:1")
    assert rec.calls == [("tick", "2026-11-25T09:30:00")]
