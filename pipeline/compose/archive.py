"""The public archive of sent editions, its Atom feed and the deadline calendars (pure).

    archived_edition(edition, items, …)  → ArchivedEdition: the whole edition as a reader
                                            with every topic got it, nothing personal
    feed_entry(edition, items)           → FeedEntry: intro and headlines only
    atom_feed(entries, …)                → bytes (feedgen; stable ids, updated = sent time)
    deadline_events(items, …)            → CalendarEvent per deadline (stable UIDs)
    deadline_calendar(events, …)         → bytes (icalendar; all-day VEVENTs for Outlook)

The web shell loads editions and items from the store and serves what these return.
An archived edition shows the items' current annotations and every correction of its
items ("Korrigiert am 6. Dezember 2026: …", ADR 0009), corrected links and deadlines
applied; a withdrawn item stays, marked. Greeting, preference and unsubscribe links
never exist here: the digest's per-reader placeholders are not part of this view model.
The calendars follow corrections: a moved deadline keeps its UID with a higher SEQUENCE,
a withdrawn item's events stay with STATUS:CANCELLED (RFC 5545 3.8.1.11, 3.8.7.4).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import icalendar
from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

from pipeline.compose.render import (
    DigestDeadline,
    DigestItem,
    cut_at_word,
    demote_headings,
    digest_deadlines,
    digest_item,
    headline,
    item_link,
)
from pipeline.compose.segments import item_topics
from pipeline.model import (
    DEADLINE_LABELS,
    EMPTY,
    Correction,
    CorrectionField,
    DeadlineKind,
    Edition,
    Item,
    ItemStatus,
    Newsletter,
    Office,
    Source,
    corrected,
    deadline_label_de,
    parse_deadline,
    sequence_of,
)
from pipeline.model.glossary import EMPTY_GLOSSARY, Glossary
from pipeline.text import de_date, html_to_paragraphs, render_markdown

MAX_SLUG = 60
MAX_LIST_TITLE = 160  # characters of a title in lists and feeds' entry titles
MAX_EVENTS = 1000  # a calendar keeps the nearest this many deadlines
CALENDAR_PAST = dt.timedelta(days=30)  # deadlines from this long ago stay in the calendars
REFRESH = dt.timedelta(hours=12)  # how often a calendar client should look again (PT12H)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not allowed in XML 1.0
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


# ---------------------------------------------------------------- editions


@dataclass(frozen=True, slots=True)
class ArchivedCorrection:
    """'Korrigiert am 6. Dezember 2026: Überschrift: alt → neu' and the reason."""

    date: dt.date
    date_label: str  # "6. Dezember 2026"
    summary: str
    reason: str


@dataclass(frozen=True, slots=True)
class ArchivedItem:
    id: int
    view: DigestItem  # headline, link, language note, meta, comment (sanitised), deadlines
    corrections: tuple[ArchivedCorrection, ...] = ()  # oldest first
    withdrawn: bool = False

    @property
    def anchor(self) -> str:
        return f"meldung-{self.id}"


@dataclass(frozen=True, slots=True)
class ArchivedSection:
    title: str
    items: tuple[ArchivedItem, ...]


@dataclass(frozen=True, slots=True)
class ArchivedEdition:
    id: int
    slug: str
    newsletter_id: str
    newsletter_name: str
    title: str
    sent_at: dt.datetime  # aware
    sent_label: str  # "Mittwoch, 25. November 2026"
    intro_html: str  # sanitised
    intro_text: str
    deadlines: tuple[DigestDeadline, ...]  # the Fristen block as the mail had it
    sections: tuple[ArchivedSection, ...]  # non-empty ones, in the edition's order
    changed_at: dt.datetime  # sent, or a later change of one of its items (Last-Modified)

    @property
    def item_count(self) -> int:
        return sum(len(s.items) for s in self.sections)


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One line of the archive's list."""

    id: int
    slug: str
    newsletter_id: str
    newsletter_name: str
    title: str  # cut to MAX_LIST_TITLE
    sent_at: dt.datetime
    sent_label: str  # "25. November 2026"
    item_count: int


def slugify(title: str) -> str:
    """'Förderung für Straßenbahnen!' → 'foerderung-fuer-strassenbahnen' (ASCII, ≤ 60)."""
    text = title.lower().translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", text)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_SLUG:
            break
        slug = candidate
    return slug or (words[0][:MAX_SLUG] if words else "ausgabe")


def sent_time(edition: Edition) -> dt.datetime:
    """When the edition went out (aware, UTC if stored naive)."""
    value = edition.sent_at or edition.updated_at or edition.created_at
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _one_line(text: str) -> str:
    return " ".join(_CONTROL_RE.sub(" ", text).split())


def archive_entry(edition: Edition, newsletter: Newsletter | None, tz: ZoneInfo) -> ArchiveEntry:
    sent = sent_time(edition)
    return ArchiveEntry(
        id=edition.id,
        slug=slugify(edition.title),
        newsletter_id=edition.newsletter_id,
        newsletter_name=newsletter.name if newsletter else edition.newsletter_id,
        title=cut_at_word(_one_line(edition.title) or "(ohne Titel)", MAX_LIST_TITLE),
        sent_at=sent,
        sent_label=de_date(sent.astimezone(tz).date(), "d. MMMM yyyy"),
        item_count=len(edition.item_ids),
    )


def archived_edition(
    edition: Edition,
    newsletter: Newsletter | None,
    items: Mapping[int, Item],
    *,
    office: Office,
    topic_labels: Mapping[str, str],
    tz: ZoneInfo,
    sources: Mapping[str, Source] = EMPTY,
    corrections: Sequence[Correction] = (),
    glossary: Glossary = EMPTY_GLOSSARY,
) -> ArchivedEdition:
    """The whole edition in German, as of the day it was sent (its Fristen block, the
    items' upcoming deadlines). Items missing from `items` or deleted since are left out,
    each item appears once (its first place), empty sections are left out.
    `corrections` of its items are applied (links, deadlines) and listed per item.
    `glossary`: the first use of each of its terms in the intro and the comments is marked
    (<dfn>/<abbr> with the explanation as title)."""
    sent = sent_time(edition)
    day = sent.astimezone(tz).date()
    by_item: dict[int, list[Correction]] = {}
    for c in corrections:
        by_item.setdefault(c.item_id, []).append(c)
    fixed = {i: corrected(item, by_item.get(i, ())) for i, item in items.items()}
    placed = _placed(edition, fixed)
    sections = [
        ArchivedSection(
            title,
            tuple(
                ArchivedItem(
                    i.id,
                    digest_item(i, "de", tz, day, topic_labels, sources, office),
                    corrections=tuple(_archived_correction(c, tz) for c in by_item.get(i.id, ())),
                    withdrawn=any(c.withdrawn for c in by_item.get(i.id, ())),
                )
                for i in section_items
            ),
        )
        for title, section_items in placed
    ]
    shown = [i for _, section_items in placed for i in section_items]
    intro_html = demote_headings(render_markdown(edition.intro))
    if glossary:
        seen: set[str] = set()
        intro_html = glossary.mark_html(intro_html, seen)
        sections = [
            ArchivedSection(
                s.title,
                tuple(
                    replace(e, view=replace(e.view, comment_html=glossary.mark_html(
                        e.view.comment_html, seen)))
                    for e in s.items
                ),
            )
            for s in sections
        ]  # fmt: skip
    return ArchivedEdition(
        id=edition.id,
        slug=slugify(edition.title),
        newsletter_id=edition.newsletter_id,
        newsletter_name=newsletter.name if newsletter else edition.newsletter_id,
        title=_one_line(edition.title) or "(ohne Titel)",
        sent_at=sent,
        sent_label=de_date(day, "EEEE, d. MMMM yyyy"),
        intro_html=intro_html,
        intro_text=html_to_paragraphs(intro_html),
        deadlines=tuple(digest_deadlines(shown, "de", day)),
        sections=tuple(sections),
        changed_at=max(
            [sent, *(last_change(i) for i in shown), *(c.created_at for c in corrections)]
        ),
    )


def _archived_correction(c: Correction, tz: ZoneInfo) -> ArchivedCorrection:
    created = c.created_at if c.created_at.tzinfo else c.created_at.replace(tzinfo=dt.UTC)
    day = created.astimezone(tz).date()
    return ArchivedCorrection(
        date=day,
        date_label=de_date(day, "d. MMMM yyyy"),
        summary=c.summary or "Meldung korrigiert",
        reason=_one_line(c.reason),
    )


def _placed(edition: Edition, items: Mapping[int, Item]) -> list[tuple[str, list[Item]]]:
    """The edition's sections in order with their items: each item once (its first place),
    items missing from `items` or deleted since left out, empty sections left out."""
    seen: set[int] = set()
    placed = []
    for section in sorted(edition.sections, key=lambda s: s.position):
        found = []
        for item_id in section.item_ids:
            item = items.get(item_id)
            if item is None or item.status is ItemStatus.DELETED or item_id in seen:
                continue
            seen.add(item_id)
            found.append(item)
        if found:
            placed.append((_one_line(section.title), found))
    return placed


def last_change(item: Item) -> dt.datetime:
    """When the item or the office's annotation last changed (aware)."""
    times = [item.updated_at]
    if item.annotation is not None and item.annotation.updated_at is not None:
        times.append(item.annotation.updated_at)
    return max(t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC) for t in times)


# ---------------------------------------------------------------- Atom


@dataclass(frozen=True, slots=True)
class FeedInfo:
    feed_id: str  # the feed's own URL: stable while the base URL is
    title: str
    self_url: str
    archive_url: str  # the HTML page the feed belongs to
    author: str


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """An edition as a feed entry: intro and headlines only (cheap for 50 editions)."""

    id: int
    slug: str
    newsletter_name: str
    title: str
    sent_at: dt.datetime
    intro_html: str
    intro_text: str
    sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (title, ((anchor, headline)))
    changed_at: dt.datetime

    @property
    def headlines(self) -> tuple[str, ...]:
        return tuple(h for _, items in self.sections for _, h in items)


def feed_entry(
    edition: Edition, newsletter: Newsletter | None, items: Mapping[int, Item]
) -> FeedEntry:
    placed = _placed(edition, items)
    sent = sent_time(edition)
    intro_html = demote_headings(render_markdown(edition.intro))
    return FeedEntry(
        id=edition.id,
        slug=slugify(edition.title),
        newsletter_name=newsletter.name if newsletter else edition.newsletter_id,
        title=_one_line(edition.title) or "(ohne Titel)",
        sent_at=sent,
        intro_html=intro_html,
        intro_text=html_to_paragraphs(intro_html),
        sections=tuple(
            (title, tuple((f"meldung-{i.id}", headline(i, "de")) for i in section_items))
            for title, section_items in placed
        ),
        changed_at=max([sent, *(last_change(i) for _, its in placed for i in its)]),
    )


def atom_feed(
    editions: Sequence[FeedEntry],
    info: FeedInfo,
    entry_url: Callable[[FeedEntry], str],
    entry_id: Callable[[FeedEntry], str],
) -> bytes:
    """An Atom feed, newest first; `updated` is the newest sent time (the epoch when
    empty), so the same editions always give the same bytes."""
    fg = FeedGenerator()
    fg.id(info.feed_id)
    fg.title(_one_line(info.title))
    fg.author({"name": _one_line(info.author)})
    fg.link(href=info.self_url, rel="self", type="application/atom+xml")
    fg.link(href=info.archive_url, rel="alternate", type="text/html")
    fg.language("de")
    newest = max((e.sent_at for e in editions), default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    fg.updated(newest)
    for edition in editions:  # feedgen's "append" keeps our order: newest first
        url = entry_url(edition)
        entry = fg.add_entry(order="append")
        entry.id(entry_id(edition))
        title = edition.title
        if edition.newsletter_name not in title:
            title = f"{edition.newsletter_name}: {title}"
        entry.title(cut_at_word(title, MAX_LIST_TITLE))
        entry.updated(edition.sent_at)
        entry.published(edition.sent_at)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.summary(_summary(edition))
        entry.content(_CONTROL_RE.sub(" ", _entry_html(edition, url)), type="html")
    result: bytes = fg.atom_str(pretty=True)
    return result


def _summary(edition: FeedEntry) -> str:
    count = len(edition.headlines)
    words = f"{count} {'Meldung' if count == 1 else 'Meldungen'}"
    if not count:
        return _one_line(edition.intro_text) or "Keine Meldungen."
    return cut_at_word(_one_line(f"{words}: " + " · ".join(edition.headlines)), 400)


def _entry_html(edition: FeedEntry, url: str) -> str:
    parts = [edition.intro_html] if edition.intro_html else []
    for title, entries in edition.sections:
        parts.append(f"<h3>{html.escape(title)}</h3><ul>")
        for anchor, text in entries:
            href = html.escape(f"{url}#{anchor}", quote=True)
            parts.append(f'<li><a href="{href}">{html.escape(text)}</a></li>')
        parts.append("</ul>")
    return "".join(parts)


# ---------------------------------------------------------------- calendars


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str
    date: dt.date
    summary: str
    description: str
    url: str | None
    categories: tuple[str, ...]  # topic labels
    topic_ids: frozenset[str]
    stamp: dt.datetime  # when its content last changed (sending, a later annotation)
    sequence: int = 0  # how often the item was corrected (RFC 5545 SEQUENCE)
    cancelled: bool = False  # the item was withdrawn: STATUS:CANCELLED


_SUMMARY_WORD = {
    DeadlineKind.EVENT: "Termin",
    DeadlineKind.CALL_OPENING: "Öffnung",
    DeadlineKind.EXPIRY: "Läuft aus",
}


def deadline_events(
    placed: Iterable[tuple[Item, Edition]],
    *,
    since: dt.date,
    uid_domain: str,
    archive_url: Callable[[Edition], str],
    topic_labels: Mapping[str, str],
    sources: Mapping[str, Source] = EMPTY,
    corrections: Mapping[int, Sequence[Correction]] | None = None,
) -> list[CalendarEvent]:
    """One event per (item, date, kind) from `since` on, nearest first, at most MAX_EVENTS.

    The UID names item, date and kind only: a calendar client updates the event when
    the headline or comment changes instead of adding a second one. A corrected
    deadline keeps the UID of the date first published, with SEQUENCE raised by each
    correction of the item; a withdrawn item's events stay, cancelled."""
    events: dict[str, CalendarEvent] = {}
    for original, edition in placed:
        if original.status is ItemStatus.DELETED:
            continue
        fixes = corrections.get(original.id, ()) if corrections else ()
        item = corrected(original, fixes)
        first_date = _first_dates(fixes)
        sequence = sequence_of(item.id, fixes)
        cancelled = any(c.withdrawn for c in fixes)
        title = headline(item, "de")
        url, _ = item_link(item, "de")  # the German version's link if there is one
        comment = _comment_text(item.annotation.comment_md if item.annotation else "")
        source = sources.get(item.source_id)
        stamp = max([sent_time(edition), last_change(item), *(c.created_at for c in fixes)])
        topics = item_topics(item)
        for deadline in item.deadlines:
            if deadline.date < since:
                continue
            day = first_date.get((deadline.date, deadline.kind), deadline.date)
            uid = f"frist-{item.id}-{day:%Y%m%d}-{deadline.kind.value}@{uid_domain}"
            what = DEADLINE_LABELS[deadline.kind]
            label = deadline_label_de(_one_line(deadline.label))
            first = f"{what}: {de_date(deadline.date, 'EEEE, d. MMMM yyyy')}"
            if label and label.lower() != what.lower():
                first += f" ({label})"
            lines = [first]
            if cancelled:
                lines = ["Diese Meldung wurde zurückgezogen.", "", *lines]
            if comment:
                lines += ["", "Einordnung für die Region:", comment]
            lines.append("")
            if source is not None:
                lines.append(f"Quelle: {source.institution or source.name}")
            if url:
                lines.append(f"Link: {url}")
            lines.append(f"Im Archiv: {archive_url(edition)}")
            events[uid] = CalendarEvent(
                uid=uid,
                date=deadline.date,
                summary=("Zurückgezogen – " if cancelled else "")
                + f"{_SUMMARY_WORD.get(deadline.kind, 'Frist')}: {title}",
                description="\n".join(lines),
                url=url or archive_url(edition),
                categories=tuple(topic_labels.get(t, t) for t in sorted(topics)),
                topic_ids=topics,
                stamp=stamp.astimezone(dt.UTC),
                sequence=sequence,
                cancelled=cancelled,
            )
    ordered = sorted(events.values(), key=lambda e: (e.date, e.uid))
    return ordered[:MAX_EVENTS]


def _first_dates(fixes: Sequence[Correction]) -> dict[tuple[dt.date, DeadlineKind], dt.date]:
    """(current date, kind) → the date first published, through every moved deadline."""
    first: dict[tuple[dt.date, DeadlineKind], dt.date] = {}
    for c in sorted(fixes, key=lambda c: (c.created_at, c.id)):
        moved = c.change(CorrectionField.DEADLINE)
        if moved is None:
            continue
        old, new = parse_deadline(moved.old), parse_deadline(moved.new)
        origin = first.pop((old.date, old.kind), old.date)
        first[(new.date, new.kind)] = origin
    return first


@functools.lru_cache(maxsize=4096)
def _comment_text(comment_md: str) -> str:
    """Staff Markdown as plain text (memoised: a calendar renders every comment each time)."""
    return html_to_paragraphs(render_markdown(comment_md))


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    name: str  # "Fristen – Europabüro der Region Stuttgart"
    description: str
    timezone: str  # "Europe/Brussels"
    url: str  # where the calendar lives (SOURCE)


def deadline_calendar(events: Sequence[CalendarEvent], info: CalendarInfo) -> bytes:
    """An iCalendar (RFC 5545 + 7986) of all-day events that Outlook can subscribe to."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//eudigest//Fristen//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", info.name)
    cal.add("x-wr-calname", info.name)
    cal.add("description", info.description)
    cal.add("x-wr-caldesc", info.description)
    cal.add("x-wr-timezone", info.timezone)
    cal.add("source", info.url, parameters={"VALUE": "URI"})
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT12H")  # Outlook's older spelling of REFRESH-INTERVAL
    for e in events:
        event = icalendar.Event()
        event.add("uid", e.uid)
        event.add("dtstamp", e.stamp)
        event.add("last-modified", e.stamp)
        event.add("dtstart", e.date)
        event.add("dtend", e.date + dt.timedelta(days=1))
        if e.sequence:
            event.add("sequence", e.sequence)
        if e.cancelled:
            event.add("status", "CANCELLED")
        event.add("summary", _one_line(e.summary))
        event.add("description", _CONTROL_RE.sub(" ", e.description))
        if e.url:
            event.add("url", e.url, parameters={"VALUE": "URI"})
        if e.categories:
            event.add("categories", list(e.categories))
        event.add("transp", "TRANSPARENT")  # a deadline does not block the day
        event.add("x-microsoft-cdo-busystatus", "FREE")
        event.add("x-microsoft-cdo-alldayevent", "TRUE")
        cal.add_component(event)
    result: bytes = cal.to_ical()
    return result
