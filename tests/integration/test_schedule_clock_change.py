"""A send time in the hour the clocks change is refused until it names its offset.

Found under faults: `eudigest edition schedule ID --at 2026-10-25T02:30` (the autumn hour
that happens twice in Brussels and Berlin) was accepted silently as the first one, and a
time in the spring gap was not questioned. The command line (English) and the desk's
schedule form (German) now refuse both and say which offsets there are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pipeline.model import EditionState
from tests.integration.test_cli_editions import BRUSSELS, Desk, entries
from tests.support.feedserver import FeedServer


@pytest.fixture(scope="module")
def server() -> Any:
    with FeedServer() as srv:
        yield srv


@pytest.fixture
def desk(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any, server: FeedServer) -> Any:
    d = Desk(tmp_path, monkeypatch, capsys, server)
    assert d("init")[0] == 0
    yield d
    d.store.close()


def last_sunday(year: int, month: int) -> dt.date:
    day = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def next_year() -> int:
    return dt.datetime.now(BRUSSELS).year + 1  # the CLI reads the real clock: stay ahead


def approved(desk: Desk) -> int:
    desk.fetch_and_accept(entries(1))
    edition_id = desk.draft()
    desk.ok("edition", "approve", str(edition_id))
    return edition_id


def test_the_autumn_hour_that_happens_twice_needs_an_offset(desk: Desk) -> None:
    edition_id = approved(desk)
    line = desk.fails("edition", "schedule", str(edition_id), "--at", "2026-10-25T02:30")
    assert "2026-10-25T02:30 happens twice in Europe/Brussels" in line
    assert "2026-10-25T02:30+02:00" in line and "2026-10-25T02:30+01:00" in line
    assert desk.json("edition", "show", str(edition_id))["state"] == EditionState.APPROVED

    day = last_sunday(next_year(), 10).isoformat()
    desk.fails("edition", "schedule", str(edition_id), "--at", f"{day}T02:30")
    desk.ok("edition", "schedule", str(edition_id), "--at", f"{day}T02:30+01:00")  # the second
    shown = desk.json("edition", "show", str(edition_id))
    assert dt.datetime.fromisoformat(shown["scheduled_at"]) == dt.datetime.fromisoformat(
        f"{day}T01:30+00:00"
    )


def test_a_time_in_the_spring_gap_is_refused(desk: Desk) -> None:
    edition_id = approved(desk)
    day = last_sunday(next_year(), 3).isoformat()
    line = desk.fails("edition", "schedule", str(edition_id), "--at", f"{day}T02:30")
    assert f"{day}T02:30 does not exist in Europe/Brussels" in line and "+01:00" in line
    assert desk.json("edition", "show", str(edition_id))["state"] == EditionState.APPROVED
    desk.ok("edition", "schedule", str(edition_id), "--at", f"{day}T03:30")  # after the gap
