"""Golden files: parse → normalize → classify (prepare) over four corpus bodies.

What ingest stores of an entry (title, summary HTML and text, links, dates, identity,
hashes, family, topics, doc type, references, deadlines, relevance and its reasons,
eligibility) must not move when the work is made faster: each body's prepared items are
compared, field by field, with a JSON file written before. The bodies were chosen for the
paths they take: a newsroom feed with its own namespace (feedfields.py), Atom with XHTML
content and relative links (the sanitiser resolves them), a Latin-1 German feed, and the
Funding & Tenders adapter (funding calls, deadlines, eligibility).

Regenerate after an intended change with `UPDATE_GOLDEN=1 .venv/bin/pytest
tests/unit/test_prepare_golden.py`, then read the diff before committing the files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline.catalog import load_sources, load_taxonomy
from pipeline.ingest.adapters import ADAPTER_NAMES
from pipeline.ingest.classify import Classifier
from pipeline.ingest.prepare import prepare
from pipeline.model import FetchResult, FetchStatus
from tests.support.corpus import source_id, sources_yaml
from tests.support.feedserver import CONTENT_TYPES

GOLDEN = Path(__file__).parent / "golden" / "prepare"
ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "http://127.0.0.1:8000"
NOW = dt.datetime(2026, 8, 1, 12, 0, tzinfo=dt.UTC)
TZ = ZoneInfo("Europe/Brussels")
UPDATE = os.environ.get("UPDATE_GOLDEN", "") not in ("", "0")
BODIES = (
    "feeds/ec-newsroom-cnect-dae-services-en.xml",
    "feeds/quirk-atom-xhtml-content-intertwingly.xml",
    "feeds/quirk-de-iso8859-1-golem.xml",
    "api/ft-search-horizon-page.json",
)


def plain(value: Any) -> Any:
    """A prepared value as JSON: dataclasses as objects, enums by value, dates in ISO."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_taxonomy(ROOT / "taxonomy.yaml"))


@pytest.mark.parametrize("path", BODIES)
def test_prepared_items_match_golden_file(
    path: str, corpus_dir: Path, classifier: Classifier, tmp_path: Path
) -> None:
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text(sources_yaml(BASE_URL), encoding="utf-8")
    taxonomy = load_taxonomy(ROOT / "taxonomy.yaml")
    sources = load_sources(
        sources_file, topic_ids=taxonomy.topic_ids(), adapter_names=ADAPTER_NAMES
    )
    source = next(s for s in sources if s.id == source_id(path))
    result = FetchResult(
        source_id=source.id,
        status=FetchStatus.OK,
        url=f"{BASE_URL}/{path}",
        body=(corpus_dir / path).read_bytes(),
        content_type=CONTENT_TYPES[Path(path).suffix],
    )
    actual = plain(prepare(source, result, NOW, classifier, TZ))
    golden = GOLDEN / f"{source.id}.json"
    if UPDATE:
        golden.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n", "utf-8")
    assert golden.is_file(), f"{golden} is missing: run with UPDATE_GOLDEN=1 and review it"
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert len(actual) == len(expected)
    for n, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert got == want, f"{golden.name}: entry {n} differs (UPDATE_GOLDEN=1 after review)"
