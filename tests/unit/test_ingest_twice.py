"""Property: ingesting the same input twice changes nothing (Hypothesis)."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.catalog import load_taxonomy
from pipeline.ingest import IngestOptions, run_ingest
from pipeline.ingest.fetch import FetchRequest
from pipeline.model import FetchResult, FetchStatus, Source, SourceKind
from pipeline.store import Store
from pipeline.store.items import ItemQuery
from tests.conftest import fresh_sqlite_store

ROOT = Path(__file__).resolve().parents[2]
TAXONOMY = load_taxonomy(ROOT / "taxonomy.yaml")
SOURCE = Source(
    "prop", "Property feed", "European Commission", "https://feed.test/rss", "de", SourceKind.FEED
)


class FakeFetcher:
    """The network edge: always answers 200 with the same body, no validators."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def fetch_all(self, requests: Sequence[FetchRequest]) -> AsyncIterator[FetchResult]:
        for r in requests:
            yield FetchResult(r.source_id, FetchStatus.OK, r.url, self.body, "application/rss+xml")


text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    | st.sampled_from("äöüßÄÖÜ€&<>\"' "),
    min_size=0,
    max_size=60,
)
entry = st.fixed_dictionaries(
    {
        "title": text.map(lambda t: "Titel " + t),
        "description": text,
        "link": st.none()
        | st.sampled_from(
            [
                "https://ec.europa.eu/a",
                "https://ec.europa.eu/b?utm_source=x",
                "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1",
            ]
        ),
        "guid": st.none() | st.sampled_from(["g1", "g2", "https://ec.europa.eu/g3"]),
        "date": st.none()
        | st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
            lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")
        ),
    }
)


def feed(entries: list[dict[str, str | None]]) -> bytes:
    parts = []
    for e in entries:
        inner = f"<title>{escape(e['title'] or '')}</title>"
        inner += f"<description>{escape(e['description'] or '')}</description>"
        if e["link"]:
            inner += f"<link>{escape(e['link'])}</link>"
        if e["guid"]:
            inner += f"<guid>{escape(e['guid'])}</guid>"
        if e["date"]:
            inner += f"<pubDate>{e['date']}</pubDate>"
        parts.append(f"<item>{inner}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


def snapshot(store: Store) -> list[tuple[object, ...]]:
    return [
        (
            i.id,
            i.title,
            i.url,
            i.summary_html,
            i.published,
            i.topics,
            i.references,
            i.deadlines,
            i.relevance,
            i.doc_type,
            tuple(v.identity for v in i.versions),
        )
        for i in store.items.list(ItemQuery(limit=1000))
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(entry, min_size=1, max_size=8))
def test_ingesting_the_same_feed_twice_changes_nothing(
    entries: list[dict[str, str | None]],
) -> None:
    body = feed(entries)
    with tempfile.TemporaryDirectory() as tmp:
        store = fresh_sqlite_store(Path(tmp) / "p.db")
        try:
            store.sources.register([SOURCE], now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
            first_clock = lambda: dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)  # noqa: E731
            second_clock = lambda: dt.datetime(2026, 11, 26, 17, 30, tzinfo=dt.UTC)  # noqa: E731
            options = IngestOptions(only=["prop"], force=True)
            first = run_ingest(store, FakeFetcher(body), TAXONOMY, options, clock=first_clock)  # type: ignore[arg-type]
            assert first.sources[0].status == "ok", first.sources[0].error
            before = snapshot(store)
            second = run_ingest(store, FakeFetcher(body), TAXONOMY, options, clock=second_clock)  # type: ignore[arg-type]
            r = second.sources[0]
            assert (r.status, r.new, r.updated) == ("ok", 0, 0)
            assert snapshot(store) == before
        finally:
            store.close()
