"""Published dossiers in the public archive: page, Atom feed and calendar (pure, German).

    public_dossier(dossier, today)   → PublicDossier: what anyone may read (no followers,
                                       no staff notes, nothing personal)
    dossier_slug(reference)          2025/0260(COD) → 2025-0260-cod, and back (reference_of)
    dossier_feed(view, …)            → bytes: Atom (feedgen), one entry per past event
    dossier_calendar(view, …)        → bytes: iCalendar (icalendar), key dates and forecasts

The web shell (pipeline.web.archive) reads the dossier from the store and serves these.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

from pipeline.compose.archive import (
    CalendarEvent,
    CalendarInfo,
    FeedInfo,
    deadline_calendar,
    sent_time,
)
from pipeline.compose.render import headline, item_link
from pipeline.model import (
    PROCEDURE_TYPE_LABELS,
    Dossier,
    DossierEvent,
    Edition,
    Item,
    ItemStatus,
    ReferenceKind,
    dossier_slug,
    eurlex_url,
    german_date,
    oeil_url,
    reference_kind,
)
from pipeline.text import language_name

_SLUG_RE = re.compile(r"^((?:19|20)\d{2})-(\d{4})-([a-z]{3})$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class PublicEvent:
    date: dt.date
    date_label: str  # "26. März 2026"
    label: str  # German: "Abstimmung im Ausschuss", "Voraussichtlich: …"
    forecast: bool
    document: str  # A10-0070/2026, or ""
    key: str  # stable within the dossier: date, kind, source's id


@dataclass(frozen=True, slots=True)
class PublicItem:
    """An item of the dossier that a sent edition carried: public already."""

    headline: str  # German first
    url: str | None  # the German version where there is one
    language_note: str  # "Link führt zu einer englischsprachigen Seite", or ""
    sent_label: str  # "25. November 2026"
    edition_title: str
    archive_url: str  # the item in the archived edition


@dataclass(frozen=True, slots=True)
class PublicDossier:
    reference: str
    slug: str
    title: str  # German first
    title_en: str  # only when it differs from `title`
    procedure_type: str  # "Ordentliches Gesetzgebungsverfahren (COD)"
    stage: str  # "Trilog"
    next_step: str
    lead_committee: str
    rapporteur: str  # a Member of Parliament, as OEIL names them (public office)
    aliases: tuple[str, ...]
    # (German label, URL, language note): German versions first; the note only where no
    # German version exists (OEIL is English and French only)
    links: tuple[tuple[str, str, str], ...]
    events: tuple[PublicEvent, ...]  # past events, newest first
    forecasts: tuple[PublicEvent, ...]  # from today on, nearest first
    items: tuple[PublicItem, ...]  # in sent editions only, newest first
    updated_at: dt.datetime  # aware
    updated_label: str


def reference_of(slug: str) -> str | None:
    """'2025-0260-cod' → '2025/0260(COD)'; None for anything else."""
    m = _SLUG_RE.match(slug)
    if m is None:
        return None
    return f"{m.group(1)}/{m.group(2)}({m.group(3).upper()})"


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _event(e: DossierEvent) -> PublicEvent:
    return PublicEvent(
        date=e.date,
        date_label=german_date(e.date),
        label=e.label_de,
        forecast=e.forecast,
        document=e.document,
        key=f"{e.date:%Y%m%d}-{e.kind.value.lower()}-{re.sub(r'[^A-Za-z0-9]+', '-', e.key)}",
    )


def public_item(item: Item, edition: Edition, archive_url: str) -> PublicItem:
    url, link_language = item_link(item, "de")
    note = ""
    if url and link_language != "de":
        name = language_name(link_language, default="").lower()
        note = f"Link führt zu einer {name or 'fremd'}sprachigen Seite"
    return PublicItem(
        headline=headline(item, "de"),
        url=url,
        language_note=note,
        sent_label=german_date(sent_time(edition).date()),
        edition_title=edition.title,
        archive_url=archive_url,
    )


def public_dossier(
    dossier: Dossier,
    today: dt.date,
    placed: Sequence[tuple[Item, Edition]] = (),
    archive_url: Callable[[Item, Edition], str] = lambda i, e: "",
) -> PublicDossier:
    """What the archive shows of a dossier: never followers, never staff's names; of its
    items only those a sent edition carried (`placed`), newest edition first."""
    past = sorted(
        (e for e in dossier.events if not e.forecast), key=lambda e: (e.date, e.kind.value)
    )
    ahead = sorted(
        (e for e in dossier.events if e.forecast and e.date >= today),
        key=lambda e: (e.date, e.kind.value),
    )
    links = [
        (f"EUR-Lex: Dokument {alias} auf Deutsch", eurlex_url(alias, "DE"), "")
        for alias in dossier.aliases
        if reference_kind(alias) is ReferenceKind.CELEX
    ]
    # OEIL and the Legislative Train exist in English (OEIL also French), never in German:
    # the only links here with the note. The train only where a source named its page.
    links.append(
        (
            "Legislative Observatory des Europäischen Parlaments (OEIL)",
            oeil_url(dossier.reference),
            "Link führt zu einer englischsprachigen Seite",
        )
    )
    if dossier.train_url:
        links.append(
            (
                "Legislative Train des Europäischen Parlaments",
                dossier.train_url,
                "Link führt zu einer englischsprachigen Seite",
            )
        )
    type_label = PROCEDURE_TYPE_LABELS[dossier.procedure_type]
    updated = _aware(dossier.updated_at)
    return PublicDossier(
        reference=dossier.reference,
        slug=dossier_slug(dossier.reference),
        title=dossier.title,
        title_en=dossier.title_en if dossier.title_en != dossier.title else "",
        procedure_type=f"{type_label} ({dossier.procedure_type.value})",
        stage=dossier.stage_label,
        next_step=dossier.next_step,
        lead_committee=dossier.lead_committee,
        rapporteur=dossier.rapporteur,
        aliases=dossier.aliases,
        links=tuple(links),
        events=tuple(_event(e) for e in reversed(past)),
        forecasts=tuple(_event(e) for e in ahead),
        items=tuple(
            public_item(i, e, archive_url(i, e))
            for i, e in sorted(placed, key=lambda p: (sent_time(p[1]), p[0].id), reverse=True)
            if i.status is not ItemStatus.DELETED
        ),
        updated_at=updated,
        updated_label=german_date(updated.date()),
    )


def _at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def dossier_feed(view: PublicDossier, info: FeedInfo, page_url: str) -> bytes:
    """Atom: one entry per past event, newest first; the same dossier gives the same bytes."""
    fg = FeedGenerator()
    fg.id(info.feed_id)
    fg.title(info.title)
    fg.author({"name": info.author})
    fg.link(href=info.self_url, rel="self", type="application/atom+xml")
    fg.link(href=info.archive_url, rel="alternate", type="text/html")
    fg.language("de")
    fg.subtitle(f"{view.reference} · Stand: {view.stage}")
    newest = max((_at_noon(e.date) for e in view.events), default=_EPOCH)
    fg.updated(newest)
    for e in view.events:
        entry = fg.add_entry(order="append")
        entry.id(f"{info.feed_id}#{e.key}")
        entry.title(f"{e.date_label}: {e.label}")
        entry.updated(_at_noon(e.date))
        entry.published(_at_noon(e.date))
        entry.link(href=f"{page_url}#verlauf", rel="alternate", type="text/html")
        summary = f"{view.title} ({view.reference}): {e.label} am {e.date_label}."
        if e.document:
            summary += f" Dokument: {e.document}."
        entry.summary(summary)
    result: bytes = fg.atom_str(pretty=True)
    return result


def dossier_calendar(
    view: PublicDossier, info: CalendarInfo, *, uid_domain: str, page_url: str
) -> bytes:
    """iCalendar: the dossier's key dates (past events) and forecasts as all-day events."""
    stamp = view.updated_at.astimezone(dt.UTC)
    events = [
        CalendarEvent(
            uid=f"verfahren-{view.slug}-{e.key}@{uid_domain}",
            date=e.date,
            summary=f"{e.label} – {view.reference}",
            description="\n".join(
                [
                    f"{view.title} ({view.reference})",
                    f"{e.label}: {e.date_label}",
                    f"Stand des Verfahrens: {view.stage}",
                    "",
                    f"Im Archiv: {page_url}",
                ]
            ),
            url=page_url,
            categories=("Verfahren",),
            topic_ids=frozenset(),
            stamp=stamp,
        )
        for e in sorted((*view.events, *view.forecasts), key=lambda e: (e.date, e.key))
    ]
    return deadline_calendar(events, info)
