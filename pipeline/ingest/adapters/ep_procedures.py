"""European Parliament Open Data API v2: procedures (JSON-LD), as dossiers.

    GET …/api/v2/procedures?year=2026          {"data": [{id, type: Process, process_id,
                                                 process_type, label}, …]}  — ids only
    GET …/api/v2/procedures/2025-0260          {"data": [{…, process_title: {de, en, …},
                                                 consists_of: [events], was_scheduled_in:
                                                 [forecasts], had_participation: [...]}]}

A list gives one DossierRecord per procedure (reference and type; `options.types`
keeps only some types, e.g. [COD, CNS, NLE]) and, when `options.detail_url` is set
("…/procedures/{id}"), one follow-up request per procedure: ingest fetches them,
and a timeout or a 5xx of one procedure does not stop the others. A single
procedure gives titles, events (`consists_of`, any order), forecasts
(`was_scheduled_in`), the lead committee, and aliases (the EP report A10-…).

Ids in the answer are relative to `https://data.europarl.europa.eu/`; vocabularies
are URIs whose last segment is the value (def/ep-activities/PLENARY_VOTE).
Missing or unexpected fields: the procedure is kept with what is readable and the
problem is named; a record without a readable reference is left out (named too).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

from pipeline.ingest.adapters._base import (
    DossierBatch,
    RequestSpec,
    load_json,
    wrong_shape,
)
from pipeline.ingest.adapters._text import collapse
from pipeline.model import (
    DossierEvent,
    DossierRecord,
    DossierRelation,
    EventKind,
    FetchResult,
    ProcedureType,
    RawItem,
    Relation,
    Source,
    normalize_reference,
    procedure_reference,
)

log = logging.getLogger(__name__)

NAME = "ep_procedures"
ACCEPT = "application/ld+json, application/json;q=0.9"
_WITHDRAWN_HINTS = ("WITHDRAW", "LAPSED")


def request(source: Source) -> RequestSpec:
    return RequestSpec(url=source.url, headers={"Accept": ACCEPT})


def parse(source: Source, result: FetchResult) -> list[RawItem]:
    """Procedures are dossiers, not items: nothing for the item pipeline."""
    return []


def check_options(options: Mapping[str, Any]) -> list[str]:
    problems = []
    detail = options.get("detail_url")
    if detail is not None and (not isinstance(detail, str) or "{id}" not in detail):
        problems.append("options.detail_url must be a URL with {id} (e.g. …/procedures/{id})")
    types = options.get("types")
    if types is not None and (
        not isinstance(types, list) or not all(isinstance(t, str) for t in types)
    ):
        problems.append("options.types must be a list of procedure types like [COD, CNS]")
    return problems


def dossiers(source: Source, result: FetchResult) -> DossierBatch:
    data = load_json(source, result)
    processes = data.get("data") if isinstance(data, dict) else None
    if not isinstance(processes, list):
        raise wrong_shape(source, NAME, "an object with a 'data' list of procedures")
    wanted = {str(t).upper() for t in source.options.get("types") or []}
    detail_url = source.options.get("detail_url")
    records: list[DossierRecord] = []
    follow_ups: list[RequestSpec] = []
    problems: list[str] = []
    for n, process in enumerate(processes):
        if not isinstance(process, dict):
            problems.append(f"data[{n}] is not an object")
            continue
        reference, kind = _reference(process)
        if reference is None:
            problems.append(f"data[{n}] has no readable procedure reference (label, process_id)")
            continue
        if wanted and kind.value not in wanted:
            continue
        if _is_detail(process):
            record = _detail(source, process, reference, kind)
            records.append(record)
            problems.extend(f"{reference}: {p}" for p in record.problems)
        else:
            records.append(DossierRecord(reference, source.id, procedure_type=kind))
            if isinstance(detail_url, str):
                process_id = reference.split("(")[0].replace("/", "-")
                follow_ups.append(
                    RequestSpec(
                        url=detail_url.replace("{id}", process_id), headers={"Accept": ACCEPT}
                    )
                )
    if processes and not records and not wanted:
        raise wrong_shape(source, NAME, "procedures with 'label' or 'process_id'")
    return DossierBatch(tuple(records), tuple(follow_ups), tuple(problems))


def _last(uri: object) -> str:
    """'def/ep-activities/PLENARY_VOTE' → 'PLENARY_VOTE'."""
    return str(uri).rstrip("/").rsplit("/", 1)[-1] if uri else ""


def _reference(process: Mapping[str, Any]) -> tuple[str | None, ProcedureType]:
    kind = ProcedureType.of(_last(process.get("process_type")))
    label = process.get("label")
    if isinstance(label, str):
        found = procedure_reference(label)
        if found is not None:
            return found, ProcedureType.of(found[-4:-1]) if kind is ProcedureType.OTHER else kind
    process_id = process.get("process_id") or _last(process.get("id"))
    if isinstance(process_id, str) and kind is not ProcedureType.OTHER:
        return procedure_reference(f"{process_id} {kind.value}"), kind
    return None, kind


def _is_detail(process: Mapping[str, Any]) -> bool:
    return any(k in process for k in ("process_title", "consists_of", "was_scheduled_in"))


def _detail(
    source: Source, process: Mapping[str, Any], reference: str, kind: ProcedureType
) -> DossierRecord:
    problems: list[str] = []
    titles = process.get("process_title")
    if not isinstance(titles, dict):
        problems.append("no process_title")
        titles = {}
    title_de, title_en, other, other_language = _titles(titles)
    if not title_de:
        problems.append("no German title (process_title.de)")
    if not title_en:
        problems.append("no English title (process_title.en)")
    if other:
        problems.append(f"title only in other languages: {other_language} used")

    aliases: list[str] = []
    events: list[DossierEvent] = []
    for field, forecast in (("consists_of", False), ("was_scheduled_in", True)):
        values = process.get(field) or []
        if not isinstance(values, list):
            problems.append(f"{field} is not a list")
            continue
        for value in values:
            event = _event(source, value, forecast)
            if event is None:
                problems.append(f"an entry of {field} without a date or type was left out")
                continue
            events.append(event)
            if event.document:
                aliases.append(event.document)
    for doc in process.get("created_a_realization_of") or []:
        ref = _document_reference(doc)
        if ref:
            aliases.append(ref)

    lead = ""
    for p in process.get("had_participation") or []:
        if isinstance(p, dict) and _last(p.get("participation_role")) == "COMMITTEE_LEAD":
            orgs = p.get("had_participant_organization") or []
            lead = ", ".join(_last(o) for o in orgs if o) if isinstance(orgs, list) else ""
    stage_uri = _last(process.get("current_stage"))
    withdrawn = any(h in stage_uri.upper() for h in _WITHDRAWN_HINTS) or any(
        e.kind is EventKind.WITHDRAWN for e in events
    )
    return DossierRecord(
        reference=reference,
        source=source.id,
        title_de=title_de,
        title_en=title_en,
        procedure_type=kind,
        lead_committee=lead,
        withdrawn=withdrawn,
        aliases=tuple(dict.fromkeys(a for a in aliases if a != reference)),
        events=tuple(events),
        problems=tuple(problems),
        relations=_relations(process, reference, kind),
        title_other=other,
        title_other_language=other_language,
        train_url=train_url_in(process),
    )


def _titles(titles: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(German, English, other, its language): the other only when neither German nor
    English is there, French first, then the first language in alphabetical order."""
    found = {
        str(k).lower()[:8]: collapse(str(v))
        for k, v in titles.items()
        if isinstance(v, str) and collapse(v)
    }
    de, en = found.get("de", ""), found.get("en", "")
    if de or en:
        return de, en, "", ""
    for language in ("fr", *sorted(found)):
        if language in found:
            return "", "", found[language], language
    return "", "", "", ""


# Fields that tie a procedure to another one. The API's documentation names none we could
# check against a real answer, so any field whose name says split, merge or join is read;
# its values are procedures (eli/dl/proc/2025-0261, or a label 2025/0261(COD)).
_RELATION_FIELD = re.compile(r"split|merg|join", re.IGNORECASE)
_FROM_FIELD = re.compile(r"from|origin|derived|result", re.IGNORECASE)


def _relations(
    process: Mapping[str, Any], reference: str, kind: ProcedureType
) -> tuple[DossierRelation, ...]:
    found: list[DossierRelation] = []
    for key, value in process.items():
        if not _RELATION_FIELD.search(str(key)):
            continue
        if re.search(r"split", str(key), re.IGNORECASE):
            relation = Relation.SPLIT_FROM if _FROM_FIELD.search(key) else Relation.SPLIT_INTO
        else:
            relation = Relation.MERGED_WITH
        values = value if isinstance(value, list) else [value]
        for v in values:
            date = None
            if isinstance(v, dict):
                with contextlib.suppress(ValueError):
                    date = dt.date.fromisoformat(str(v.get("activity_date"))[:10])
                v = v.get("label") or v.get("process_id") or v.get("id")
            other = _procedure_of(v, kind)
            if other and other != reference:
                found.append(DossierRelation(relation, other, date))
    return tuple(dict.fromkeys(found))


def _procedure_of(value: object, kind: ProcedureType) -> str | None:
    if not isinstance(value, str):
        return None
    found = procedure_reference(value)
    if found is None and kind is not ProcedureType.OTHER:
        found = procedure_reference(f"{_last(value)} {kind.value}")
    return found


_TRAIN_URL = re.compile(
    r"https?://(?:www\.)?europarl\.europa\.eu/legislative-train/[^\s\"'<>]{1,400}"
)


def train_url_in(value: object, depth: int = 0) -> str:
    """The first Legislative Train address anywhere in a JSON value (the API names it, if
    at all, in a field we do not know); "" when there is none. Never made up."""
    if isinstance(value, str):
        m = _TRAIN_URL.search(value)
        return m.group().replace("http://", "https://", 1) if m else ""
    if depth > 4:
        return ""
    children: list[object] = []
    if isinstance(value, dict):
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    for child in children:
        found = train_url_in(child, depth + 1)
        if found:
            return found
    return ""


def _event(source: Source, value: object, forecast: bool) -> DossierEvent | None:
    if not isinstance(value, dict):
        return None
    try:
        date = dt.date.fromisoformat(str(value.get("activity_date"))[:10])
    except ValueError:
        return None
    activity = _last(value.get("had_activity_type"))
    if not activity:
        return None
    kind = EventKind.of(activity)
    if kind is EventKind.OTHER and any(h in activity for h in _WITHDRAWN_HINTS):
        kind = EventKind.WITHDRAWN
    document = ""
    for field in (
        "based_on_a_realization_of",
        "decided_on_a_realization_of",
        "documented_by_a_realization_of",
    ):
        for doc in value.get(field) or []:
            document = document or _document_reference(doc)
    key = str(value.get("activity_id") or value.get("id") or "")
    return DossierEvent(
        date=date,
        kind=kind,
        source=source.id,
        key=key,
        label_en=activity.replace("_", " ").capitalize() if kind is EventKind.OTHER else "",
        document=document,
        forecast=forecast,
    )


def _document_reference(doc: object) -> str:
    """'eli/dl/doc/A-10-2026-0070' → 'A10-0070/2026'; other documents: ''."""
    name = _last(doc)
    if name.startswith("A-"):
        return normalize_reference(name) or ""
    return ""
