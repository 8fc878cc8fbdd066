"""Funding & Tenders portal: the SEDIA search API (calls for proposals, topics).

Request: POST to the search URL (apiKey, text, pageSize, pageNumber in the
query string) with the JSON parameters `query`, `languages` and `sort` sent as
multipart *file* parts with Content-Type application/json, as the portal's own
front end does (sent as plain form fields the API answers 500; in the URL,
`query` is silently ignored).

Answer: `{"results": [{"url", "reference", "metadata": {...}}, ...]}` where
every metadata value is a list of strings, some of which hold JSON text.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from collections.abc import Mapping
from typing import Any

from pipeline.ingest.adapters._base import (
    RequestSpec,
    as_str_list,
    dedupe,
    load_json,
    wrong_shape,
)
from pipeline.ingest.adapters._text import collapse, parse_datetime
from pipeline.ingest.eligibility import from_ft_metadata
from pipeline.model import Deadline, DeadlineKind, DocType, FetchResult, RawItem, Source

log = logging.getLogger(__name__)

NAME = "ft_search"
TOPIC_URL = (
    "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
    "topic-details/{identifier}"
)
STATUS_LABELS = {"31094501": "Forthcoming", "31094502": "Open", "31094503": "Closed"}
FORTHCOMING = "31094501"

# Call topics (type 1), forthcoming or open, newest opening first.
DEFAULT_QUERY: Mapping[str, Any] = {
    "bool": {
        "must": [
            {"terms": {"type": ["1"]}},
            {"terms": {"status": ["31094501", "31094502"]}},
        ]
    }
}
DEFAULT_SORT: Mapping[str, Any] = {"order": "DESC", "field": "startDate"}


def request(source: Source) -> RequestSpec:
    """POST with `query`, `languages` and `sort` as JSON file parts (see module doc)."""
    options = source.options
    languages = options.get("languages") or [source.language]
    parts = {
        "query": options.get("query") or DEFAULT_QUERY,
        "languages": list(languages),
        "sort": options.get("sort") or DEFAULT_SORT,
    }
    files = {
        name: ("blob", json.dumps(value, ensure_ascii=False).encode("utf-8"), "application/json")
        for name, value in parts.items()
    }
    return RequestSpec(
        url=source.url,
        method="POST",
        headers={"Accept": "application/json"},
        files=files,
    )


def check_options(options: Mapping[str, Any]) -> list[str]:
    problems = []
    if "query" in options and not isinstance(options["query"], dict):
        problems.append("options.query must be a mapping (the SEDIA query DSL)")
    if "sort" in options and not isinstance(options["sort"], dict):
        problems.append("options.sort must be a mapping like {order: DESC, field: startDate}")
    languages = options.get("languages")
    if languages is not None and not (
        isinstance(languages, list) and all(isinstance(x, str) for x in languages)
    ):
        problems.append("options.languages must be a list of language codes")
    return problems


def parse(source: Source, result: FetchResult) -> list[RawItem]:
    data = load_json(source, result)
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise wrong_shape(source, NAME, "an object with a 'results' list")
    items: list[RawItem] = []
    for index, record in enumerate(data["results"]):
        if not isinstance(record, dict) or not isinstance(record.get("metadata"), dict):
            log.debug("%s: result %d has no metadata object, skipped", source.id, index)
            continue
        item = _item(source, record)
        if item is None:
            log.debug("%s: result %d has no title or identifier, skipped", source.id, index)
            continue
        items.append(item)
    if data["results"] and not items:
        raise wrong_shape(source, NAME, "results with 'metadata' holding a title or identifier")
    return items


def _item(source: Source, record: dict[str, Any]) -> RawItem | None:
    meta: dict[str, Any] = record["metadata"]

    def first(key: str) -> str:
        values = as_str_list(meta.get(key))
        return values[0].strip() if values else ""

    identifier = first("identifier")
    title = collapse(first("title") or str(record.get("summary") or ""))
    if not title:
        title = identifier
    if not title:
        return None
    status = first("status")
    status_label = STATUS_LABELS.get(status, "")
    call_id = first("callIdentifier")
    call_title = first("callTitle")

    deadlines = _deadlines(meta, status)
    keywords = _keywords(meta)
    summary_html = first("descriptionByte") or html_escape_text(str(record.get("summary") or ""))
    published = _date_time(first("startDate")) or _date_time(first("es_SortDate"))
    url = TOPIC_URL.format(identifier=identifier) if identifier else _record_url(record)

    extra = [call_title, call_id, *keywords, *as_str_list(meta.get("typesOfAction"))]
    categories = [status_label] if status_label else []
    categories += as_str_list(meta.get("tags"))
    return RawItem(
        source_id=source.id,
        title=title,
        url=url,
        guid=identifier or str(record.get("reference") or "") or None,
        summary_html=summary_html,
        language=first("language").lower() or None,
        published=published,
        updated=None,
        categories=dedupe(categories),
        deadlines=deadlines,
        references=dedupe([identifier, call_id]),
        doc_type=DocType.FUNDING_CALL,
        extra_text=" · ".join(dedupe(extra)),
        eligibility=from_ft_metadata(meta),
    )


def html_escape_text(text: str) -> str:
    return html.escape(collapse(text), quote=False)


def _record_url(record: dict[str, Any]) -> str | None:
    url = record.get("url")
    return url if isinstance(url, str) and url.startswith("http") else None


def _date_time(text: str) -> dt.datetime | None:
    return parse_datetime(text) if text else None


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def _deadlines(meta: dict[str, Any], status: str) -> tuple[Deadline, ...]:
    closing = [d for d in (_date(s) for s in as_str_list(meta.get("deadlineDate"))) if d]
    two_stage = len(closing) > 1
    deadlines = [
        Deadline(
            date=day,
            kind=DeadlineKind.CALL_CLOSING,
            label=f"Stage {n} deadline" if two_stage else "Deadline",
        )
        for n, day in enumerate(sorted(set(closing)), start=1)
    ]
    if status == FORTHCOMING:
        opening = _date(next(iter(as_str_list(meta.get("startDate"))), ""))
        if opening:
            deadlines.insert(0, Deadline(opening, DeadlineKind.CALL_OPENING, "Opening"))
    return tuple(deadlines)


def _keywords(meta: dict[str, Any]) -> list[str]:
    """Keywords; older records hold them as one JSON-array string."""
    out: list[str] = []
    for value in as_str_list(meta.get("keywords")):
        text = value.strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except json.JSONDecodeError:
                decoded = None
            if isinstance(decoded, list):
                out.extend(str(v) for v in decoded if isinstance(v, str))
                continue
        out.append(text)
    return out
