"""The press corner documents adapter: the real English answer of the corpus, our written
German one, the list it follows up (the corpus RSS), its options and its bad answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline.catalog import load_taxonomy
from pipeline.errors import ParseError
from pipeline.ingest import IngestOptions, adapters, run_ingest
from pipeline.ingest.adapters import presscorner_documents as pc
from pipeline.ingest.fetch import FetchRequest
from pipeline.ingest.normalize import normalize
from pipeline.ingest.parse import parse, parse_list
from pipeline.model import (
    Deadline,
    DeadlineKind,
    DocType,
    FetchResult,
    FetchStatus,
    Source,
    SourceKind,
)
from pipeline.store import Store

ROOT = Path(__file__).resolve().parents[2]

ENGLISH = "api/ec-presscorner-document-ip-26-1900-en-trimmed.json"
GERMAN = "ec-presscorner-document-ip-26-1900-de.json"
LIST_URL = "https://ec.europa.eu/commission/presscorner/api/rss?language=en&pagesize=20"
# A JavaScript challenge page as anti-bot services send them (written here, not a capture).
CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<noscript>Please enable JavaScript and cookies to continue</noscript>"
    b"<script>window._cf_chl_opt={cType:'managed'};</script></body></html>"
)


def source(language: str = "de", **options: Any) -> Source:
    return Source(
        id="pc-de",
        name="Pressecorner – deutsche Fassungen",
        institution="Europäische Kommission",
        url=LIST_URL,
        language=language,
        kind=SourceKind.API,
        adapter=pc.NAME,
        options=options,
    )


def answer(src: Source, body: bytes, content_type: str = "application/json") -> FetchResult:
    return FetchResult(src.id, FetchStatus.OK, src.url, body, content_type)


def test_the_adapter_is_registered_with_its_follow_ups() -> None:
    src = source()
    assert adapters.follow_ups_of(src) is pc.follow_ups
    assert adapters.dossiers_of(src) is None
    spec = adapters.request_for(src)
    assert spec.url == LIST_URL and "rss" in spec.headers["Accept"]


def test_the_real_english_answer_reads_as_an_english_version(corpus_dir: Path) -> None:
    src = source("en")
    (raw,) = parse(src, answer(src, (corpus_dir / ENGLISH).read_bytes()))
    assert raw.title == "Commission disburses €3.3 billion in defence funding to Ukraine"
    assert raw.url == raw.guid == "https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1900"
    assert raw.language == "en" and raw.references == ("IP/26/1900",)
    assert raw.published == dt.datetime(
        2026, 9, 18, 9, 47, 46, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )
    assert raw.doc_type is DocType.PRESS_RELEASE and raw.deadlines == ()
    assert "&euro;3.3 billion" in raw.summary_html  # as sent; normalize decodes and sanitises
    item = normalize(
        raw, src, tz=ZoneInfo("Europe/Brussels"), now=dt.datetime(2026, 9, 19, tzinfo=dt.UTC)
    )
    assert "€3.3 billion to Ukraine for defence procurement" in item.summary_text
    assert (item.family, item.family_rule) == ("IP/26/1900", "presscorner_number")


def test_the_german_answer_gets_the_press_number_of_the_english_one(written_dir: Path) -> None:
    src = source("de")
    (raw,) = parse(src, answer(src, (written_dir / GERMAN).read_bytes()))
    assert raw.url == "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1900"
    assert raw.language == "de" and raw.title.startswith("Kommission zahlt 3,3 Mrd. €")
    item = normalize(
        raw, src, tz=ZoneInfo("Europe/Brussels"), now=dt.datetime(2026, 9, 19, tzinfo=dt.UTC)
    )
    assert item.family == "IP/26/1900" and item.language == "de"
    assert "„Heute zahlen wir 3,3 Mrd. € aus" in item.summary_text  # entities decoded
    assert "<script" not in item.summary_html
    assert 'rel="noopener noreferrer nofollow"' in item.summary_html


def test_an_event_after_the_publication_is_kept_as_its_date(written_dir: Path) -> None:
    data = json.loads((written_dir / GERMAN).read_text(encoding="utf-8"))
    data["eventDate"] = "2026-10-02"
    src = source("de")
    (raw,) = parse(src, answer(src, json.dumps(data).encode()))
    assert raw.deadlines == (Deadline(dt.date(2026, 10, 2), DeadlineKind.EVENT, "Termin"),)


def test_an_answer_in_another_language_is_no_german_version(corpus_dir: Path) -> None:
    src = source("de")
    with pytest.raises(
        ParseError, match=r"IP/26/1900: no DE version yet \(the press corner answered EN\)"
    ):
        parse(src, answer(src, (corpus_dir / ENGLISH).read_bytes()))


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (CHALLENGE, "text/html; charset=utf-8", "got an anti-bot JavaScript challenge, not JSON"),
        (b"<!DOCTYPE html><html><body>Wartung</body></html>", "text/html", "got an HTML page"),
        (b"[]", "application/json", "JSON of the wrong shape"),
        (b'{"refCd": "IP/26/1900"}', "application/json", "JSON of the wrong shape"),
        (
            b'{"refCd": "IP/26/1900", "docuLanguageResource": {"language": "DE", "title": ""}}',
            "application/json",
            "IP/26/1900: the document has no title",
        ),
    ],
)
def test_bad_answers_are_clear_errors(body: bytes, content_type: str, message: str) -> None:
    src = source("de")
    with pytest.raises(ParseError, match=message):
        parse(src, answer(src, body, content_type))


def test_an_anti_bot_page_instead_of_the_list_is_a_clear_error() -> None:
    src = source("de")
    with pytest.raises(ParseError, match="anti-bot JavaScript challenge, not a feed"):
        parse_list(src, answer(src, CHALLENGE, "text/html"))


def test_the_list_gives_documents_newest_first_without_daily_news(corpus_dir: Path) -> None:
    src = source("de", documents_url="http://x.test/doc?ref={reference}&lang={language}")
    listing = parse_list(
        src, answer(src, (corpus_dir / "feeds/ec-presscorner-en.xml").read_bytes())
    )
    batch = pc.follow_ups(src, listing, dt.datetime(2026, 7, 28, 2, 32, tzinfo=dt.UTC))
    assert len(listing) == 20 and batch.problems == ()
    # newest first; daily news (MEX) left out; the same second keeps the list's order
    assert [f.family for f in batch.follow_ups] == [
        "IP/26/1692", "IP/26/1688", "QANDA/26/1686", "IP/26/1684", "IP/26/1673", "IP/26/1678",
        "FS/24/6565", "IP/26/1679", "IP/26/1680", "SPEECH/26/1677", "IP/26/1676", "IP/26/1674",
        "IP/26/1670", "SPEECH/26/1671", "FS/26/1666", "IP/26/1661",
    ]  # fmt: skip
    assert batch.follow_ups[0].request.url == "http://x.test/doc?ref=IP/26/1692&lang=de"
    assert batch.limit == pc.DEFAULT_MAX_REQUESTS


def test_references_come_first_and_options_narrow_the_list(corpus_dir: Path) -> None:
    body = (corpus_dir / "feeds/ec-presscorner-en.xml").read_bytes()
    now = dt.datetime(2026, 7, 28, 2, 32, tzinfo=dt.UTC)
    src = source("de", references=["IP/26/1900"], types=["IP"], max_age_days=1, max_requests=3)
    listing = parse_list(src, answer(src, body))
    batch = pc.follow_ups(src, listing, now)
    # the one configured, then the list's press releases (IP) of the last day only
    assert [f.family for f in batch.follow_ups] == ["IP/26/1900", "IP/26/1692"]
    assert batch.limit == 3
    url = pc.DOCUMENTS_URL.replace("{reference}", "IP/26/1900").replace("{language}", "de")
    assert batch.follow_ups[0].request.url == url


def test_an_entry_without_a_press_number_is_named() -> None:
    src = source("de")
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.eu/</link>'
        b"<item><title>Ohne Nummer</title><link>https://ec.europa.eu/commission/presscorner/home/en</link>"
        b"</item></channel></rss>"
    )
    batch = pc.follow_ups(
        src,
        parse_list(src, answer(src, rss, "application/rss+xml")),
        dt.datetime(2026, 7, 28, tzinfo=dt.UTC),
    )
    assert batch.follow_ups == () and batch.problems == (
        "no press number in the link of 'Ohne Nummer'",
    )


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"documents_url": "https://x.test/doc"}, "documents_url must be a URL with {reference}"),
        (
            {"references": ["IP/26/1900", "COM(2026) 1"]},
            "references must be a list of press numbers",
        ),
        ({"max_requests": 0}, "max_requests must be a whole number from 1 to 50"),
        ({"max_requests": 51}, "max_requests must be a whole number from 1 to 50"),
        ({"max_age_days": True}, "max_age_days must be a whole number from 1 to 365"),
        ({"types": "IP"}, "types must be a list of press types"),
    ],
)
def test_options_are_checked(options: dict[str, Any], problem: str) -> None:
    problems = adapters.check_options(dataclasses.replace(source(), options=options))
    assert len(problems) == 1 and problem in problems[0], problems


def test_good_options_pass() -> None:
    options = {
        "documents_url": pc.DOCUMENTS_URL, "references": ["IP/26/1900", "STATEMENT/26/12"],
        "max_requests": 5, "max_age_days": 7, "types": ["IP", "STATEMENT"],
    }  # fmt: skip
    assert adapters.check_options(dataclasses.replace(source(), options=options)) == []


class ListAndDocuments:
    """The network edge: the list answers, each document URL answers what `documents`
    says (bytes, or a failure such as a timeout, as fetch.py reports one)."""

    def __init__(self, listing: bytes, documents: dict[str, bytes | str]) -> None:
        self.listing = listing
        self.documents = documents
        self.asked: list[str] = []

    async def fetch_all(self, requests: Sequence[FetchRequest]) -> AsyncIterator[FetchResult]:
        for r in requests:
            yield FetchResult(
                r.source_id, FetchStatus.OK, r.url, self.listing, "application/rss+xml"
            )

    def fetch_all_sync(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        results = []
        for r in requests:
            self.asked.append(r.url)
            answer = self.documents.get(r.url, b"")
            if isinstance(answer, str):
                results.append(FetchResult(r.source_id, FetchStatus.FAILED, r.url, error=answer))
            else:
                results.append(
                    FetchResult(r.source_id, FetchStatus.OK, r.url, answer, "application/json")
                )
        return results


def test_a_document_timing_out_is_a_warning_and_the_others_go_on(
    corpus_dir: Path, written_dir: Path, tmp_path: Path
) -> None:
    template = "https://docs.test/{reference}?language={language}"
    src = dataclasses.replace(source("de", documents_url=template, max_age_days=2), enabled=True)
    listing = (corpus_dir / "feeds/ec-presscorner-en.xml").read_bytes()
    german = json.loads((written_dir / GERMAN).read_text(encoding="utf-8"))
    german["refCd"] = "IP/26/1692"  # our German answer, standing in for the newest item's
    fetcher = ListAndDocuments(
        listing,
        {
            "https://docs.test/IP/26/1692?language=de": json.dumps(german).encode(),
            "https://docs.test/IP/26/1688?language=de": "timed out after 30 s (read)",
        },
    )
    store = Store(f"sqlite:///{tmp_path}/t.db")
    try:
        store.upgrade()
        store.sources.register([src], now=dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
        report = run_ingest(
            store,
            fetcher,  # type: ignore[arg-type]
            load_taxonomy(ROOT / "taxonomy.yaml"),
            IngestOptions(only=[src.id], force=True),
            clock=lambda: dt.datetime(2026, 7, 28, 2, 32, tzinfo=dt.UTC),
        )
        (r,) = report.sources
        assert (r.status, r.new) == ("ok", 1), r
        assert r.warnings == [
            "https://docs.test/IP/26/1688?language=de: timed out after 30 s (read)"
        ]
        assert fetcher.asked == [
            "https://docs.test/IP/26/1692?language=de",
            "https://docs.test/IP/26/1688?language=de",
        ]  # the last two days (max_age_days: 2), newest first, daily news left out
        (item,) = store.items.list()
        assert (item.family, item.language) == ("IP/26/1692", "de")
    finally:
        store.close()
