"""Sources: the EU publication channels of sources.yaml, their health, what a fetch gave."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pipeline.model._common import EMPTY


class SourceKind(StrEnum):
    FEED = "feed"  # RSS 0.9x/1.0/2.0 or Atom, detected by feedparser
    HTML = "html"  # a page without a feed, scraped with CSS selectors
    API = "api"  # a JSON API, read by a named adapter
    OWN = "own"  # the office's own items, written in the desk (never fetched)


OWN_SOURCE_ID = "office"  # the built-in source of own items


class FetchStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"


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


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """How one source's fetch ended in an ingest run: what the run writes to its health,
    all sources in one write at the end."""

    source_id: str
    at: dt.datetime
    next_try: dt.datetime
    error: str | None = None  # None: a success (a body, or 304 Not Modified)
    etag: str | None = None  # a success's validators (kept from before when none came)
    last_modified: str | None = None


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
