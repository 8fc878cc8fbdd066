"""The desk: staff accounts and roles, the office's annotation of an item, the audit trail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


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
    session_version: int = 0  # raised by logout and a new password: ends older sessions

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
class SavedView:
    """ "Meine Ansichten": a staff member's named inbox filters (the inbox's query string)."""

    id: int
    user_id: int
    name: str
    query: str
    created_at: dt.datetime
