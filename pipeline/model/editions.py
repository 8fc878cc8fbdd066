"""Editions: one issue of a newsletter (draft → approved → scheduled → sending → sent),
its sections and ordered items; segments: subscribers who receive identical content.

A send that cannot go on for a reason a person must fix (configuration, a refused
SendGrid key) moves the edition to HALTED with the reason in German ("Versand
angehalten: …"); staff resume it from the desk after the fix (HALTED → SENDING):

    approved | scheduled | sending ──(a blocker, a refused key)──► halted
    halted ──"Versand fortsetzen" (or `eudigest send ID`)──► sending
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.model.corrections import CorrectionNote
    from pipeline.model.dossiers import DossierNews
    from pipeline.model.eligibility import Applicant
    from pipeline.model.items import Item
    from pipeline.model.subscribers import Subscriber


class EditionState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    HALTED = "halted"  # sending stopped for a reason a person must fix: halt_reason
    SENT = "sent"


EDITION_STATE_LABELS = {
    EditionState.DRAFT: "Entwurf",
    EditionState.APPROVED: "Freigegeben",
    EditionState.SCHEDULED: "Geplant",
    EditionState.SENDING: "Wird versandt",
    EditionState.HALTED: "Versand angehalten",
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
    halt_reason: str | None = None  # German, what a person must fix (HALTED only)
    halted_at: dt.datetime | None = None

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
    # …and, where funding calls say who may apply, ("eligible", (call id, True/False)…) last
    | tuple[Any, ...]
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
    # the readers' kind of applicant where the edition has funding calls that say who may
    # apply (their calls come first, issue 17); None otherwise
    applicant: Applicant | None = None

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(item.id for _, items in self.sections for item in items)


@dataclass(frozen=True, slots=True)
class SendBlocker:
    """Why no digest can go out until a person changes `variable` (a setting or a file).

    `message` is English (logs, the command line's stderr), `message_de` German (the desk,
    the status page, the edition's halt reason); both name the variable."""

    code: str
    variable: str
    message: str
    message_de: str


def send_blockers(
    *,
    base_url: str | None,
    secret_key: str | None,
    mail_backend: str = "outbox",
    sendgrid_api_key: str | None = None,
) -> tuple[SendBlocker, ...]:
    """What stops every digest from going out, from the settings alone (pure).

    A digest's links (preferences, one-click unsubscribe) are absolute, signed and, for
    List-Unsubscribe-Post (RFC 8058), https: without these the send would stop midway."""
    found: list[SendBlocker] = []
    if not base_url:
        found.append(
            SendBlocker(
                "base_url_missing",
                "EUDIGEST_BASE_URL",
                "EUDIGEST_BASE_URL is not set: the links in every mail need the public "
                "https address of this installation",
                "EUDIGEST_BASE_URL ist nicht gesetzt: Die Links in jeder E-Mail brauchen "
                "die öffentliche https-Adresse dieser Installation.",
            )
        )
    elif not base_url.lower().startswith("https://"):
        found.append(
            SendBlocker(
                "base_url_not_https",
                "EUDIGEST_BASE_URL",
                f"EUDIGEST_BASE_URL must start with https:// (it is {base_url}): one-click "
                "unsubscribe (List-Unsubscribe-Post) needs an https link",
                f"EUDIGEST_BASE_URL muss mit https:// beginnen (jetzt: {base_url}): Die "
                "Abmeldung mit einem Klick braucht einen https-Link.",
            )
        )
    if not secret_key:
        found.append(
            SendBlocker(
                "secret_key_missing",
                "EUDIGEST_SECRET_KEY",
                "EUDIGEST_SECRET_KEY is not set: the links in every mail are signed with it",
                "EUDIGEST_SECRET_KEY ist nicht gesetzt: Die Links in jeder E-Mail werden "
                "damit signiert.",
            )
        )
    if mail_backend == "sendgrid" and not sendgrid_api_key:
        found.append(
            SendBlocker(
                "sendgrid_key_missing",
                "SENDGRID_API_KEY",
                "SENDGRID_API_KEY is not set although EUDIGEST_MAIL_BACKEND=sendgrid",
                "SENDGRID_API_KEY ist nicht gesetzt, obwohl EUDIGEST_MAIL_BACKEND=sendgrid "
                "gewählt ist.",
            )
        )
    return tuple(found)


def refused_key_reason(detail: str) -> str:
    """The German halt reason when SendGrid refuses the key (401/403); `detail` is its
    (redacted) answer."""
    return (
        "SendGrid lehnt den API-Schlüssel ab: SENDGRID_API_KEY prüfen (gültig, mit der "
        f"Berechtigung „Mail Send“). Antwort von SendGrid: {detail}"
    )


def local_time_issue(naive: dt.datetime, tz: dt.tzinfo) -> str | None:
    """ "ambiguous" when this wall-clock time happens twice in `tz` (the autumn hour the
    clocks go back), "missing" when it never happens (the spring gap), else None."""
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = first.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
    return "ambiguous" if back == naive else "missing"


def local_time_message(naive: dt.datetime, tz: dt.tzinfo, issue: str, *, german: bool) -> str:
    """Why a send time without an offset is refused, and how to give one (`issue` from
    `local_time_issue`)."""
    offsets = sorted(
        {naive.replace(tzinfo=tz, fold=f).strftime("%z") for f in (0, 1)}, reverse=True
    )
    first, second = (f"{o[:3]}:{o[3:]}" for o in offsets)  # summer, winter
    when = naive.strftime("%Y-%m-%dT%H:%M")
    if german:
        day = naive.strftime("%d.%m.%Y, %H:%M Uhr")
        if issue == "ambiguous":
            return (
                f"Den {day} gibt es in der Zeitzone {tz} zweimal (Ende der Sommerzeit): "
                f"{when}{first} (das erste Mal, Sommerzeit) und {when}{second} (das zweite "
                "Mal, Winterzeit). Bitte unter „Bei doppelter Uhrzeit“ wählen, welches gemeint "
                "ist, oder eine andere Uhrzeit. Es wurde nichts geplant."
            )
        return (
            f"Den {day} gibt es in der Zeitzone {tz} nicht (Beginn der Sommerzeit: die Uhren "
            f"springen eine Stunde vor). Bitte eine andere Uhrzeit wählen oder den Zeitpunkt "
            f"mit Versatz angeben, z. B. {when}{second}. Es wurde nichts geplant."
        )
    if issue == "ambiguous":
        return (
            f"{when} happens twice in {tz} (the clocks go back): give the offset, "
            f"{when}{first} (the first, summer time) or {when}{second} (the second, winter "
            "time); nothing was scheduled"
        )
    return (
        f"{when} does not exist in {tz} (the clocks go forward an hour): give another time "
        f"or an explicit offset such as {when}{second}; nothing was scheduled"
    )
