"""The whole ingest through the `eudigest` command, against the corpus on a loopback server."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli import main
from tests.support.corpus import (
    CORPUS_FILES,
    DISTINCT_ITEMS,
    TOTAL_ENTRIES,
    source_id,
    sources_yaml,
)
from tests.support.feedserver import FeedServer


@pytest.fixture(scope="module")
def server(corpus_dir: Path) -> Iterator[FeedServer]:
    with FeedServer(corpus_dir) as srv:
        yield srv


class Cli:
    """Runs `eudigest …` in-process on a data directory of its own."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
        self.capsys = capsys
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("EUDIGEST_DATA_DIR", str(tmp_path / "var"))
        monkeypatch.delenv("EUDIGEST_DATABASE_URL", raising=False)
        monkeypatch.setenv("EUDIGEST_FETCH_TIMEOUT", "5")

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Cli:
    c = Cli(tmp_path, monkeypatch, capsys)
    assert c("init")[0] == 0
    return c


@pytest.fixture
def corpus_file(tmp_path: Path, server: FeedServer) -> Path:
    path = tmp_path / "corpus-sources.yaml"
    path.write_text(sources_yaml(server.base_url), encoding="utf-8")
    return path


def by_title(items: list[dict[str, Any]], title: str) -> dict[str, Any]:
    found = [i for i in items if i["title"] == title]
    assert len(found) == 1, f"{title!r}: {len(found)} items"
    return found[0]


def test_every_corpus_entry_becomes_an_item(cli: Cli, corpus_file: Path) -> None:
    report = cli.json("fetch", "--sources-file", str(corpus_file))
    by_source = {r["source"]: r for r in report}
    for path, (_, entries) in CORPUS_FILES.items():
        r = by_source[source_id(path)]
        assert (r["status"], r["entries"]) == ("ok", entries), path
    assert sum(r["entries"] for r in report) == TOTAL_ENTRIES
    assert sum(r["new"] for r in report) == DISTINCT_ITEMS

    items = cli.json("items", "--limit", "5000")
    assert len(items) == DISTINCT_ITEMS
    # Three onefoottsunami posts share a placeholder link but have guids of their own.
    onefoot = [i for i in items if i["url"] == "http://onefoottsunami.com/wp-atom.php"]
    assert len(onefoot) == 3

    # Exact titles, links and dates, checked against the files by hand.
    belgium = by_title(
        items,
        "Commission greenlights Belgium's fifth payment request for €225 million "
        "under NextGenerationEU",
    )
    assert belgium["url"] == "https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1692"
    assert belgium["published"] == "2026-07-27T11:20:41+02:00"  # 09:20:41 GMT, shown in Brussels
    assert belgium["family"] == "IP/26/1692"
    assert "IP/26/1692" in belgium["references"]
    assert belgium["doc_type"] == "press_release"

    for item in items:  # timezone-aware, ISO 8601 with offset, everywhere
        assert dt.datetime.fromisoformat(item["published"]).utcoffset() is not None


def test_german_umlauts_survive_every_charset(
    cli: Cli, corpus_file: Path, corpus_dir: Path
) -> None:
    cli.json("fetch", "--sources-file", str(corpus_file))
    items = cli.json("items", "--limit", "5000")
    titles = {i["title"] for i in items}
    golem = [i for i in items if i["source"] == source_id("feeds/quirk-de-iso8859-1-golem.xml")]
    assert any(ch in i["title"] for i in golem for ch in "äöüÄÖÜß")
    # The same titles, decoded independently from the ISO-8859-1 bytes of the file.
    import re
    from html import unescape

    raw = (corpus_dir / "feeds/quirk-de-iso8859-1-golem.xml").read_bytes().decode("iso-8859-1")
    expected = [
        unescape(t).strip() for t in re.findall(r"<item>\s*<title>(.*?)</title>", raw, re.S)
    ]
    assert expected and all(t in titles for t in expected)
    assert not any("Ã" in t or "\ufffd" in t for t in titles if t)  # no mojibake


def test_warm_run_is_all_not_modified(cli: Cli, corpus_file: Path, server: FeedServer) -> None:
    cli.json("fetch", "--sources-file", str(corpus_file))
    before = len(cli.json("items", "--limit", "5000"))
    report = cli.json("fetch", "--sources-file", str(corpus_file))
    assert {r["status"] for r in report} == {"not_modified"}
    assert sum(r["new"] + r["updated"] for r in report) == 0
    assert len(cli.json("items", "--limit", "5000")) == before
    health = cli.json("sources")
    assert all(h["etag"] for h in health if h["id"] in {source_id(p) for p in CORPUS_FILES})


def test_source_health_is_shown(cli: Cli, corpus_file: Path) -> None:
    cli.json("fetch", "--sources-file", str(corpus_file))
    health = {h["id"]: h for h in cli.json("sources")}
    h = health[source_id("feeds/ec-presscorner-en.xml")]
    assert h["last_success"] is not None and h["last_error"] is None
    assert (h["consecutive_failures"], h["items"]) == (0, 20)
    assert h["url"].endswith("/feeds/ec-presscorner-en.xml")


# Entries that repeat one of the same file's own entries (the rest of DUPLICATES repeat
# another file's entries, and that file's source carries them just the same).
SAME_FILE_REPEATS = {
    "api/ft-search-horizon-page.json": 1,
    "feeds/quirk-de-iso8859-1-zeit-2007.xml": 1,
}


def test_every_corpus_file_is_found_under_its_own_source(cli: Cli, corpus_file: Path) -> None:
    # The files are fetched at once; whichever carries a shared entry first makes the item.
    # Filtering by source must not depend on that: every file's entries are under its source.
    cli.json("fetch", "--sources-file", str(corpus_file))
    per_source: dict[str, set[int]] = {}
    for path, (_, entries) in CORPUS_FILES.items():
        sid = source_id(path)
        found = cli.json("items", "--source", sid, "--limit", "5000")
        assert all(sid in i["sources"] for i in found), path
        assert len(found) == entries - SAME_FILE_REPEATS.get(path, 0), path
        per_source[sid] = {i["id"] for i in found}
    # The repeated files carry the very same items as the files they repeat.
    items = source_id("feeds/ec-newsroom-cnect-dae-items-en.xml")
    ascending = source_id("feeds/ec-newsroom-cnect-dae-items-en-ascending.xml")
    assert per_source[ascending] == per_source[items]
    trimmed = source_id("feeds/ecb-press-en-trimmed-2026-07-31.xml")
    assert per_source[trimmed] < per_source[source_id("feeds/ecb-press-en.xml")]
    one = source_id("feeds/ec-newsroom-cnect-dae-services-1item-en.xml")
    assert per_source[one] < per_source[source_id("feeds/ec-newsroom-cnect-dae-services-en.xml")]
    # Each item still has one first source, and "sources" lists it first.
    everything = cli.json("items", "--limit", "5000")
    assert len(everything) == DISTINCT_ITEMS
    assert all(i["sources"][0] == i["source"] for i in everything)
    shared = [i for i in everything if set(i["sources"]) == {items, ascending}]
    assert len(shared) == 25
