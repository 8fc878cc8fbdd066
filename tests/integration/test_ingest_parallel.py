"""Ingest on both cores: parsing in worker processes, one slow source, the warm run.

A slow site sending a big feed must not hold the others: the quick sources are stored
while it still sends (the server lets it finish only once they are all reported). A warm
run (every source answers 304) writes one statement: the sources' health.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from pipeline.catalog import load_taxonomy
from pipeline.config import fetch_allow_list
from pipeline.ingest import IngestOptions, run_ingest
from pipeline.ingest.fetch import Fetcher
from pipeline.model import Source, SourceKind, SourceReport
from pipeline.store import Store
from tests.integration.test_ingest_faults import rss
from tests.support.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[2]
TAXONOMY = load_taxonomy(ROOT / "taxonomy.yaml")
NOW = dt.datetime(2026, 7, 28, 8, 0, tzinfo=dt.UTC)
QUICK = [f"quick-{i}" for i in range(6)]


def make_source(sid: str, url: str) -> Source:
    return Source(sid, sid, "European Commission", url, "de", SourceKind.FEED)


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        for i, sid in enumerate(QUICK):
            entry = (f"Meldung {i}", f"https://ec.europa.eu/{sid}", f"Text {i}")
            srv.put(f"/{sid}.xml", rss(entry))
        srv.put("/html.xml", b"<!DOCTYPE html><html><body>Seite</body></html>", "text/html")
        yield srv


def fetcher(server: FeedServer) -> Fetcher:
    return Fetcher(
        user_agent="eudigest-test",
        timeout_s=30,
        max_bytes=20_000_000,
        max_redirects=2,
        concurrency=8,
        per_host=2,
        allow=fetch_allow_list(server.fetch_allow),
    )


def test_a_slow_big_source_holds_none_of_the_others(store: Store, server: FeedServer) -> None:
    # 20 MB at 64 kB a step (about 300 steps, the fetch limit), all of it parsed; its
    # end waits until every quick source is stored, however slow the machine.
    # "a-slow" sorts first, so it takes its connection before any quick source does.
    gate = f"slow-{id(store)}"  # a gate once released stays open: one per test
    slow = server.url(f"/_fault/drip?gate={gate}&mb=20&kb=64&interval=0.005&whole=1")
    sources = [make_source("a-slow", slow)] + [
        make_source(sid, server.url(f"/{sid}.xml")) for sid in QUICK
    ]
    store.sources.register(sources, now=NOW)
    order: list[SourceReport] = []

    def progress(r: SourceReport) -> None:
        order.append(r)
        if {q.source_id for q in order} >= set(QUICK):
            server.release(gate)

    report = run_ingest(
        store,
        fetcher(server),
        TAXONOMY,
        IngestOptions(workers=2),
        clock=lambda: NOW,
        progress=progress,
    )
    assert [r.source_id for r in order][-1] == "a-slow", "the slow source held another"
    assert {r.source_id: (r.status, r.new) for r in order} == {
        "a-slow": ("ok", 1),
        **{sid: ("ok", 1) for sid in QUICK},
    }
    assert report.total("new") == 7
    assert store.items.count() == 7


@pytest.mark.parametrize("workers", [0, 2])
def test_a_parse_error_in_a_worker_is_the_sources_failure(
    sqlite_store: Store, server: FeedServer, workers: int
) -> None:
    sources = [
        make_source("html", server.url("/html.xml")),
        make_source("quick-0", server.url("/quick-0.xml")),
    ]
    sqlite_store.sources.register(sources, now=NOW)
    report = run_ingest(
        sqlite_store, fetcher(server), TAXONOMY, IngestOptions(workers=workers), clock=lambda: NOW
    )
    by_id = {r.source_id: r for r in report.sources}
    assert by_id["quick-0"].status == "ok"
    assert by_id["html"].status == "failed"
    assert by_id["html"].error == "got an HTML page, not a feed (Content-Type text/html)"
    health = {h.source.id: h for h in sqlite_store.sources.health()}
    assert health["html"].consecutive_failures == 1
    assert health["html"].last_error == by_id["html"].error
    assert health["quick-0"].etag and health["quick-0"].last_success == NOW


def test_a_warm_run_writes_only_the_sources_health(store: Store, server: FeedServer) -> None:
    sources = [make_source(sid, server.url(f"/{sid}.xml")) for sid in QUICK]
    store.sources.register(sources, now=NOW)
    cold = run_ingest(store, fetcher(server), TAXONOMY, IngestOptions(workers=2), clock=lambda: NOW)
    assert cold.total("new") == len(QUICK)
    writes: list[str] = []

    def record(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    later = NOW + dt.timedelta(hours=2)
    event.listen(store.engine, "before_cursor_execute", record)
    try:
        store.sources.register(sources, now=later)  # as `eudigest fetch` does first
        warm = run_ingest(
            store, fetcher(server), TAXONOMY, IngestOptions(workers=2), clock=lambda: later
        )
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert {r.status for r in warm.sources} == {"not_modified"}
    assert len(writes) == 1, writes
    assert writes[0].lstrip().upper().startswith("UPDATE SOURCES")
    assert all(h.last_success == later for h in store.sources.health())
