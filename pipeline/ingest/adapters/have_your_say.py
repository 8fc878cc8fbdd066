"""The Commission's "Have your say" portal (Better Regulation): initiatives open for feedback.

Endpoint: https://ec.europa.eu/info/law/better-regulation/brpapi/searchInitiatives
(GET; `language`, `page`, `size`, filters such as `feedbackStatus=OPEN` in the URL).

Answer (current API): `{"initiativeResultDtoPage": {"content": [initiative, ...],
"totalElements", "totalPages", ...}}`; older answers used HAL,
`{"_embedded": {"initiativeResultDtoes": [...]}}`. Both are read. An initiative:
`id` (a number, sometimes written 18805.0), `reference`, `shortTitle`,
`initiativeTranslations` [{field, language, value}], `foreseenActType`,
`topics` [{code, label}], `currentStatuses` [{frontEndStage,
receivingFeedbackStatus (OPEN/CLOSED/UPCOMING/DISABLED), feedbackStartDate,
feedbackEndDate ('YYYY/MM/DD HH:MM:SS', Brussels time), isCurrent}].
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pipeline.ingest.adapters._base import RequestSpec, dedupe, load_json, wrong_shape
from pipeline.ingest.adapters._text import collapse, norm_language, parse_datetime
from pipeline.model import Deadline, DeadlineKind, DocType, FetchResult, RawItem, Source

log = logging.getLogger(__name__)

NAME = "have_your_say"
PAGE_URL = "https://ec.europa.eu/info/law/better-regulation/have-your-say/initiatives/{id}_{lang}"
STAGES = {
    "PLANNING_WORKFLOW": "Call for evidence",
    "ISC_WORKFLOW": "Draft act",
    "OPC_LAUNCHED": "Public consultation",
    "PUBLIC_CONSULTATION": "Public consultation",
    "ADOPTION_WORKFLOW": "Commission adoption",
}


def request(source: Source) -> RequestSpec:
    return RequestSpec(url=source.url, headers={"Accept": "application/json"})


def parse(source: Source, result: FetchResult) -> list[RawItem]:
    data = load_json(source, result)
    initiatives = _initiatives(data)
    if initiatives is None:
        raise wrong_shape(
            source,
            NAME,
            "an object with 'initiativeResultDtoPage.content' "
            "(or '_embedded.initiativeResultDtoes') listing initiatives",
        )
    lang = norm_language(source.options.get("language")) or norm_language(source.language) or "en"
    items = []
    for initiative in initiatives:
        item = _item(source, initiative, lang) if isinstance(initiative, dict) else None
        if item is None:
            log.debug("%s: an initiative without id or title was skipped", source.id)
            continue
        items.append(item)
    if initiatives and not items:
        raise wrong_shape(source, NAME, "initiatives with 'id' and 'shortTitle'")
    return items


def _initiatives(data: Any) -> list[Any] | None:
    if not isinstance(data, dict):
        return None
    page = data.get("initiativeResultDtoPage")
    if isinstance(page, dict) and isinstance(page.get("content"), list):
        return list(page["content"])
    embedded = data.get("_embedded")
    if isinstance(embedded, dict) and isinstance(embedded.get("initiativeResultDtoes"), list):
        return list(embedded["initiativeResultDtoes"])
    if isinstance(page, dict) and page.get("totalElements") == 0:
        return []
    return None


def _item(source: Source, initiative: dict[str, Any], lang: str) -> RawItem | None:
    raw_id = initiative.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (int, float, str)):
        return None
    try:
        initiative_id = int(float(raw_id))
    except ValueError:
        return None
    title, title_lang = _title(initiative, lang)
    if not title:
        return None
    status = _current_status(initiative.get("currentStatuses"))
    start = _date_time(status.get("feedbackStartDate"))
    end = _date_time(status.get("feedbackEndDate"))
    feedback = str(status.get("receivingFeedbackStatus") or "")
    stage = str(status.get("frontEndStage") or "")
    stage_label = STAGES.get(stage, stage.replace("_", " ").capitalize())

    deadlines: tuple[Deadline, ...] = ()
    if end is not None:
        deadlines = (Deadline(end.date(), DeadlineKind.CONSULTATION_END, "Feedback period ends"),)
    topics = [str(t.get("label")) for t in initiative.get("topics") or [] if isinstance(t, dict)]
    reference = str(initiative.get("reference") or "").strip()
    act_type = str(initiative.get("foreseenActType") or "")
    summary = _summary(stage_label, feedback, start, end)
    return RawItem(
        source_id=source.id,
        title=title,
        url=PAGE_URL.format(id=initiative_id, lang=title_lang),
        guid=f"have-your-say-{initiative_id}",
        summary_html=summary,
        language=title_lang,
        published=start,
        updated=None,
        categories=dedupe([*topics, stage_label]),
        deadlines=deadlines,
        references=dedupe([reference]),
        doc_type=DocType.CONSULTATION,
        extra_text=" · ".join(dedupe([act_type, stage_label, *topics])),
    )


def _title(initiative: dict[str, Any], lang: str) -> tuple[str, str]:
    """The short title in the wanted language if translated, else the original (English)."""
    for tr in initiative.get("initiativeTranslations") or []:
        if (
            isinstance(tr, dict)
            and tr.get("field") == "SHORT_TITLE"
            and norm_language(tr.get("language")) == lang
            and collapse(str(tr.get("value") or ""))
        ):
            return collapse(str(tr["value"])), lang
    return collapse(str(initiative.get("shortTitle") or "")), "en"


def _current_status(statuses: Any) -> dict[str, Any]:
    """The period that matters: an open one, else the current one, else the latest dated one."""
    periods = [s for s in statuses or [] if isinstance(s, dict)]
    for wanted in (
        lambda s: s.get("receivingFeedbackStatus") == "OPEN",
        lambda s: bool(s.get("isCurrent")),
        lambda s: bool(s.get("feedbackEndDate")),
    ):
        for period in periods:
            if wanted(period):
                return period
    return periods[0] if periods else {}


def _date_time(value: Any) -> dt.datetime | None:
    return parse_datetime(str(value)) if value else None


def _summary(stage: str, feedback: str, start: dt.datetime | None, end: dt.datetime | None) -> str:
    parts = [stage] if stage else []
    if start and end:
        parts.append(f"feedback period {start:%d.%m.%Y} – {end:%d.%m.%Y}")
    elif end:
        parts.append(f"feedback until {end:%d.%m.%Y}")
    if feedback:
        parts.append(f"feedback {feedback.lower()}")
    return f"<p>{'; '.join(parts)}</p>" if parts else ""
