"""Editions: one issue of a newsletter (draft → approved → scheduled → sending → sent),
its sections and ordered items; segments: subscribers who receive identical content."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.model.corrections import CorrectionNote
    from pipeline.model.dossiers import DossierNews
    from pipeline.model.items import Item
    from pipeline.model.subscribers import Subscriber


class EditionState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"


EDITION_STATE_LABELS = {
    EditionState.DRAFT: "Entwurf",
    EditionState.APPROVED: "Freigegeben",
    EditionState.SCHEDULED: "Geplant",
    EditionState.SENDING: "Wird versandt",
    EditionState.SENT: "Versandt",
}


@dataclass(frozen=True, slots=True)
class EditionSection:
    id: int
    title: str
    position: int
    item_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Edition:
    id: int
    newsletter_id: str
    title: str
    intro: str
    state: EditionState
    created_at: dt.datetime
    created_by: str
    version: int = 0
    updated_at: dt.datetime | None = None
    last_editor: str | None = None  # who made the last change (four-eyes rule)
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    scheduled_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    sections: tuple[EditionSection, ...] = ()

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(i for s in self.sections for i in s.item_ids)


# language, item ids per section; and, for readers with news of followed dossiers,
# (dossier id, event ids…) per dossier: the third part only then, so the keys of
# readers without it stay as they were; and for readers whose digest carries
# corrections, the correction ids as a fourth part (the third then possibly empty)
SegmentKey = (
    tuple[str, tuple[tuple[int, ...], ...]]
    | tuple[str, tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]
    | tuple[str, tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...], tuple[int, ...]]
)


@dataclass(frozen=True, slots=True)
class Segment:
    """Subscribers who receive identical content: one rendering for all of them."""

    newsletter_id: str
    language: str
    sections: tuple[tuple[str, tuple[Item, ...]], ...]  # non-empty sections, in order
    subscribers: tuple[Subscriber, ...]
    key: SegmentKey
    dossiers: tuple[DossierNews, ...] = ()  # "Neues in Ihren Verfahren"; same for all
    corrections: tuple[CorrectionNote, ...] = ()  # the block "Korrektur"; same for all

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(item.id for _, items in self.sections for item in items)
