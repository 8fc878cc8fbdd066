"""Pure rules of sending: what settings stop every digest, and wall-clock times that
happen twice or never in the office's zone (the clock change)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pipeline.model import IngestReport, SourceReport, local_time_issue, send_blockers
from pipeline.scheduler.child import summary

BRUSSELS = ZoneInfo("Europe/Brussels")
KEY = "k" * 40


@pytest.mark.parametrize(
    ("base_url", "secret_key", "backend", "sendgrid_key", "variables"),
    [
        ("https://eu.example", KEY, "outbox", None, []),
        ("https://eu.example", KEY, "sendgrid", "SG.x", []),
        (None, KEY, "outbox", None, ["EUDIGEST_BASE_URL"]),
        ("http://eu.example", KEY, "outbox", None, ["EUDIGEST_BASE_URL"]),
        ("HTTPS://eu.example", KEY, "outbox", None, []),
        ("https://eu.example", None, "outbox", None, ["EUDIGEST_SECRET_KEY"]),
        ("https://eu.example", KEY, "sendgrid", None, ["SENDGRID_API_KEY"]),
        (None, None, "outbox", None, ["EUDIGEST_BASE_URL", "EUDIGEST_SECRET_KEY"]),
    ],
)
def test_send_blockers_name_the_variable(
    base_url: str | None,
    secret_key: str | None,
    backend: str,
    sendgrid_key: str | None,
    variables: list[str],
) -> None:
    found = send_blockers(
        base_url=base_url,
        secret_key=secret_key,
        mail_backend=backend,
        sendgrid_api_key=sendgrid_key,
    )
    assert [b.variable for b in found] == variables
    for b in found:
        assert b.variable in b.message and b.variable in b.message_de


@pytest.mark.parametrize(
    ("wall", "issue"),
    [
        ("2026-10-25T02:30", "ambiguous"),  # 02:00–02:59 happens twice (CEST, then CET)
        ("2026-10-25T02:00", "ambiguous"),
        ("2026-10-25T01:59", None),
        ("2026-10-25T03:00", None),
        ("2026-03-29T02:30", "missing"),  # 02:00 → 03:00
        ("2026-03-29T03:00", None),
        ("2026-12-01T08:00", None),
    ],
)
def test_local_time_issue_in_brussels(wall: str, issue: str | None) -> None:
    assert local_time_issue(dt.datetime.fromisoformat(wall), BRUSSELS) == issue


def test_the_scheduler_line_of_a_fetch_names_sources_in_backoff() -> None:
    report = IngestReport(
        [
            SourceReport("ok-source", "ok"),
            SourceReport("ep-press", "deferred", failures=2),
            SourceReport("not-due", "deferred"),  # its interval has not passed: no failure
        ]
    )
    line = summary(report)
    assert line == ("1 sources fetched, 0 failed, 0 new items; 1 waiting in backoff (ep-press)")
