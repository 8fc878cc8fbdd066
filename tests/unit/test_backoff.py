"""Retry-After parsing and the backoff of failing sources (pure functions of fetch.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.ingest.fetch import RETRY_AFTER_CAP, next_try_after_failure, retry_after

NOW = dt.datetime(2026, 10, 21, 7, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)
SEC = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", NOW + 120 * SEC),
        ("0", NOW),
        ("  60 ", NOW + 60 * SEC),
        ("86400", NOW + RETRY_AFTER_CAP),
        ("999999", NOW + RETRY_AFTER_CAP),
        ("99999999999999999999999", NOW + RETRY_AFTER_CAP),
        ("Wed, 21 Oct 2026 07:28:00 GMT", NOW + 28 * MIN),  # IMF-fixdate
        ("Wednesday, 21-Oct-26 07:28:00 GMT", NOW + 28 * MIN),  # obsolete RFC 850
        ("Wed Oct 21 07:28:00 2026", NOW + 28 * MIN),  # obsolete asctime, read as GMT
        ("Wed, 21 Oct 2026 09:28:00 +0200", NOW + 28 * MIN),
        ("Tue, 20 Oct 2026 07:28:00 GMT", NOW),  # in the past: try now
        ("Fri, 31 Dec 9999 23:59:59 GMT", NOW + RETRY_AFTER_CAP),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("12 s", None),
        ("²", None),
        ("Wed", None),
    ],
)
def test_retry_after(value: str | None, expected: dt.datetime | None) -> None:
    assert retry_after(value, NOW) == expected


def test_retry_after_with_naive_now_is_naive_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert retry_after("Wed, 21 Oct 2026 09:28:00 +0200", naive) == naive + 28 * MIN
    assert retry_after("30", naive) == naive + 30 * SEC


@given(st.text(max_size=40))
def test_retry_after_is_none_or_within_a_day(value: str) -> None:
    when = retry_after(value, NOW)
    assert when is None or NOW <= when <= NOW + RETRY_AFTER_CAP


@pytest.mark.parametrize(
    ("failures", "interval", "retry_at", "max_minutes", "expected"),
    [
        (1, 60, None, 360, NOW + 60 * MIN),
        (2, 60, None, 360, NOW + 120 * MIN),
        (3, 60, None, 360, NOW + 240 * MIN),
        (4, 60, None, 360, NOW + 360 * MIN),  # capped
        (50, 60, None, 360, NOW + 360 * MIN),
        (10_000, 60, None, 360, NOW + 360 * MIN),  # no overflow
        (0, 60, None, 360, NOW + 60 * MIN),  # read as the first failure
        (1, 1440, None, 360, NOW + 360 * MIN),  # a daily source is retried within the cap
        (1, 0, None, 360, NOW + 1 * MIN),  # at least a minute
        (1, 60, None, 0, NOW + 1 * MIN),
        (2, 15, NOW + 8 * 60 * MIN, 360, NOW + 8 * 60 * MIN),  # Retry-After is later: it wins
        (3, 60, NOW + 10 * MIN, 360, NOW + 240 * MIN),  # Retry-After is earlier: backoff wins
        (1, 60, NOW - 60 * MIN, 360, NOW + 60 * MIN),  # Retry-After in the past
        (1, 60, NOW + dt.timedelta(days=3), 360, NOW + RETRY_AFTER_CAP),  # capped at 24 h
    ],
)
def test_next_try_after_failure(
    failures: int,
    interval: int,
    retry_at: dt.datetime | None,
    max_minutes: int,
    expected: dt.datetime,
) -> None:
    assert next_try_after_failure(failures, interval, NOW, retry_at, max_minutes) == expected


def test_next_try_grows_then_stays_at_the_cap() -> None:
    waits = [next_try_after_failure(n, 30, NOW, None, 360) - NOW for n in range(1, 8)]
    assert [w // MIN for w in waits] == [30, 60, 120, 240, 360, 360, 360]


aware_times = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2100, 1, 1),
    timezones=st.just(dt.UTC),
)


@given(
    failures=st.integers(min_value=0, max_value=100_000),
    interval=st.integers(min_value=0, max_value=100_000),
    now=aware_times,
    retry_offset=st.one_of(st.none(), st.integers(min_value=-(10**7), max_value=10**7)),
    max_minutes=st.integers(min_value=0, max_value=10_080),
)
def test_next_try_is_later_than_now_and_bounded(
    failures: int, interval: int, now: dt.datetime, retry_offset: int | None, max_minutes: int
) -> None:
    retry_at = None if retry_offset is None else now + dt.timedelta(seconds=retry_offset)
    when = next_try_after_failure(failures, interval, now, retry_at, max_minutes)
    assert when > now
    assert when <= now + max(dt.timedelta(minutes=max(max_minutes, 1)), RETRY_AFTER_CAP)
    if retry_at is not None and retry_at <= now + RETRY_AFTER_CAP:
        assert when >= retry_at  # a server's Retry-After (up to a day) is honoured


@given(failures=st.integers(min_value=1, max_value=60), interval=st.integers(1, 1440))
def test_more_failures_never_mean_an_earlier_try(failures: int, interval: int) -> None:
    earlier = next_try_after_failure(failures, interval, NOW, None, 360)
    later = next_try_after_failure(failures + 1, interval, NOW, None, 360)
    assert later >= earlier
