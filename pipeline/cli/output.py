"""Output of every command: the consoles, JSON shapes, local times.

Console(stderr=False)   rich's Console, created on first use (importing rich costs a
                        tenth of the start-up); `json(data)` writes JSON straight to
                        a pipe and through rich (colours) only on a terminal;
                        `status_line(text, show=…)` a spinner while a long job runs
RankedTable             a table fitted to the terminal: the flexible column (a title)
                        wraps, low-ranked columns are left out with a note naming
                        them and `--wide`/`--json`; never a column dropped silently
item_json, health_json, source_report_json, run_json   the JSON shapes
iso, local_time, short_time                            times as commands print them
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.model import reasons_as_of
from pipeline.model.feedback import FeedbackCounts

if TYPE_CHECKING:
    import rich.console

    from pipeline.model import Item, SourceHealth, SourceReport


class Console:
    """stdout (or stderr) for a command; rich is imported on first use, not for --help."""

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr
        self._rich: rich.console.Console | None = None

    @property
    def stream(self) -> TextIO:
        return sys.stderr if self.stderr else sys.stdout

    @property
    def is_terminal(self) -> bool:
        return self.stream.isatty()

    def rich(self) -> rich.console.Console:
        if self._rich is None:
            from rich.console import Console as RichConsole

            # Piped or in a journal, rich would squeeze tables into 80 columns and drop
            # whole columns.
            width = None if self.is_terminal or os.environ.get("COLUMNS") else 160
            self._rich = RichConsole(stderr=self.stderr, soft_wrap=True, width=width)
        return self._rich

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.rich().print(*objects, **kwargs)

    def status(self, text: str) -> Any:
        return self.rich().status(text)

    @contextlib.contextmanager
    def status_line(self, text: str, *, show: bool) -> Iterator[Callable[[str], None]]:
        """rich's status line (a spinner and `text`) while the block runs, when `show`
        and this console is a terminal; yields what replaces its text (a no-op else)."""
        if not (show and self.is_terminal):
            yield lambda _text: None
            return
        status = self.status(text)
        status.start()
        try:
            yield status.update
        finally:
            status.stop()

    def json(self, data: Any) -> None:
        """JSON: as text to a pipe (no rich needed), highlighted on a terminal."""
        if self.is_terminal:
            self.rich().print_json(data=data)
            return
        self.stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        self.stream.flush()


@dataclass(frozen=True)
class Column:
    """A column of a RankedTable. rank 0 is never left out; higher ranks go first.
    `flex`: wraps to fit (at least `min_width`), like a title; others stay on one line."""

    name: str
    rank: int = 0
    flex: bool = False
    min_width: int = 20


@dataclass
class RankedTable:
    """Rows fitted into the console's width. Too narrow: the highest-ranked columns are
    left out, and `print` says which and how to see them (`--wide`, `--json`)."""

    title: str
    columns: list[Column]
    rows: list[list[str]] = field(default_factory=list)

    def add_row(self, *cells: str) -> None:
        self.rows.append(list(cells))

    def _widest(self, i: int) -> int:
        from rich.text import Text

        cells = [Text.from_markup(r[i]).cell_len for r in self.rows]
        return max([len(self.columns[i].name), *cells])

    def _width(self, i: int) -> int:
        """What column i needs: all of it on one line, or `min_width` when it wraps."""
        col = self.columns[i]
        return min(self._widest(i), col.min_width) if col.flex else self._widest(i)

    def _needed(self, keep: list[int]) -> int:
        # rich's box: a border, one space each side of a cell, a line between cells
        return 1 + 3 * len(keep) + sum(self._width(i) for i in keep)

    def fit(self, width: int) -> list[int]:
        """The columns kept at `width`: drop the highest rank until the rest fits."""
        keep = list(range(len(self.columns)))
        while self._needed(keep) > width:
            droppable = [i for i in keep if self.columns[i].rank > 0]
            if not droppable:
                break
            worst = max(droppable, key=lambda i: (self.columns[i].rank, i))
            keep.remove(worst)
        return keep

    def print(self, out: Console, *, wide: bool = False, hint: str = "--wide or --json") -> None:
        from rich.table import Table

        console = out.rich()
        keep = list(range(len(self.columns)))
        width = None
        if wide:
            width = max(console.width, self._needed(keep) + 40)
        else:
            keep = self.fit(console.width)
        table = Table(title=self.title, title_justify="left")
        for i in keep:
            col = self.columns[i]
            if col.flex:
                table.add_column(col.name, overflow="fold", min_width=self._width(i), ratio=1)
            else:
                table.add_column(col.name, no_wrap=True)
        for row in self.rows:
            table.add_row(*(row[i] for i in keep))
        out.print(table, width=width)
        hidden = [c.name for i, c in enumerate(self.columns) if i not in keep]
        if hidden:
            out.print(
                f"{', '.join(hidden)}: left out at {console.width} columns; {hint} shows "
                f"{'it' if len(hidden) == 1 else 'them'}.",
                highlight=False,
                markup=False,
                soft_wrap=False,
            )


def item_json(
    i: Item,
    tz: dt.tzinfo,
    today: dt.date | None = None,
    feedback: FeedbackCounts | None = None,
) -> dict[str, Any]:
    """An item for `--json`; `today` words date-dependent reasons ("Frist in 3 Wochen");
    `feedback`: readers' answers (useful, not_useful, more; issue 17)."""
    day = today or dt.datetime.now(tz).date()
    found: dict[str, Any] = {
        "id": i.id,
        "source": i.source_id,  # the first source to carry it
        "sources": list(i.sources or (i.source_id,)),  # every source that carried it
        "title": i.title,
        "url": i.url,
        "summary_html": i.summary_html,
        "published": i.published.astimezone(tz).isoformat(),
        "fetched_at": i.fetched_at.astimezone(tz).isoformat(),
        "language": i.language,
        "languages": list(i.languages),
        "versions": [
            {"language": v.language, "title": v.title, "url": v.url, "source": v.source_id}
            for v in i.versions
        ],
        "topics": [t.topic_id for t in i.topics],
        "topic_confidence": {t.topic_id: round(t.confidence, 3) for t in i.topics},
        "doc_type": i.doc_type.value,
        "references": list(i.references),
        "deadlines": [
            {"date": d.date.isoformat(), "kind": d.kind.value, "label": d.label}
            for d in i.deadlines
        ],
        "relevance": round(i.relevance, 3),
        "relevance_reasons": list(reasons_as_of(i.relevance_reasons, i.deadlines, day)),
        "suggested_by": i.suggested_by.value,  # rules, or model (learnt from the desk)
        "suggestion": None if i.suggestion is None else round(i.suggestion, 3),
        "status": i.status.value,
        "annotation": None
        if i.annotation is None
        else {
            "headline": i.annotation.headline,
            "comment_md": i.annotation.comment_md,
            "priority": i.annotation.priority.value,
            "audiences": [a.value for a in i.annotation.audiences],
            "updated_by": i.annotation.updated_by,
        },
        "family": i.family,
        "feedback": (feedback or FeedbackCounts()).as_dict(),
    }
    if i.doc_type.value == "funding_call":  # who may apply; null: "siehe Aufruf"
        found["eligibility"] = i.eligibility.as_json() if i.eligibility else None
    return found


def health_json(h: SourceHealth) -> dict[str, Any]:
    return {
        "id": h.source.id,
        "name": h.source.name,
        "institution": h.source.institution,
        "url": h.source.url,
        "kind": h.source.kind.value,
        "language": h.source.language,
        "enabled": h.source.enabled,
        "last_attempt": iso(h.last_attempt),
        "last_success": iso(h.last_success),
        "last_error": h.last_error,
        "last_error_at": iso(h.last_error_at),
        "consecutive_failures": h.consecutive_failures,
        "next_try": iso(h.next_try),
        "etag": h.etag,
        "last_modified": h.last_modified,
        "items": h.items,
    }


def source_report_json(r: SourceReport) -> dict[str, Any]:
    return {
        "source": r.source_id,
        "status": r.status,
        "entries": r.entries,
        "new": r.new,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "suppressed": r.suppressed,
        "error": r.error,
        "warnings": list(r.warnings),
        "next_try": iso(r.next_try),
        "failures": r.failures,  # deferred with failures: waits in backoff
    }


def run_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "job": r.job,
        "key": r.key,
        "scheduled_for": iso(r.scheduled_for),
        "started_at": iso(r.started_at),
        "finished_at": iso(r.finished_at),
        "duration_s": r.duration_s,
        "outcome": r.outcome,
        "instance": r.instance,
        "attempts": r.attempts,
        "detail": r.detail,
    }


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def local_time(value: dt.datetime, tz: dt.tzinfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def short_time(iso: str | None) -> str:
    """An ISO time of edition_json as `2026-11-25 10:30+01:00`."""
    return dt.datetime.fromisoformat(iso).isoformat(" ", "minutes") if iso else ""
