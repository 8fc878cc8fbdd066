"""`eudigest status | backup | scheduler | run | runs | demo`: running it unattended."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.cli.common import EXIT_ATTENTION, EXIT_OK
from pipeline.cli.editions import edition_json, print_edition
from pipeline.cli.ingest import print_fetch_report, waiting_line
from pipeline.cli.output import Column, RankedTable, iso, local_time, run_json
from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline import status as ops_status
    from pipeline.bootstrap import Services
    from pipeline.cli.output import Console

log = logging.getLogger("eudigest")


def cmd_status(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline import status as ops_status
    from pipeline.errors import ConfigError

    settings = services.settings
    try:
        office = services.office()
    except ConfigError as exc:  # the status still reports; the office's own error says why
        err.print(f"[red]attention:[/] office.yaml: {exc}", highlight=False)
        office = None
    try:
        services.glossary()
    except ConfigError as exc:  # the digest and the desk would refuse it: say so here too
        err.print(f"[red]attention:[/] {exc}", highlight=False)
    report = ops_status.collect(
        services.store,
        settings.cron_path,
        services.clock(),
        heartbeat_max_age_s=settings.heartbeat_max_age_s,
        office=office,
    )
    if args.json:
        out.json(report.as_json())
    else:
        _print_status(report, out, settings.tz, wide=getattr(args, "wide", False))
    for p in report.problems:
        err.print(f"[red]attention:[/] {p.check}: {p.message}", highlight=False)
    return 0 if report.ok else 1


def _print_status(
    report: ops_status.StatusReport, out: Console, tz: dt.tzinfo, *, wide: bool = False
) -> None:
    """The jobs as a table fitted to the terminal (the outcome wraps), then one line per
    finding, wrapped at the terminal's width rather than cut."""
    from rich.markup import escape

    table = RankedTable(
        "Jobs",
        [
            Column("job"),
            Column("last run", rank=1),
            Column("outcome", flex=True, min_width=16),
            Column("duration", rank=3),
            Column("next run", rank=2),
        ],
    )
    for j in report.jobs:
        run = j.last_run
        table.add_row(
            j.id,
            local_time(run.scheduled_for, tz) if run else "-",
            escape(run.outcome + (f": {run.detail}" if run.detail else "")) if run else "-",
            f"{run.duration_s:.1f} s" if run and run.duration_s is not None else "-",
            local_time(j.next_run, tz) if j.next_run else "-",
        )
    table.print(out, wide=wide)

    def line(text: str) -> None:  # wrapped at the terminal's width, never cut
        out.print(text, highlight=False, markup=False, soft_wrap=False)

    age = report.newest_heartbeat_age_s
    line(
        "scheduler: " + (f"last heartbeat {age:.0f} s ago" if age is not None else "never reported")
    )
    for h in report.failing_sources:
        line(f"source {h.source.id}: {h.consecutive_failures} failures in a row: {h.last_error}")
    for e in report.editions_due:
        if e.halt_reason:
            line(f"edition {e.id} halted: {e.title}: {e.halt_reason}")
        else:
            line(f"edition {e.id} ({e.state.value}) due: {e.title}")
    for d in report.delivery_issues:
        line(f"edition {d.edition_id}: {d.count} deliveries {d.state.value}")
    line("status: ok" if report.ok else f"status: {len(report.problems)} need attention")


def cmd_backup(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    target: Path = args.path or (
        services.settings.data_dir
        / "backups"
        / f"eudigest-{services.clock().strftime('%Y%m%dT%H%M%SZ')}.db"
    )
    report = services.store.backup(target)
    rows = sum(report.tables.values())
    out.print(
        f"backup written to {report.path} ({report.bytes:,} bytes, "
        f"{len(report.tables)} tables, {rows:,} rows)",
        highlight=False,
    )
    return 0


def _runner(services: Services, args: argparse.Namespace) -> Any:
    from pipeline.scheduler.cronfile import load_cron
    from pipeline.scheduler.runner import ProcessExecutor, Runner

    cron = load_cron(args.config or services.settings.cron_path)
    if not services.store.is_current():
        raise ConfigError("the database schema is not current: run `eudigest init` first")
    grace = getattr(args, "grace", 20.0)
    executor = ProcessExecutor(os.environ, stop_grace_s=grace)
    executor.start()
    return Runner(services.store, cron, executor)


def cmd_scheduler(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    import signal

    from pipeline.scheduler.service import serve

    runner = _runner(services, args)
    if services.settings.log_level is None and not args.verbose:
        logging.getLogger("eudigest.scheduler").setLevel(logging.INFO)

    def stop(signum: int, _frame: Any) -> None:
        log.info("scheduler: %s received, stopping", signal.Signals(signum).name)
        runner.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    serve(runner)
    return 0


def cmd_run(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline.scheduler.cronfile import check_job_id

    runner = _runner(services, args)
    check_job_id(runner.cron, args.job_id)
    fired = runner.run_by_hand(args.job_id, force=args.force)
    tz = services.settings.tz
    if args.json:
        out.json(
            {
                "job": fired.job,
                "key": fired.key,
                "scheduled_for": iso(fired.scheduled_for),
                "claimed": fired.claimed,
                "run": run_json(fired.run) if fired.run else None,
                "existing": run_json(fired.existing) if fired.existing else None,
                "error": fired.error,
            }
        )
    elif fired.error:
        err.print(f"[red]error:[/] job {fired.job}: {fired.error}", highlight=False)
    elif fired.run is None:
        e = fired.existing
        when = f"started {local_time(e.started_at, tz)} " if e and e.started_at else ""
        who = f"{when}by {e.instance} ({e.outcome})" if e else "by another instance"
        out.print(
            f"job {fired.job} {fired.key} already ran: {who}. Nothing done; "
            "--force runs it again under a manual key.",
            highlight=False,
        )
    else:
        r = fired.run
        out.print(
            f"job {r.job} {r.key}: {r.outcome} ({r.detail or ''})",
            highlight=False,
            markup=False,
        )
    if fired.error or (fired.run is not None and fired.run.outcome not in ("ok", "skipped")):
        return EXIT_ATTENTION
    return EXIT_OK


def cmd_runs(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    found = services.store.runs.list(job=args.job, limit=args.limit)
    if args.job and not found:  # a typo, or a job of cron.yaml that never ran
        from pipeline.scheduler.cronfile import check_job_id, load_cron

        check_job_id(load_cron(services.settings.cron_path), args.job)
    if args.json:
        out.json([run_json(r) for r in found])
        return 0
    tz = services.settings.tz
    from rich.markup import escape

    table = RankedTable(
        "Job runs",
        [
            Column("job"),
            Column("scheduled", rank=3),
            Column("started"),
            Column("seconds", rank=2),
            Column("outcome"),
            Column("instance", rank=4),
            Column("detail", rank=1, flex=True, min_width=16),
        ],
    )
    for r in found:
        color = {"ok": "green", "running": "blue", "missed": "yellow", "skipped": "yellow"}.get(
            r.outcome, "red"
        )
        table.add_row(
            r.job,
            local_time(r.scheduled_for, tz),
            local_time(r.started_at, tz) if r.started_at else "",
            f"{r.duration_s:.1f}" if r.duration_s is not None else "",
            f"[{color}]{r.outcome}[/]",
            escape(r.instance),
            escape((r.detail or "").splitlines()[0][:120]) if r.detail else "",
        )
    table.print(out, wide=getattr(args, "wide", False))
    return 0


def cmd_demo(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`make run`: init, fetch, then a digest to the demo subscriber; 0 even when offline."""
    from pipeline import jobs

    tz = services.settings.tz
    out.print(
        "eudigest demo: init, fetch the sources of sources.yaml, then draft, approve and "
        f"deliver a digest to the demo subscriber {jobs.DEMO_EMAIL} through the outbox …",
        highlight=False,
    )
    r = jobs.demo(services)
    out.print(
        f"schema at revision {r.init.revision}; {r.init.topics} topics, "
        f"{r.init.sources} sources loaded.",
        highlight=False,
    )
    print_fetch_report(r.fetch, out, tz)
    if r.fetch.waiting:
        out.print(waiting_line(r.fetch, tz), highlight=False, markup=False)
    if r.offline:
        out.print(
            "[yellow]No source could be reached, so nothing was fetched.[/] "
            "This machine seems to have no connection to the EU sites "
            f"(first error: {r.fetch.attempted[0].error}). "
            "The run itself worked: `eudigest sources` shows each source's health, "
            "and the next run retries them.",
            highlight=False,
        )
    where = services.store.engine.url.render_as_string()  # the password, if any, hidden
    out.print(f"{r.items} items in the store ({where}).", highlight=False)
    if r.note:
        out.print(f"[yellow]{r.note[:1].upper()}{r.note[1:]}.[/]", highlight=False)
    if r.edition is not None and r.send is not None:
        e, s = r.edition, r.send
        out.print(
            f"Demo edition {e.id} “{e.title}”: the {len(e.item_ids)} most relevant new items "
            f"with topics, accepted and approved by “demo”, delivered to {jobs.DEMO_EMAIL} "
            "(a demo subscriber: confirmed, all topics) through the outbox "
            f"(sent {s.sent}, failed {s.failed}, unknown {s.unknown}).",
            highlight=False,
            markup=False,
        )
        print_edition(edition_json(services, e), out)
        if not services.settings.base_url:
            out.print(
                f"Its links point at {jobs.DEMO_BASE_URL}: EUDIGEST_BASE_URL and "
                "EUDIGEST_SECRET_KEY make them real.",
                highlight=False,
                markup=False,
            )
    elif r.previous is not None and r.eml is not None:
        out.print(
            f"The previous demo digest is edition {r.previous.id} “{r.previous.title}”:",
            highlight=False,
            markup=False,
        )
    if r.html is not None:
        out.print(f"digest (HTML preview): {r.html}", highlight=False, markup=False)
    if r.eml is not None:
        out.print(f"digest (email, .eml):  {r.eml}", highlight=False, markup=False)
    if r.edition is not None and r.eml is None:
        out.print(
            "[yellow]The outbox holds no file of this digest[/]: "
            "`eudigest edition show` lists its deliveries.",
            highlight=False,
        )
    erase = f"`eudigest subscribers erase {jobs.DEMO_EMAIL}` removes the demo subscriber; "
    out.print(
        "Next: `eudigest serve` for the desk, `eudigest items` for what came in, "
        f"{erase if r.edition or r.previous else ''}"
        "`eudigest sources` shows the sources' health.",
        highlight=False,
        markup=False,
    )
    return 0
