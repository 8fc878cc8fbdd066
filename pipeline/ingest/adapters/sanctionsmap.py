"""EU Sanctions Map: the list of sanctions regimes (https://www.sanctionsmap.eu/api/v1/regime).

Answer: `{"data": [regime, ...], "meta": {...}}`. One RawItem per regime;
`amendment` (unix time of the last amendment) is its date, so a regime that
is amended comes back as an update of the same item (guid = regime id).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from pipeline.ingest.adapters._base import RequestSpec, dedupe, load_json, wrong_shape
from pipeline.ingest.adapters._text import collapse
from pipeline.model import Deadline, DeadlineKind, DocType, FetchResult, RawItem, Source

log = logging.getLogger(__name__)

NAME = "sanctionsmap"
DETAIL_URL = "https://www.sanctionsmap.eu/#/main/details/{id}/"
_CELEX = re.compile(r"CELEX[:=]([0-9A-Z()\-]+)", re.IGNORECASE)
_ACT_NUMBER = re.compile(r"consolidated basic legal act\s*-\s*(.+)$", re.IGNORECASE)


def request(source: Source) -> RequestSpec:
    return RequestSpec(url=source.url, headers={"Accept": "application/json"})


def parse(source: Source, result: FetchResult) -> list[RawItem]:
    data = load_json(source, result)
    regimes = data.get("data") if isinstance(data, dict) else data
    if not isinstance(regimes, list):
        raise wrong_shape(source, NAME, "an object with a 'data' list of regimes")
    items = []
    for regime in regimes:
        if not isinstance(regime, dict) or not str(regime.get("specification") or "").strip():
            log.debug("%s: a regime without 'specification' was skipped", source.id)
            continue
        items.append(_item(source, regime))
    if regimes and not items:
        raise wrong_shape(source, NAME, "regimes with 'id' and 'specification'")
    return items


def _nested(value: Any) -> Any:
    """Unwrap the API's {"data": ...} envelopes."""
    return value.get("data") if isinstance(value, dict) else value


def _item(source: Source, regime: dict[str, Any]) -> RawItem:
    regime_id = regime.get("id")
    spec = collapse(str(regime["specification"]))
    country = _nested(regime.get("country"))
    country_name = collapse(str(country.get("title") or "")) if isinstance(country, dict) else ""
    title = f"{country_name}: {spec}" if country_name and country_name not in spec else spec

    acts = [a for a in _nested(regime.get("legal_acts")) or [] if isinstance(a, dict)]
    measures = [m for m in _nested(regime.get("measures")) or [] if isinstance(m, dict)]
    references: list[str] = []
    for act in acts:
        number = _ACT_NUMBER.search(str(act.get("number") or ""))
        if number:
            references.append(collapse(number.group(1)))
        celex = _CELEX.search(unquote(str(act.get("url") or "")))
        if celex:
            references.append(celex.group(1).upper())

    measure_types = []
    for measure in measures:
        kind = _nested(measure.get("type"))
        if isinstance(kind, dict) and kind.get("title"):
            measure_types.append(str(kind["title"]))
    adopted_by = _nested(regime.get("adopted_by"))
    category = _nested(regime.get("category"))
    categories = [str(x.get("title")) for x in (adopted_by, category) if isinstance(x, dict)]

    amended = _timestamp(regime.get("amendment"))
    expires = _timestamp(regime.get("expiration"))
    deadlines: tuple[Deadline, ...] = ()
    if expires is not None:
        # The end of the measures unless the Council renews them: not a date to act by.
        label = "Measures expire unless renewed"
        deadlines = (Deadline(_brussels_date(expires), DeadlineKind.EXPIRY, label),)

    extra = [country_name, *(str(p) for p in regime.get("programme") or [])]
    extra += [str(a.get("title") or "") for a in acts]
    return RawItem(
        source_id=source.id,
        title=title,
        url=DETAIL_URL.format(id=regime_id),
        guid=f"sanctionsmap-regime-{regime_id}",
        summary_html=_summary(regime, acts, measures),
        language="en",
        published=amended,
        updated=amended,
        categories=dedupe([*categories, *measure_types]),
        deadlines=deadlines,
        references=dedupe(references),
        doc_type=DocType.ADOPTED_ACT,
        extra_text=" · ".join(dedupe(extra)),
    )


def _summary(regime: dict[str, Any], acts: list[dict[str, Any]], measures: list[Any]) -> str:
    parts = []
    notes = collapse(str(regime.get("notes") or ""))
    if notes:
        parts.append(f"<p>{html.escape(notes, quote=False)}</p>")
    links = []
    for act in acts:
        title = html.escape(collapse(str(act.get("title") or act.get("number") or "")))
        url = str(act.get("url") or "")
        if url.startswith("http"):
            links.append(f'<li><a href="{html.escape(url)}">{title}</a></li>')
        elif title:
            links.append(f"<li>{title}</li>")
    if links:
        parts.append("<ul>" + "".join(links) + "</ul>")
    descriptions = [collapse(str(m.get("description") or "")) for m in measures]
    if any(descriptions):
        items = "".join(f"<li>{html.escape(d, quote=False)}</li>" for d in descriptions if d)
        parts.append(f"<ul>{items}</ul>")
    return "\n".join(parts)


def _timestamp(value: Any) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _brussels_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Brussels: the API stores local midnights as UTC 22:00/23:00."""
    return moment.astimezone(ZoneInfo("Europe/Brussels")).date()
