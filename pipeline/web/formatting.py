"""German labels for the desk's templates (registered as Jinja filters), and the values of
datetime-local inputs. German dates, numbers, language names, safe links and Markdown come
from pipeline.text."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from pipeline import text
from pipeline.errors import InvalidInput
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
    local_time_issue,
    local_time_message,
)
from pipeline.model.learning import (
    OUTPUT_LABELS,
    SUGGESTED_BY_LABELS,
    ModelOutput,
    ModelState,
    SuggestedBy,
    state_text,
)

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


def datetime_local_value(value: dt.datetime | None, tz: ZoneInfo) -> str:
    """The value of an <input type=datetime-local>: 2026-11-27T09:00 in the office's zone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


OCCURRENCES = {"first": 0, "second": 1}  # the form's „Bei doppelter Uhrzeit“: fold


def parse_datetime_local(text: str, tz: ZoneInfo, occurrence: str = "") -> dt.datetime:
    """'2026-11-27T09:00' in the office's zone → an aware UTC datetime. ValueError if bad;
    InvalidInput (German) for a time that never happens (the spring gap), or happens twice
    (the hour the clocks go back) unless `occurrence` says which: "first" or "second"."""
    naive = dt.datetime.strptime(text.strip()[:16], "%Y-%m-%dT%H:%M")  # noqa: DTZ007
    issue = local_time_issue(naive, tz)
    if issue == "ambiguous" and occurrence in OCCURRENCES:
        return naive.replace(tzinfo=tz, fold=OCCURRENCES[occurrence]).astimezone(dt.UTC)
    if issue is not None:
        raise InvalidInput(local_time_message(naive, tz, issue, german=True))
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


AUDIT_ACTIONS = {
    "eligibility": "Antragsberechtigung korrigiert",
    "status.accepted": "Übernommen",
    "status.rejected": "Abgelehnt",
    "status.new": "Zurück in den Eingang",
    "status.deleted": "Gelöscht",
    "topics": "Themen gesetzt",
    "deferred": "Auf später gelegt bis",
    "undeferred": "Wieder im Eingang",
    "annotate": "Einordnung gespeichert",
    "create": "Angelegt",
    "edition.create": "Ausgabe angelegt",
    "feedback.erased": "Leser-Hinweis gelöscht",
    "edition.meta": "Titel/Einleitung geändert",
    "edition.section": "Abschnitte geändert",
    "edition.place": "In Ausgabe eingefügt/verschoben",
    "edition.move": "Reihenfolge geändert",
    "edition.remove": "Aus Ausgabe entfernt",
    "edition.approved": "Freigegeben",
    "edition.scheduled": "Versand geplant",
    "edition.draft": "Zurück in Entwurf",
    "edition.sending": "Versand begonnen",
    "edition.halted": "Versand angehalten",
    "edition.resumed": "Versand fortgesetzt",
    "edition.sent": "Versandt",
    "edition.test_send": "Testversand",
    "edition.review_requested": "Freigabe angefordert",
    "edition.acknowledge": "Prüfliste",
    "deliveries.sent": "Ungeklärte Zustellungen als zugestellt gewertet",
    "deliveries.resend": "Ungeklärte Zustellungen erneut in die Warteschlange",
    "dossier.attach": "Einem Verfahren zugeordnet",
    "dossier.detach": "Aus einem Verfahren genommen",
    "dossier.follow": "Verfahren gefolgt",
    "dossier.unfollow": "Verfahren nicht mehr gefolgt",
    "dossier.note": "Einordnung des Verfahrens gespeichert",
    "user.unthrottled": "Anmeldesperre aufgehoben",
}


def audit_action(action: str) -> str:
    """German words for the audit trail's action names; unknown names stay as they are."""
    return AUDIT_ACTIONS.get(action, action)


def audit_detail(action: str, detail: str, tz: ZoneInfo, topic_labels: Mapping[str, str]) -> str:
    """The audit trail's detail as staff read it, rendered from what was stored (which stays
    as written: the learning loop reads the topic ids): topic ids become their names, an
    ISO instant ("2026-12-06T02:34:00+00:00") a German time in the office's zone, a count
    of items its German plural ("1 Meldung")."""
    if action == "topics":
        ids = [t.strip() for t in detail.split(",") if t.strip()]
        if not ids or ids == ["keine"]:
            return "keine"
        return ", ".join(topic_labels.get(t, t) for t in ids)
    count = _COUNT.fullmatch(detail.strip())
    if count is not None:  # "1 Meldungen" as written by edition.create
        return text.de_count(int(count.group(1)), "Meldung", "Meldungen")
    instant = _iso_instant(detail)
    if instant is not None:
        return text.de_datetime(instant, tz)
    return detail


_COUNT = re.compile(r"(\d+) Meldungen")


def _iso_instant(value: str) -> dt.datetime | None:
    """A datetime when the whole detail is one ISO 8601 instant with a time, else None."""
    candidate = value.strip()
    if "T" not in candidate or len(candidate) > 40:
        return None
    try:
        return dt.datetime.fromisoformat(candidate)
    except ValueError:
        return None
