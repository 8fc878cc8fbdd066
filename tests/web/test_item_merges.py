"""The item page names the language versions and, under them, which entries were merged
into the item and why (the rule that found the shared key, in German)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pipeline.ingest.dedupe import Incoming, decide
from pipeline.ingest.normalize import normalize
from pipeline.model import Classification, DocType, RawItem, Source, SourceKind
from pipeline.store import Store
from tests.web.conftest import EP_EN, NOW, Desk, visible

EP_DE = Source(
    "ep-de", "Pressemitteilungen des EP", "European Parliament", "https://x.test/ep-de", "de",
    SourceKind.FEED,
)  # fmt: skip
LINK = "https://www.europarl.europa.eu/news/{lang}/press-room/20260713IPR46512/{slug}"


def _ingest(store: Store, source: Source, title: str, slug: str) -> None:
    raw = RawItem(source.id, title, url=LINK.format(lang=source.language, slug=slug))
    item = normalize(raw, source, tz=ZoneInfo("Europe/Brussels"), now=NOW)
    cl = Classification((), DocType.PRESS_RELEASE, (), (), 0.2)
    known = store.items.lookup({item.identity}, {item.url or ""}, {item.family or ""})
    store.items.apply(decide([Incoming(item, cl)], known, institution=source.institution), now=NOW)


def test_item_page_says_which_entries_were_merged_and_why(anna: Desk, store: Store) -> None:
    store.sources.register([EP_DE], now=NOW)
    _ingest(store, EP_EN, "Cohesion policy: MEPs back faster support", "cohesion-policy")
    _ingest(store, EP_DE, "Kohäsionspolitik: Abgeordnete für schnellere Hilfe", "kohasionspolitik")
    (item,) = store.items.list()
    text = visible(anna.text(f"/desk/items/{item.id}"))
    assert "Sprachfassungen: Deutsch, Englisch — zusammengeführt:" in text
    assert (
        "Deutsch aus Pressemitteilungen des EP: gleiche Referenz 20260713IPR46512 des "
        "Europäischen Parlaments im Link · 25.11.2026, 09:30"
    ) in text


def test_an_item_without_merges_says_nothing_about_them(anna: Desk, store: Store) -> None:
    _ingest(store, EP_EN, "Cohesion policy: MEPs back faster support", "cohesion-policy")
    (item,) = store.items.list()
    text = visible(anna.text(f"/desk/items/{item.id}"))
    assert "Sprachfassungen" in text and "zusammengeführt" not in text
