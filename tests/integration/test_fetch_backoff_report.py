"""After a database outage during `fetch`, the sources whose store step failed wait in
backoff; the next plain `eudigest fetch` names them (count and names, text and --json)
instead of "2 sources fetched, 0 failed; 0 new" and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import StoreUnavailable
from pipeline.store.items import ItemsStore
from tests.integration.test_ingest_corpus import Cli
from tests.integration.test_ingest_faults import A, B, rss, sources_file
from tests.support.feedserver import FeedServer


@pytest.fixture
def server() -> Any:
    with FeedServer() as srv:
        yield srv


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    c = Cli(tmp_path, monkeypatch, capsys)
    assert c("init")[0] == 0
    return c


def test_sources_left_in_backoff_by_a_database_outage_are_named(
    cli: Cli, server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, entry in (("a", A), ("b", B), ("c", B), ("d", A)):
        server.put(f"/{name}.xml", rss(entry))
    f = sources_file(tmp_path, {sid: server.url(f"/{sid}.xml") for sid in ("a", "b", "c", "d")})
    real_apply = ItemsStore.apply
    calls: list[int] = []

    def outage(self: ItemsStore, *args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) <= 2:  # the database goes away for the first two sources' items
            raise StoreUnavailable("connection refused (database restarting)")
        return real_apply(self, *args, **kw)

    with monkeypatch.context() as m:
        m.setattr(ItemsStore, "apply", outage)
        code, _, err = cli("fetch", "--sources-file", str(f))
    assert code == 0, err
    failed = sorted(h["id"] for h in cli.json("sources") if h["consecutive_failures"])
    assert len(failed) == 2

    code, out, err = cli("fetch", "--sources-file", str(f))
    assert code == 0, err
    text = " ".join(out.split())
    assert "2 sources fetched, 0 failed; 0 new" in text and "2 skipped in backoff." in text
    note = " ".join(err.split())
    assert f"2 sources were skipped, waiting in backoff after failures: {', '.join(failed)}" in note
    assert "--force" in note

    report = cli.json("fetch", "--sources-file", str(f))
    waiting = sorted(r["source"] for r in report if r["status"] == "deferred" and r["failures"])
    assert waiting == failed
    assert all(
        "database restarting" in (r["error"] or "") and r["next_try"]
        for r in report
        if r["source"] in failed
    )
