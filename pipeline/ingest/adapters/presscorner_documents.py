"""Commission press corner documents API: the German version of press items.

    GET source.url                         the press corner RSS (…/presscorner/api/rss?language=en)
      → its entries' press numbers          (links …/detail/en/ip_26_1900 → IP/26/1900), newest
                                            first, plus options.references; older than
                                            options.max_age_days or of a type not in
                                            options.types: left out
      → ingest drops those the store already holds in the source's language, and asks for at
        most options.max_requests of the rest:
    GET …/presscorner/api/documents?reference=IP/26/1900&language=de
        {"refCd": "IP/26/1900", "publishDate": "2026-09-18T09:47:46.000+02:00",
         "eventDate": "2026-09-18", "docuLanguageResource": {"title", "htmlContent" (HTML with
         entities), "language": "DE", …}, …}
      → one RawItem in that language, linked to …/presscorner/detail/de/ip_26_1900: its press
        number is the English item's, so the twin merge makes it that item's German version.

One document's failure (a timeout, a 5xx, an anti-bot page, an answer in another language
because no German version exists yet) is a warning on the source; the others go on. The
source fails only when its list fails or every document request does. A source URL that
answers a documents-API JSON itself (…/api/documents?reference=…) is read as that one
document. Field names from the real English answer in the shared corpus
(api/ec-presscorner-document-ip-26-1900-en-trimmed.json).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pipeline.errors import ParseError
from pipeline.ingest.adapters._base import (
    FollowUpBatch,
    ItemFollowUp,
    RequestSpec,
    load_json,
    wrong_shape,
)
from pipeline.ingest.adapters._text import collapse
from pipeline.ingest.normalize import canonical_url, press_numbers_in, twin_from_url
from pipeline.model import Deadline, DeadlineKind, DocType, FetchResult, RawItem, Source

NAME = "presscorner_documents"
DOCUMENTS_URL = (
    "https://ec.europa.eu/commission/presscorner/api/documents"
    "?reference={reference}&language={language}"
)
DETAIL_URL = "https://ec.europa.eu/commission/presscorner/detail/{language}/{slug}"
ACCEPT_LIST = "application/rss+xml, application/xml;q=0.9, application/json;q=0.8"
ACCEPT_DOCUMENT = "application/json"
DEFAULT_MAX_REQUESTS = 10
MAX_REQUESTS = 50
DEFAULT_MAX_AGE_DAYS = 14
# Daily news and the midday express come in English and French only: never asked for.
DEFAULT_SKIPPED_TYPES = frozenset({"MEX", "DAILY"})
_DOC_TYPES = {
    "IP": DocType.PRESS_RELEASE,
    "STATEMENT": DocType.STATEMENT,
    "SPEECH": DocType.SPEECH,
}


def request(source: Source) -> RequestSpec:
    return RequestSpec(url=source.url, headers={"Accept": ACCEPT_LIST})


def check_options(options: Mapping[str, Any]) -> list[str]:
    problems = []
    url = options.get("documents_url")
    if url is not None and (
        not isinstance(url, str) or "{reference}" not in url or "{language}" not in url
    ):
        problems.append("options.documents_url must be a URL with {reference} and {language}")
    refs = options.get("references")
    if refs is not None and (
        not isinstance(refs, list)
        or not all(isinstance(r, str) and press_numbers_in(r) == [r.strip()] for r in refs)
    ):
        problems.append("options.references must be a list of press numbers like IP/26/1900")
    for key, low, high in (("max_requests", 1, MAX_REQUESTS), ("max_age_days", 1, 365)):
        value = options.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high
        ):
            problems.append(f"options.{key} must be a whole number from {low} to {high}")
    types = options.get("types")
    if types is not None and (
        not isinstance(types, list) or not all(isinstance(t, str) and t for t in types)
    ):
        problems.append("options.types must be a list of press types like [IP, STATEMENT]")
    return problems


def follow_ups(source: Source, listing: list[RawItem], now: dt.datetime) -> FollowUpBatch:
    """The documents to ask for: configured references first, then the list's, newest first."""
    options = source.options
    language = source.language.lower()
    types = {str(t).upper() for t in options.get("types") or []}
    oldest = now - dt.timedelta(days=int(options.get("max_age_days") or DEFAULT_MAX_AGE_DAYS))
    wanted: dict[str, None] = {}
    problems: list[str] = []
    for ref in options.get("references") or []:
        wanted.setdefault(str(ref).strip(), None)
    dated = []
    for raw in listing:
        twin = twin_from_url(canonical_url(raw.url)) if raw.url else None
        if twin is None or twin.rule != "presscorner_number":
            problems.append(f"no press number in the link of {raw.title[:80]!r}")
            continue
        published = raw.published
        if published is not None and published.tzinfo is None:
            published = published.replace(tzinfo=dt.UTC)
        if published is not None and published < oldest:
            continue
        dated.append((published or now, twin.key))
    for _, reference in sorted(dated, key=lambda p: p[0], reverse=True):
        wanted.setdefault(reference, None)
    template = str(options.get("documents_url") or DOCUMENTS_URL)
    chosen = []
    for reference in wanted:
        kind = reference.split("/", 1)[0]
        if (kind not in types) if types else (kind in DEFAULT_SKIPPED_TYPES):
            continue
        url = template.replace("{reference}", reference).replace("{language}", language)
        chosen.append(
            ItemFollowUp(reference, RequestSpec(url=url, headers={"Accept": ACCEPT_DOCUMENT}))
        )
    limit = int(options.get("max_requests") or DEFAULT_MAX_REQUESTS)
    return FollowUpBatch(tuple(chosen), limit=limit, problems=tuple(problems))


def parse(source: Source, result: FetchResult) -> list[RawItem]:
    """One documents-API answer: one RawItem in the source's language (ParseError if not)."""
    data = load_json(source, result)
    if not isinstance(data, dict):
        raise wrong_shape(source, NAME, "a press corner document (an object with 'refCd')")
    refs = press_numbers_in(str(data.get("refCd") or ""))
    resource = data.get("docuLanguageResource")
    if len(refs) != 1 or not isinstance(resource, dict):
        raise wrong_shape(source, NAME, "a document with 'refCd' and 'docuLanguageResource'")
    reference = refs[0]
    wanted = source.language.lower()
    language = collapse(str(resource.get("language") or "")).lower()
    if language != wanted:
        found = language.upper() or "no language"
        raise ParseError(
            source.id,
            f"{reference}: no {wanted.upper()} version yet (the press corner answered {found})",
        )
    title = collapse(str(resource.get("title") or resource.get("subtitle") or ""))
    if not title:
        raise ParseError(source.id, f"{reference}: the document has no title")
    published = _datetime(data.get("publishDate"))
    slug = reference.lower().replace("/", "_")
    url = DETAIL_URL.format(language=language, slug=slug)
    return [
        RawItem(
            source_id=source.id,
            title=title,
            url=url,
            guid=url,  # the identity the press corner's own RSS gives this version
            summary_html=str(resource.get("htmlContent") or ""),
            language=language,
            published=published,
            deadlines=_event(data.get("eventDate"), published),
            references=(reference,),
            doc_type=_DOC_TYPES.get(reference.split("/", 1)[0]),
        )
    ]


def _datetime(value: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _event(value: object, published: dt.datetime | None) -> tuple[Deadline, ...]:
    """`eventDate` when it lies after the publication: the date the item announces."""
    try:
        day = dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return ()
    if day is None or published is None or day <= published.date():
        return ()
    return (Deadline(day, DeadlineKind.EVENT, "Termin"),)
