"""German labels and formats for the desk's templates (registered as Jinja filters)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_decimal

from pipeline.model import (
    AUDIENCE_LABELS,
    DEADLINE_LABELS,
    DOC_TYPE_LABELS,
    EDITION_STATE_LABELS,
    PRIORITY_LABELS,
    Audience,
    DeadlineKind,
    DocType,
    EditionState,
    ItemStatus,
    Priority,
    Role,
)
from pipeline.model.learning import (
    OUTPUT_LABELS,
    SUGGESTED_BY_LABELS,
    ModelOutput,
    ModelState,
    SuggestedBy,
    state_text,
)

LOCALE = "de_DE"
_GERMAN = Locale.parse("de")

STATUS_LABELS = {
    ItemStatus.NEW: "Neu",
    ItemStatus.ACCEPTED: "Übernommen",
    ItemStatus.REJECTED: "Abgelehnt",
    ItemStatus.DELETED: "Gelöscht",
}
ROLE_LABELS = {Role.EDITOR: "Redaktion", Role.ADMIN: "Administration"}


_LABELS: dict[type, Mapping[Any, str]] = {
    DocType: DOC_TYPE_LABELS,
    DeadlineKind: DEADLINE_LABELS,
    ItemStatus: STATUS_LABELS,
    Role: ROLE_LABELS,
    Priority: PRIORITY_LABELS,
    Audience: AUDIENCE_LABELS,
    EditionState: EDITION_STATE_LABELS,
    SuggestedBy: SUGGESTED_BY_LABELS,
    ModelOutput: OUTPUT_LABELS,
}


def label(value: object) -> str:
    """The German label of a domain enum value (by its type); else the value itself."""
    table = _LABELS.get(type(value))
    return table.get(value, str(value)) if table else str(value)


def learning_de(state: ModelState) -> str:
    """What learning does for one output, for staff ("erst 40 Entscheidungen …")."""
    return state_text(state, german=True)


def doc_type_label(value: str) -> str:
    try:
        return DOC_TYPE_LABELS[DocType(value)]
    except ValueError:
        return value


def language_name(code: str) -> str:
    """'en' → 'Englisch'; unknown codes stay as they are."""
    return str(_GERMAN.languages.get(code.lower(), code))


def de_datetime(value: dt.datetime | None, tz: ZoneInfo) -> str:
    """25.11.2026, 09:30 in the office's zone; naive values are taken as UTC."""
    if value is None:
        return "–"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return str(_format_datetime(value, "dd.MM.yyyy, HH:mm", tzinfo=tz, locale=LOCALE))


def de_date(value: dt.date | dt.datetime | None, tz: ZoneInfo) -> str:
    """25.11.2026 (a datetime is first moved into the office's zone)."""
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(tz).date()
    return str(_format_date(value, "dd.MM.yyyy", locale=LOCALE))


def de_number(value: float | int, digits: int = 2) -> str:
    """0.74 → '0,74'; 12345 (digits=0) → '12.345'."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, pattern, locale=LOCALE))


def safe_href(url: str | None) -> str | None:
    """Only http(s) links reach an href; anything else (javascript:, data:) is dropped."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def datetime_local_value(value: dt.datetime | None, tz: ZoneInfo) -> str:
    """The value of an <input type=datetime-local>: 2026-11-27T09:00 in the office's zone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def parse_datetime_local(text: str, tz: ZoneInfo) -> dt.datetime:
    """'2026-11-27T09:00' in the office's zone → an aware UTC datetime. ValueError if bad."""
    naive = dt.datetime.strptime(text.strip()[:16], "%Y-%m-%dT%H:%M")  # noqa: DTZ007
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


AUDIT_ACTIONS = {
    "status.accepted": "Übernommen",
    "status.rejected": "Abgelehnt",
    "status.new": "Zurück in den Eingang",
    "status.deleted": "Gelöscht",
    "topics": "Themen gesetzt",
    "annotate": "Einordnung gespeichert",
    "create": "Angelegt",
    "edition.create": "Ausgabe angelegt",
    "edition.meta": "Titel/Einleitung geändert",
    "edition.section": "Abschnitte geändert",
    "edition.place": "In Ausgabe eingefügt/verschoben",
    "edition.move": "Reihenfolge geändert",
    "edition.remove": "Aus Ausgabe entfernt",
    "edition.approved": "Freigegeben",
    "edition.scheduled": "Versand geplant",
    "edition.draft": "Zurück in Entwurf",
    "edition.sending": "Versand begonnen",
    "edition.sent": "Versandt",
    "edition.test_send": "Testversand",
    "deliveries.sent": "Ungeklärte Zustellungen als zugestellt gewertet",
    "deliveries.resend": "Ungeklärte Zustellungen erneut in die Warteschlange",
}


def audit_action(action: str) -> str:
    """German words for the audit trail's action names; unknown names stay as they are."""
    return AUDIT_ACTIONS.get(action, action)
