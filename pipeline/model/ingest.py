"""Values of the ingest stages, left to right:

parse → RawItem · normalize → NormalizedItem · classify → Classification
dedupe → Known (what the store has) → ItemChange · a run → IngestReport of SourceReports"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from pipeline.model.items import Deadline, DocType, ItemStatus

if TYPE_CHECKING:
    from pipeline.model.eligibility import Eligibility
    from pipeline.model.topics import TopicAssignment


@dataclass(frozen=True, slots=True)
class RawItem:
    """One entry as a parser or adapter saw it; plain text title, HTML summary."""

    source_id: str
    title: str
    url: str | None = None
    guid: str | None = None
    summary_html: str = ""
    language: str | None = None  # None: the source's language
    published: dt.datetime | None = None  # naive means "local to the source"
    updated: dt.datetime | None = None
    categories: tuple[str, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    references: tuple[str, ...] = ()
    doc_type: DocType | None = None  # a hint from an adapter that knows
    extra_text: str = ""  # text used for classification only (keywords, call titles)
    source_type: str = ""  # the source's own name for the kind of entry ("Press Release")
    eligibility: Eligibility | None = None  # a funding call's facets (model/eligibility.py)


@dataclass(frozen=True, slots=True)
class NormalizedItem:
    """A RawItem cleaned up: sanitised HTML, canonical URL, aware times, identity."""

    source_id: str
    identity: str  # guid → link → content hash; stable across re-fetches
    title: str
    url: str | None
    summary_html: str  # sanitised with nh3
    summary_text: str
    language: str
    published: dt.datetime  # timezone-aware
    updated: dt.datetime | None
    content_hash: str  # over the fields staff see; changes mean "updated at the source"
    family: str | None  # cross-language key: "IP/26/1692", "2025/0123(COD)"…
    categories: tuple[str, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    references: tuple[str, ...] = ()
    doc_type: DocType | None = None
    extra_text: str = ""
    source_type: str = ""
    family_rule: str = ""  # the rule that found `family` (normalize.TWIN_RULES, or a text rule)
    eligibility: Eligibility | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    topics: tuple[TopicAssignment, ...]
    doc_type: DocType
    references: tuple[str, ...]
    deadlines: tuple[Deadline, ...]
    relevance: float  # 0..1, regional relevance (the rules' score, pipeline/ingest/relevance.py)
    relevance_reasons: tuple[str, ...] = ()  # German, strongest first (see model.relevance)
    eligibility: Eligibility | None = None  # funding calls: who may apply, budget, rate


@dataclass(slots=True)
class SourceReport:
    """What one source gave in one ingest run (mutable while the run builds it)."""

    source_id: str
    status: str = "pending"  # ok | not_modified | failed | deferred
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    suppressed: int = 0  # deleted by staff, seen again, ignored
    entries: int = 0
    error: str | None = None
    next_try: dt.datetime | None = None
    elapsed_s: float = 0.0
    warnings: list[str] = field(default_factory=list)  # parts left out; the source is ok
    failures: int = 0  # failures in a row before this run (deferred: it waits in backoff)


@dataclass(slots=True)
class IngestReport:
    sources: list[SourceReport] = field(default_factory=list)
    threaded: int = 0  # items newly threaded to dossiers at the end of the run

    @property
    def attempted(self) -> list[SourceReport]:
        return [r for r in self.sources if r.status != "deferred"]

    @property
    def failed(self) -> list[SourceReport]:
        return [r for r in self.sources if r.status == "failed"]

    @property
    def waiting(self) -> list[SourceReport]:
        """Sources not tried because they wait in backoff after failing (not merely not
        due yet): `fetch --force` or `--source ID` tries them now."""
        return [r for r in self.sources if r.status == "deferred" and r.failures > 0]

    @property
    def succeeded(self) -> list[SourceReport]:
        return [r for r in self.sources if r.status in ("ok", "not_modified")]

    def total(self, attr: str) -> int:
        return sum(int(getattr(r, attr)) for r in self.sources)


@dataclass(frozen=True, slots=True)
class KnownVersion:
    """An item version already in the store, as dedupe needs to see it."""

    identity: str
    item_id: int
    source_id: str
    language: str
    url: str | None
    content_hash: str
    item_status: ItemStatus


@dataclass(frozen=True, slots=True)
class KnownItem:
    """An item already in the store that shares a family key with incoming entries."""

    item_id: int
    family: str
    status: ItemStatus
    languages: frozenset[str]
    published: dt.datetime
    institution: str


@dataclass(frozen=True, slots=True)
class Known:
    by_identity: Mapping[str, KnownVersion]
    by_url: Mapping[str, KnownVersion]
    by_family: Mapping[str, tuple[KnownItem, ...]]


class ChangeKind(StrEnum):
    NEW = "new"  # a new item with its first version
    ADD_VERSION = "add_version"  # another language version of a known item
    UPDATE = "update"  # the same entry, changed at the source
    UNCHANGED = "unchanged"  # seen before, nothing changed
    DUPLICATE = "duplicate"  # the same thing again (another source, or twice in one feed)
    SUPPRESSED = "suppressed"  # deleted by staff: never comes back


@dataclass(frozen=True, slots=True)
class ItemChange:
    kind: ChangeKind
    item: NormalizedItem
    classification: Classification | None = None
    item_id: int | None = None  # the known item, for everything but NEW
    join: int | None = None  # ADD_VERSION to the item made by decision number `join` of a batch
    # A merge by the family key (another language, or the same document from elsewhere):
    # the rule that found the key (item.family_rule); the store records the merge.
    merged_by: str = ""
