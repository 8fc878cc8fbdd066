"""Items: one published thing, deduplicated across sources and languages, with its
language versions, document type, deadlines and the office's annotation."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from pipeline.model.learning import SuggestedBy

if TYPE_CHECKING:
    from pipeline.model.desk import Annotation
    from pipeline.model.eligibility import Eligibility
    from pipeline.model.topics import TopicAssignment


class DocType(StrEnum):
    PRESS_RELEASE = "press_release"
    LEGISLATIVE_PROPOSAL = "legislative_proposal"
    ADOPTED_ACT = "adopted_act"
    FUNDING_CALL = "funding_call"
    CONSULTATION = "consultation"
    EVENT = "event"
    SPEECH = "speech"  # a speech, remarks, keynote or interview of an office holder
    STATEMENT = "statement"  # a formal statement, issued or read out
    REPORT = "report"  # studies, statistics, survey results, forecasts, event reports
    OTHER = "other"  # Q&A, factsheets, daily news, digests, guides, non-EU items


class ItemStatus(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DELETED = "deleted"  # a tombstone: the item never comes back from a feed


class DeadlineKind(StrEnum):
    CALL_CLOSING = "call_closing"  # a funding call's closing date
    CALL_OPENING = "call_opening"  # a funding call opens for submissions
    CONSULTATION_END = "consultation_end"
    EVENT = "event"
    DEADLINE = "deadline"  # any other date named as a deadline in the text
    EXPIRY = "expiry"  # measures end unless renewed (a sanctions regime): not a deadline


DOC_TYPE_LABELS = {
    DocType.PRESS_RELEASE: "Pressemitteilung",
    DocType.LEGISLATIVE_PROPOSAL: "Gesetzgebungsvorschlag",
    DocType.ADOPTED_ACT: "Rechtsakt",
    DocType.FUNDING_CALL: "Förderaufruf",
    DocType.CONSULTATION: "Konsultation",
    DocType.EVENT: "Veranstaltung",
    DocType.SPEECH: "Rede",
    DocType.STATEMENT: "Erklärung",
    DocType.REPORT: "Bericht & Statistik",
    DocType.OTHER: "Sonstiges",
}


DEADLINE_LABELS = {
    DeadlineKind.CALL_CLOSING: "Einreichungsschluss",
    DeadlineKind.CALL_OPENING: "Öffnung",
    DeadlineKind.CONSULTATION_END: "Konsultation bis",
    DeadlineKind.EVENT: "Termin",
    DeadlineKind.DEADLINE: "Frist",
    DeadlineKind.EXPIRY: "Läuft aus",
}


# Labels the sources give in English (stored as fetched), in German. An empty word: the
# label only repeats its kind (DEADLINE_LABELS says it already).
_SOURCE_DEADLINE_WORDS = {
    "opening": "",
    "deadline": "",
    "closing date": "",
    "event": "",
    "feedback period ends": "",
}
_STAGE = re.compile(r"stage (\d+) deadline", re.IGNORECASE)


def deadline_label_de(label: str) -> str:
    """The German form of a deadline's own label: "Stage 2 deadline" → "Frist der 2. Stufe",
    "Opening"/"Deadline" → "" (nothing beyond the kind's name); German labels stay."""
    plain = " ".join(label.split())
    stage = _STAGE.fullmatch(plain)
    if stage:
        return f"Frist der {stage.group(1)}. Stufe"
    return _SOURCE_DEADLINE_WORDS.get(plain.lower(), plain)


@dataclass(frozen=True, slots=True)
class Deadline:
    date: dt.date
    kind: DeadlineKind
    label: str = ""


@dataclass(frozen=True, slots=True)
class ItemVersion:
    """One language version of an item, as one source published it."""

    identity: str
    source_id: str
    language: str
    title: str
    url: str | None
    summary_html: str
    content_hash: str


# Why two entries became one item: the rule that found their shared key (normalize.TWIN_RULES
# for links, or a key named in the text), in German for staff. `{ref}` is the key without
# its "Prefix:" (keys of link rules are "EP:20260713IPR46512", "CELEX:32024R1234", …).
MERGE_REASONS: dict[str, str] = {
    "presscorner_number": "gleiche Pressemitteilungsnummer {ref} im Link",
    "ep_news_reference": "gleiche Referenz {ref} des Europäischen Parlaments im Link",
    "council_press_release": "gleiche Pressemitteilung des Rates ({ref}) im Link",
    "ec_newsroom_item": "gleiche Newsroom-Meldung {ref} der Kommission im Link",
    "eurlex_celex": "gleiche CELEX-Nummer {ref} im Link",
    "ecb_document": "gleiches EZB-Dokument {ref} im Link",
    "press_number_text": "gleiche Pressemitteilungsnummer {ref} im Text",
    "procedure_text": (
        "gleiches Verfahren {ref} im Text, gleiche Institution, höchstens drei Tage auseinander"
    ),
}


def merge_reason(rule: str, key: str) -> str:
    """The German "why" of a merge: 'gleiche Pressemitteilungsnummer IP/26/1692 im Link'."""
    ref = key.split(":", 1)[1] if ":" in key else key
    return MERGE_REASONS.get(rule, "gleicher Schlüssel {ref}").format(ref=ref)


@dataclass(frozen=True, slots=True)
class ItemMerge:
    """An entry that joined an item by a shared key: another language version of it
    (`added_version`), or the same document from another channel (not stored again)."""

    item_id: int
    source_id: str
    identity: str
    language: str
    url: str | None
    key: str
    rule: str
    added_version: bool
    merged_at: dt.datetime

    @property
    def reason_de(self) -> str:
        return merge_reason(self.rule, self.key)


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    source_id: str
    title: str
    url: str | None
    summary_html: str
    language: str
    published: dt.datetime
    fetched_at: dt.datetime
    updated_at: dt.datetime
    doc_type: DocType
    status: ItemStatus
    relevance: float
    family: str | None = None
    relevance_reasons: tuple[str, ...] = ()  # stored form; show with reasons_as_of()
    topics: tuple[TopicAssignment, ...] = ()
    references: tuple[str, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    versions: tuple[ItemVersion, ...] = ()
    annotation: Annotation | None = None
    # Every source that carried it (sightings), `source_id` (the first) first.
    sources: tuple[str, ...] = ()
    # Learning from the desk (model/learning.py): the score the desk orders by while a
    # model is active (None: `relevance`, the rules'), and who suggested it.
    suggestion: float | None = None
    suggested_by: SuggestedBy = SuggestedBy.RULES
    eligibility: Eligibility | None = None  # a funding call's facets (model/eligibility.py)

    @property
    def score(self) -> float:
        """What the desk orders by: the blended suggestion, or the rules' relevance."""
        return self.relevance if self.suggestion is None else self.suggestion

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({v.language for v in self.versions} or {self.language}))
