"""Preflight: what is checked before an edition is approved and sent, and what was found.

A finding is `blocking` (approval is refused while it stands) or a warning (staff may
acknowledge it, audited). Each has a stable `code` (for scripts and tests), a German
`message` (for staff) and a `subject` that tells two findings of one code apart (an item
id, a link, a setting), so an acknowledgement names exactly one warning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum


class PreflightCode(StrEnum):
    # blocking
    OFFICE_PLACEHOLDER = "office_placeholder"  # a setting of office.yaml still the sample
    OFFICE_EMPTY = "office_empty"  # a setting every mail needs is empty
    BASE_URL_MISSING = "base_url_missing"
    BASE_URL_NOT_HTTPS = "base_url_not_https"
    SECRET_KEY_MISSING = "secret_key_missing"  # noqa: S105 (a code, not a secret)
    SENDGRID_KEY_MISSING = "sendgrid_key_missing"
    EDITION_EMPTY = "edition_empty"
    SECTION_EMPTY = "section_empty"
    # warnings
    DEADLINE_PASSED = "deadline_passed"
    LINK_FAILED = "link_failed"
    SENT_BEFORE = "sent_before"
    ENGLISH_LINK = "english_link"
    ACTION_WITHOUT_COMMENT = "action_without_comment"
    SUBJECT_TOO_LONG = "subject_too_long"
    REACH = "reach"


# The codes that say "office.yaml is not filled in yet"; the demo (outbox, demo
# subscriber only) may go on despite them, nothing else may.
OFFICE_CODES = frozenset({PreflightCode.OFFICE_PLACEHOLDER, PreflightCode.OFFICE_EMPTY})

MAX_SUBJECT = 78  # RFC 5322's recommended line length; longer subjects are cut by clients


@dataclass(frozen=True, slots=True)
class Finding:
    code: PreflightCode
    message: str  # German, for staff
    subject: str = ""  # what it is about (item id, URL, setting); "" for the edition
    blocking: bool = False

    @property
    def key(self) -> str:
        """What an acknowledgement names: code and subject (a long subject, such as a
        long link, by its SHA-256)."""
        subject = self.subject
        if len(subject) > 200:
            subject = "sha256:" + hashlib.sha256(subject.encode("utf-8")).hexdigest()
        return f"{self.code.value}:{subject}"


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """A member of staff has seen a warning and lets it stand (audited)."""

    edition_id: int
    key: str  # Finding.key
    actor: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Reach:
    """How many readers get what: confirmed readers of the newsletter, distinct
    renderings (segments), and readers to whom none of the edition's items goes."""

    readers: int
    variants: int
    nothing: int


@dataclass(frozen=True, slots=True)
class LinkStatus:
    url: str
    ok: bool
    detail: str = ""  # why it failed, in German ("HTTP 404", "nicht erreichbar")


@dataclass(frozen=True, slots=True)
class Preflight:
    """The checklist of one edition."""

    edition_id: int
    blocking: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()  # not acknowledged
    acknowledged: tuple[tuple[Finding, Acknowledgement], ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.blocking)

    def as_json(self) -> dict[str, list[dict[str, object]]]:
        def one(f: Finding) -> dict[str, object]:
            return {"code": f.code.value, "message": f.message, "subject": f.subject}

        return {
            "blocking": [one(f) for f in self.blocking],
            "warnings": [one(f) for f in self.warnings],
            "acknowledged": [
                {**one(f), "by": a.actor, "at": a.at.isoformat()} for f, a in self.acknowledged
            ],
        }


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A personal API token of a staff account (only its hash is stored)."""

    id: int
    user_id: int
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class ReviewRequest:
    """Four eyes: the author asks a colleague to approve an edition."""

    edition_id: int
    requested_by: str
    at: dt.datetime
