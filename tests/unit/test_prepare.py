"""Preparer in this process: what lives as long as the run is frozen out of the garbage
collector's reach while bodies are prepared, and given back when the preparer closes."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.catalog import load_taxonomy
from pipeline.ingest.prepare import Preparer
from pipeline.model import FetchResult, FetchStatus, Source, SourceKind

ROOT = Path(__file__).resolve().parents[2]
FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    b"<item><title>Aufruf</title><link>https://ec.europa.eu/a</link></item></channel></rss>"
)


class GcCalls:
    """Counts the preparer's freezes and thaws (and does them): the freeze count itself
    moves whenever a frozen object is freed, so it cannot be compared exactly."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.freezes = self.thaws = 0
        freeze, unfreeze = gc.freeze, gc.unfreeze

        def counted_freeze() -> None:
            self.freezes += 1
            freeze()

        def counted_unfreeze() -> None:
            self.thaws += 1
            unfreeze()

        monkeypatch.setattr(gc, "freeze", counted_freeze)
        monkeypatch.setattr(gc, "unfreeze", counted_unfreeze)


def test_prepared_here_with_the_old_objects_frozen_until_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert gc.get_freeze_count() == 0
    calls = GcCalls(monkeypatch)
    source = Source(
        "s", "s", "European Commission", "https://ec.europa.eu/f", "de", SourceKind.FEED
    )
    result = FetchResult("s", FetchStatus.OK, source.url, FEED, "application/rss+xml")
    now = dt.datetime(2026, 7, 28, 8, 0, tzinfo=dt.UTC)
    with Preparer(load_taxonomy(ROOT / "taxonomy.yaml"), ZoneInfo("Europe/Brussels"), 0) as p:
        assert gc.get_freeze_count() == 0  # nothing frozen before the first body
        [incoming] = p.here(source, result, now)
        assert incoming.item.title == "Aufruf"
        assert gc.get_freeze_count() > 1000
        p.here(source, result, now)
        assert (calls.freezes, calls.thaws) == (1, 0)  # frozen once
    assert (calls.freezes, calls.thaws) == (1, 1)
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("workers", [0, 1])
def test_a_freeze_made_before_is_left_as_it_was(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run forked from the scheduler's start-up server finds the preload frozen: the
    preparer must not thaw it at close (its collections would then copy shared pages)."""
    url = "https://ec.europa.eu/f"
    # options as the store gives them (the default, a read-only view, does not pickle)
    source = Source("s", "s", "European Commission", url, "de", SourceKind.FEED, options={})
    result = FetchResult("s", FetchStatus.OK, source.url, FEED, "application/rss+xml")
    now = dt.datetime(2026, 7, 28, 8, 0, tzinfo=dt.UTC)
    gc.freeze()
    try:
        assert gc.get_freeze_count() > 0
        calls = GcCalls(monkeypatch)
        taxonomy = load_taxonomy(ROOT / "taxonomy.yaml")
        with Preparer(taxonomy, ZoneInfo("Europe/Brussels"), workers) as p:
            if workers:
                [incoming] = p.submit(source, result, now).result(timeout=60)
            else:
                [incoming] = p.here(source, result, now)
            assert incoming.item.title == "Aufruf"
        assert calls.thaws == 0  # still frozen
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
