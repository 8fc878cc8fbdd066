"""The labelled development set of issue 12: tests/data/labels/ and its guide docs/labelling.md.

The labels are checked against the corpus as the pipeline ingests it, the way
tests/integration/test_ingest_corpus.py does: the corpus files are served from the
loopback FeedServer (127.0.0.1 only, never the outside network) and read by
`eudigest fetch --sources-file`, then listed with `eudigest items --json`.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.cli import main as eudigest
from tests.support.corpus import CORPUS_FILES, source_id, sources_yaml
from tests.support.feedserver import FeedServer
from tests.support.labels import (
    DOC_TYPES,
    MAX_NOTE,
    TOPICS,
    Label,
    LabelError,
    key_of,
    load_labels,
    summary,
)

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "tests" / "data" / "labels"
GUIDE = ROOT / "docs" / "labelling.md"
MIN_LABELS = 250

# The corpus files from EU institutions and bodies that the pipeline ingests (MANIFEST.md,
# "EU institutions and bodies" and "EU APIs"): every one of their items is labelled.
EU_FILES = (
    "feeds/ec-presscorner-en.xml",
    "feeds/ec-presscorner-en-2026-07-14.xml",
    "feeds/ecb-press-en.xml",
    "feeds/ecb-press-en-trimmed-2026-07-31.xml",
    "feeds/ecb-press-en-2026-07-14.xml",
    "feeds/eba-news-en.xml",
    "feeds/ec-newsroom-cnect-dae-items-en.xml",
    "feeds/ec-newsroom-cnect-dae-items-en-ascending.xml",
    "feeds/ec-newsroom-cnect-dae-services-en.xml",
    "feeds/ec-newsroom-cnect-dae-services-1item-en.xml",
    "feeds/ec-newsroom-cnect-dae-itemtypes-en.xml",
    "api/ft-search-horizon-page.json",
    "api/eu-sanctionsmap-regimes.json",
)


@pytest.fixture(scope="module")
def labels() -> list[Label]:
    return load_labels(LABELS)


@pytest.fixture(scope="module")
def items(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every item of the corpus as `eudigest items --json` lists it after a fetch."""
    tmp = tmp_path_factory.mktemp("labels-corpus")
    out = io.StringIO()
    with (
        FeedServer(corpus_dir) as server,
        pytest.MonkeyPatch.context() as mp,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        mp.chdir(tmp)
        mp.setenv("EUDIGEST_DATA_DIR", str(tmp / "var"))
        mp.delenv("EUDIGEST_DATABASE_URL", raising=False)
        mp.setenv("EUDIGEST_FETCH_TIMEOUT", "5")
        sources = tmp / "corpus-sources.yaml"
        sources.write_text(sources_yaml(server.base_url), encoding="utf-8")
        assert eudigest(["init"]) == 0
        assert eudigest(["fetch", "--sources-file", str(sources), "--json"]) == 0
        out.seek(0)
        out.truncate()
        assert eudigest(["items", "--json", "--limit", "5000"]) == 0
        loopback = server.base_url
    found: list[dict[str, Any]] = json.loads(out.getvalue())
    for item in found:
        item["key"] = key_of(item["url"], item["source"], item["title"])
        item["on_loopback"] = (item["url"] or "").startswith(loopback)
    return found


@pytest.fixture(scope="module")
def by_key(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        found.setdefault(item["key"], []).append(item)
    return found


# ---------------------------------------------------------------- the files themselves


def test_label_files_are_valid_and_named_after_corpus_sources(labels: list[Label]) -> None:
    known = {source_id(path) for path in CORPUS_FILES}
    assert {label.source_file for label in labels} <= known


def test_there_are_enough_labels(labels: list[Label]) -> None:
    assert len(labels) >= MIN_LABELS


def test_topics_are_those_of_the_taxonomy() -> None:
    taxonomy = yaml.safe_load((ROOT / "taxonomy.yaml").read_text(encoding="utf-8"))
    assert tuple(t["id"] for t in taxonomy["topics"]) == TOPICS


def test_files_are_written_canonically(labels: list[Label]) -> None:
    # Topics in taxonomy order, one line per label, no trailing blanks: diffs stay small.
    for label in labels:
        assert list(label.topics) == sorted(label.topics, key=TOPICS.index), label.where()
    for path in LABELS.glob("*.jsonl"):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n") and "\r" not in text, path.name


BAD_LINES = {
    "topic": ('"topics": ["funding", "tourism"]', "unknown topic 'tourism'"),
    "doc_type": ('"doc_type": "newsletter"', "unknown doc_type 'newsletter'"),
    "relevance": ('"relevance": "urgent"', "unknown relevance 'urgent'"),
    "kind": (
        '"deadlines": [{"date": "2026-09-04", "kind": "event"}]',
        "unknown deadline kind 'event'",
    ),
    "date": (
        '"deadlines": [{"date": "2026-02-30", "kind": "deadline"}]',
        "is not a date YYYY-MM-DD",
    ),
    "reference": ('"references": ["see the annex"]', "in none of the known forms"),
    "note": (f'"note": "{"x" * (MAX_NOTE + 1)}"', "characters long"),
    "title": ('"title": "Copied title"', "unknown field(s) title"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_validation_names_file_and_line(tmp_path: Path, case: str) -> None:
    fields = {
        "key": '"key": "00000000000000ff"',
        "topics": '"topics": []',
        "doc_type": '"doc_type": "other"',
        "relevance": '"relevance": "low"',
        "deadlines": '"deadlines": []',
        "references": '"references": []',
    }
    bad, message = BAD_LINES[case]
    name = bad.split(":", 1)[0].strip('"')
    fields[name] = bad
    good = '{"key": "0000000000000001", "topics": [], "doc_type": "other", "relevance": "low", '
    good += '"deadlines": [], "references": []}'
    (tmp_path / "some-source.jsonl").write_text(
        good + "\n{" + ", ".join(fields.values()) + "}\n", encoding="utf-8"
    )
    with pytest.raises(LabelError) as caught:
        load_labels(tmp_path)
    assert any(
        p.startswith("some-source.jsonl:2: ") and message in p for p in caught.value.problems
    )


def test_validation_refuses_unsorted_and_repeated_keys(tmp_path: Path) -> None:
    line = '{{"key": "{}", "topics": [], "doc_type": "other", "relevance": "low", '
    line += '"deadlines": [], "references": []}}\n'
    (tmp_path / "a.jsonl").write_text(
        line.format("00000000000000b0") + line.format("00000000000000a0")
    )
    (tmp_path / "b.jsonl").write_text(line.format("00000000000000b0"))
    with pytest.raises(LabelError) as caught:
        load_labels(tmp_path)
    assert any(p.startswith("a.jsonl:2: ") and "sort by key" in p for p in caught.value.problems)
    assert any(
        p.startswith("b.jsonl:1: ") and "already labelled at a.jsonl:1" in p
        for p in caught.value.problems
    )


def test_key_of_hashes_the_url_or_else_source_and_title() -> None:
    url = "https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1692"
    assert key_of(url, "a", "b") == hashlib.sha256(url.encode()).hexdigest()[:16]
    assert key_of(url, "a", "b") == key_of(url, "c", "d")
    fallback = hashlib.sha256(b"src\nTitle").hexdigest()[:16]
    assert key_of(None, "src", "Title") == key_of("", "src", "Title") == fallback


# ---------------------------------------------------------------- against the corpus


def test_every_key_is_one_item_of_the_ingested_corpus(
    labels: list[Label], by_key: dict[str, list[dict[str, Any]]]
) -> None:
    for label in labels:
        found = by_key.get(label.key, [])
        assert len(found) == 1, f"{label.where()}: {len(found)} items have key {label.key}"
        item = found[0]
        assert label.source_file in item["sources"], f"{label.where()}: not a source of the item"
        assert not item["on_loopback"], f"{label.where()}: the key depends on the test server"


def test_every_eu_file_is_labelled_in_full(
    labels: list[Label], items: list[dict[str, Any]]
) -> None:
    labelled = {label.key for label in labels}
    for path in EU_FILES:
        sid = source_id(path)
        its = [i for i in items if sid in i["sources"]]
        assert its, path
        missing = [i["id"] for i in its if i["key"] not in labelled]
        assert not missing, f"{path}: items {missing} have no label"


def test_every_other_file_is_sampled(labels: list[Label], items: list[dict[str, Any]]) -> None:
    # Except where no item has a stable key (links resolved against the test server).
    labelled = Counter(
        s for i in items if i["key"] in {label.key for label in labels} for s in i["sources"]
    )
    for path in CORPUS_FILES:
        sid = source_id(path)
        stable = [i for i in items if sid in i["sources"] and not i["on_loopback"]]
        if stable:
            assert labelled[sid] > 0, f"{path}: no label"


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", html.unescape(re.sub(r"<[^>]+>", " ", text)).lower())


def _runs(words: list[str], n: int = 5) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_no_text_of_the_corpus_is_copied(
    labels: list[Label], by_key: dict[str, list[dict[str, Any]]], items: list[dict[str, Any]]
) -> None:
    # Fields are short by validation (note ≤ MAX_NOTE, references in fixed forms, no
    # title field); here: no title is in a label file, no note repeats five words in a row
    # of its item's title or summary. The guide quotes no title either.
    paths = [*LABELS.glob("*.jsonl"), GUIDE]
    text = "\n".join(p.read_text(encoding="utf-8").lower() for p in paths)
    for item in items:
        title = (item["title"] or "").strip().lower()
        assert len(title) < 20 or title not in text, f"title of item {item['id']} copied"
    for label in labels:
        if not label.note:
            continue
        item = by_key[label.key][0]
        source_runs = _runs(_words(item["title"] or "")) | _runs(_words(item["summary_html"] or ""))
        copied = _runs(_words(label.note)) & source_runs
        assert not copied, f"{label.where()}: note repeats {' '.join(sorted(copied)[0])!r}"


def test_the_guide_shows_the_current_summary(labels: list[Label]) -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    assert summary(labels) in guide, "run `python -m tests.support.labels --summary` and paste"


def test_the_guide_defines_every_topic_and_doc_type(labels: list[Label]) -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for name in (*TOPICS, *DOC_TYPES):
        assert f"`{name}`" in guide, name
