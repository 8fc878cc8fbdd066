"""Ingest under change and failure: updates, tombstones, bad sources, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_ingest_corpus import Cli
from tests.support.feedserver import FeedServer
from tests.support.ports import refusing_port

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test</title><link>https://ec.europa.eu/</link>
{items}
</channel></rss>"""
ITEM = """<item><title>{title}</title><link>{link}</link><guid>{link}</guid>
<description>{desc}</description><pubDate>Mon, 27 Jul 2026 09:20:41 GMT</pubDate></item>"""


def rss(*entries: tuple[str, str, str]) -> bytes:
    return RSS.format(
        items="\n".join(ITEM.format(title=t, link=link, desc=d) for t, link, d in entries)
    ).encode()


def sources_file(
    tmp_path: Path, entries: dict[str, str], adapters: dict[str, str] | None = None
) -> Path:
    """A sources.yaml of feeds (or, for ids in `adapters`, API sources read by that adapter)."""
    adapters = adapters or {}
    lines = ["sources:"]
    for sid, url in entries.items():
        lines += [
            f"  - id: {sid}",
            f"    name: {sid}",
            "    institution: European Commission",
            f"    url: {url}",
            "    language: de",
            f"    kind: {'api' if sid in adapters else 'feed'}",
        ]
        if sid in adapters:
            lines.append(f"    adapter: {adapters[sid]}")
    path = tmp_path / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def server() -> FeedServer:
    with FeedServer() as srv:
        yield srv


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    c = Cli(tmp_path, monkeypatch, capsys)
    monkeypatch.setenv("EUDIGEST_FETCH_TIMEOUT", "5")  # a busy machine answers late, not never
    assert c("init")[0] == 0
    return c


A = (
    "Förderaufruf für Wasserstoff &amp; Batterien",
    "https://ec.europa.eu/a?utm_source=rss",
    "Erster Text",
)
B = ("Zweite Meldung", "https://ec.europa.eu/b", "Zweiter Text")


def test_changed_entry_is_updated_not_duplicated(
    cli: Cli, server: FeedServer, tmp_path: Path
) -> None:
    server.put("/feed.xml", rss(A))
    f = sources_file(tmp_path, {"feed": server.url("/feed.xml")})
    assert cli.json("fetch", "--sources-file", str(f))[0]["new"] == 1
    item = cli.json("items")[0]
    assert item["title"] == "Förderaufruf für Wasserstoff & Batterien"
    assert item["url"] == "https://ec.europa.eu/a"  # tracking parameter dropped

    server.put("/feed.xml", rss((A[0] + " (korrigiert)", A[1], A[2]), B))
    r = cli.json("fetch", "--sources-file", str(f))[0]
    assert (r["new"], r["updated"], r["unchanged"]) == (1, 1, 0)
    items = cli.json("items")
    assert len(items) == 2
    assert items[0]["id"] == item["id"] or items[1]["id"] == item["id"]
    assert {i["title"] for i in items} == {
        "Förderaufruf für Wasserstoff & Batterien (korrigiert)",
        "Zweite Meldung",
    }


def test_item_deleted_by_staff_never_comes_back(
    cli: Cli, server: FeedServer, tmp_path: Path
) -> None:
    server.put("/feed.xml", rss(A, B))
    f = sources_file(tmp_path, {"feed": server.url("/feed.xml")})
    cli.json("fetch", "--sources-file", str(f))
    gone = next(i for i in cli.json("items") if i["title"] == "Zweite Meldung")
    code, _, err = cli("items", "delete", str(gone["id"]))
    assert code == 0, err
    server.put("/feed.xml", rss(A, (B[0], B[1], "Geänderter Text"), B))  # changed and repeated
    r = cli.json("fetch", "--sources-file", str(f))[0]
    assert r["new"] == 0 and r["suppressed"] >= 1
    assert [i["title"] for i in cli.json("items")] == [A[0].replace("&amp;", "&")]


def test_script_in_feed_content_never_reaches_the_store(
    cli: Cli, server: FeedServer, tmp_path: Path
) -> None:
    evil = (
        "Titel <script>alert(1)</script>",
        "https://ec.europa.eu/x",
        "&lt;p onclick=&quot;alert(2)&quot;&gt;Text&lt;script&gt;alert(3)&lt;/script&gt;"
        "&lt;a href=&quot;javascript:alert(4)&quot;&gt;Link&lt;/a&gt;&lt;/p&gt;",
    )
    server.put("/feed.xml", rss(evil))
    f = sources_file(tmp_path, {"feed": server.url("/feed.xml")})
    cli.json("fetch", "--sources-file", str(f))
    item = cli.json("items")[0]
    stored = item["title"] + item["summary_html"]
    assert "Text" in item["summary_html"]
    for bad in ("<script", "onclick", "javascript:", "alert(3)"):
        assert bad not in stored.lower()


def test_a_failing_source_never_stops_the_run(cli: Cli, server: FeedServer, tmp_path: Path) -> None:
    server.put("/good.xml", rss(A))
    f = sources_file(
        tmp_path,
        {
            "good": server.url("/good.xml"),
            "gone": server.url("/_fault/status/410"),
            "page": server.url("/_fault/html"),
            "empty": server.url("/_fault/empty"),
            "busy": server.url("/_fault/status/503?retry_after=600"),
        },
    )
    code, _out, err = cli("fetch", "--sources-file", str(f))
    assert code == 0, err
    health = {h["id"]: h for h in cli.json("sources")}
    assert health["good"]["consecutive_failures"] == 0 and health["good"]["items"] == 1
    assert "410" in health["gone"]["last_error"]
    assert "HTML" in health["page"]["last_error"]
    assert "empty" in health["empty"]["last_error"].lower()
    for sid in ("gone", "page", "empty", "busy"):
        assert health[sid]["consecutive_failures"] == 1 and health[sid]["next_try"]

    # A plain fetch leaves sources in backoff alone; --force and --source try again.
    hits = server.hits["/_fault/status/410"]
    report = {r["source"]: r for r in cli.json("fetch", "--sources-file", str(f))}
    assert report["gone"]["status"] == "deferred" and server.hits["/_fault/status/410"] == hits
    assert report["good"]["status"] == "not_modified"
    report = {r["source"]: r for r in cli.json("fetch", "--sources-file", str(f), "--force")}
    assert report["gone"]["status"] == "failed"
    assert {h["id"]: h for h in cli.json("sources")}["gone"]["consecutive_failures"] == 2


def test_no_source_reachable_exits_non_zero_and_says_why(cli: Cli, tmp_path: Path) -> None:
    with refusing_port() as port:
        f = sources_file(
            tmp_path,
            {"a": f"http://127.0.0.1:{port}/a.xml", "b": f"http://127.0.0.1:{port}/b.xml"},
        )
        code, _out, err = cli("fetch", "--sources-file", str(f))
    assert code == 1
    assert "no source could be fetched" in err and "2 failed" in err
    assert "connect" in err.lower()


def test_invalid_sources_file_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("sources:\n  - id: x\n    name: X\n    institution: EC\n    url: nowhere\n")
    code, _out, err = cli("fetch", "--sources-file", str(path))
    assert code == 2
    assert "broken.yaml:5: sources[0] (x).url" in err


def test_unknown_source_id_is_named(cli: Cli, server: FeedServer, tmp_path: Path) -> None:
    server.put("/good.xml", rss(A))
    f = sources_file(tmp_path, {"good": server.url("/good.xml")})
    code, _out, err = cli("fetch", "--sources-file", str(f), "--source", "nope")
    assert code == 2 and "nope" in err


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("/_fault/status/404", "HTTP 404"),
        ("/_fault/status/500", "HTTP 500"),
        ("/_fault/redirect-loop", "redirects"),
        ("/_fault/slow?seconds=60", "timed out"),  # cut short when the server stops
        ("/_fault/trickle", "timed out"),
        ("/_fault/big?mb=3", "size cap"),
        ("/_fault/big?mb=3&length=0", "size cap"),
        ("/_fault/gzip-bomb", "size cap"),
        ("/_fault/garbage", "malformed XML"),
        ("/_fault/truncated?file=api/ft-search-horizon-page.json", "JSON"),
        ("/_fault/reset", "connection"),
    ],
)
def test_every_bad_answer_is_recorded_on_its_source_and_the_rest_goes_on(
    cli: Cli,
    server: FeedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    corpus_dir: Path,
    route: str,
    expected: str,
) -> None:
    # long enough for the good feed on a busy machine; the slow and trickling routes take
    # longer than the read timeout and the total deadline (3 × 3 s), however busy it is
    monkeypatch.setenv("EUDIGEST_FETCH_TIMEOUT", "3")
    monkeypatch.setenv("EUDIGEST_FETCH_MAX_BYTES", "2000000")
    server.root = corpus_dir  # the truncated route cuts a corpus file
    server.put("/good.xml", rss(A))
    if "gzip-bomb" in route:
        # built before the fetch: its 1 GiB checksum took longer than the 3 s read timeout
        # on a loaded machine, so the route answered "timed out" instead of the bomb
        server._bomb(1)
    adapters = {"bad": "ft_search"} if "ft-search" in route else {}  # a JSON answer cut in half
    f = sources_file(
        tmp_path, {"good": server.url("/good.xml"), "bad": server.url(route)}, adapters
    )
    code, _out, err = cli("fetch", "--sources-file", str(f))
    assert code == 0, err
    health = {h["id"]: h for h in cli.json("sources")}
    assert health["good"]["items"] == 1 and health["good"]["consecutive_failures"] == 0
    bad = health["bad"]
    assert bad["consecutive_failures"] == 1 and bad["items"] == 0
    assert expected.lower() in bad["last_error"].lower(), bad["last_error"]


def test_a_feed_cut_off_keeps_its_complete_entries(
    cli: Cli, server: FeedServer, tmp_path: Path, corpus_dir: Path
) -> None:
    server.root = corpus_dir
    route = "/_fault/truncated?file=feeds/ecb-press-en.xml"
    f = sources_file(tmp_path, {"ecb": server.url(route)})
    report = cli.json("fetch", "--sources-file", str(f))[0]
    # The first half of the 15 entries arrived; the last, possibly cut, one is dropped.
    assert report["status"] == "ok" and 0 < report["new"] < 15
    titles = [i["title"] for i in cli.json("items")]
    assert all(t.strip() for t in titles)
