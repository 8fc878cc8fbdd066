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


def test_prepared_here_with_the_old_objects_frozen_until_close() -> None:
    assert gc.get_freeze_count() == 0
    source = Source(
        "s", "s", "European Commission", "https://ec.europa.eu/f", "de", SourceKind.FEED
    )
    result = FetchResult("s", FetchStatus.OK, source.url, FEED, "application/rss+xml")
    now = dt.datetime(2026, 7, 28, 8, 0, tzinfo=dt.UTC)
    with Preparer(load_taxonomy(ROOT / "taxonomy.yaml"), ZoneInfo("Europe/Brussels"), 0) as p:
        assert gc.get_freeze_count() == 0  # nothing frozen before the first body
        [incoming] = p.here(source, result, now)
        assert incoming.item.title == "Aufruf"
        frozen = gc.get_freeze_count()
        assert frozen > 1000
        p.here(source, result, now)
        assert gc.get_freeze_count() == frozen  # frozen once
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("workers", [0, 1])
def test_a_freeze_made_before_is_left_as_it_was(workers: int) -> None:
    """A run forked from the scheduler's start-up server finds the preload frozen: the
    preparer must not thaw it at close (its collections would then copy shared pages)."""
    url = "https://ec.europa.eu/f"
    # options as the store gives them (the default, a read-only view, does not pickle)
    source = Source("s", "s", "European Commission", url, "de", SourceKind.FEED, options={})
    result = FetchResult("s", FetchStatus.OK, source.url, FEED, "application/rss+xml")
    now = dt.datetime(2026, 7, 28, 8, 0, tzinfo=dt.UTC)
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        assert before > 0
        taxonomy = load_taxonomy(ROOT / "taxonomy.yaml")
        with Preparer(taxonomy, ZoneInfo("Europe/Brussels"), workers) as p:
            if workers:
                [incoming] = p.submit(source, result, now).result(timeout=60)
            else:
                [incoming] = p.here(source, result, now)
            assert incoming.item.title == "Aufruf"
        assert gc.get_freeze_count() >= before  # still frozen
    finally:
        gc.unfreeze()
