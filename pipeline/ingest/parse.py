"""Turn a fetched body into RawItems: the only module that imports feedparser.

    parse(source, result)
      kind=feed → sniff (empty? HTML page? JSON?) → feedparser (HTTP Content-Type passed in)
                → entries → RawItem (plain-text title, HTML summary as given, absolute link,
                  aware/naive dates, language, categories)
      kind=html → adapters.html (CSS selectors from source.options)
      kind=api  → adapters.get(source.adapter)

Feed decisions:
- The HTTP Content-Type (with charset) goes to feedparser, which lets it win
  over the XML declaration the way RFC 3023 says. One exception: when the
  declared charset is a single-byte one but the body is valid UTF-8 with
  non-ASCII bytes, the body is read as UTF-8 (Latin-1 text is practically
  never valid UTF-8; the reverse mistake would give "Ã¼" for "ü").
- Whitespace before `<?xml` is removed before parsing.
- A "bozo" feed keeps its entries (logged at debug); ParseError only when
  nothing usable came out. A truncated document drops its last entry, which
  may be cut short.
- Empty entries (no title, link, summary) are skipped: the illegally nested
  `<item />` elements of some FeedBurner feeds are such entries.
- Dates: the raw string is parsed here so a date without a zone stays naive;
  feedparser's UTC struct_time is the fallback for formats only it knows.
  An entry with only an `updated` date gets it as `published` too.
- Per-source title clean-up from `options`: `title_strip_pattern` (a regex removed from
  titles, e.g. "^Pressemitteilung - ") and `title_reference_pattern` (a regex whose group
  becomes a reference and is cut from the title, e.g. EUR-Lex's "^CELEX:(\\S+?):\\s+").
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import re
import time
import xml.sax
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.mixin import _FeedParserMixin

from pipeline.errors import ParseError
from pipeline.ingest import adapters
from pipeline.ingest.adapters._base import check_feed_options, is_challenge
from pipeline.ingest.adapters._text import (
    collapse,
    first_words,
    norm_language,
    parse_datetime,
    plain_title,
)
from pipeline.ingest.feedfields import EntryExtras, extension_fields
from pipeline.model import FetchResult, RawItem, Source, SourceKind
from pipeline.text import html_to_line

log = logging.getLogger(__name__)

__all__ = ["parse", "parse_list"]

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SINGLE_BYTE = re.compile(r"^(iso-?8859-\d+|latin-?\d|windows-125\d|cp125\d|us-ascii|ascii)$")
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"^<\?xml[^>]*encoding\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_CLOSING_ROOT = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>", re.IGNORECASE)
_ZONE_SUFFIX = re.compile(r"(?:\b[A-Za-z]{1,5}|[+-]\d{2}:?\d{2}|Z)\s*$")
_UTF8_BOM = b"\xef\xbb\xbf"


def parse(source: Source, result: FetchResult) -> list[RawItem]:
    """Read one fetched body as the source's kind says; ParseError when it is unusable."""
    if not result.body.strip():
        raise ParseError(source.id, "empty body: the server sent no content")
    if source.kind == SourceKind.FEED:
        return _parse_feed(source, result)
    if source.kind == SourceKind.HTML:
        return adapters.get(source.adapter or "html").parse(source, result)
    if not source.adapter:
        raise ParseError(source.id, "an api source needs an adapter name in sources.yaml")
    return adapters.get(source.adapter).parse(source, result)


def parse_list(source: Source, result: FetchResult) -> list[RawItem]:
    """The list an item adapter follows up (the press corner's RSS), read as a feed."""
    if not result.body.strip():
        raise ParseError(source.id, "empty body: the server sent no content")
    if is_challenge(result.body):
        ctype = (result.content_type or "unknown").split(";")[0].strip() or "unknown"
        raise ParseError(
            source.id, f"got an anti-bot JavaScript challenge, not a feed (Content-Type {ctype})"
        )
    return _parse_feed(source, result)


# ---------------------------------------------------------------- feeds


def _parse_feed(source: Source, result: FetchResult) -> list[RawItem]:
    titles = _TitleRules.from_options(source)
    body = _strip_leading_space(result.body)
    _refuse_non_feeds(source, result, body)
    # Always name a content type: without one feedparser flags every feed as bozo.
    headers = {"content-type": _content_type_for(result.content_type, body) or "application/xml"}
    # No Content-Location: feedparser would then resolve every URI in the document
    # against it (a third of its time on a large feed); entry links are resolved
    # below against the feed's link or the fetched URL, xml:base is still honoured.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,  # normalize resolves links in summaries (nh3, base URL)
    )
    entries: list[Any] = list(parsed.get("entries") or [])
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if problem is not None:
        log.debug("%s: feed is not well-formed (%s); kept %d entries",
                  source.id, _describe(problem), len(entries))  # fmt: skip
        if entries and _looks_truncated(body, problem):
            log.debug("%s: document looks truncated; dropping its last entry", source.id)
            entries = entries[:-1]
    if not entries:
        if problem is not None and parsed.get("version") and _looks_truncated(body, problem):
            raise ParseError(
                source.id,
                f"the feed is cut off before its first entry ({_describe(problem)})",
            )
        _raise_if_unusable(source, result, parsed, problem)
        return []

    feed: Mapping[str, Any] = parsed.get("feed") or {}
    # The feed's own link may itself be relative ("/blog/"): resolve it first.
    base = urljoin(result.url or source.url, str(feed.get("link") or ""))
    feed_language = norm_language(feed.get("language"))
    fields = extension_fields(body, _extension_prefixes(parsed), entries)
    items = []
    for i, entry in enumerate(entries):
        item = _entry_item(
            source, entry, base, feed_language, titles, fields[i] if fields else None
        )
        if item is not None:
            items.append(item)
    skipped = len(entries) - len(items)
    if skipped:
        log.debug("%s: skipped %d empty entries", source.id, skipped)
    if not items:
        raise ParseError(source.id, "the feed has entries, but none has a title, link or text")
    return items


_KNOWN_NAMESPACES: frozenset[str] = frozenset(
    str(uri).rstrip("/").lower() for uri in _FeedParserMixin.namespaces
)


def _extension_prefixes(parsed: Mapping[str, Any]) -> list[str]:
    """Prefixes of the namespaces a feed declares that feedparser does not know (a
    newsroom's own fields, see feedfields.py)."""
    declared: Mapping[str, str] = parsed.get("namespaces") or {}
    return [
        prefix.lower()
        for prefix, uri in declared.items()
        if prefix and str(uri).rstrip("/").lower() not in _KNOWN_NAMESPACES
    ]


def _strip_leading_space(body: bytes) -> bytes:
    """Drop whitespace before the first '<' (a newline before '<?xml' breaks XML parsers)."""
    bom = b""
    if body.startswith(_UTF8_BOM):
        bom, body = _UTF8_BOM, body[len(_UTF8_BOM) :]
    stripped = body.lstrip(b" \t\r\n")
    if stripped.startswith(b"<"):
        return bom + stripped
    return bom + body


def _refuse_non_feeds(source: Source, result: FetchResult, body: bytes) -> None:
    head = body[:2048].lstrip(_UTF8_BOM).lstrip().lower()
    ctype = (result.content_type or "unknown").split(";")[0].strip() or "unknown"
    # skip comments and processing instructions, then look at the first element
    probe = re.sub(rb"^(?:\s|<\?.*?\?>|<!--.*?-->)*", b"", head, flags=re.DOTALL)
    if probe.startswith((b"<!doctype html", b"<html")):
        raise ParseError(source.id, f"got an HTML page, not a feed (Content-Type {ctype})")
    if probe[:1] in (b"{", b"["):
        raise ParseError(source.id, f"got JSON, not a feed (Content-Type {ctype})")


def _content_type_for(content_type: str | None, body: bytes) -> str | None:
    """The Content-Type to give feedparser, with a charset fix for UTF-8 served as Latin-1."""
    match = _CHARSET.search(content_type or "")
    declared = match.group(1).lower() if match else ""
    if not declared:
        xml_decl = _XML_ENCODING.match(body.lstrip(_UTF8_BOM))
        declared = xml_decl.group(1).decode("ascii", "replace").lower() if xml_decl else ""
    mime = (content_type or "").split(";")[0].strip().lower() or "application/xml"
    if _SINGLE_BYTE.match(declared) and _is_non_ascii_utf8(body):
        return f"{mime}; charset=utf-8"
    if not content_type:
        return None
    if mime.startswith("text/") and not match:
        # RFC 3023 makes text/* without charset US-ASCII; feedparser then overrides it
        # with the XML declaration after a failed decode. Say so up front instead.
        return f"application/xml; charset={declared}" if declared else "application/xml"
    return content_type


def _is_non_ascii_utf8(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _looks_truncated(body: bytes, problem: object) -> bool:
    """An XML syntax error and no closing root element near the end: the body was cut."""
    return isinstance(problem, xml.sax.SAXException) and not _CLOSING_ROOT.search(body[-4096:])


def _describe(problem: object) -> str:
    if isinstance(problem, xml.sax.SAXParseException):
        return f"XML error: {problem.getMessage()}"
    text = collapse(str(problem))
    name = type(problem).__name__
    return f"{name}: {text}" if text else name


def _raise_if_unusable(
    source: Source, result: FetchResult, parsed: Mapping[str, Any], problem: object
) -> None:
    """No entries: fine for a valid empty feed, ParseError for anything else."""
    version = str(parsed.get("version") or "")
    feed = parsed.get("feed") or {}
    if version and (problem is None or feed.get("title") or feed.get("link")):
        return  # a real feed that simply has no entries today
    ctype = (result.content_type or "unknown").split(";")[0].strip() or "unknown"
    if ctype in _HTML_TYPES and problem is not None:
        raise ParseError(source.id, f"got an HTML page, not a feed (Content-Type {ctype})")
    if problem is not None:
        raise ParseError(
            source.id, f"malformed XML, no feed entries could be read ({_describe(problem)})"
        )
    raise ParseError(source.id, "the document is XML but not an RSS or Atom feed")


# ---------------------------------------------------------------- entries


class _TitleRules:
    """Per-source title clean-up from options (e.g. EUR-Lex's 'CELEX:32026R1412: ' prefix)."""

    def __init__(self, strip: re.Pattern[str] | None, reference: re.Pattern[str] | None) -> None:
        self.strip = strip
        self.reference = reference

    @classmethod
    def from_options(cls, source: Source) -> _TitleRules:
        problems = check_feed_options(source.options)
        if problems:
            raise ParseError(source.id, "; ".join(problems))
        strip = source.options.get("title_strip_pattern")
        reference = source.options.get("title_reference_pattern")
        return cls(
            re.compile(strip) if isinstance(strip, str) else None,
            re.compile(reference) if isinstance(reference, str) else None,
        )

    def apply(self, title: str) -> tuple[str, tuple[str, ...]]:
        references: tuple[str, ...] = ()
        if self.reference is not None:
            match = self.reference.search(title)
            if match and match.group(1):
                references = (match.group(1),)
                title = (title[: match.start()] + title[match.end() :]).strip()
        if self.strip is not None:
            title = self.strip.sub("", title, count=1).strip()
        return title, references


def _entry_item(
    source: Source,
    entry: Mapping[str, Any],
    base: str,
    feed_language: str | None,
    titles: _TitleRules,
    fields: Mapping[str, str] | None = None,
) -> RawItem | None:
    summary_html = _summary_html(entry)
    url = _absolute(entry.get("link"), base)
    guid = collapse(str(entry.get("id") or "")) or None
    title_detail: Mapping[str, Any] = entry.get("title_detail") or {}
    raw_title = str(entry.get("title") or "")
    title = plain_title(raw_title, is_html=str(title_detail.get("type")) in _HTML_TYPES)
    title, references = titles.apply(title)
    if not title:
        title = first_words(html_to_line(summary_html)) or (url or "")
    if not title:
        return None  # nothing a person could read: an empty <item/>

    published = _entry_date(entry, "published")
    updated = _entry_date(entry, "updated")
    language = (
        norm_language(entry.get("language"))
        or norm_language(title_detail.get("language"))
        or feed_language
    )
    tags = entry.get("tags") or []
    terms = (collapse(str(tag.get("term") or "")) for tag in tags)
    categories = tuple(dict.fromkeys(term for term in terms if term))
    # A newsroom's own fields (feedfields.py): its kind of entry, end dates, text.
    extras = EntryExtras.of(fields, html_to_line(summary_html)) if fields else EntryExtras()
    return RawItem(
        source_id=source.id,
        title=title,
        url=url,
        guid=guid,
        summary_html=summary_html,
        language=language,
        published=published or updated,
        updated=updated,
        categories=categories,
        references=(*references, *extras.references),
        deadlines=extras.deadlines,
        extra_text=extras.extra_text,
        source_type=extras.source_type,
    )


def _summary_html(entry: Mapping[str, Any]) -> str:
    """The entry's summary (else its first content) as HTML; plain text gets escaped."""
    candidates: list[Mapping[str, Any]] = []
    detail = entry.get("summary_detail")
    if detail and str(detail.get("value") or "").strip():
        candidates.append(detail)
    candidates.extend(c for c in entry.get("content") or [] if str(c.get("value") or "").strip())
    if not candidates:
        return ""
    chosen = candidates[0]
    value = str(chosen.get("value") or "").strip()
    if str(chosen.get("type") or "text/html") == "text/plain":
        return html.escape(value, quote=False)
    return value


def _absolute(link: object, base: str) -> str | None:
    if not isinstance(link, str) or not link.strip():
        return None
    url = urljoin(base, link.strip())
    return url if urlsplit(url).scheme in ("http", "https") else None


def _entry_date(entry: Mapping[str, Any], key: str) -> dt.datetime | None:
    raw = str(entry.get(key) or "").strip()
    if raw:
        value = parse_datetime(raw)
        if value is not None:
            return value
    struct = entry.get(f"{key}_parsed")
    if not isinstance(struct, time.struct_time):
        return None
    value = dt.datetime(*struct[:6])  # noqa: DTZ001 (feedparser gives UTC or wall time)
    # feedparser converts to UTC when the string had a zone and assumes UTC when it
    # had none: only in the first case is the struct an instant.
    return value.replace(tzinfo=dt.UTC) if _ZONE_SUFFIX.search(raw) else value
