"""The issue's bad input for dossiers: titles missing a language, JSON-LD with missing or
unexpected fields, a withdrawn procedure, a procedure split in two or two merged, the
Legislative Train only where a source names it, Council and Parliament numbers as
aliases, a timeout and a 5xx for one procedure of a list.

Made up here, and said so at each place: the field names of splits and mergers in the
EP API and OEIL's words for them (no real answer or page with one was found), a
Legislative Train address in an answer, a withdrawal in the EP API's vocabulary.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.ingest import adapters
from pipeline.model import (
    Dossier,
    DossierEvent,
    DossierRecord,
    DossierRelation,
    EventKind,
    FetchResult,
    FetchStatus,
    ProcedureType,
    Relation,
    Source,
    SourceKind,
    Stage,
    stage_of,
)
from pipeline.store import Store
from tests.integration.test_ingest_corpus import Cli
from tests.store.test_dossiers import NOW, TODAY, add_items
from tests.support.feedserver import FeedServer

PROCEDURE = "api/ep-opendata-procedure-2025-0260-cod.json"
OEIL = "pages/oeil-procedure-file-2024-0258-cod-en.html"
TRAIN = "https://www.europarl.europa.eu/legislative-train/carriage/moldova-facility/report?sid=9101"


def source(adapter: str) -> Source:
    kind = SourceKind.HTML if adapter == "oeil" else SourceKind.API
    return Source("s", "s", "Europäisches Parlament", "https://x.test", "en", kind, adapter=adapter)


def read_json(data: Any) -> adapters.DossierBatch:
    reader = adapters.dossiers_of(source("ep_procedures"))
    assert reader is not None
    body = json.dumps(data).encode()
    return reader(source("ep_procedures"), FetchResult("s", FetchStatus.OK, "u", body))


def read_page(page: str) -> DossierRecord:
    reader = adapters.dossiers_of(source("oeil"))
    assert reader is not None
    (record,) = reader(source("oeil"), FetchResult("s", FetchStatus.OK, "u", page.encode())).records
    return record


@pytest.fixture
def procedure(corpus_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((corpus_dir / PROCEDURE).read_text(encoding="utf-8"))
    return data


# ---------------------------------------------------------------- titles: de → en → any


def test_a_title_falls_back_from_german_to_english_to_french_and_says_so(
    procedure: dict[str, Any],
) -> None:
    titles = procedure["data"][0]["process_title"]
    assert {"de", "en", "fr", "it"} <= set(titles)
    del titles["de"]
    (r,) = read_json(procedure).records
    assert (r.title_de, r.title_other) == ("", "")  # English is there: no other needed
    del titles["en"]
    batch = read_json(procedure)
    (r,) = batch.records
    assert (r.title_de, r.title_en, r.title_other_language) == ("", "", "fr")
    assert r.title_other == " ".join(titles["fr"].split())
    assert "2025/0260(COD): title only in other languages: fr used" in batch.problems
    del titles["fr"]
    (r,) = read_json(procedure).records
    assert r.title_other_language == sorted(titles)[0]  # then the first by its code


def test_a_dossier_says_which_language_its_title_is_in() -> None:
    base = Dossier(
        1,
        "2025/0260(COD)",
        "",
        "",
        ProcedureType.COD,
        Stage.PROPOSAL,
        "",
        "",
        NOW,
        NOW,
        title_other="Non-application des droits de douane",
        title_other_language="fr",
    )
    assert (base.title, base.title_language) == ("Non-application des droits de douane", "fr")
    english = Dossier(**{**_fields(base), "title_en": "Non-application of duties"})
    assert (english.title, english.title_language) == ("Non-application of duties", "en")
    german = Dossier(**{**_fields(base), "title_de": "Nichtanwendung von Zöllen"})
    assert (german.title, german.title_language) == ("Nichtanwendung von Zöllen", "de")
    bare = Dossier(**{**_fields(base), "title_other": ""})
    assert (bare.title, bare.title_language) == ("2025/0260(COD)", "")


def _fields(d: Dossier) -> dict[str, Any]:
    return {f: getattr(d, f) for f in d.__dataclass_fields__}


def test_the_store_keeps_the_other_title_and_a_german_one_wins_later(store: Store) -> None:
    store.dossiers.upsert(
        [
            DossierRecord(
                "2025/0260(COD)", "ep", title_other="Droits de douane", title_other_language="fr"
            )
        ],
        now=NOW,
    )
    d = store.dossiers.get("2025/0260(COD)", today=TODAY)
    assert (d.title, d.title_language) == ("Droits de douane", "fr")
    store.dossiers.upsert([DossierRecord("2025/0260(COD)", "ep", title_de="Zölle")], now=NOW)
    d = store.dossiers.get("2025/0260(COD)", today=TODAY)
    assert (d.title, d.title_language) == ("Zölle", "de")


# ---------------------------------------------------------------- JSON-LD of odd shapes


def test_fields_of_the_wrong_type_are_named_and_the_rest_is_kept(
    procedure: dict[str, Any],
) -> None:
    process = procedure["data"][0]
    process["process_title"] = ["not", "an", "object"]
    process["was_scheduled_in"] = {"not": "a list"}
    process["had_participation"] = None
    process["created_a_realization_of"] = None
    process["process_type"] = "def/ep-procedure-types/COD"
    process["label"] = 20250260  # a number where a string was expected
    batch = read_json(procedure)
    (r,) = batch.records
    assert r.reference == "2025/0260(COD)"  # from process_id and the type
    assert (r.title_de, r.title_en) == ("", "")
    assert len(r.events) == 23 and r.lead_committee == ""
    assert "2025/0260(COD): no process_title" in batch.problems
    assert "2025/0260(COD): was_scheduled_in is not a list" in batch.problems


# ---------------------------------------------------------------- withdrawn


def test_a_procedure_withdrawn_in_the_ep_api_is_zurueckgezogen(
    procedure: dict[str, Any], store: Store
) -> None:
    # made up: the withdrawal as an activity of the API's vocabulary
    procedure["data"][0]["consists_of"].append(
        {
            "id": "eli/dl/event/withdrawal",
            "activity_id": "withdrawal-2026-07-01",
            "activity_date": "2026-07-01",
            "had_activity_type": "def/ep-activities/PROPOSAL_WITHDRAWAL",
        }
    )
    (r,) = read_json(procedure).records
    assert r.withdrawn and stage_of(r.events, r.withdrawn) is Stage.WITHDRAWN
    store.dossiers.upsert([r], now=NOW)
    d = store.dossiers.get("2025/0260(COD)", today=TODAY)
    assert (d.stage, d.stage_label, d.next_step) == (Stage.WITHDRAWN, "zurückgezogen", "")
    (withdrawal,) = [e for e in d.events if e.kind is EventKind.WITHDRAWN]
    assert withdrawal.label_de == "Vorschlag zurückgezogen"


# ---------------------------------------------------------------- splits and mergers


def test_ep_api_fields_that_say_split_or_merged_become_relations(
    procedure: dict[str, Any],
) -> None:
    process = procedure["data"][0]
    # made up: field names of a split and a merger (no real answer with one was found)
    process["is_split_into"] = ["eli/dl/proc/2025-0261", "eli/dl/proc/2025-0260"]
    process["merged_with"] = [{"label": "2025/0300(COD)", "activity_date": "2026-01-10"}]
    process["seeAlso"] = [{"url": TRAIN}]  # made up: a train address somewhere in the answer
    (r,) = read_json(procedure).records
    assert set(r.relations) == {
        DossierRelation(Relation.SPLIT_INTO, "2025/0261(COD)"),
        DossierRelation(Relation.MERGED_WITH, "2025/0300(COD)", dt.date(2026, 1, 10)),
    }
    assert r.train_url == TRAIN


def test_the_corpus_answer_names_no_train_so_none_is_made_up(procedure: dict[str, Any]) -> None:
    (r,) = read_json(procedure).records
    assert r.train_url == "" and r.relations == ()


def test_oeil_words_of_a_split_and_a_merger_and_its_train_link(corpus_dir: Path) -> None:
    page = (corpus_dir / OEIL).read_text(encoding="utf-8")
    plain = read_page(page)
    assert plain.relations == () and plain.train_url == ""
    # made up: OEIL's usual English for a split and a merger, and a link to the train
    rows = (
        "<tr><td>02/04/2025</td><td>Procedure split into 2025/0101(COD) and 2025/0102(COD)"
        "</td><td></td></tr>"
    )
    at = page.index("Legislative proposal published")
    end = page.index("</tr>", at) + len("</tr>")
    page = page[:end] + rows + page[end:]
    page = page.replace(
        "</main>",
        '<div class="es_product-content"><h2>Technical information (more)</h2><table>'
        "<tr><th>Merged with</th><td>2023/0999(COD)</td></tr></table></div>"
        f'<p><a href="{TRAIN}">Legislative Train</a></p></main>',
    )
    r = read_page(page)
    assert set(r.relations) >= {
        DossierRelation(Relation.SPLIT_INTO, "2025/0101(COD)", dt.date(2025, 4, 2)),
        DossierRelation(Relation.SPLIT_INTO, "2025/0102(COD)", dt.date(2025, 4, 2)),
    }
    assert r.train_url == TRAIN
    assert not any("split" in e.label_en.lower() for e in r.events)  # one event, not two


def test_a_split_and_a_merger_in_the_store(store: Store) -> None:
    """The whole (A) split into B and C; D merged with E. Items naming A join A, B and C
    (each part is still about what the whole was); items naming only B join B; items
    naming D or E join both merged files."""
    ids = add_items(
        store,
        {1: ("2025/0100(COD)",), 2: ("2025/0101(COD)",), 3: ("2024/0050(CNS)",)},
    )
    day = dt.date(2025, 4, 2)
    step = DossierEvent(dt.date(2025, 3, 1), EventKind.PROPOSAL, "oeil", key="p")
    records = [
        DossierRecord(
            "2025/0100(COD)",
            "oeil",
            events=(step,),
            relations=(
                DossierRelation(Relation.SPLIT_INTO, "2025/0101(COD)", day),
                DossierRelation(Relation.SPLIT_INTO, "2025/0102(COD)", day),
            ),
        ),
        DossierRecord(
            "2025/0101(COD)",
            "oeil",
            events=(step,),
            relations=(DossierRelation(Relation.SPLIT_FROM, "2025/0100(COD)", day),),
        ),
        DossierRecord(
            "2025/0102(COD)",
            "oeil",
            events=(step,),
            relations=(DossierRelation(Relation.SPLIT_FROM, "2025/0100(COD)"),),
        ),
        DossierRecord(
            "2024/0049(CNS)",
            "oeil",
            events=(step,),
            relations=(DossierRelation(Relation.MERGED_WITH, "2024/0050(CNS)"),),
        ),
    ]
    store.dossiers.upsert(records, now=NOW)
    store.dossiers.thread(now=NOW)
    assert store.dossiers.of_item(ids[1]) == ["2025/0100(COD)", "2025/0101(COD)", "2025/0102(COD)"]
    assert store.dossiers.of_item(ids[2]) == ["2025/0101(COD)"]
    assert store.dossiers.of_item(ids[3]) == ["2024/0049(CNS)"]  # E is no dossier (yet)
    whole = store.dossiers.get("2025/0100(COD)", today=TODAY)
    labels = [e.label_de for e in whole.events if e.kind is EventKind.SPLIT]
    assert labels == [
        "Verfahren aufgeteilt in 2025/0101(COD)",
        "Verfahren aufgeteilt in 2025/0102(COD)",
    ]
    part = store.dossiers.get("2025/0102(COD)", today=TODAY)
    (origin,) = [e for e in part.events if e.kind is EventKind.SPLIT_FROM]
    # no day given: the record's newest step, stable across fetches
    assert origin.date == step.date
    assert origin.label_de == "Hervorgegangen aus der Aufteilung von 2025/0100(COD)"
    merged = store.dossiers.get("2024/0049(CNS)", today=TODAY)
    assert "2024/0050(CNS)" in merged.aliases
    assert [e.label_de for e in merged.events if e.kind is EventKind.MERGED] == [
        "Zusammengeführt mit 2024/0050(CNS)"
    ]
    # the reference of a dossier names that dossier, not a part that carries it as alias
    assert store.dossiers.get("2025/100(COD)", today=TODAY).reference == "2025/0100(COD)"
    assert store.dossiers.upsert(records, now=NOW).unchanged == 4  # a refetch moves nothing


# ---------------------------------------------------------------- Council and EP numbers


def test_council_and_parliament_numbers_thread_as_aliases(store: Store) -> None:
    from pipeline.ingest.classify import extract_references

    texts = {
        1: "Der Rat billigte das Dokument ST 12345 2025 INIT.",
        2: "Bericht A-10-2025-0123 des Ausschusses.",
        3: "Ratsdokument ST 99999/25.",
    }
    ids = add_items(store, {n: tuple(extract_references(t)) for n, t in texts.items()})
    store.dossiers.upsert(
        [DossierRecord("2025/0260(COD)", "oeil", aliases=("ST 12345/25", "A10-0123/2025"))],
        now=NOW,
    )
    assert store.dossiers.thread(now=NOW) == 2
    assert store.dossiers.of_item(ids[1]) == ["2025/0260(COD)"]
    assert store.dossiers.of_item(ids[2]) == ["2025/0260(COD)"]
    assert store.dossiers.of_item(ids[3]) == []
    assert store.dossiers.get("ST-12345-2025-INIT", today=TODAY).reference == "2025/0260(COD)"


# ---------------------------------------------------------------- one procedure fails


@pytest.fixture
def server(corpus_dir: Path) -> Iterator[FeedServer]:
    with FeedServer(corpus_dir) as srv:
        yield srv
        srv.release("never")


def test_a_timeout_and_a_5xx_for_one_procedure_each_and_the_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, server: FeedServer
) -> None:
    cli = Cli(tmp_path, monkeypatch, capsys)
    monkeypatch.setenv("EUDIGEST_FETCH_TIMEOUT", "1")  # the held answer never comes
    assert cli("init")[0] == 0
    ids = ["2025-0260", "2026-0010", "2026-0045"]
    listing = {
        "data": [
            {"id": f"eli/dl/proc/{i}", "type": "Process", "process_id": i,
             "process_type": "def/ep-procedure-types/COD", "label": f"{i.replace('-', '/')}(COD)"}
            for i in ids
        ]
    }  # fmt: skip
    server.put("/ep/procedures", json.dumps(listing).encode(), "application/ld+json")
    server.put(
        "/ep/procedures/2025-0260", (server.root / PROCEDURE).read_bytes(), "application/ld+json"
    )  # type: ignore[operator]
    server.fault_at("/ep/procedures/2026-0010", "status/503")
    server.fault_at("/ep/procedures/2026-0045", "held?gate=never")  # a timeout
    options = {"types": ["COD"], "detail_url": server.url("/ep/procedures/{id}")}
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - id: ep-procedures\n    name: EP\n    institution: EP\n"
        f"    url: {server.url('/ep/procedures')}\n    language: en\n    kind: api\n"
        f"    adapter: ep_procedures\n    options: {json.dumps(options)}\n",
        encoding="utf-8",
    )
    (report,) = cli.json("fetch", "--sources-file", str(tmp_path / "sources.yaml"))
    assert report["status"] == "ok", report
    warnings = " | ".join(report["warnings"])
    assert "2026-0010" in warnings and "503" in warnings
    assert "2026-0045" in warnings and "timed out" in warnings.lower()
    shown = cli.json("dossier", "show", "2025/0260(COD)")
    assert shown["events"] and shown["title_de"]  # the one that answered is complete
    listed = {d["reference"]: d for d in cli.json("dossiers")}
    assert set(listed) == {"2025/0260(COD)", "2026/0010(COD)", "2026/0045(COD)"}
    assert listed["2026/0010(COD)"]["events"] == 0  # known from the list, details later
