"""The domain words of eudigest as plain, frozen dataclasses.

Stdlib only: every other module may import this one, and it imports nothing
from the project. Data moves left to right through the flow as these types:

    sources.yaml → Source
    fetch        → FetchResult
    parse        → RawItem            (library shapes translated at the edge)
    normalize    → NormalizedItem     (sanitised, canonical URL, aware times, identity)
    classify     → Classification     (topics, doc type, references, deadlines, relevance)
    dedupe       → IngestDecision     (new / update / unchanged / suppressed / add version)
    store        → Item, SourceHealth
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

EMPTY: Mapping[str, Any] = MappingProxyType({})


class SourceKind(StrEnum):
    FEED = "feed"  # RSS 0.9x/1.0/2.0 or Atom, detected by feedparser
    HTML = "html"  # a page without a feed, scraped with CSS selectors
    API = "api"  # a JSON API, read by a named adapter
    OWN = "own"  # the office's own items, written in the desk (never fetched)


OWN_SOURCE_ID = "office"  # the built-in source of own items


class DocType(StrEnum):
    PRESS_RELEASE = "press_release"
    LEGISLATIVE_PROPOSAL = "legislative_proposal"
    ADOPTED_ACT = "adopted_act"
    FUNDING_CALL = "funding_call"
    CONSULTATION = "consultation"
    EVENT = "event"
    OTHER = "other"


class ItemStatus(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DELETED = "deleted"  # a tombstone: the item never comes back from a feed


class TopicOrigin(StrEnum):
    AUTO = "auto"
    STAFF = "staff"


class DeadlineKind(StrEnum):
    CALL_CLOSING = "call_closing"  # a funding call's closing date
    CALL_OPENING = "call_opening"  # a funding call opens for submissions
    CONSULTATION_END = "consultation_end"
    EVENT = "event"
    DEADLINE = "deadline"  # any other date named as a deadline in the text


class FetchStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class Source:
    """One EU publication channel, as configured in sources.yaml."""

    id: str
    name: str
    institution: str
    url: str
    language: str
    kind: SourceKind
    topics: tuple[str, ...] = ()
    adapter: str | None = None  # for kind=api (and optionally html)
    enabled: bool = True
    interval_minutes: int = 60
    options: Mapping[str, Any] = field(
        default_factory=lambda: EMPTY
    )  # adapter options (selectors, query)


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    label_de: str
    label_en: str
    keywords_de: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    topics: tuple[Topic, ...]
    region_keywords: tuple[str, ...] = ()

    def topic_ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.topics)


# ---------------------------------------------------------------- ingest values


@dataclass(frozen=True, slots=True)
class Deadline:
    date: dt.date
    kind: DeadlineKind
    label: str = ""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one HTTP fetch of a source gave. Never raises: failures are data."""

    source_id: str
    status: FetchStatus
    url: str  # the final URL after redirects
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    error: str | None = None
    retry_after: dt.datetime | None = None  # from a Retry-After header
    elapsed_s: float = 0.0


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


@dataclass(frozen=True, slots=True)
class TopicAssignment:
    topic_id: str
    confidence: float  # 0..1
    origin: TopicOrigin = TopicOrigin.AUTO


@dataclass(frozen=True, slots=True)
class Classification:
    topics: tuple[TopicAssignment, ...]
    doc_type: DocType
    references: tuple[str, ...]
    deadlines: tuple[Deadline, ...]
    relevance: float  # 0..1, regional relevance


# ---------------------------------------------------------------- the desk


class Role(StrEnum):
    EDITOR = "editor"
    ADMIN = "admin"


class Priority(StrEnum):
    FYI = "fyi"  # zur Information
    ACTION = "action"  # Handlungsbedarf
    DEADLINE = "deadline"  # Frist


class Audience(StrEnum):
    KOMMUNE = "kommune"
    LANDKREIS = "landkreis"
    UNTERNEHMEN = "unternehmen"
    HOCHSCHULE = "hochschule"  # Hochschule/Forschung
    KAMMER = "kammer"  # Kammer/Verband


class EditionState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"


PRIORITY_LABELS = {
    Priority.FYI: "Zur Information",
    Priority.ACTION: "Handlungsbedarf",
    Priority.DEADLINE: "Frist",
}
AUDIENCE_LABELS = {
    Audience.KOMMUNE: "Kommune",
    Audience.LANDKREIS: "Landkreis",
    Audience.UNTERNEHMEN: "Unternehmen",
    Audience.HOCHSCHULE: "Hochschule/Forschung",
    Audience.KAMMER: "Kammer/Verband",
}
DOC_TYPE_LABELS = {
    DocType.PRESS_RELEASE: "Pressemitteilung",
    DocType.LEGISLATIVE_PROPOSAL: "Gesetzgebungsvorschlag",
    DocType.ADOPTED_ACT: "Rechtsakt",
    DocType.FUNDING_CALL: "Förderaufruf",
    DocType.CONSULTATION: "Konsultation",
    DocType.EVENT: "Veranstaltung",
    DocType.OTHER: "Sonstiges",
}
DEADLINE_LABELS = {
    DeadlineKind.CALL_CLOSING: "Einreichungsschluss",
    DeadlineKind.CALL_OPENING: "Öffnung",
    DeadlineKind.CONSULTATION_END: "Konsultation bis",
    DeadlineKind.EVENT: "Termin",
    DeadlineKind.DEADLINE: "Frist",
}
EDITION_STATE_LABELS = {
    EditionState.DRAFT: "Entwurf",
    EditionState.APPROVED: "Freigegeben",
    EditionState.SCHEDULED: "Geplant",
    EditionState.SENDING: "Wird versandt",
    EditionState.SENT: "Versandt",
}


@dataclass(frozen=True, slots=True)
class StaffUser:
    id: int
    name: str
    role: Role
    active: bool = True
    password_hash: str = field(default="", repr=False)  # never in logs or tracebacks
    failed_logins: int = 0
    locked_until: dt.datetime | None = None
    last_login: dt.datetime | None = None
    email: str | None = None  # optional; the desk sends test digests here

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class Annotation:
    """The office's word on an item: German headline, comment, priority, audiences."""

    item_id: int
    headline: str = ""
    comment_md: str = ""  # Markdown; rendered and sanitised on display
    priority: Priority = Priority.FYI
    audiences: tuple[Audience, ...] = ()  # empty: for everyone
    version: int = 0  # optimistic locking: an edit names the version it started from
    updated_at: dt.datetime | None = None
    updated_by: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str  # accept, reject, topics, annotate, create, edition.approve …
    item_id: int | None = None
    edition_id: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Newsletter:
    id: str
    name: str
    description: str = ""
    cadence: str = "weekly"  # weekly | daily
    curated: bool = True  # weekly digest is curated; the daily one lists accepted items


def _hex_channels(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    if len(value) != 6:
        raise ValueError(f"not a #rgb or #rrggbb colour: {color!r}")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb (or #rgb) colour, 0 (black) … 1 (white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else float(((c + 0.055) / 1.055) ** 2.4)

    r, g, b = (linear(c) for c in _hex_channels(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 … 21 (body text needs ≥ 4.5)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True, slots=True)
class Branding:
    """office.yaml `branding:`: how the office's mails look (colours as #rrggbb).

    primary_color is used for links, headings' accents and badges on background_color,
    so it must be as readable as text_color (contrast ≥ 4.5, checked when loading).
    """

    primary_color: str = "#003399"
    text_color: str = "#1d2330"
    background_color: str = "#ffffff"
    logo_url: str = ""  # https only; the mail is complete without it
    logo_alt: str = ""  # required with a logo: the office's name is used when empty


@dataclass(frozen=True, slots=True)
class Office:
    """office.yaml: who runs this installation, its newsletters and desk rules."""

    name: str
    newsletters: tuple[Newsletter, ...]
    four_eyes: bool = False  # approval needs a second person
    sender_email: str = "newsletter@example.org"  # From: of every mail
    sender_name: str = ""
    reply_to: str = ""
    imprint: str = ""  # Impressum, plain text lines, in the footer of every mail
    privacy_url: str = ""  # Datenschutzerklärung
    default_sections: tuple[str, ...] = ("Meldungen",)  # sections a new edition starts with
    branding: Branding = field(default_factory=lambda: Branding())

    def newsletter(self, newsletter_id: str) -> Newsletter | None:
        return next((n for n in self.newsletters if n.id == newsletter_id), None)


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


class SenderOutcome(StrEnum):
    RUNNING = "running"
    DONE = "done"  # nothing left for it: the edition is sent, or the rest is other senders'
    STOPPED = "stopped"  # a transient failure (429, 5xx, no connection, disk full): rest queued
    HALTED = "halted"  # the backend refuses the key: rest queued until someone fixes it
    FAILED = "failed"  # an error ended it (the database went away, a bug)
    LOST = "lost"  # another sender found it gone (lease expired, process dead)


@dataclass(frozen=True, slots=True)
class ProcessRef:
    """Which process holds a lease: `instance` (host:pid) for people; `key` (boot id,
    pid namespace, start time) says whether a pid on this host is still that process."""

    host: str
    pid: int
    key: str

    @property
    def instance(self) -> str:
        return f"{self.host}:{self.pid}"


@dataclass(frozen=True, slots=True)
class Sender:
    """One process at work on one edition (`eudigest send`, `send-due`), with a lease it
    renews while it runs. Delivery rows it claims are its own until it ends or is gone."""

    id: int
    edition_id: int
    process: ProcessRef
    started_at: dt.datetime
    beat_at: dt.datetime
    lease_until: dt.datetime
    outcome: SenderOutcome = SenderOutcome.RUNNING
    ended_at: dt.datetime | None = None
    detail: str | None = None
    queued: int | None = None  # deliveries still queued when it ended

    @property
    def instance(self) -> str:
        return self.process.instance

    def running(self, now: dt.datetime) -> bool:
        """Running and within its lease (a sender past its lease counts as gone)."""
        return self.ended_at is None and self.lease_until >= now


# ---------------------------------------------------------------- stored values


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
    topics: tuple[TopicAssignment, ...] = ()
    references: tuple[str, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    versions: tuple[ItemVersion, ...] = ()
    annotation: Annotation | None = None
    # Every source that carried it (sightings), `source_id` (the first) first.
    sources: tuple[str, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({v.language for v in self.versions} or {self.language}))


@dataclass(frozen=True, slots=True)
class SourceHealth:
    source: Source
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: dt.datetime | None = None
    last_success: dt.datetime | None = None
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    consecutive_failures: int = 0
    next_try: dt.datetime | None = None
    items: int = 0


# ---------------------------------------------------------------- reports


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


@dataclass(slots=True)
class IngestReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def attempted(self) -> list[SourceReport]:
        return [r for r in self.sources if r.status != "deferred"]

    @property
    def failed(self) -> list[SourceReport]:
        return [r for r in self.sources if r.status == "failed"]

    @property
    def succeeded(self) -> list[SourceReport]:
        return [r for r in self.sources if r.status in ("ok", "not_modified")]

    def total(self, attr: str) -> int:
        return sum(int(getattr(r, attr)) for r in self.sources)


# ---------------------------------------------------------------- dedupe values


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


# ---------------------------------------------------------------- subscribers


class OrgType(StrEnum):
    KOMMUNE = "kommune"
    LANDKREIS = "landkreis"
    UNTERNEHMEN = "unternehmen"
    HOCHSCHULE = "hochschule"
    KAMMER = "kammer"
    SONSTIGE = "sonstige"


ORG_TYPE_LABELS = {
    OrgType.KOMMUNE: "Kommune",
    OrgType.LANDKREIS: "Landkreis",
    OrgType.UNTERNEHMEN: "Unternehmen",
    OrgType.HOCHSCHULE: "Hochschule/Forschung",
    OrgType.KAMMER: "Kammer/Verband",
    OrgType.SONSTIGE: "Sonstige",
}


class SubscriberStatus(StrEnum):
    PENDING = "pending"  # signed up, not confirmed: never gets a digest
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"  # from everything; kept until erased


class SuppressionReason(StrEnum):
    BOUNCE = "bounce"
    DROPPED = "dropped"
    SPAMREPORT = "spamreport"
    UNSUBSCRIBE = "unsubscribe"
    ERASED = "erased"


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    status: SubscriberStatus
    created_at: dt.datetime
    name: str = ""
    organisation: str = ""
    org_type: OrgType = OrgType.SONSTIGE
    language: str = "de"
    topics: tuple[str, ...] = ()  # empty: all topics
    newsletters: tuple[str, ...] = ()  # active subscriptions
    consent_at: dt.datetime | None = None  # when the sign-up (consent) was given
    consent_text: str = ""  # version of the consent text shown
    confirmed_at: dt.datetime | None = None
    token_version: int = 1  # raising it invalidates every link sent before


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One message to one recipient, rendered, ready for a Mailer."""

    to: str
    subject: str
    text: str
    html: str
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    category: str = "transactional"  # no personal data: SendGrid keeps it
    reference: str = ""  # opaque id for logs and SendGrid custom_args


@dataclass(frozen=True, slots=True)
class SendResult:
    reference: str
    ok: bool
    message_id: str | None = None
    error: str | None = None
    permanent: bool = False


class Mailer(Protocol):
    """Sends rendered messages: the outbox (files) or SendGrid. Chosen in bootstrap."""

    def send(self, messages: list[OutgoingEmail]) -> list[SendResult]: ...
