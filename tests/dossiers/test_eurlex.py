"""EUR-Lex RSS and dossiers, end to end through the command line: a proposal joins its
dossier by its COM number, the act's publication moves the file to "im Amtsblatt",
a corrigendum is an event "Berichtigung" of the act's dossier (never a dossier of its
own), and an act whose entry names the procedure becomes an alias.

The feeds are the written fixtures of tests/data/written/ (eurlex-*-de.xml, not
captures); the procedure is the real OEIL page of 2024/0258(COD) from the corpus, in
one test cut before its publication (an in-memory edit, said where it is done).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from tests.integration.test_ingest_corpus import Cli
from tests.support.feedserver import FeedServer

OEIL = "pages/oeil-procedure-file-2024-0258-cod-en.html"
WRITTEN = Path(__file__).resolve().parents[1] / "data" / "written"
FEEDS = {
    "eurlex-proposals-de": "eurlex-proposals-de.xml",
    "eurlex-legislation-de": "eurlex-legislation-de.xml",
    "eurlex-oj-l-de": "eurlex-oj-l-corrigendum-de.xml",
}
MOLDOVA = "2024/0258(COD)"


@pytest.fixture
def server(corpus_dir: Path) -> Iterator[FeedServer]:
    with FeedServer(corpus_dir) as srv:
        for name in FEEDS.values():
            srv.put(f"/eurlex/{name}", (WRITTEN / name).read_bytes(), "application/rss+xml")
        yield srv


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Cli:
    c = Cli(tmp_path, monkeypatch, capsys)
    assert c("init")[0] == 0
    return c


def oeil_before_publication(server: FeedServer) -> str:
    """The real OEIL page, edited here: without its "Final act" section and the key event
    of the publication, as the page stood between signature and Official Journal."""
    soup = BeautifulSoup((server.root / OEIL).read_bytes(), "lxml")  # type: ignore[operator]
    for tr in soup.find_all("tr"):
        if "published in Official Journal" in tr.get_text(" "):
            tr.decompose()
    for h2 in soup.find_all("h2"):
        if h2.get_text(" ", strip=True).startswith("Final act"):
            block = h2.find_parent(class_="es_product-content") or h2.parent
            block.decompose()
    server.put("/oeil/cut.html", str(soup).encode(), "text/html; charset=utf-8")
    return server.url("/oeil/cut.html")


def write_sources(tmp_path: Path, server: FeedServer, oeil_url: str, feeds: list[str]) -> Path:
    lines = ["sources:"]
    entries = [("oeil-2024-0258", oeil_url, "html", "oeil", {})]
    entries += [
        (
            sid,
            server.url(f"/eurlex/{FEEDS[sid]}"),
            "feed",
            None,
            {"title_reference_pattern": r"^CELEX:(\S+?):\s+"},
        )
        for sid in feeds
    ]
    for sid, url, kind, adapter, options in entries:
        lines += [
            f"  - id: {sid}",
            f"    name: {sid}",
            "    institution: EU",
            f"    url: {url}",
            "    language: de",
            f"    kind: {kind}",
        ]
        if adapter:
            lines.append(f"    adapter: {adapter}")
        if options:
            lines.append(f"    options: {json.dumps(options)}")
    path = tmp_path / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def events_of(shown: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in shown["events"] if e["kind"] == kind]


def test_publication_and_corrigendum_from_eurlex_feeds(
    cli: Cli, server: FeedServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, server, oeil_before_publication(server), list(FEEDS))
    # OEIL alone: signed, not yet in the Official Journal; the act is no alias yet
    cli.json("fetch", "--sources-file", str(sources), "--source", "oeil-2024-0258")
    before = cli.json("dossier", "show", MOLDOVA)
    assert before["stage"] == "adopted" and "32025R0535" not in before["aliases"]
    assert before["items"] == []

    report = cli.json("fetch", "--sources-file", str(sources))
    assert all(r["status"] in ("ok", "not_modified") for r in report), report
    shown = cli.json("dossier", "show", MOLDOVA)
    # the legislation feed's entry names the procedure (2024/0258/COD): its act is an alias
    assert "32025R0535" in shown["aliases"]
    assert shown["stage"] == "published" and shown["stage_de"] == "im Amtsblatt"
    (published,) = events_of(shown, "OJ_PUBLICATION")  # once, though two feeds carry the act
    assert published["date"] == "2025-03-21"  # the OJ's day in Brussels, not UTC's 20 March
    assert published["label_de"] == "Im Amtsblatt veröffentlicht"
    assert published["document"] == "32025R0535"
    assert published["source"] in ("eurlex-legislation-de", "eurlex-oj-l-de")
    (corrigendum,) = events_of(shown, "CORRIGENDUM")
    assert corrigendum["date"] == "2025-05-28"
    assert corrigendum["label_de"] == "Berichtigung im Amtsblatt veröffentlicht (32025R0535R(01))"
    assert corrigendum["source"] == "eurlex-oj-l-de"
    # the proposal (by COM(2024) 469 = 52024PC0469), the act and the corrigendum joined
    items = {i["id"]: i for i in cli.json("items", "--limit", "100")}
    joined = {r for i in shown["items"] for r in items[i]["references"] if r[:1] in "35"}
    assert {"52024PC0469", "32025R0535", "32025R0535R(01)"} <= joined
    # the corrigendum made no dossier of its own; the other proposals joined nothing
    assert [d["reference"] for d in cli.json("dossiers")] == [MOLDOVA]
    other = [i for i in items.values() if "52026PC0123" in i["references"]]
    assert other and all(i["id"] not in shown["items"] for i in other)
    assert shown["links"]["eurlex_de"].endswith("CELEX:32025R0535")

    # a second fetch adds nothing: no second publication, no second corrigendum
    cli.json("fetch", "--sources-file", str(sources), "--force")
    again = cli.json("dossier", "show", MOLDOVA)
    assert again["events"] == shown["events"] and again["items"] == shown["items"]

    # OEIL catches up (the whole page now): its "Final act published" is no second event
    server.put("/oeil/cut.html", (server.root / OEIL).read_bytes(), "text/html")  # type: ignore[operator]
    cli.json("fetch", "--sources-file", str(sources), "--force", "--source", "oeil-2024-0258")
    later = cli.json("dossier", "show", MOLDOVA)
    assert len(events_of(later, "OJ_PUBLICATION")) == 1
    assert later["stage"] == "published" and len(later["events"]) == len(shown["events"])


def test_a_corrigendum_joins_the_act_oeil_names_and_adds_no_second_publication(
    cli: Cli, server: FeedServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, server, server.url(OEIL), ["eurlex-oj-l-de"])
    cli.json("fetch", "--sources-file", str(sources))
    shown = cli.json("dossier", "show", MOLDOVA)
    assert shown["stage"] == "published"
    assert len(events_of(shown, "OJ_PUBLICATION")) == 1  # OEIL's own; EUR-Lex adds none
    (corrigendum,) = events_of(shown, "CORRIGENDUM")
    assert corrigendum["document"] == "32025R0535R(01)"
    assert len(shown["items"]) == 2  # the act and its corrigendum


def test_the_shipped_eurlex_sources_read_their_fixtures(
    cli: Cli, server: FeedServer, tmp_path: Path
) -> None:
    """sources.yaml's EUR-Lex entries, only their URL pointed here: CELEX and COM numbers
    become references; switched on by configuration alone."""
    import yaml

    root = Path(__file__).resolve().parents[2]
    config = yaml.safe_load((root / "sources.yaml").read_text(encoding="utf-8"))
    shipped = {e["id"]: e for e in config["sources"] if e["id"] in FEEDS}
    assert set(shipped) == set(FEEDS)
    assert shipped["eurlex-proposals-de"]["url"].endswith("display-feed.rss?rssId=161")
    assert shipped["eurlex-legislation-de"]["url"].endswith("display-feed.rss?rssId=162")
    assert shipped["eurlex-oj-l-de"]["url"].endswith("display-feed.rss?rssId=222")
    served = [
        {**e, "url": server.url(f"/eurlex/{FEEDS[e['id']]}"), "enabled": True}
        for e in shipped.values()
    ]
    path = tmp_path / "shipped.yaml"
    path.write_text(yaml.safe_dump({"sources": served}, allow_unicode=True), encoding="utf-8")
    cli.json("fetch", "--sources-file", str(path))
    found = cli.json("items", "--limit", "100")
    refs = {r for i in found for r in i["references"]}
    assert {"52024PC0469", "COM(2024) 469", "52026PC0123", "COM(2026) 123"} <= refs
    assert {"32025R0535", "32025R0535R(01)", "2024/0258(COD)"} <= refs
    assert all(not i["title"].startswith("CELEX:") for i in found)


# ---------------------------------------------------------------- the store's part, both backends


def add_documents(store: Any, docs: dict[int, tuple[str, str, tuple[str, ...]]]) -> dict[int, int]:
    """Items n from the EUR-Lex feed: (link, publication as ISO instant, references)."""
    import datetime as dt

    from pipeline.ingest.dedupe import Incoming, decide
    from pipeline.model import Classification, DocType, NormalizedItem, Source, SourceKind

    now = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    store.sources.register(
        [Source("eurlex", "EUR-Lex", "EU", "https://x.test/rss", "de", SourceKind.FEED)], now=now
    )
    incoming = [
        Incoming(
            NormalizedItem(
                source_id="eurlex",
                identity=f"guid:{n}",
                title=f"Dokument {n}",
                url=url,
                summary_html="",
                summary_text="",
                language="de",
                published=dt.datetime.fromisoformat(published),
                updated=None,
                content_hash=f"h{n}",
                family=None,
            ),
            Classification((), DocType.OTHER, refs, (), 0.0),
        )
        for n, (url, published, refs) in docs.items()
    ]
    known = store.items.lookup({i.item.identity for i in incoming}, set(), set())
    store.items.apply(decide(incoming, known, institution="EU"), now=now)
    page = store.items.lookup({i.item.identity for i in incoming}, set(), set())
    return {int(k.split(":")[1]): v.item_id for k, v in page.by_identity.items()}


def test_the_store_adds_publication_alias_and_corrigendum_in_one_run(store: Any) -> None:
    import datetime as dt

    from pipeline.model import DossierEvent, DossierRecord, EventKind, Stage

    now = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    link = "https://eur-lex.europa.eu/./legal-content/AUTO/?uri=CELEX:"
    ids = add_documents(
        store,
        {
            1: (link + "32025R0535R(01)", "2025-05-27T22:00:00+00:00", ("32025R0535R(01)",)),
            2: (link + "32025R0535", "2025-03-20T23:00:00+00:00", ("32025R0535", MOLDOVA)),
            3: (link + "32026R0555", "2026-05-01T22:00:00+00:00", ("32026R0555", "A10-0006/2025")),
        },
    )
    signed = DossierEvent(dt.date(2025, 3, 18), EventKind.SIGNED, "oeil", key="s")
    store.dossiers.upsert(
        [
            DossierRecord(
                MOLDOVA, "oeil", aliases=("COM(2024) 469", "A10-0006/2025"), events=(signed,)
            )
        ],
        now=now,
    )
    assert store.dossiers.get(MOLDOVA, today=now.date()).stage is Stage.ADOPTED
    assert store.dossiers.thread(now=now) == 3
    d = store.dossiers.get(MOLDOVA, today=now.date())
    assert "32025R0535" in d.aliases and "32026R0555" not in d.aliases
    assert d.stage is Stage.PUBLISHED and d.updated_at == now
    steps = {(e.kind, e.date, e.document) for e in d.events if e.source == "eurlex"}
    assert steps == {
        (EventKind.OJ_PUBLICATION, dt.date(2025, 3, 21), "32025R0535"),
        (EventKind.CORRIGENDUM, dt.date(2025, 5, 28), "32025R0535R(01)"),
    }
    assert sorted(d.item_ids) == sorted(ids.values())  # 3 joined by the EP report only
    assert store.dossiers.thread(now=now) == 0
    assert len(store.dossiers.get(MOLDOVA, today=now.date()).events) == 3
