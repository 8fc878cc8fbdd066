"""Relevance: what the scorer reads of an item, what it says, and how its reasons read
on a given day.

The score and most reasons are facts of the item ("offene Ausschreibung", "Thema
Förderprogramme", "erwähnt Region Stuttgart") and are stored with it. A reason about a
deadline depends on the day it is read: it is stored as the fact ("Frist am 22.09.2026")
and turned into "Frist in 3 Wochen" by `reasons_as_of` when shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.model.items import Deadline, DeadlineKind

DEADLINE_REASON_PREFIX = "Frist am "
# Deadline kinds that ask the reader to act (not event dates, not call openings).
ACTION_DEADLINE_KINDS = frozenset(
    {DeadlineKind.CALL_CLOSING, DeadlineKind.CONSULTATION_END, DeadlineKind.DEADLINE}
)


@dataclass(frozen=True, slots=True)
class RelevanceFacts:
    """What the relevance scorer reads of one item (all of it is known at ingest)."""

    title: str
    text: str = ""  # summary, extra text and categories as plain text
    url: str | None = None
    language: str = "en"
    published: dt.date | None = None  # deadlines count when they are after this day
    doc_type: str = "other"  # a DocType value
    topics: tuple[tuple[str, float], ...] = ()  # (topic id, confidence)
    deadlines: tuple[Deadline, ...] = ()
    source_id: str = ""
    institution: str = ""
    source_url: str = ""


@dataclass(frozen=True, slots=True)
class Relevance:
    """A graded score (0..1, never exactly 0) and its reasons in German, strongest first."""

    score: float
    reasons: tuple[str, ...] = ()


def deadline_reason(day: dt.date) -> str:
    """The stored form of a deadline reason: the fact, not its distance from today."""
    return f"{DEADLINE_REASON_PREFIX}{day:%d.%m.%Y}"


def reasons_as_of(
    reasons: Sequence[str], deadlines: Iterable[Deadline], today: dt.date
) -> tuple[str, ...]:
    """The stored reasons as they read on `today`: "Frist am …" becomes "Frist in 3 Wochen"
    (the nearest action deadline from today on), or "Frist abgelaufen" when all are past;
    then a call or consultation is no longer called open ("offene Ausschreibung" reads
    "Ausschreibung")."""
    out: list[str] = []
    days = sorted(d.date for d in deadlines if d.kind in ACTION_DEADLINE_KINDS)
    closed = bool(days) and days[-1] < today
    for reason in reasons:
        if reason.startswith(DEADLINE_REASON_PREFIX):
            upcoming = [d for d in days if d >= today]
            reason = _until(upcoming[0], today) if upcoming else "Frist abgelaufen"
        elif closed and reason.startswith("offene "):
            reason = reason.removeprefix("offene ")
        out.append(reason)
    return tuple(out)


def _until(day: dt.date, today: dt.date) -> str:
    n = (day - today).days
    if n == 0:
        return "Frist heute"
    if n == 1:
        return "Frist morgen"
    if n < 14:
        return f"Frist in {n} Tagen"
    if n < 60:
        weeks = round(n / 7)
        return f"Frist in {weeks} Wochen"
    months = round(n / 30.4)
    return "Frist in 1 Monat" if months == 1 else f"Frist in {months} Monaten"
