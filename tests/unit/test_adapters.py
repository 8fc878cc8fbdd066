"""Adapters: the registry, request specs, the JSON APIs, the CSS-selector page reader,
and sources.yaml (every entry loads and its options suit its adapter)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.catalog import load_sources
from pipeline.errors import ConfigError, ParseError
from pipeline.ingest import adapters
from pipeline.ingest.parse import parse
from pipeline.model import (
    Deadline,
    DeadlineKind,
    DocType,
    FetchResult,
    FetchStatus,
    RawItem,
    Source,
    SourceKind,
)

ROOT = Path(__file__).resolve().parents[2]
TOPIC_IDS = {
    "funding", "cohesion", "industry", "mobility", "energy_climate", "digital", "research",
    "employment", "environment", "municipalities", "trade", "institutional", "agriculture",
    "health",
}  # fmt: skip
UTC = dt.UTC


def source(kind: SourceKind, adapter: str | None = None, **kw: Any) -> Source:
    defaults: dict[str, Any] = {
        "id": f"test-{adapter or kind.value}",
        "name": "Test",
        "institution": "Test",
        "url": "https://example.org/api",
        "language": "en",
    }
    defaults.update(kw)
    return Source(kind=kind, adapter=adapter, **defaults)


def run(src: Source, body: bytes, *, content_type: str = "application/json") -> list[RawItem]:
    result = FetchResult(
        source_id=src.id, status=FetchStatus.OK, url=src.url, body=body, content_type=content_type
    )
    return parse(src, result)


# ---------------------------------------------------------------- registry and requests


def test_known_adapters() -> None:
    assert {
        "html",
        "ft_search",
        "have_your_say",
        "sanctionsmap",
        "ep_procedures",
        "oeil",
        "presscorner_documents",
    } == adapters.ADAPTER_NAMES


def test_unknown_adapter_names_the_known_ones() -> None:
    with pytest.raises(ConfigError) as err:
        adapters.get("rss_magic")
    assert "'rss_magic'" in str(err.value)
    known = (
        "ep_procedures, ft_search, have_your_say, html, oeil, presscorner_documents, sanctionsmap"
    )
    assert known in str(err.value)


def test_a_feed_is_a_plain_get() -> None:
    spec = adapters.request_for(source(SourceKind.FEED, url="https://example.org/rss.xml"))
    assert (spec.method, spec.url, spec.files, spec.content) == (
        "GET",
        "https://example.org/rss.xml",
        None,
        None,
    )


def test_ft_search_posts_its_query_as_json_file_parts() -> None:
    src = source(
        SourceKind.API,
        "ft_search",
        url="https://api.tech.ec.europa.eu/search-api/prod/rest/search?apiKey=SEDIA&text=***",
        options={"languages": ["en", "de"]},
    )
    spec = adapters.request_for(src)
    assert spec.method == "POST"
    assert spec.url == src.url
    assert spec.files is not None and set(spec.files) == {"query", "languages", "sort"}
    for filename, _content, content_type in spec.files.values():
        assert (filename, content_type) == ("blob", "application/json")
    query = json.loads(spec.files["query"][1])
    assert {"terms": {"type": ["1"]}} in query["bool"]["must"]
    assert {"terms": {"status": ["31094501", "31094502"]}} in query["bool"]["must"]
    assert json.loads(spec.files["languages"][1]) == ["en", "de"]
    assert json.loads(spec.files["sort"][1]) == {"order": "DESC", "field": "startDate"}


def test_check_options_reports_problems() -> None:
    assert adapters.check_options(source(SourceKind.HTML, options={})) == [
        "options.item_selector is required (a CSS selector matching each item)"
    ]
    problems = adapters.check_options(
        source(SourceKind.HTML, options={"item_selector": "div[", "max_items": 0})
    )
    assert any("not a valid CSS selector" in p for p in problems)
    assert any("max_items" in p for p in problems)
    assert adapters.check_options(
        source(SourceKind.API, "ft_search", options={"query": "type=1"})
    ) == ["options.query must be a mapping (the SEDIA query DSL)"]
    assert adapters.check_options(
        source(SourceKind.FEED, options={"title_reference_pattern": "^CELEX:"})
    ) == ["options.title_reference_pattern needs one group (…) around the reference"]


# ---------------------------------------------------------------- Funding & Tenders


@pytest.fixture
def ft_items(corpus_dir: Path) -> list[RawItem]:
    body = (corpus_dir / "api" / "ft-search-horizon-page.json").read_bytes()
    return run(source(SourceKind.API, "ft_search"), body)


def test_ft_search_every_result_becomes_an_item(corpus_dir: Path, ft_items: list[RawItem]) -> None:
    data = json.loads((corpus_dir / "api" / "ft-search-horizon-page.json").read_bytes())
    assert len(ft_items) == len(data["results"]) == data["totalResults"] == 9
    # the last two results are identical: both are kept, dedupe is a later stage
    assert ft_items[-1] == ft_items[-2]
    assert all(i.doc_type is DocType.FUNDING_CALL for i in ft_items)


def test_ft_search_two_stage_topic(ft_items: list[RawItem]) -> None:
    item = ft_items[0]
    assert item.title == (
        "Living labs to enhance soil health in Continental, Black Sea, Pannonian and "
        "Steppic biogeographical regions"
    )
    assert item.url == (
        "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
        "topic-details/HORIZON-MISS-2027-05-SOIL-01-two-stage"
    )
    assert item.guid == "HORIZON-MISS-2027-05-SOIL-01-two-stage"
    assert item.references == (
        "HORIZON-MISS-2027-05-SOIL-01-two-stage",
        "HORIZON-MISS-2027-05-two-stage",
    )
    closing = [d for d in item.deadlines if d.kind is DeadlineKind.CALL_CLOSING]
    assert [d.date for d in closing] == [dt.date(2027, 4, 8), dt.date(2027, 9, 14)]
    assert Deadline(dt.date(2027, 2, 4), DeadlineKind.CALL_OPENING, "Opening") in item.deadlines
    assert item.published == dt.datetime(2027, 2, 4, tzinfo=UTC)
    assert item.categories[0] == "Forthcoming"
    assert "Supporting the implementation of the Soil Deal for Europe Mission" in item.extra_text
    assert item.summary_html.startswith('<p class="topicdescriptionkind">Expected Outcome:</p>')
    assert item.language == "en"


def test_ft_search_open_and_old_records(ft_items: list[RawItem]) -> None:
    by_id = {i.guid: i for i in ft_items}
    open_topic = by_id["HORIZON-CL3-2026-02-CS-ECCC-01"]
    assert open_topic.categories[0] == "Open"
    assert open_topic.deadlines == (
        Deadline(dt.date(2026, 9, 15), DeadlineKind.CALL_CLOSING, "Deadline"),
    )
    old = by_id["HORIZON-CL2-2024-TRANSFORMATIONS-01-08"]
    # its own url points at a topicDetails .json: the page URL is built from the identifier
    assert old.url is not None and old.url.endswith(
        "topic-details/HORIZON-CL2-2024-TRANSFORMATIONS-01-08"
    )
    assert dt.date(2024, 2, 7) in [d.date for d in old.deadlines]
    # keywords held as one JSON-array string are decoded
    assert "Gender research" in old.extra_text
    assert '["' not in old.extra_text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"results": {"a": 1}}', "wrong shape for adapter 'ft_search'"),
        (b"[1, 2, 3]", "wrong shape for adapter 'ft_search'"),
        (b'{"results": [{"metadata": {"foo": ["bar"]}}]}', "wrong shape for adapter 'ft_search'"),
        (b'{"results": [', "invalid JSON"),
        (b"\xff\xfe\x00garbage", "invalid JSON"),
        (b"<!DOCTYPE html><html><body>Maintenance</body></html>", "got an HTML page, not JSON"),
        (b"", "empty body"),
    ],
)
def test_ft_search_bad_answers(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        run(source(SourceKind.API, "ft_search"), body)


def test_ft_search_empty_result_page_is_no_error() -> None:
    assert run(source(SourceKind.API, "ft_search"), b'{"totalResults": 0, "results": []}') == []


# ---------------------------------------------------------------- Sanctions Map


def test_sanctionsmap_regimes(corpus_dir: Path) -> None:
    body = (corpus_dir / "api" / "eu-sanctionsmap-regimes.json").read_bytes()
    items = run(source(SourceKind.API, "sanctionsmap"), body)
    assert len(items) == len(json.loads(body)["data"]) == 3
    taliban, chemical, russia = items
    assert taliban.title == "Afghanistan: Restrictive measures imposed with respect to the Taliban"
    assert taliban.url == "https://www.sanctionsmap.eu/#/main/details/1/"
    assert taliban.guid == "sanctionsmap-regime-1"
    assert taliban.published == dt.datetime(2024, 9, 12, 22, 0, tzinfo=UTC)  # 1726178400
    assert taliban.updated == taliban.published
    assert taliban.references == (
        "2011/486/CFSP",
        "02011D0486-20220205",
        "(EU) No 753/2011",
        "02011R0753-20240913",
    )
    assert taliban.doc_type is DocType.ADOPTED_ACT
    assert taliban.deadlines == ()  # no expiration
    assert "Asset freeze and prohibition to make funds available" in taliban.categories
    assert chemical.title == (
        "Restrictive measures against the proliferation and use of chemical weapons"
    )
    # expiration 1792101600 = 2026-10-15 22:00 UTC = 16 October in Brussels
    assert chemical.deadlines[0].date == dt.date(2026, 10, 16)
    assert "(EU) No 833/2014" in russia.references  # ELI link: no CELEX, the act number stays
    assert '<a href="https://eur-lex.europa.eu/' in taliban.summary_html


def test_sanctionsmap_wrong_shape() -> None:
    with pytest.raises(ParseError, match="wrong shape for adapter 'sanctionsmap'"):
        run(source(SourceKind.API, "sanctionsmap"), b'{"data": {"id": 1}}')


# ---------------------------------------------------------------- Have your say


@pytest.fixture
def hys_source() -> Source:
    return source(
        SourceKind.API,
        "have_your_say",
        url="https://ec.europa.eu/info/law/better-regulation/brpapi/searchInitiatives?language=DE",
        language="de",
    )


def test_have_your_say_initiatives(written_dir: Path, hys_source: Source) -> None:
    body = (written_dir / "have-your-say-initiatives.json").read_bytes()
    items = run(hys_source, body)
    assert len(items) == 4
    mobility, cohesion, hydrogen, procurement = items
    assert mobility.title == (
        "Städtische Mobilität – Überarbeitung der Leitlinien für Pläne für nachhaltige urbane "
        "Mobilität"
    )
    assert mobility.language == "de"
    assert mobility.url == (
        "https://ec.europa.eu/info/law/better-regulation/have-your-say/initiatives/14853_de"
    )
    assert mobility.guid == "have-your-say-14853"
    assert mobility.doc_type is DocType.CONSULTATION
    assert mobility.deadlines == (
        Deadline(dt.date(2026, 8, 5), DeadlineKind.CONSULTATION_END, "Feedback period ends"),
    )
    assert mobility.published == dt.datetime(2026, 7, 8)  # Brussels time, naive
    assert mobility.references == ("Ares(2026)4711021",)
    assert "Transport" in mobility.categories
    # the open period wins over the closed one listed first
    assert cohesion.deadlines[0].date == dt.date(2026, 7, 29)
    # no German translation: the English title, marked English
    assert hydrogen.title == "Hydrogen – certification of low-carbon fuels"
    assert hydrogen.language == "en"
    assert hydrogen.url is not None and hydrogen.url.endswith("/14702_en")
    # upcoming, no dates yet
    assert procurement.deadlines == ()
    assert procurement.published is None


def test_have_your_say_older_hal_shape(hys_source: Source) -> None:
    body = json.dumps(
        {
            "_embedded": {
                "initiativeResultDtoes": [
                    {
                        "id": 12970,
                        "shortTitle": "Review of the EU school fruit, vegetables and milk scheme",
                        "currentStatuses": [
                            {
                                "receivingFeedbackStatus": "OPEN",
                                "feedbackStartDate": "2021/04/07 00:00:00",
                                "feedbackEndDate": "2021/05/05 23:59:59",
                            }
                        ],
                    }
                ]
            }
        }
    ).encode()
    (item,) = run(hys_source, body)
    assert item.title == "Review of the EU school fruit, vegetables and milk scheme"
    assert item.deadlines[0].date == dt.date(2021, 5, 5)


@pytest.mark.parametrize(
    "body",
    [b'{"content": []}', b'{"initiativeResultDtoPage": {"content": [{"id": "x"}]}}', b"[]"],
)
def test_have_your_say_wrong_shape(hys_source: Source, body: bytes) -> None:
    with pytest.raises(ParseError, match="wrong shape for adapter 'have_your_say'"):
        run(hys_source, body)


# ---------------------------------------------------------------- html pages

COR_OPTIONS = {
    "item_selector": "article.c-card",
    "title_selector": ".c-card__title a",
    "summary_selector": ".c-card__text",
    "date_selector": "time",
}


def html_source(options: dict[str, Any], url: str = "https://www.cor.europa.eu/de/news") -> Source:
    return source(SourceKind.HTML, None, url=url, language="de", options=options)


def test_cor_news_page(written_dir: Path) -> None:
    body = (written_dir / "cor-news-de.html").read_bytes()
    items = run(html_source(COR_OPTIONS), body, content_type="text/html; charset=utf-8")
    assert [i.title for i in items] == [
        "Regionen fordern Mitsprache bei nationalen Investitionsplänen",
        "Wohnungsnot: Lokale Lösungen brauchen EU-Mittel",
        "Plenartagung im Juli: Stellungnahmen zu Verkehr und Energie verabschiedet",
    ]
    assert items[0].url == (
        "https://www.cor.europa.eu/de/news/regionen-fordern-mitsprache-bei-nationalen-"
        "investitionsplaenen"
    )
    assert items[0].published == dt.datetime(2026, 7, 16, 10, 0, tzinfo=UTC)  # datetime attr
    assert items[2].published == dt.datetime(2026, 7, 3)  # "3. Juli 2026", naive
    assert "<strong>nationalen und regionalen Partnerschaftspläne</strong>" in items[0].summary_html


def test_html_defaults_and_date_text_in_english() -> None:
    page = b"""<html><head><base href="https://example.org/news/"></head><body>
      <ul class="news">
        <li><h3>Call for proposals opens</h3><a href="call-2026">more</a>
            <span class="d">Published 12 March 2026</span></li>
        <li><h3>Second item</h3><a href="/abs/second">more</a>
            <span class="d">12/03/2026</span></li>
      </ul></body></html>"""
    options = {"item_selector": "ul.news li", "date_selector": ".d"}
    a, b = run(html_source(options, url="https://example.org/"), page, content_type="text/html")
    assert (a.title, a.url, a.published) == (
        "Call for proposals opens",
        "https://example.org/news/call-2026",
        dt.datetime(2026, 3, 12),
    )
    assert (b.url, b.published) == ("https://example.org/abs/second", dt.datetime(2026, 3, 12))


def test_html_date_format_option() -> None:
    page = b"""<div class="i"><a href="/x">Title X</a><em>2026|07|03</em></div>"""
    options = {"item_selector": "div.i", "date_selector": "em", "date_format": "%Y|%m|%d"}
    (item,) = run(html_source(options), page, content_type="text/html")
    assert item.published == dt.datetime(2026, 7, 3)
    assert item.title == "Title X"


def test_html_selector_matching_nothing(written_dir: Path) -> None:
    body = (written_dir / "cor-news-de.html").read_bytes()
    options = {**COR_OPTIONS, "item_selector": "div.ecl-content-item"}
    with pytest.raises(ParseError) as err:
        run(html_source(options), body, content_type="text/html")
    assert str(err.value) == (
        "item_selector 'div.ecl-content-item' matched nothing: the page layout may have changed"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "options.item_selector is required"),
        ({"item_selector": "article["}, "not a valid CSS selector"),
    ],
)
def test_html_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        run(html_source(options), b"<html><body><article>x</article></body></html>")


# ---------------------------------------------------------------- sources.yaml


def test_sources_yaml_loads_and_suits_its_adapters() -> None:
    sources = load_sources(
        ROOT / "sources.yaml", topic_ids=TOPIC_IDS, adapter_names=adapters.ADAPTER_NAMES
    )
    assert len(sources) >= 15
    assert len({s.url for s in sources}) == len(sources)
    for src in sources:
        assert adapters.check_options(src) == [], src.id
        assert adapters.request_for(src).url == src.url
    ids = {s.id for s in sources}
    for needed in (
        "ec-presscorner-de", "ec-presscorner-en", "ep-press-de", "ep-press-en",
        "council-press-en", "eurlex-oj-l-de", "cor-news-de", "cordis-news", "eib-press",
        "inforegio-news", "ft-horizon-calls", "have-your-say", "ec-representation-de",
    ):  # fmt: skip
        assert needed in ids
    by_id = {s.id: s for s in sources}
    assert by_id["ec-presscorner-de"].url.startswith(
        "https://ec.europa.eu/commission/presscorner/api/rss?language=de"
    )
    assert (
        by_id["ep-press-de"].url == "https://www.europarl.europa.eu/rss/doc/press-releases/de.xml"
    )
    assert by_id["ft-horizon-calls"].adapter == "ft_search"
    assert by_id["cor-news-de"].kind is SourceKind.HTML


def test_the_cor_entry_of_sources_yaml_reads_the_written_page(written_dir: Path) -> None:
    sources = {s.id: s for s in load_sources(ROOT / "sources.yaml")}
    cor = sources["cor-news-de"]
    body = (written_dir / "cor-news-de.html").read_bytes()
    items = run(cor, body, content_type="text/html")
    assert len(items) == 3
    assert items[1].title == "Wohnungsnot: Lokale Lösungen brauchen EU-Mittel"
