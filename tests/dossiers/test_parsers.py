"""The dossier adapters on the real corpus answers, fetched from the loopback FeedServer."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import fetch_allow_list
from pipeline.errors import ParseError
from pipeline.ingest import adapters
from pipeline.ingest.fetch import Fetcher, FetchRequest
from pipeline.model import (
    EventKind,
    FetchResult,
    FetchStatus,
    ProcedureType,
    Source,
    SourceKind,
    Stage,
    stage_of,
)
from tests.support.feedserver import FeedServer

PROCEDURE = "api/ep-opendata-procedure-2025-0260-cod.json"
LIST = "api/ep-opendata-procedures-list-2026.json"
OEIL = "pages/oeil-procedure-file-2024-0258-cod-en.html"
# Made up here (no real capture exists): the shape of a JavaScript challenge page.
CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title>"
    b"<script>window._cf_chl_opt={cType:'managed'};</script></head>"
    b"<body>Checking your browser before accessing the site. Enable JavaScript.</body></html>"
)


@pytest.fixture(scope="module")
def server(corpus_dir: Path) -> Iterator[FeedServer]:
    with FeedServer(corpus_dir) as srv:
        yield srv


def fetch(url: str) -> FetchResult:
    fetcher = Fetcher(
        user_agent="eudigest-test",
        timeout_s=5,
        max_bytes=5_000_000,
        max_redirects=3,
        concurrency=2,
        per_host=2,
        allow=fetch_allow_list(os.environ.get("EUDIGEST_FETCH_ALLOW", "")),  # the FeedServer
    )
    (result,) = fetcher.fetch_all_sync([FetchRequest(source_id="s", url=url)])
    assert result.status is FetchStatus.OK, result.error
    return result


def source(adapter: str, **options: object) -> Source:
    kind = SourceKind.HTML if adapter == "oeil" else SourceKind.API
    return Source(
        "s",
        "s",
        "Europäisches Parlament",
        "https://x.test",
        "en",
        kind,
        adapter=adapter,
        options=options,
    )


def read(src: Source, result: FetchResult) -> adapters.DossierBatch:
    reader = adapters.dossiers_of(src)
    assert reader is not None
    return reader(src, result)


def test_one_procedure_of_the_ep_open_data_api(server: FeedServer) -> None:
    batch = read(source("ep_procedures"), fetch(server.url(PROCEDURE)))
    assert batch.problems == () and batch.follow_ups == ()
    (r,) = batch.records
    assert r.reference == "2025/0260(COD)" and r.procedure_type is ProcedureType.COD
    assert r.title_de == "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren"
    assert r.title_en == "Non-application of customs duties on imports of certain goods"
    assert r.lead_committee == "INTA"
    happened = [e for e in r.events if not e.forecast]
    assert len(happened) == 23 and len(r.events) - len(happened) == 4
    assert min(e.date for e in happened) == dt.date(2025, 10, 20)
    assert {e.kind for e in happened} >= {
        EventKind.REFERRAL,
        EventKind.INTERINSTITUTIONAL_NEGOTIATION,
        EventKind.PLENARY_ADOPT_POSITION,
    }
    assert EventKind.OTHER not in {e.kind for e in r.events}
    assert "A10-0070/2026" in r.aliases
    # committee approved the trilogue agreement, then the plenary adopted it: Council next
    assert stage_of(r.events, r.withdrawn) is Stage.COUNCIL


def test_the_procedure_list_gives_references_and_one_detail_request_each(
    server: FeedServer,
) -> None:
    result = fetch(server.url(LIST))
    everything = read(source("ep_procedures"), result)
    assert len(everything.records) == 50 and everything.follow_ups == ()
    assert everything.records[2].reference == "2026/0010(COD)"
    src = source("ep_procedures", types=["COD"], detail_url="https://x.test/procedures/{id}")
    batch = read(src, result)
    assert [r.reference for r in batch.records] == [
        "2026/0010(COD)",
        "2026/0045(COD)",
        "2026/0059(COD)",
    ]
    assert [f.url for f in batch.follow_ups] == [
        "https://x.test/procedures/2026-0010",
        "https://x.test/procedures/2026-0045",
        "https://x.test/procedures/2026-0059",
    ]


def test_missing_and_unexpected_fields_are_named_not_fatal(corpus_dir: Path) -> None:
    data = json.loads((corpus_dir / PROCEDURE).read_text(encoding="utf-8"))
    process = data["data"][0]
    del process["process_title"]["de"]  # a language missing from the titles
    process["consists_of"].append({"type": "Activity", "activity_date": "bald"})
    process["consists_of"].append("not an object")
    process["surprise"] = {"nested": [1, 2]}
    data["data"].append({"type": "Process"})  # no reference at all
    body = json.dumps(data).encode()
    batch = read(source("ep_procedures"), FetchResult("s", FetchStatus.OK, "u", body))
    (r,) = batch.records
    assert r.title_de == "" and r.title_en.startswith("Non-application")
    assert len([e for e in r.events if not e.forecast]) == 23
    assert "2025/0260(COD): no German title (process_title.de)" in batch.problems
    assert any("without a date or type" in p for p in batch.problems)
    assert any("no readable procedure reference" in p for p in batch.problems)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (CHALLENGE, "got an anti-bot JavaScript challenge, not JSON"),
        (b"<!DOCTYPE html><html><body>Wartung</body></html>", "got an HTML page, not JSON"),
        (b'{"data": {"not": "a list"}}', "expected an object with a 'data' list"),
        (b"[1, 2", "invalid JSON"),
    ],
)
def test_what_is_not_a_procedure_answer_is_a_source_error(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        read(source("ep_procedures"), FetchResult("s", FetchStatus.OK, "u", body, "text/html"))


def test_an_oeil_procedure_file(server: FeedServer) -> None:
    batch = read(source("oeil"), fetch(server.url(OEIL)))
    (r,) = batch.records
    assert r.reference == "2024/0258(COD)" and r.procedure_type is ProcedureType.COD
    assert r.title_en == "Establishing the Reform and Growth Facility for Moldova"
    assert r.lead_committee == "AFET, BUDG"  # a joint committee procedure
    assert r.rapporteur == "MIKSER Sven (S&D), MUREŞAN Siegfried (EPP)"  # no shadows
    assert r.status_text == "Procedure completed" and not r.withdrawn
    assert set(r.aliases) == {"COM(2024) 469", "A10-0006/2025", "32025R0535"}
    assert len(r.events) == 14 and r.events[0].kind is EventKind.PROPOSAL
    assert r.events[-1].kind is EventKind.OJ_PUBLICATION
    assert r.events[-1].label_de == "Im Amtsblatt veröffentlicht"
    assert stage_of(r.events, r.withdrawn) is Stage.PUBLISHED


def test_an_oeil_forecast_and_a_withdrawn_file(corpus_dir: Path) -> None:
    page = (corpus_dir / OEIL).read_text(encoding="utf-8")
    page = page.replace(
        "Procedure completed", "Procedure completed, awaiting publication / withdrawn"
    )
    forecast = (
        '<div class="erpl-product-content"><h2>Forecasts</h2><table><tbody>'
        "<tr><td>14/09/2026</td><td>Indicative plenary sitting date</td></tr>"
        "</tbody></table></div>"
    )
    page = page.replace("</main>", forecast + "</main>")
    batch = read(source("oeil"), FetchResult("s", FetchStatus.OK, "u", page.encode()))
    (r,) = batch.records
    assert r.withdrawn and stage_of(r.events, r.withdrawn) is Stage.WITHDRAWN
    (f,) = [e for e in r.events if e.forecast]
    assert (f.date, f.kind, f.label_de) == (
        dt.date(2026, 9, 14),
        EventKind.PLENARY_VOTE,
        "Voraussichtlich: Abstimmung im Plenum",
    )


def test_oeil_refuses_a_challenge_and_a_page_without_a_procedure() -> None:
    with pytest.raises(ParseError, match="anti-bot"):
        read(source("oeil"), FetchResult("s", FetchStatus.OK, "u", CHALLENGE))
    with pytest.raises(ParseError, match="no procedure reference"):
        read(
            source("oeil"),
            FetchResult("s", FetchStatus.OK, "u", b"<html><main><h2>Hi</h2></main></html>"),
        )
