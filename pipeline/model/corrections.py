"""Corrections: staff correct an item of an edition that went out (issue 14, ADR 0009).

    Correction        which edition and item, what changed (old → new, or withdrawn), the
                      German reason staff wrote, when, by whom, and how the readers who
                      got the item hear of it (CorrectionDelivery)
    CorrectionChange  one field: headline, comment, link or deadline, old → new
    CorrectionNote    what a reader's notice says (the short mail, the block "Korrektur"
                      at the top of their next digest)
    corrected(item, corrections)   the item as corrected: link and deadlines (headline and
                      comment are the office's annotation, changed in the store itself)

A correction's notices reach exactly the subscribers whose delivery of that edition
contained the item and was sent (`delivery_segments` records each segment's items when
the edition is planned); each reader's notice is one row, sent exactly once (the
same claim → start → record ledger as the digest), or carried by their next digest.
Stdlib only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from pipeline.model.dossiers import german_date
from pipeline.model.items import DEADLINE_LABELS, Deadline, DeadlineKind, Item

MAX_REASON = 1000  # characters of the reason staff write
MAX_FIELD = 4000  # characters of a corrected headline, comment or link


class CorrectionField(StrEnum):
    HEADLINE = "headline"
    COMMENT = "comment"
    LINK = "link"
    DEADLINE = "deadline"  # old/new: "2027-03-15 call_closing" (date and kind)


FIELD_LABELS = {
    CorrectionField.HEADLINE: "Überschrift",
    CorrectionField.COMMENT: "Einordnung",
    CorrectionField.LINK: "Link",
    CorrectionField.DEADLINE: "Frist",
}


class CorrectionDelivery(StrEnum):
    MAIL = "mail"  # a short mail now (the next send-due sends it)
    NEXT = "next"  # a block "Korrektur" at the top of each receiver's next digest


DELIVERY_LABELS = {
    CorrectionDelivery.MAIL: "sofort als kurze Mail",
    CorrectionDelivery.NEXT: "im nächsten Newsletter oben",
}


class NoticeState(StrEnum):
    """A reader's notice: the ledger states of a delivery, and `waiting` (next digest)."""

    WAITING = "waiting"  # carried by the reader's next digest (see correction_reports)
    QUEUED = "queued"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the sender died after the request left: never resent silently
    SKIPPED = "skipped"  # unsubscribed or erased since


@dataclass(frozen=True, slots=True)
class CorrectionChange:
    field: CorrectionField
    old: str
    new: str

    @property
    def label(self) -> str:
        """'Frist: 15. März 2027 → 22. März 2027' (German, one line)."""
        if self.field is CorrectionField.DEADLINE:
            old, new = parse_deadline(self.old), parse_deadline(self.new)
            what = DEADLINE_LABELS[new.kind]
            return f"{what}: {german_date(old.date)} → {german_date(new.date)}"
        if self.field is CorrectionField.COMMENT:
            return "Einordnung überarbeitet"
        return f"{FIELD_LABELS[self.field]}: {self.old or '(leer)'} → {self.new or '(leer)'}"


@dataclass(frozen=True, slots=True)
class Correction:
    id: int
    edition_id: int
    item_id: int
    changes: tuple[CorrectionChange, ...]
    withdrawn: bool
    reason: str
    delivery: CorrectionDelivery
    created_at: dt.datetime
    created_by: str
    receivers: int = 0  # notices made (readers who got the item)

    @property
    def summary(self) -> str:
        """German, one line: 'Zurückgezogen' or the changes joined."""
        parts = [c.label for c in self.changes]
        if self.withdrawn:
            parts.insert(0, "Meldung zurückgezogen")
        return "; ".join(parts)

    def change(self, field: CorrectionField) -> CorrectionChange | None:
        return next((c for c in self.changes if c.field is field), None)


@dataclass(frozen=True, slots=True)
class CorrectionNote:
    """One correction as a reader's notice shows it (mail, digest block, archive)."""

    correction_id: int
    edition_id: int
    item_id: int
    edition_title: str
    edition_sent: dt.date
    headline: str  # the item's headline as corrected
    lines: tuple[str, ...]  # "Überschrift: alt → neu", "Meldung zurückgezogen"
    reason: str
    corrected_on: dt.date
    withdrawn: bool = False

    def url(self, base_url: str | None) -> str | None:
        """The item on the edition's archive page (None without a base URL)."""
        if not base_url:
            return None
        return f"{base_url.rstrip('/')}/archiv/{self.edition_id}#meldung-{self.item_id}"

    @property
    def date_label(self) -> str:
        return german_date(self.corrected_on)

    @property
    def sent_label(self) -> str:
        return german_date(self.edition_sent)


@dataclass(frozen=True, slots=True)
class CorrectionNotice:
    """One reader's notice of one correction (a row of its ledger)."""

    id: int
    correction_id: int
    subscriber_id: int
    state: NoticeState
    attempts: int = 0
    error: str | None = None


def deadline_value(deadline: Deadline) -> str:
    return f"{deadline.date.isoformat()} {deadline.kind.value}"


def parse_deadline(value: str) -> Deadline:
    day, _, kind = value.partition(" ")
    return Deadline(dt.date.fromisoformat(day), DeadlineKind(kind or DeadlineKind.DEADLINE.value))


def corrected(item: Item, corrections: Iterable[Correction]) -> Item:
    """The item with the link and deadline corrections applied, oldest first."""
    url, versions, deadlines = item.url, item.versions, list(item.deadlines)
    changed = False
    for c in sorted(corrections, key=lambda c: (c.created_at, c.id)):
        if c.item_id != item.id:
            continue
        link = c.change(CorrectionField.LINK)
        if link is not None:
            url = link.new or None
            versions = tuple(replace(v, url=None) for v in versions)  # the corrected link wins
            changed = True
        when = c.change(CorrectionField.DEADLINE)
        if when is not None:
            old, new = parse_deadline(when.old), parse_deadline(when.new)
            deadlines = [
                replace(d, date=new.date) if (d.date, d.kind) == (old.date, old.kind) else d
                for d in deadlines
            ]
            changed = True
    if not changed:
        return item
    return replace(item, url=url, versions=versions, deadlines=tuple(deadlines))


def sequence_of(item_id: int, corrections: Iterable[Correction]) -> int:
    """The iCalendar SEQUENCE of the item's events: how often it was corrected."""
    return sum(1 for c in corrections if c.item_id == item_id)
