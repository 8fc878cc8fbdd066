"""sources.yaml and taxonomy.yaml: the shipped files load, broken ones say where and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.catalog import load_sources, load_taxonomy
from pipeline.errors import ConfigError
from pipeline.ingest.adapters import ADAPTER_NAMES
from pipeline.model import SourceKind

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
sources:
  - id: ep-press-de
    name: Europäisches Parlament – Pressemitteilungen
    institution: European Parliament
    url: https://www.europarl.europa.eu/rss/doc/press-releases/de.xml
    language: de
    kind: feed
    topics: [institutional]
  - id: ft-calls
    name: Funding & Tenders
    institution: European Commission
    url: https://api.tech.ec.europa.eu/search-api/prod/rest/search
    language: en
    kind: api
    adapter: ft_search
    interval_minutes: 240
    enabled: false
"""

TAXONOMY = """\
topics:
  - id: institutional
    label_de: Institutionelle Angelegenheiten
    label_en: Institutional affairs
    keywords_de: [Parlament]
    keywords_en: [Parliament]
region:
  keywords: [Stuttgart]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_files_load_and_agree() -> None:
    taxonomy = load_taxonomy(ROOT / "taxonomy.yaml")
    sources = load_sources(
        ROOT / "sources.yaml", topic_ids=taxonomy.topic_ids(), adapter_names=ADAPTER_NAMES
    )
    assert len(taxonomy.topics) >= 12
    assert len(sources) >= 15
    assert len({s.id for s in sources}) == len(sources)
    assert any(s.kind is SourceKind.API and s.adapter == "ft_search" for s in sources)
    assert {"de", "en"} <= {s.language for s in sources}
    assert "Stuttgart" in taxonomy.region_keywords


def test_good_file_gives_typed_sources(tmp_path: Path) -> None:
    sources = load_sources(
        write(tmp_path, "sources.yaml", GOOD),
        topic_ids={"institutional"},
        adapter_names=ADAPTER_NAMES,
    )
    ep, ft = sources
    assert ep.name == "Europäisches Parlament – Pressemitteilungen"
    assert (ep.kind, ep.topics, ep.enabled, ep.interval_minutes) == (
        SourceKind.FEED,
        ("institutional",),
        True,
        60,
    )
    assert (ft.kind, ft.adapter, ft.enabled, ft.interval_minutes) == (
        SourceKind.API,
        "ft_search",
        False,
        240,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("url: https://www.europarl", "url: ftp://www.europarl"),
            "sources.yaml:5: sources[0] (ep-press-de).url: must be an http",
        ),
        (
            ("kind: feed", "kind: rss"),
            "sources.yaml:7: sources[0] (ep-press-de).kind: 'rss' is not one of feed, html, api",
        ),
        (
            ("topics: [institutional]", "topics: [weather]"),
            "sources.yaml:8: sources[0] (ep-press-de).topics: unknown topic 'weather'",
        ),
        (
            ("adapter: ft_search", "adapter: nope"),
            "sources.yaml:15: sources[1] (ft-calls).adapter: unknown adapter 'nope'",
        ),
        (
            ("interval_minutes: 240", "interval_minutes: often"),
            "sources.yaml:16: sources[1] (ft-calls).interval_minutes: must be a number",
        ),
        (
            ("enabled: false", "enabled: 0"),
            "sources.yaml:17: sources[1] (ft-calls).enabled: must be true or false",
        ),
        (
            ("  - id: ft-calls", "  - id: ep-press-de"),
            "sources.yaml:9: sources[1] (ep-press-de).id: duplicate id",
        ),
        (
            ("    language: en\n", "    language: english\n"),
            "sources[1] (ft-calls).language: must be a two-letter code",
        ),
        (
            ("    adapter: ft_search\n", ""),
            "sources[1] (ft-calls).adapter: is required when kind is api",
        ),
        (("    name: Funding & Tenders\n", ""), "sources[1] (ft-calls).name: is required"),
        (
            ("    kind: feed\n", "    kind: feed\n    colour: blue\n"),
            "sources.yaml:8: sources[0] (ep-press-de).colour: unknown field",
        ),
        (("sources:", "sauces:"), "sources.yaml:1: sources: missing top-level key"),
        (("  - id: ep-press-de", "  - id: [ep"), "sources.yaml:3: invalid YAML"),
    ],
)
def test_broken_sources_file_names_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    assert change[0] in GOOD
    path = write(tmp_path, "sources.yaml", GOOD.replace(change[0], change[1], 1))
    with pytest.raises(ConfigError) as err:
        load_sources(path, topic_ids={"institutional"}, adapter_names=ADAPTER_NAMES)
    assert message in str(err.value)


def test_missing_and_non_utf8_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_sources(tmp_path / "nope.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("sources:\n  - name: Europäisch\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_sources(bad)
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_sources(write(tmp_path, "list.yaml", "- a\n- b\n"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("  - id: institutional", "  - id: Institutional Affairs"),
            "taxonomy.yaml:2: topics[0] (Institutional Affairs).id: use lower-case",
        ),
        (
            ("    keywords_de: [Parlament]\n    keywords_en: [Parliament]\n", ""),
            "topics[0] (institutional).keywords_de: a topic needs at least one keyword",
        ),
        (
            ("  keywords: [Stuttgart]", "  keywords: []"),
            "taxonomy.yaml:8: region.keywords: at least one keyword",
        ),
        (("region:\n  keywords: [Stuttgart]\n", ""), "region: missing top-level key"),
        (
            ("    label_de: Institutionelle Angelegenheiten\n", ""),
            "topics[0] (institutional).label_de: is required",
        ),
        (
            ("keywords_de: [Parlament]", "keywords_de: Parlament"),
            "taxonomy.yaml:5: topics[0] (institutional).keywords_de: must be a list",
        ),
    ],
)
def test_broken_taxonomy_names_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    assert change[0] in TAXONOMY
    path = write(tmp_path, "taxonomy.yaml", TAXONOMY.replace(change[0], change[1], 1))
    with pytest.raises(ConfigError) as err:
        load_taxonomy(path)
    assert message in str(err.value)
