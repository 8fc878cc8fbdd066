"""DE/EN twins over the network: an English press item from the press corner's feed, then
its German version from the documents API (`presscorner_documents`), merged into one item
with the merge recorded; one document failing, or answering an anti-bot page, is a warning
and the others go on. Real SQLite store, real fetcher, the loopback FeedServer serving our
written German answer (tests/data/written/) and feeds generated here; a frozen clock."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.model import IngestReport, SourceReport
from tests.support.feedserver import FeedServer
from tests.support.fetching import allow_server
from tests.web.conftest import Clock, make_services, make_settings

NOW = dt.datetime(2026, 9, 18, 12, 0, tzinfo=dt.UTC)
GERMAN = "ec-presscorner-document-ip-26-1900-de.json"
DETAIL = "https://ec.europa.eu/commission/presscorner/detail/{lang}/{slug}"
# A JavaScript challenge page as anti-bot services send them (written here, not a capture).
CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<noscript>Please enable JavaScript and cookies to continue</noscript>"
    b"<script>window._cf_chl_opt={cType:'managed'};</script></body></html>"
)
ITEMS = {  # slug → English title (IP/26/1900's as the corpus answer has it; others made up)
    "ip_26_1900": "Commission disburses €3.3 billion in defence funding to Ukraine",
    "ip_26_1901": "Commission approves German scheme for hydrogen buses",
    "ip_26_1902": "New rules for regional airports enter into force",
    "mex_26_1903": "Midday Express of 2026-09-18",
}


def english_feed() -> bytes:
    """The press corner's English RSS, in the shape of the corpus capture."""
    entries = "".join(
        f"<item><title>{title}</title><link>{DETAIL.format(lang='en', slug=slug)}</link>"
        f"<description>European Commission Press release Brussels, 18 Sep 2026</description>"
        f"<pubDate>Fri, 18 Sep 2026 07:{47 - n:02d}:46 GMT</pubDate>"
        f"<guid>{DETAIL.format(lang='en', slug=slug)}</guid></item>"
        for n, (slug, title) in enumerate(ITEMS.items())
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>Press releases - RSS</title>"
        "<link>https://ec.europa.eu/commission/presscorner/api/rss?language=en</link>"
        f"<language>en</language>{entries}</channel></rss>"
    ).encode()


@pytest.fixture
def server(written_dir: Path) -> Iterator[FeedServer]:
    with FeedServer(written_dir) as srv:
        srv.put("/pc/rss-en.xml", english_feed(), "application/rss+xml")
        yield srv


@pytest.fixture
def services(tmp_path: Path, server: FeedServer) -> Iterator[Services]:
    services = make_services(make_settings(tmp_path), Clock(NOW))
    allow_server(services, server)
    yield services
    services.close()


def sources_file(tmp_path: Path, server: FeedServer, **options: Any) -> Path:
    documents = server.url("/pc/documents/{reference}/{language}.json")
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  - id: pc-en\n"
        "    name: Commission press corner (English)\n"
        "    institution: Europäische Kommission\n"
        f"    url: {server.url('/pc/rss-en.xml')}\n"
        "    language: en\n"
        "    kind: feed\n"
        "  - id: pc-de\n"
        "    name: Pressecorner – deutsche Fassungen\n"
        "    institution: Europäische Kommission\n"
        f"    url: {server.url('/pc/rss-en.xml')}\n"
        "    language: de\n"
        "    kind: api\n"
        "    adapter: presscorner_documents\n"
        f"    options: {json.dumps({'documents_url': documents, **options})}\n",
        encoding="utf-8",
    )
    return path


def fetch(services: Services, sources: Path, source_id: str) -> SourceReport:
    report: IngestReport = jobs.fetch(services, sources_file=sources, source_ids=[source_id])
    (only,) = report.sources
    return only


def document(server: FeedServer, reference: str) -> str:
    return f"/pc/documents/{reference}/de.json"


def test_the_german_version_joins_the_english_item_and_failures_are_warnings(
    services: Services, server: FeedServer, written_dir: Path, tmp_path: Path
) -> None:
    server.put(
        document(server, "IP/26/1900"), (written_dir / GERMAN).read_bytes(), "application/json"
    )
    server.put(
        document(server, "IP/26/1901"), b"503 Service Unavailable\n", "text/plain", status=503
    )
    server.put(document(server, "IP/26/1902"), CHALLENGE, "text/html; charset=utf-8")
    sources = sources_file(tmp_path, server)
    store = services.store

    english = fetch(services, sources, "pc-en")
    assert (english.status, english.new) == ("ok", 4)
    german = fetch(services, sources, "pc-de")
    assert (german.status, german.new, german.updated) == ("ok", 0, 1), german
    assert len(german.warnings) == 2, german.warnings
    failed_503, challenge = sorted(german.warnings)
    assert "IP/26/1901" in failed_503 and "503" in failed_503
    assert "IP/26/1902" in challenge and "anti-bot JavaScript challenge" in challenge
    assert server.hits[document(server, "IP/26/1900")] == 1
    assert not any("1903" in path for path in server.hits)  # daily news: never asked for

    # One item, both versions, German shown first; the merge is recorded with its reason.
    by_family = {i.family: i for i in store.items.list()}
    assert len(by_family) == 4
    item = by_family["IP/26/1900"]
    assert item.languages == ("de", "en") and item.sources == ("pc-en", "pc-de")
    assert item.title == "Kommission zahlt 3,3 Mrd. € an Verteidigungsmitteln an die Ukraine aus"
    assert item.url == DETAIL.format(lang="de", slug="ip_26_1900")
    (merge,) = store.items.merges(item.id)
    assert (merge.source_id, merge.language, merge.url, merge.identity) == (
        "pc-de", "de", item.url, f"url:{item.url}",
    )  # fmt: skip
    assert merge.reason_de == "gleiche Pressemitteilungsnummer IP/26/1900 im Link"
    assert merge.added_version and merge.merged_at == NOW

    # The next run asks again only for what still lacks German (the list is read whole,
    # not answered 304), and a document that works now joins its item.
    server.put(
        document(server, "IP/26/1901"), _german(written_dir, "IP/26/1901"), "application/json"
    )
    again = fetch(services, sources, "pc-de")
    assert (again.status, again.updated, len(again.warnings)) == ("ok", 1, 1), again
    assert server.hits[document(server, "IP/26/1900")] == 1
    assert server.hits[document(server, "IP/26/1901")] == 2
    assert store.items.get(by_family["IP/26/1901"].id).languages == ("de", "en")
    assert len(store.items.merges(item.id)) == 1


def test_requests_per_run_are_bounded(
    services: Services, server: FeedServer, written_dir: Path, tmp_path: Path
) -> None:
    sources = sources_file(tmp_path, server, max_requests=1)
    server.put(
        document(server, "IP/26/1900"), (written_dir / GERMAN).read_bytes(), "application/json"
    )
    report = fetch(services, sources, "pc-de")
    assert (report.status, report.new) == ("ok", 1)
    # the newest only (IP/26/1900, 07:47); the German item stands alone until English comes
    assert [p for p in server.hits if p.startswith("/pc/documents/")] == [
        document(server, "IP/26/1900")
    ]
    (item,) = services.store.items.list()
    assert item.languages == ("de",) and item.family == "IP/26/1900"


def test_every_document_failing_fails_the_source_with_a_clear_message(
    services: Services, server: FeedServer, tmp_path: Path
) -> None:
    for ref in ("IP/26/1900", "IP/26/1901", "IP/26/1902"):
        server.put(document(server, ref), CHALLENGE, "text/html; charset=utf-8")
    report = fetch(services, sources_file(tmp_path, server), "pc-de")
    assert report.status == "failed"
    assert report.error is not None
    assert report.error.startswith("all 3 document requests failed; first: ")
    assert "anti-bot JavaScript challenge" in report.error
    assert services.store.sources.get("pc-de").consecutive_failures == 1


def test_an_anti_bot_page_instead_of_the_list_fails_the_source(
    services: Services, server: FeedServer, tmp_path: Path
) -> None:
    server.put("/pc/rss-en.xml", CHALLENGE, "text/html; charset=utf-8")
    report = fetch(services, sources_file(tmp_path, server), "pc-de")
    assert report.status == "failed" and report.error is not None
    assert "anti-bot JavaScript challenge, not a feed" in report.error
    assert not any(p.startswith("/pc/documents/") for p in server.hits)


def test_the_real_english_answer_is_read_when_the_source_names_one_document(
    services: Services, corpus_dir: Path, tmp_path: Path
) -> None:
    with FeedServer(corpus_dir) as srv:
        allow_server(services, srv)
        path = tmp_path / "sources.yaml"
        path.write_text(
            "sources:\n"
            "  - id: pc-doc-en\n"
            "    name: IP/26/1900\n"
            "    institution: Europäische Kommission\n"
            f"    url: {srv.url('/api/ec-presscorner-document-ip-26-1900-en-trimmed.json')}\n"
            "    language: en\n"
            "    kind: api\n"
            "    adapter: presscorner_documents\n",
            encoding="utf-8",
        )
        report = fetch(services, path, "pc-doc-en")
    assert (report.status, report.new) == ("ok", 1), report
    (item,) = services.store.items.list()
    assert item.title == "Commission disburses €3.3 billion in defence funding to Ukraine"
    assert item.family == "IP/26/1900" and item.language == "en"
    assert "€90 billion Ukraine Support Loan" in item.summary_html


def _german(written_dir: Path, reference: str) -> bytes:
    """Our German answer made into another document (its number and title changed)."""
    data = json.loads((written_dir / GERMAN).read_text(encoding="utf-8"))
    data["refCd"] = reference
    data["docuLanguageResource"]["title"] = (
        "Kommission genehmigt deutsche Regelung für Wasserstoffbusse"
    )
    return json.dumps(data, ensure_ascii=False).encode()
