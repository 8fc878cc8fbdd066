"""Fields a feed entry carries besides RSS and Atom: a newsroom's own elements.

The Commission's newsroom platform (the `newsroom/cf` feeds of DG CNECT and other
directorates-general) adds elements in a namespace of its own to every entry:
`infsonewsroom:NewsType` (the kind of entry: "Press Release", "event",
"publications - Reports and studies", "funding opportunity - Call for tenders"),
`BasictoDate` (a call's closing date, an event's last day), `BasicRapidIP` (the press
release the entry reproduces), `FullContent` (the whole text, where deadlines often are).
feedparser keeps such elements as `<prefix>_<name>` keys, but drops the text of an
element that has attributes (`<NewsType id="251">news article</NewsType>` comes back as
`{'id': '251'}`); those entries are read once more, in document order: with the standard library's
expat when the document is well-formed, else with lxml's recovering parser.

    extension_fields(body, prefixes, entries) → per entry {lower-case local name: text}, or None
    EntryExtras.of(fields, summary_text)     → source_type, deadlines, references, extra_text

Only namespaces feedparser does not know count (not Dublin Core, iTunes, Media RSS …),
so ordinary feeds cost one dictionary scan. A field's meaning is read from its name:
"…type" (not "…typeid") names the kind of entry; "…todate", "…enddate", "…deadline",
"…closingdate" (not the "pub…" display window) an end date, which becomes a call's
closing date when the kind says call or tender, an event date when it says event.
Entries that define the newsroom itself (a subscription service: "…svid"/"…svtype"; an
entry of its list of item types: "…typeid" without a "…newstype") say so in source_type.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.ingest.adapters._text import collapse, parse_datetime
from pipeline.ingest.normalize import press_numbers_in
from pipeline.model import Deadline, DeadlineKind
from pipeline.text import html_to_line

log = logging.getLogger(__name__)

__all__ = ["EntryExtras", "extension_fields"]

MAX_FIELD_CHARS = 20_000  # of one field's text
MAX_EXTRA_CHARS = 40_000  # of all text fields of one entry
SHORT_FIELD = 200  # fields up to this long may name the entry's own press release
ITEM_TYPE = "item type"  # an entry of a newsroom's list of item types, not news
SUBSCRIPTION = "subscription service"  # a newsletter or newsroom one can subscribe to

_CALL_TYPE_RE = re.compile(r"call|tender|funding|grant|prize", re.IGNORECASE)
_EVENT_TYPE_RE = re.compile(r"\bevent", re.IGNORECASE)
_REPORT_TYPE_RE = re.compile(r"report", re.IGNORECASE)
_END_NAME_RE = re.compile(r"(?:todate|enddate|deadline|closingdate|closedate)$")
_TAG_RE = re.compile(r"<[a-zA-Z/!]")
_NUMERIC_RE = re.compile(r"[\d\s.,:+-]*")


def extension_fields(
    body: bytes, prefixes: Sequence[str], entries: Sequence[Mapping[str, Any]]
) -> list[dict[str, str]] | None:
    """Per entry, the text of its elements in the namespaces of `prefixes` (those the feed
    declares and feedparser does not know; parse.py finds them)."""
    if not prefixes:
        return None
    keys = tuple(f"{p}_" for p in prefixes)
    fields: list[dict[str, str]] = []
    lost = False
    for entry in entries:
        found: dict[str, str] = {}
        for key, value in entry.items():
            if not key.startswith(keys):
                continue
            name = key.split("_", 1)[1]
            if isinstance(value, str):
                if value.strip():
                    found[name] = value.strip()[:MAX_FIELD_CHARS]
            elif isinstance(value, Mapping):
                lost = True  # an element with attributes: feedparser kept only those
        fields.append(found)
    if not any(fields) and not lost:
        return None
    if lost:
        _fill_from_xml(body, set(prefixes), fields)
    return fields


def _fill_from_xml(body: bytes, prefixes: set[str], fields: list[dict[str, str]]) -> None:
    """Add the text of extension elements feedparser dropped, entry by entry in order."""
    read = _read_stdlib(body) or _read_lxml(body)
    if read is None:
        return
    nsmap, root = read
    uris = {uri for prefix, uri in nsmap.items() if prefix and prefix.lower() in prefixes}
    entries = [
        el
        for el in root.iter()
        if isinstance(el.tag, str) and el.tag.rpartition("}")[2] in ("item", "entry")
    ]
    if len(entries) != len(fields):
        log.debug("extension fields: %d entries in the XML, %d parsed", len(entries), len(fields))
        return
    for element, found in zip(entries, fields, strict=True):
        for child in element:
            if not isinstance(child.tag, str) or not child.tag.startswith("{"):
                continue
            uri, _, local = child.tag[1:].partition("}")
            if uri not in uris:
                continue
            name = local.lower()
            text = collapse("".join(child.itertext()))[:MAX_FIELD_CHARS]
            if text and name not in found:
                found[name] = text


# A document that starts with "<" (after a UTF-8 byte-order mark) and declares no encoding
# or one that keeps ASCII as ASCII: only there does a DOCTYPE show as these bytes.
_ASCII_COMPATIBLE_RE = re.compile(
    rb"(?:\xef\xbb\xbf)?<(?!\?xml[^>]*encoding)"
    rb"|(?:\xef\xbb\xbf)?<\?xml[^>]*encoding\s*=\s*[\"']"
    rb"(?:utf-?8|us-ascii|ascii|iso-?8859-\d+|latin-?\d|windows-125\d|cp125\d)[\"']",
    re.IGNORECASE,
)
# What lxml (huge_tree=False) refuses: deeper nesting, longer text nodes.
_LXML_MAX_DEPTH = 256
_LXML_MAX_TEXT = 10_000_000


def _read_stdlib(body: bytes) -> tuple[dict[str, str], Any] | None:
    """The root's namespaces and the tree, with the standard library's expat parser (loaded
    already: feedparser reads with it), or None for what only lxml reads the same way.

    Only a document expat finds well-formed, without a DOCTYPE (lxml leaves entities
    unresolved, expat would expand them) and within lxml's limits: for such a document
    both parsers give the same elements, names and text, so lxml and libxml2 (4 MB
    resident) are loaded only for a broken or unusual feed, where lxml's recovery reads more.
    """
    import xml.etree.ElementTree as ET

    if not _ASCII_COMPATIBLE_RE.match(body) or b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return None
    nsmap: dict[str, str] = {}
    root = None
    depth = 0
    # Entity attacks (billion laughs, external entities) need a DTD, refused above; expat
    # is what feedparser reads every feed with already.
    events: tuple[Literal["start-ns"], Literal["start"], Literal["end"]] = (
        "start-ns",
        "start",
        "end",
    )
    try:
        for event, item in ET.iterparse(io.BytesIO(body), events=events):  # noqa: S314
            if event == "start":
                depth += 1
                if depth > _LXML_MAX_DEPTH:
                    return None
                if root is None:
                    root = item
            elif event == "end":
                depth -= 1
                if len(item.text or "") > _LXML_MAX_TEXT or len(item.tail or "") > _LXML_MAX_TEXT:
                    return None
            elif root is None:  # the namespaces declared on the root element
                prefix, uri = item
                nsmap[prefix] = uri
    except (ET.ParseError, ValueError, LookupError):
        return None
    return (nsmap, root) if root is not None else None


def _read_lxml(body: bytes) -> tuple[dict[str, str], Any] | None:
    """The root's namespaces and the tree, read by lxml with recovery (a broken feed)."""
    from lxml import etree  # type: ignore[import-untyped]

    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None:
        return None
    return dict(root.nsmap or {}), root


@dataclass(frozen=True, slots=True)
class EntryExtras:
    """What the extension fields of one entry add to its RawItem."""

    source_type: str = ""
    deadlines: tuple[Deadline, ...] = ()
    references: tuple[str, ...] = ()
    extra_text: str = ""

    @classmethod
    def of(cls, fields: Mapping[str, str], summary_text: str = "") -> EntryExtras:
        if not fields:
            return cls()
        source_type = _source_type(fields)
        deadlines: list[Deadline] = []
        references: list[str] = []
        texts: list[str] = []
        seen = {collapse(summary_text).lower()} if summary_text else set()
        for name, value in fields.items():
            if _END_NAME_RE.search(name) and not name.startswith("pub"):
                deadline = _end_date(name, value, source_type)
                if deadline is not None:
                    deadlines.append(deadline)
                continue
            if name.endswith(("type", "typename")):
                continue  # read by _source_type
            if len(value) <= SHORT_FIELD:
                references.extend(press_numbers_in(value))
            text = html_to_line(value) if _TAG_RE.search(value) or "&" in value else value
            if _is_prose(text) and text.lower() not in seen:
                seen.add(text.lower())
                texts.append(text)
        extra = " · ".join(texts)[:MAX_EXTRA_CHARS]
        return cls(source_type, tuple(deadlines), tuple(dict.fromkeys(references)), extra)


def _source_type(fields: Mapping[str, str]) -> str:
    names = list(fields)
    if any(n.endswith(("svid", "svtype")) for n in names):
        kind = next((fields[n] for n in names if n.endswith("svtype")), "")
        return f"{SUBSCRIPTION}: {kind}" if kind else SUBSCRIPTION
    types = [
        fields[n]
        for n in names
        if n.endswith(("type", "typename")) and not _NUMERIC_RE.fullmatch(fields[n])
    ]
    if any(n.endswith("typeid") for n in names) and not any(n.endswith("newstype") for n in names):
        return ITEM_TYPE
    return " / ".join(dict.fromkeys(types))


def _end_date(name: str, value: str, source_type: str) -> Deadline | None:
    moment = parse_datetime(value)
    if moment is None:
        return None
    date: dt.date = moment.date()
    if "deadline" in name or "clos" in name or _CALL_TYPE_RE.search(source_type):
        if _EVENT_TYPE_RE.search(source_type) or _REPORT_TYPE_RE.search(source_type):
            return None
        return Deadline(date, DeadlineKind.CALL_CLOSING, "Closing date")
    if _EVENT_TYPE_RE.search(source_type) and not _REPORT_TYPE_RE.search(source_type):
        return Deadline(date, DeadlineKind.EVENT, "Event")
    return None


def _is_prose(text: str) -> bool:
    """Worth reading for keywords and dates: words, not an id, flag, date or link."""
    if len(text) < 12 or " " not in text:
        return False
    if text.startswith(("http://", "https://", "mailto:")):
        return False
    return parse_datetime(text) is None
