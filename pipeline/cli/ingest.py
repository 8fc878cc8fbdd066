"""`eudigest init | fetch | sources | items [delete|accept|reject]`: sources and items."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.cli.common import operator
from pipeline.cli.output import (
    Column,
    RankedTable,
    health_json,
    item_json,
    local_time,
    source_report_json,
)
from pipeline.errors import InvalidInput
from pipeline.model import IngestReport, ItemStatus, SourceReport

if TYPE_CHECKING:
    from pipeline.bootstrap import Services
    from pipeline.cli.output import Console


def cmd_init(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline import jobs

    r = jobs.init(services)
    out.print(
        f"schema at revision {r.revision}; {r.topics} topics, {r.sources} sources loaded "
        f"({services.store.engine.url.render_as_string()})",
        highlight=False,
    )
    return 0


def cmd_fetch(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline import jobs

    done: list[SourceReport] = []
    with err.status_line("fetching…", show=not args.json) as update:

        def progress(r: SourceReport) -> None:
            done.append(r)
            update(f"fetching… {len(done)} done, last: {r.source_id} ({r.status})")

        report = jobs.fetch(
            services,
            source_ids=args.source,
            sources_file=args.sources_file,
            force=args.force,
            due_only=args.due,
            progress=progress,
        )
    if args.json:
        out.json([source_report_json(r) for r in report.sources])
    else:
        print_fetch_report(report, out, services.settings.tz)
    if report.waiting:
        err.print(f"note: {waiting_line(report, services.settings.tz)}", highlight=False)
    return _fetch_exit(report, err)


def waiting_line(report: IngestReport, tz: dt.tzinfo) -> str:
    """The sources a fetch skipped because they wait in backoff: how many, which, until
    when, and how to try them now."""
    waiting = sorted(report.waiting, key=lambda r: r.source_id)
    names = ", ".join(r.source_id for r in waiting)
    until = min((r.next_try for r in waiting if r.next_try), default=None)
    when = f"; the first is tried again from {local_time(until, tz)}" if until else ""
    which = "source was" if len(waiting) == 1 else "sources were"
    return (
        f"{len(waiting)} {which} skipped, waiting in backoff after failures: {names}{when} "
        "(`eudigest sources` shows why; `eudigest fetch --force` or `--source ID` tries "
        "them now)"
    )


def _fetch_exit(report: IngestReport, err: Console) -> int:
    attempted = report.attempted
    if attempted and not report.succeeded:
        first = attempted[0].error or "unknown error"
        hint = " Is there a network connection?" if _looks_offline(attempted) else ""
        err.print(
            f"[red]error:[/] no source could be fetched ({len(attempted)} failed; "
            f"first error: {first}).{hint}",
            highlight=False,
        )
        return 1
    return 0


def _looks_offline(reports: Sequence[SourceReport]) -> bool:
    words = ("cannot connect", "name or service", "temporary failure", "network", "resolve")
    return all(any(w in (r.error or "").lower() for w in words) for r in reports)


def print_fetch_report(report: IngestReport, out: Console, tz: dt.tzinfo) -> None:
    from rich.table import Table

    table = Table(title="Fetch", title_justify="left")
    table.add_column("source", no_wrap=True)
    table.add_column("status", no_wrap=True, min_width=6)
    for col in ("entries", "new", "updated", "unchanged"):
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    table.add_column("note", overflow="ellipsis", no_wrap=True, max_width=50)
    for r in sorted(report.sources, key=lambda r: r.source_id):
        note = r.error or "; ".join(r.warnings)
        if r.status == "deferred" and r.next_try:
            note = f"in backoff until {local_time(r.next_try, tz)}"
        if r.suppressed:
            note = f"{r.suppressed} deleted by staff, ignored"
        table.add_row(
            r.source_id,
            _status_text(r.status),
            str(r.entries),
            str(r.new),
            str(r.updated),
            str(r.unchanged),
            note,
        )
    out.print(table)
    out.print(
        f"{len(report.succeeded)} sources fetched, {len(report.failed)} failed; "
        f"{report.total('new')} new, {report.total('updated')} updated, "
        f"{report.total('unchanged')} unchanged items"
        + (f"; {len(report.waiting)} skipped in backoff." if report.waiting else "."),
        highlight=False,
    )


def _status_text(status: str) -> str:
    return {
        "ok": "[green]ok[/]",
        "not_modified": "[green]unchanged (304)[/]",
        "failed": "[red]failed[/]",
        "deferred": "[yellow]deferred[/]",
    }.get(status, status)


def cmd_sources(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    healths = services.store.sources.health()
    tz = services.settings.tz
    if args.json:
        out.json([health_json(h) for h in healths])
        return 0
    from rich.markup import escape

    table = RankedTable(
        "Sources",
        [
            Column("id"),
            Column("failures"),
            Column("last success", rank=1),
            Column("next try", rank=3),
            Column("items", rank=2),
            Column("institution", rank=4),
            Column("last error", flex=True, min_width=24),
        ],
    )
    for h in healths:
        table.add_row(
            h.source.id + ("" if h.source.enabled else " (disabled)"),
            f"[red]{h.consecutive_failures}[/]" if h.consecutive_failures else "0",
            local_time(h.last_success, tz) if h.last_success else "never",
            local_time(h.next_try, tz) if h.next_try else "now",
            str(h.items),
            h.source.institution,
            escape((h.last_error or "")[:200]) if h.consecutive_failures else "",
        )
    table.print(out, wide=getattr(args, "wide", False))
    return 0


def cmd_items(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline.store.items import ItemQuery

    if args.topic is not None:
        known = services.taxonomy().topic_ids()
        if args.topic not in known:
            raise InvalidInput(
                f"unknown topic {args.topic!r}; the topics are: {', '.join(sorted(known))}"
            )
    if args.source is not None and args.source not in {
        h.source.id for h in services.store.sources.health()
    }:
        raise InvalidInput(f"unknown source {args.source!r}; `eudigest sources` lists them")
    query = ItemQuery(
        topic=args.topic,
        source_id=args.source,
        since=args.since,
        status=[ItemStatus(s) for s in args.status] if args.status else None,
        limit=args.limit,
    )
    found = services.store.items.list(query)
    tz = services.settings.tz
    if args.json:
        today = services.clock().astimezone(tz).date()
        answers = services.store.feedback.counts_by_item(i.id for i in found)
        out.json([item_json(i, tz, today, answers.get(i.id)) for i in found])
        return 0
    from rich.markup import escape

    table = RankedTable(
        f"Items ({len(found)})",
        [
            Column("id"),
            Column("published", rank=2),
            Column("source", rank=3),
            Column("type", rank=4),
            Column("topics", rank=1),
            Column("rel.", rank=5),
            Column("title", flex=True, min_width=24),
        ],
    )
    for i in found:
        table.add_row(
            str(i.id),
            i.published.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
            i.source_id,
            i.doc_type.value,
            ", ".join(t.topic_id for t in i.topics[:3]),
            f"{i.relevance:.2f}",
            escape(i.title),
        )
    table.print(out, wide=getattr(args, "wide", False))
    return 0


def _check_items(services: Services, ids: Sequence[int]) -> None:
    """Every id names an item, or nothing changes: `error: not found: ID` (exit 2)."""
    for item_id in dict.fromkeys(ids):
        services.store.items.get(item_id)


def cmd_items_delete(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline import curate

    _check_items(services, args.ids)
    n = curate.delete(services.store, args.ids, actor=operator(), now=services.clock())
    out.print(f"{n} items deleted; they will not come back from their feeds.")
    return 0


def cmd_items_accept(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline import curate

    _check_items(services, args.ids)
    topic_ids = services.taxonomy().topic_ids()
    n = curate.accept(
        services.store,
        args.ids,
        actor=operator(),
        now=services.clock(),
        topics=args.topics,
        topic_ids=topic_ids,
    )
    out.print(f"{n} items accepted.")
    return 0


def cmd_items_reject(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline import curate

    _check_items(services, args.ids)
    n = curate.reject(services.store, args.ids, actor=operator(), now=services.clock())
    out.print(f"{n} items rejected.")
    return 0
