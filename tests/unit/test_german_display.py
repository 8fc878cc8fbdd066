"""German where staff and subscribers read: plurals, history lines, source labels."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.model import deadline_label_de
from pipeline.scheduler.cronfile import load_cron
from pipeline.status import source_error_de
from pipeline.text import de_count
from pipeline.web.formatting import audit_action, audit_detail

BERLIN = ZoneInfo("Europe/Berlin")
TOPICS = {"funding": "Förderung", "industry": "Industrie"}


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "0 Zeilen"), (1, "1 Zeile"), (2, "2 Zeilen"), (1234, "1.234 Zeilen"), (-1, "-1 Zeile")],
)
def test_de_count_picks_the_german_plural(n: int, expected: str) -> None:
    assert de_count(n, "Zeile", "Zeilen") == expected


def test_history_shows_topic_names_not_ids() -> None:
    detail = audit_detail("topics", "funding, industry", BERLIN, TOPICS)
    assert detail == "Förderung, Industrie"
    assert audit_detail("topics", "keine", BERLIN, TOPICS) == "keine"
    assert audit_detail("topics", "gone_topic", BERLIN, TOPICS) == "gone_topic"


def test_history_shows_german_times_in_the_office_zone() -> None:
    stored = dt.datetime(2026, 12, 6, 2, 34, tzinfo=dt.UTC).isoformat()
    assert stored == "2026-12-06T02:34:00+00:00"  # as curate writes it
    assert audit_detail("edition.scheduled", stored, BERLIN, TOPICS) == "06.12.2026, 03:34"
    summer = "2026-07-01T10:00:00+00:00"
    assert audit_detail("edition.scheduled", summer, BERLIN, TOPICS) == "01.07.2026, 12:00"


def test_history_counts_items_in_german() -> None:
    assert audit_detail("edition.create", "1 Meldungen", BERLIN, TOPICS) == "1 Meldung"
    assert audit_detail("edition.create", "1234 Meldungen", BERLIN, TOPICS) == "1.234 Meldungen"


def test_other_details_stay_as_written() -> None:
    for detail in ("Versand gestoppt", "3 Meldungen neu", "Priorität: Wichtig; Überschrift: „T“"):
        assert audit_detail("edition.unscheduled", detail, BERLIN, TOPICS) == detail
    assert audit_action("user.unthrottled") == "Anmeldesperre aufgehoben"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Opening", ""),
        ("Deadline", ""),
        ("closing  date", ""),
        ("Event", ""),
        ("Feedback period ends", ""),
        ("Stage 2 deadline", "Frist der 2. Stufe"),
        ("Frist", "Frist"),
        ("Anmeldeschluss Workshop", "Anmeldeschluss Workshop"),
    ],
)
def test_deadline_labels_from_sources_in_german(label: str, expected: str) -> None:
    assert deadline_label_de(label) == expected


# ---------------------------------------------------------------- the status page


def test_every_job_in_cron_yaml_has_a_german_label() -> None:
    cron = load_cron(Path(__file__).resolve().parents[2] / "cron.yaml")
    assert cron.jobs
    for job in cron.jobs:
        assert job.label_de, job.id
        assert not job.label_de.startswith(("Fetch", "Send", "Draft", "Learn")), job.id


@pytest.mark.parametrize(
    ("error", "german"),
    [
        ("timed out after 30 s (connect)", "Zeitüberschreitung"),
        ("timed out after 120 s (total for one fetch)", "Zeitüberschreitung"),
        ("cannot connect: name or service not known (no network?)", "(DNS)"),
        ("cannot connect: temporary failure in name resolution (no network?)", "(DNS)"),
        ("HTTP 404 Not Found", "gibt es nicht (mehr)"),
        ("HTTP 410 Gone", "gibt es nicht (mehr)"),
        ("HTTP 503 Service Unavailable", "Störung beim Server"),
        ("HTTP 500 Internal Server Error", "Störung beim Server"),
        ("HTTP 403 Forbidden", "verweigert den Zugriff"),
        ("got an anti-bot JavaScript challenge, not a feed (Content-Type text/html)", "Anti-Bot"),
        ("got an HTML page, not a feed (Content-Type text/html)", "ließ sich nicht lesen"),
        ("the document is XML but not an RSS or Atom feed", "ließ sich nicht lesen"),
        (
            "refused to connect to 10.0.0.5:443 (private address) for host 'x.example'; ",
            "Abruf verweigert",
        ),
        ("connection refused", "Verbindung abgelehnt"),
        ("empty body: the server sent no content", "leere Antwort"),
        ("something nobody foresaw", "Abruf fehlgeschlagen."),
    ],
)
def test_source_errors_are_explained_in_german(error: str, german: str) -> None:
    assert german in source_error_de(error)


def test_no_error_no_explanation() -> None:
    assert source_error_de(None) == source_error_de("") == ""
