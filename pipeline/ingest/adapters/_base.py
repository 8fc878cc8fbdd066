"""What every adapter shares: the request it asks fetch to send, and JSON loading.

A dossier adapter (`ep_procedures`, `oeil`) reads procedures, not items: its
`dossiers(source, result)` gives a DossierBatch, and `follow_ups` names the
detail requests a procedure list needs (one per procedure; each may fail alone).
An item adapter with `follow_ups` (`presscorner_documents`) reads a list the same way:
one document request per entry, each may fail alone, and `parse` reads each document."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pipeline.errors import ParseError
from pipeline.model import DossierRecord, FetchResult, RawItem, Source

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One HTTP request for fetch.py to send (it adds User-Agent and conditional headers).

    `files` maps a multipart field name to (filename, content, content type),
    the shape httpx takes for `files=`.
    """

    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=lambda: _NO_HEADERS)
    content: bytes | None = None
    data: Mapping[str, str] | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None


@dataclass(frozen=True, slots=True)
class DossierBatch:
    """What a dossier adapter read from one body."""

    records: tuple[DossierRecord, ...] = ()
    follow_ups: tuple[RequestSpec, ...] = ()  # detail requests (a procedure list)
    problems: tuple[str, ...] = ()  # what had to be left out, in English


@dataclass(frozen=True, slots=True)
class ItemFollowUp:
    """One more request for an item adapter: the answer will carry the family key `family`
    (ingest skips it when the store holds that key in the source's language already)."""

    family: str
    request: RequestSpec


@dataclass(frozen=True, slots=True)
class FollowUpBatch:
    """What an item adapter wants fetched after reading its list (`presscorner_documents`)."""

    follow_ups: tuple[ItemFollowUp, ...] = ()
    limit: int = 10  # requests per run, after dropping what the store has
    problems: tuple[str, ...] = ()  # what had to be left out, in English


@dataclass(frozen=True, slots=True)
class Adapter:
    """A named reader for one kind of non-feed source."""

    name: str
    parse: Callable[[Source, FetchResult], list[RawItem]]
    request: Callable[[Source], RequestSpec]
    check_options: Callable[[Mapping[str, Any]], list[str]] = lambda options: []
    dossiers: Callable[[Source, FetchResult], DossierBatch] | None = None
    # An item adapter that reads a list (parsed as a feed) and asks for one document per
    # entry; `parse` then reads each document.
    follow_ups: Callable[[Source, list[RawItem], dt.datetime], FollowUpBatch] | None = None


def default_request(source: Source) -> RequestSpec:
    return RequestSpec(url=source.url)


def load_json(source: Source, result: FetchResult) -> Any:
    """Decode the body as JSON or raise ParseError naming what came instead."""
    body = result.body
    if not body.strip():
        raise ParseError(source.id, "empty body: the server sent no content")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ParseError(source.id, "invalid JSON: the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        head = body.lstrip()[:15].lower()
        if head.startswith((b"<!doctype html", b"<html")):
            ctype = result.content_type or "unknown"
            what = "an anti-bot JavaScript challenge" if is_challenge(body) else "an HTML page"
            raise ParseError(source.id, f"got {what}, not JSON (Content-Type {ctype})") from None
        raise ParseError(
            source.id, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


_CHALLENGE_HINTS = (
    b"challenge",
    b"captcha",
    b"enable javascript",
    b"javascript is required",
    b"checking your browser",
    b"are you a robot",
    b"request unsuccessful",
    b"incapsula",
    b"cf-chl",
)


def is_challenge(body: bytes) -> bool:
    """An anti-bot page (a JavaScript challenge or a captcha) where content was expected."""
    head = body[:20000].lower()
    return b"<script" in head and any(h in head for h in _CHALLENGE_HINTS)


def wrong_shape(source: Source, adapter: str, expected: str) -> ParseError:
    return ParseError(
        source.id, f"JSON of the wrong shape for adapter '{adapter}': expected {expected}"
    )


def as_str_list(value: object) -> list[str]:
    """A JSON value as a list of strings: 'x' → ['x'], ['a', 1] → ['a', '1'], None → []."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None and not isinstance(v, (dict, list))]
    if isinstance(value, (dict, bool)):
        return []
    return [str(value)]


def dedupe(values: list[str]) -> tuple[str, ...]:
    """Keep the first of equal strings (after stripping), drop empty ones."""
    seen: dict[str, None] = {}
    for value in values:
        value = value.strip()
        if value and value not in seen:
            seen[value] = None
    return tuple(seen)


FEED_TITLE_OPTIONS = ("title_strip_pattern", "title_reference_pattern")


def check_feed_options(options: Mapping[str, Any]) -> list[str]:
    """Problems with a feed source's optional title patterns (Python regular expressions)."""
    problems = []
    for key in FEED_TITLE_OPTIONS:
        value = options.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            problems.append(f"options.{key} must be a regular expression")
            continue
        try:
            compiled = re.compile(value)
        except re.error as exc:
            problems.append(f"options.{key} {value!r} is not a valid regular expression: {exc}")
            continue
        if key == "title_reference_pattern" and compiled.groups < 1:
            problems.append(f"options.{key} needs one group (…) around the reference")
    return problems
