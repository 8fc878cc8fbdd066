"""The `eudigest` command: a thin shell over jobs and the store.

Exit codes (the same for every command; README "Exit codes"):

    0  done
    1  done, but something needs a person: deliveries failed or unknown, no source
       could be fetched, `status` found problems, a job run failed
    2  wrong usage or configuration (a refused SendGrid key included): fix, run again
    3  stopped early: a send met transient failures (429s, 5xx, SendGrid unreachable,
       the outbox disk full); the rest is still queued and the next run continues
    4  the database is unreachable (or failed): nothing more was done
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pipeline import curate, jobs, logs
from pipeline import status as ops_status
from pipeline.bootstrap import Services, build
from pipeline.config import VERSION, Settings, load_dotenv_into
from pipeline.curate import staff
from pipeline.deliver.send import SendDueStopped, SendReport, SendUnfinished
from pipeline.errors import (
    ConfigError,
    EditionNotFound,
    EudigestError,
    Forbidden,
    InvalidInput,
    NotFound,
    StoreError,
)
from pipeline.model import (
    Edition,
    EditionState,
    IngestReport,
    Item,
    ItemStatus,
    Role,
    SourceHealth,
    SourceReport,
    StaffUser,
    Subscriber,
)
from pipeline.store.items import ItemQuery
from subscribers import gdpr, portability, signup
from subscribers.addresses import hash_of, normalise_email
from subscribers.profiles import ProfileForm
from subscribers.signup import SignUpForm
from subscribers.tokens import Links

log = logging.getLogger("eudigest")

EXIT_OK = 0
EXIT_ATTENTION = 1  # done, but failed/unknown deliveries, failed sources, problems
EXIT_USAGE = 2  # wrong usage or configuration
EXIT_STOPPED = 3  # a send stopped early; the rest is queued for the next run
EXIT_STORE = 4  # the database is unreachable
EXIT_CODES_HELP = """exit codes:
  0  done
  1  done, but something needs a person (failed or unknown deliveries, failed sources,
     problems found by status, a failed job run)
  2  wrong usage or configuration (a refused SendGrid key included)
  3  a send stopped early (429s, 5xx, SendGrid unreachable, outbox disk full); the rest
     is still queued and the next run continues
  4  the database is unreachable"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logs.setup(verbose=args.verbose)  # until the settings are read
    # Piped or in a journal, rich would squeeze tables into 80 columns and drop whole columns.
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    out = Console(soft_wrap=True, width=width)
    err = Console(stderr=True, soft_wrap=True, width=width)
    try:
        load_dotenv_into(os.environ, Path.cwd() / ".env")
        settings = Settings.from_env(os.environ)
        logs.setup(settings.log_format, settings.log_level, verbose=args.verbose)
        services = build(settings)
    except StoreError as exc:
        err.print(f"[red]error:[/] the database is unreachable: {exc}", highlight=False)
        return EXIT_STORE
    except EudigestError as exc:
        err.print(f"[red]error:[/] {exc}", markup=True, highlight=False)
        return EXIT_USAGE
    try:
        return int(args.func(services, args, out, err))
    except NotFound as exc:
        err.print(f"[red]error:[/] not found: {exc.ident}", highlight=False)
        return EXIT_USAGE
    except StoreError as exc:
        err.print(f"[red]error:[/] the database is unreachable: {exc}", highlight=False)
        return EXIT_STORE
    except EudigestError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        return EXIT_USAGE
    finally:
        services.close()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="eudigest",
        description="EU policy digest pipeline.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"eudigest {VERSION}")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", help="create or upgrade the database; load sources and taxonomy")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("fetch", help="fetch the sources and store new items")
    s.add_argument("--source", action="append", default=[], metavar="ID", help="only this source")
    s.add_argument("--sources-file", type=Path, metavar="PATH", help="use this sources.yaml")
    s.add_argument("--force", action="store_true", help="also fetch sources in backoff")
    s.add_argument("--due", action="store_true", help="only sources whose interval has passed")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=cmd_fetch)

    s = sub.add_parser("sources", help="list sources and their health")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_sources)

    s = sub.add_parser("items", help="list items, or change their status")
    s.add_argument("--json", action="store_true")
    s.add_argument("--topic", metavar="ID")
    s.add_argument("--source", metavar="ID")
    s.add_argument("--since", type=_date, metavar="YYYY-MM-DD")
    s.add_argument("--status", choices=[x.value for x in ItemStatus], action="append")
    s.add_argument("--limit", type=int, default=50)
    s.set_defaults(func=cmd_items)
    items_sub = s.add_subparsers(dest="action", metavar="ACTION")
    d = items_sub.add_parser("delete", help="delete items; they never come back from a feed")
    d.add_argument("ids", type=int, nargs="+", metavar="ID")
    d.set_defaults(func=cmd_items_delete)
    d = items_sub.add_parser("accept", help="accept items for the digests")
    d.add_argument("ids", type=int, nargs="+", metavar="ID")
    d.add_argument("--topics", nargs="+", metavar="TOPIC", help="set these topics (staff)")
    d.set_defaults(func=cmd_items_accept)
    d = items_sub.add_parser("reject", help="reject items")
    d.add_argument("ids", type=int, nargs="+", metavar="ID")
    d.set_defaults(func=cmd_items_reject)

    s = sub.add_parser("users", help="staff accounts of the desk")
    users_sub = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = users_sub.add_parser("add", help="add an account (password from stdin or prompted)")
    d.add_argument("name")
    d.add_argument("--role", choices=[r.value for r in Role], default=Role.EDITOR.value)
    d.add_argument("--email", help="where the desk's test sends go (optional)")
    d.set_defaults(func=cmd_users_add)
    d = users_sub.add_parser("email", help="set (or with --clear remove) a test-send address")
    d.add_argument("name")
    d.add_argument("address", nargs="?", metavar="ADDRESS")
    d.add_argument("--clear", action="store_true", help="remove the address")
    d.set_defaults(func=cmd_users_email)
    d = users_sub.add_parser("list", help="list accounts")
    d.set_defaults(func=cmd_users_list)
    d = users_sub.add_parser("password", help="set a new password (from stdin or prompted)")
    d.add_argument("name")
    d.set_defaults(func=cmd_users_password)

    s = sub.add_parser("edition", help="editions of the newsletters")
    ed_sub = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = ed_sub.add_parser("draft", help="propose a draft from accepted items since the last one")
    d.add_argument("newsletter", metavar="NEWSLETTER")
    d.add_argument("--json", action="store_true", help="print the new edition as JSON")
    d.set_defaults(func=cmd_edition_draft)
    d = ed_sub.add_parser("list", help="list editions")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_edition_list)
    _edition_parsers(ed_sub)

    _subscribers_parser(sub)

    s = sub.add_parser(
        "serve", help="run the web desk (development server; gunicorn in production)"
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser(
        "send",
        help="send an approved edition (resumes an interrupted send)",
        description="Send an approved or scheduled edition, or resume one being sent. Beside "
        "another process sending the same edition, both share the rest; nobody gets it twice.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("edition_id", type=int, metavar="EDITION_ID")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_send)

    s = sub.add_parser(
        "send-due",
        help="send every scheduled edition whose time has come",
        description="Send every scheduled edition whose time has come and resume interrupted "
        "sends; an edition another process is sending right now is left to it.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_send_due)

    _scheduler_parsers(sub)

    s = sub.add_parser(
        "status", help="jobs, sources, editions, deliveries: exit 1 if any needs attention"
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("backup", help="online copy of the SQLite database (PostgreSQL: pg_dump)")
    s.add_argument("path", nargs="?", type=Path, metavar="PATH", help="default: DATA_DIR/backups/")
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser(
        "demo",
        help="the whole job on the embedded defaults: init, fetch, draft, approve, and "
        "deliver a digest to a demo subscriber through the outbox",
    )
    s.set_defaults(func=cmd_demo)
    return p


def _scheduler_parsers(sub: Any) -> None:
    s = sub.add_parser("scheduler", help="run the jobs of cron.yaml until SIGTERM")
    s.add_argument("--config", type=Path, metavar="PATH", help="default: EUDIGEST_CRON")
    s.add_argument(
        "--grace", type=float, default=20.0, metavar="SECONDS",
        help="on SIGTERM, how long a running job may finish before it is stopped and released",
    )  # fmt: skip
    s.set_defaults(func=cmd_scheduler)
    s = sub.add_parser("run", help="run one job of cron.yaml now, under the same claim rules")
    s.add_argument("job_id", metavar="JOB_ID")
    s.add_argument("--config", type=Path, metavar="PATH", help="default: EUDIGEST_CRON")
    s.add_argument("--force", action="store_true", help="run even if the due run already ran")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_run)
    s = sub.add_parser("runs", help="the history of job runs")
    s.add_argument("--job", metavar="ID")
    s.add_argument("--limit", type=int, default=50)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_runs)


def _edition_parsers(ed_sub: Any) -> None:
    d = ed_sub.add_parser("show", help="one edition: state, sections, items, deliveries")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_edition_show)
    d = ed_sub.add_parser("approve", help="approve a draft (four eyes: --as another account)")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.add_argument(
        "--as",
        dest="as_user",
        metavar="NAME",
        help="the staff account that approves (required when office.yaml has four_eyes)",
    )
    d.set_defaults(func=cmd_edition_approve)
    d = ed_sub.add_parser("schedule", help="schedule an approved edition for sending")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.add_argument(
        "--at",
        required=True,
        metavar="ISO_TIME",
        help="e.g. 2026-12-01T08:00 (office time zone) or 2026-12-01T08:00+01:00",
    )
    d.set_defaults(func=cmd_edition_schedule)
    d = ed_sub.add_parser("unschedule", help="stop a scheduled edition: back to draft")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.set_defaults(func=cmd_edition_unschedule)
    d = ed_sub.add_parser("reopen", help="withdraw the approval: back to draft")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.set_defaults(func=cmd_edition_reopen)


def _subscribers_parser(sub: Any) -> None:
    s = sub.add_parser("subscribers", help="newsletter subscribers: add, import, export, GDPR")
    subs = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = subs.add_parser("add", help="add an address and send it the confirmation mail")
    d.add_argument("email", metavar="EMAIL")
    d.add_argument("--name", default="")
    d.add_argument("--organisation", default="")
    d.add_argument("--org-type", default="", metavar="TYPE", help="kommune, landkreis, …")
    d.add_argument("--language", default="de", choices=["de", "en"])
    d.add_argument("--topics", nargs="+", default=[], metavar="TOPIC", help="default: all")
    d.add_argument(
        "--newsletters", nargs="+", default=[], metavar="ID", help="default: the first one"
    )
    d.set_defaults(func=cmd_subscribers_add)
    d = subs.add_parser("import", help="import a CSV file; bad rows are reported by line")
    d.add_argument("file", type=Path, metavar="FILE.csv")
    d.set_defaults(func=cmd_subscribers_import)
    d = subs.add_parser("export", help="all subscribers as CSV (or JSON) to stdout")
    d.add_argument("--json", action="store_true")
    d.add_argument("--output", "-o", type=Path, metavar="PATH", help="write to a file")
    d.set_defaults(func=cmd_subscribers_export)
    d = subs.add_parser("data", help="everything stored about one address, as JSON (GDPR)")
    d.add_argument("email", metavar="EMAIL")
    d.set_defaults(func=cmd_subscribers_data)
    d = subs.add_parser("erase", help="erase an address; only its hash stays, suppressed")
    d.add_argument("email", metavar="EMAIL")
    d.set_defaults(func=cmd_subscribers_erase)
    d = subs.add_parser("purge", help="delete sign-ups not confirmed within 30 days")
    d.add_argument("--days", type=int, default=30)
    d.set_defaults(func=cmd_subscribers_purge)


def _date(text: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-25") from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


# ---------------------------------------------------------------- commands


def cmd_init(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    r = jobs.init(services)
    out.print(
        f"schema at revision {r.revision}; {r.topics} topics, {r.sources} sources loaded "
        f"({services.store.engine.url.render_as_string()})",
        highlight=False,
    )
    return 0


def cmd_fetch(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    show_progress = not args.json and err.is_terminal
    status = err.status("fetching…") if show_progress else None
    done: list[SourceReport] = []

    def progress(r: SourceReport) -> None:
        done.append(r)
        if status is not None:
            status.update(f"fetching… {len(done)} done, last: {r.source_id} ({r.status})")

    if status is not None:
        status.start()
    try:
        report = jobs.fetch(
            services,
            source_ids=args.source,
            sources_file=args.sources_file,
            force=args.force,
            due_only=args.due,
            progress=progress,
        )
    finally:
        if status is not None:
            status.stop()
    if args.json:
        out.print_json(data=[_source_report_json(r) for r in report.sources])
    else:
        _print_fetch_report(report, out, services.settings.tz)
    return _fetch_exit(report, err)


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


def _print_fetch_report(report: IngestReport, out: Console, tz: dt.tzinfo) -> None:
    table = Table(title="Fetch", title_justify="left")
    table.add_column("source", no_wrap=True)
    table.add_column("status", no_wrap=True, min_width=6)
    for col in ("entries", "new", "updated", "unchanged"):
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    table.add_column("note", overflow="ellipsis", no_wrap=True, max_width=50)
    for r in sorted(report.sources, key=lambda r: r.source_id):
        note = r.error or ""
        if r.status == "deferred" and r.next_try:
            note = f"in backoff until {_local(r.next_try, tz)}"
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
        f"{report.total('unchanged')} unchanged items.",
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
        out.print_json(data=[_health_json(h) for h in healths])
        return 0
    table = Table(title="Sources", title_justify="left")
    for col in ("id", "institution", "items", "last success", "failures", "next try"):
        table.add_column(col, no_wrap=True)
    table.add_column("last error", overflow="ellipsis", no_wrap=True, max_width=60)
    for h in healths:
        table.add_row(
            h.source.id + ("" if h.source.enabled else " (disabled)"),
            h.source.institution,
            str(h.items),
            _local(h.last_success, tz) if h.last_success else "never",
            f"[red]{h.consecutive_failures}[/]" if h.consecutive_failures else "0",
            _local(h.next_try, tz) if h.next_try else "now",
            (h.last_error or "")[:80] if h.consecutive_failures else "",
        )
    out.print(table)
    return 0


def cmd_items(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
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
        out.print_json(data=[item_json(i, tz) for i in found])
        return 0
    table = Table(title=f"Items ({len(found)})", title_justify="left")
    for col in ("id", "published", "source", "type", "topics", "rel."):
        table.add_column(col, no_wrap=True)
    table.add_column("title")
    for i in found:
        table.add_row(
            str(i.id),
            i.published.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
            i.source_id,
            i.doc_type.value,
            ", ".join(t.topic_id for t in i.topics[:3]),
            f"{i.relevance:.2f}",
            i.title[:90],
        )
    out.print(table)
    return 0


def cmd_items_delete(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    n = services.store.items.set_status(
        args.ids, ItemStatus.DELETED, now=services.clock(), actor=_operator().name
    )
    out.print(f"{n} items deleted; they will not come back from their feeds.")
    return 0


def _operator() -> StaffUser:
    """The actor for changes made from the command line, named in the audit trail."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return StaffUser(id=0, name=f"cli:{who}", role=Role.ADMIN)


def cmd_items_accept(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    topic_ids = services.taxonomy().topic_ids()
    n = curate.accept(
        services.store,
        args.ids,
        actor=_operator(),
        now=services.clock(),
        topics=args.topics,
        topic_ids=topic_ids,
    )
    out.print(f"{n} items accepted.")
    return 0


def cmd_items_reject(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    n = curate.reject(services.store, args.ids, actor=_operator(), now=services.clock())
    out.print(f"{n} items rejected.")
    return 0


def _read_password(err: Console, *, confirm: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat: ") != first:
        raise InvalidInput("the two passwords differ")
    return first


def cmd_users_add(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    email = normalise_email(args.email) if args.email else None  # refuse before asking
    password = _read_password(err, confirm=True)
    user = staff.add_user(
        services.store, args.name, Role(args.role), password, now=services.clock()
    )
    if email:
        services.store.users.set_email(user.id, email)
    out.print(f"user {user.name} ({user.role.value}) added.", highlight=False)
    return 0


def cmd_users_email(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    user = services.store.users.by_name(args.name.strip().lower())
    if user is None:
        raise NotFound(args.name)
    if args.clear == bool(args.address):
        raise InvalidInput("give an ADDRESS or --clear (not both)")
    email = None if args.clear else normalise_email(args.address)
    services.store.users.set_email(user.id, email)
    what = "removed" if email is None else "set"
    out.print(f"test-send address of {user.name} {what}.", highlight=False)
    return 0


def cmd_users_password(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    user = services.store.users.by_name(args.name.strip().lower())
    if user is None:
        raise NotFound(args.name)
    staff.set_password(services.store, user.id, _read_password(err, confirm=True))
    out.print(f"password of {user.name} changed; the account is unlocked.", highlight=False)
    return 0


def cmd_users_list(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    table = Table(title="Staff", title_justify="left")
    for col in ("name", "role", "active", "last login", "locked until", "test email"):
        table.add_column(col, no_wrap=True)
    tz = services.settings.tz
    for u in services.store.users.list():
        table.add_row(
            u.name,
            u.role.value,
            "yes" if u.active else "no",
            _local(u.last_login, tz) if u.last_login else "never",
            _local(u.locked_until, tz) if u.locked_until else "",
            u.email or "",
        )
    out.print(table)
    return 0


def cmd_edition_draft(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    """Plain: the new id alone on stdout (`id=$(eudigest edition draft weekly)`)."""
    office = services.office()
    if office.newsletter(args.newsletter) is None:
        known = ", ".join(n.id for n in office.newsletters)
        raise InvalidInput(
            f"unknown newsletter {args.newsletter!r}; office.yaml configures: {known}"
        )
    edition = curate.propose_draft(
        services.store,
        office,
        args.newsletter,
        actor=_operator(),
        now=services.clock(),
        topic_labels={t.id: t.label_de for t in services.taxonomy().topics},
        tz=services.settings.tz,
    )
    if args.json:
        out.print_json(data=_edition_json(services, edition))
        return 0
    out.print(str(edition.id), highlight=False)
    if edition.item_ids:
        what = f"{len(edition.item_ids)} items in {len(edition.sections)} sections"
    else:
        what = (
            "no accepted items since the last edition, so it starts with the default "
            "sections, empty (accept items with `eudigest items accept`)"
        )
    err.print(
        f"draft edition {edition.id} “{edition.title}”: {what}. "
        f"Edit it in the desk: /desk/editions/{edition.id}",
        highlight=False,
        markup=False,
    )
    return 0


def cmd_edition_list(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    found = services.store.editions.list()
    if args.json:
        out.print_json(
            data=[
                {
                    "id": e.id,
                    "newsletter": e.newsletter_id,
                    "title": e.title,
                    "state": e.state.value,
                    "items": list(e.item_ids),
                    "sections": [{"title": s.title, "items": list(s.item_ids)} for s in e.sections],
                    "approved_by": e.approved_by,
                    "scheduled_at": _iso(e.scheduled_at),
                }
                for e in found
            ]
        )
        return 0
    table = Table(title="Editions", title_justify="left")
    for col in ("id", "newsletter", "state", "items", "title"):
        table.add_column(col)
    for e in found:
        table.add_row(str(e.id), e.newsletter_id, e.state.value, str(len(e.item_ids)), e.title)
    out.print(table)
    return 0


def _edition(services: Services, edition_id: int) -> Edition:
    try:
        return services.store.editions.get(edition_id)
    except EditionNotFound:
        raise InvalidInput(
            f"edition {edition_id} does not exist (`eudigest edition list` shows them)"
        ) from None


def cmd_edition_show(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    edition = _edition(services, args.edition_id)
    data = _edition_json(services, edition)
    if args.json:
        out.print_json(data=data)
        return 0
    _print_edition(data, out)
    return 0


def _print_edition(data: dict[str, Any], out: Console) -> None:
    def line(text: str) -> None:
        out.print(text, highlight=False, markup=False)

    line(f"edition {data['id']}: “{data['title']}” (newsletter {data['newsletter']})")
    state = data["state"]
    if data["approved_by"]:
        state += f", approved by {data['approved_by']} at {_short(data['approved_at'])}"
    if data["scheduled_at"]:
        state += f", scheduled for {_short(data['scheduled_at'])}"
    if data["sent_at"]:
        state += f", sent at {_short(data['sent_at'])}"
    line(f"state: {state}")
    line(
        f"created {_short(data['created_at'])} by {data['created_by']}; "
        f"last change by {data['last_editor'] or data['created_by']}"
    )
    if data["intro"]:
        line(f"intro: {data['intro']}")
    total = sum(len(s["items"]) for s in data["sections"])
    line(f"{total} items in {len(data['sections'])} sections:")
    for section in data["sections"]:
        line(f"  {section['title']} ({len(section['items'])})")
        for i in section["items"]:
            topics = f" [{', '.join(i['topics'])}]" if i["topics"] else ""
            line(f"    {i['id']:>6}  {i['headline'] or i['title']}{topics}")
            if i["url"]:
                line(f"            {i['url']}")
    counts = {k: v for k, v in data["deliveries"].items() if v}
    line("deliveries: " + (", ".join(f"{k} {v}" for k, v in counts.items()) if counts else "none"))
    for s in data["senders"]:  # newest first
        ended = f" – {_short(s['ended_at'])}" if s["ended_at"] else ""
        why = f": {s['detail']}" if s["detail"] else ""
        line(f"  sender {s['instance']} {_short(s['started_at'])}{ended} {s['outcome']}{why}")


def _short(iso: str | None) -> str:
    """An ISO time of _edition_json as `2026-11-25 10:30+01:00`."""
    return dt.datetime.fromisoformat(iso).isoformat(" ", "minutes") if iso else ""


def cmd_edition_approve(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    """With four eyes on, a named staff account (not the last editor) must approve."""
    office = services.office()
    actor = _operator() if args.as_user is None else _staff_account(services, args.as_user)
    edition = _edition(services, args.edition_id)
    if edition.state is not EditionState.DRAFT:
        raise InvalidInput(
            f"edition {edition.id} is {edition.state.value}, not a draft: only drafts can be "
            "approved"
        )
    if not edition.item_ids:
        raise InvalidInput(f"edition {edition.id} has no items: nothing to approve")
    if office.four_eyes:
        editor = edition.last_editor or edition.created_by
        if args.as_user is None:
            raise Forbidden(
                "four-eyes rule (office.yaml desk.four_eyes): name the approving staff "
                f"account with --as NAME, someone other than the last editor ({editor})"
            )
        if editor == actor.name:
            raise Forbidden(
                f"four-eyes rule (office.yaml desk.four_eyes): {actor.name} made the last "
                f"change to edition {edition.id}; another staff account must approve it"
            )
    edition = curate.approve(services.store, office, edition.id, actor=actor, now=services.clock())
    out.print(
        f"edition {edition.id} approved by {edition.approved_by}. Send it with "
        f"`eudigest send {edition.id}`, or schedule it with "
        f"`eudigest edition schedule {edition.id} --at YYYY-MM-DDTHH:MM`.",
        highlight=False,
        markup=False,
    )
    return 0


def _staff_account(services: Services, name: str) -> StaffUser:
    user = services.store.users.by_name(name.strip().lower())
    if user is None:
        raise InvalidInput(f"--as {name}: no staff account of that name (`eudigest users list`)")
    if not user.active:
        raise InvalidInput(f"--as {name}: the account is deactivated")
    return user


def cmd_edition_schedule(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    tz = services.settings.tz
    send_at = _send_time(args.at, tz)
    edition = _edition(services, args.edition_id)
    now = services.clock()
    if edition.state is EditionState.SCHEDULED and edition.scheduled_at is not None:
        raise InvalidInput(
            f"edition {edition.id} is already scheduled for "
            f"{_local(edition.scheduled_at, tz)}; `eudigest edition unschedule "
            f"{edition.id}` stops it (it goes back to draft)"
        )
    if edition.state is EditionState.DRAFT:
        raise InvalidInput(
            f"edition {edition.id} is a draft, not approved: approve it first "
            f"(`eudigest edition approve {edition.id}`)"
        )
    if edition.state is not EditionState.APPROVED:
        raise InvalidInput(
            f"edition {edition.id} is {edition.state.value}: only approved editions can be "
            "scheduled"
        )
    if send_at <= now:
        raise InvalidInput(
            f"--at {args.at}: {_local(send_at, tz)} ({tz}) is in the past (now {_local(now, tz)})"
        )
    edition = curate.schedule(
        services.store, edition.id, send_at=send_at, actor=_operator(), now=now
    )
    out.print(
        f"edition {edition.id} scheduled for {_local(send_at, tz)} ({tz}); "
        "`eudigest send-due` (run by the scheduler) sends it from then on.",
        highlight=False,
        markup=False,
    )
    return 0


def _send_time(text: str, tz: dt.tzinfo) -> dt.datetime:
    """ISO 8601 with a time; without an offset the time is in the office's zone."""
    value = text.strip()
    example = "2026-12-01T08:00 or 2026-12-01T08:00+01:00"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--at {text!r}: not an ISO 8601 time like {example}") from None
    if "T" not in value.upper() and " " not in value:
        raise InvalidInput(f"--at {text!r}: give a time too, like {value}T08:00")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def cmd_edition_unschedule(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    edition = _edition(services, args.edition_id)
    if edition.state is not EditionState.SCHEDULED:
        raise InvalidInput(
            f"edition {edition.id} is {edition.state.value}, not scheduled: nothing to stop"
        )
    curate.unschedule(services.store, edition.id, actor=_operator(), now=services.clock())
    out.print(
        f"edition {edition.id} will not be sent; it is a draft again (approval withdrawn).",
        highlight=False,
    )
    return 0


def cmd_edition_reopen(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    edition = _edition(services, args.edition_id)
    if edition.state is not EditionState.APPROVED:
        raise InvalidInput(
            f"edition {edition.id} is {edition.state.value}: only approved editions can be reopened"
        )
    curate.reopen(services.store, edition.id, actor=_operator(), now=services.clock())
    out.print(f"edition {edition.id} is a draft again (approval withdrawn).", highlight=False)
    return 0


def _edition_json(services: Services, e: Edition) -> dict[str, Any]:
    """An edition with its sections, items and delivery counts (`edition show --json`)."""
    tz = services.settings.tz
    found = services.store.items.get_many(e.item_ids)

    def when(value: dt.datetime | None) -> str | None:
        return value.astimezone(tz).isoformat() if value is not None else None

    def item(item_id: int) -> dict[str, Any]:
        i = found.get(item_id)
        if i is None:  # deleted since it was placed
            return {
                **dict.fromkeys(("headline", "title", "url", "language", "priority")),
                "id": item_id,
                "topics": [],
                "audiences": [],
                "status": "missing",
            }
        a = i.annotation
        return {
            "id": i.id,
            "headline": (a.headline or None) if a is not None else None,
            "title": i.title,
            "url": i.url,
            "language": i.language,
            "topics": [t.topic_id for t in i.topics],
            "audiences": [x.value for x in a.audiences] if a is not None else [],
            "priority": a.priority.value if a is not None else None,
            "status": i.status.value,
        }

    return {
        "id": e.id,
        "newsletter": e.newsletter_id,
        "title": e.title,
        "intro": e.intro,
        "state": e.state.value,
        "version": e.version,
        "created_at": when(e.created_at),
        "created_by": e.created_by,
        "last_editor": e.last_editor,
        "approved_by": e.approved_by,
        "approved_at": when(e.approved_at),
        "scheduled_at": when(e.scheduled_at),
        "sent_at": when(e.sent_at),
        "sections": [
            {"id": s.id, "title": s.title, "items": [item(i) for i in s.item_ids]}
            for s in e.sections
        ],
        "deliveries": services.store.deliveries.counts(e.id),
        "senders": [
            {
                "instance": s.instance,
                "started_at": when(s.started_at),
                "ended_at": when(s.ended_at),
                "outcome": s.outcome.value,
                "detail": s.detail,
                "queued": s.queued,
            }
            for s in services.store.senders.list(e.id, limit=10)
        ],
    }


def cmd_send(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    return _print_sends([jobs.send(services, args.edition_id)], args.json, out, err)


def cmd_send_due(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        reports = jobs.send_due(services)
    except SendUnfinished as exc:  # an edition stopped early: its counts, then exit 3
        return _print_sends(exc.reports, args.json, out, err)
    except SendDueStopped as exc:  # the key is refused: what went before, then exit 2
        if exc.reports:
            _print_sends(exc.reports, args.json, out, err)
        raise
    return _print_sends(reports, args.json, out, err)


def _print_sends(reports: Sequence[SendReport], as_json: bool, out: Console, err: Console) -> int:
    """Counts per edition; exit 3 when one stopped early (the rest is queued), 1 when
    anything failed or its outcome is unknown, else 0."""
    keys = ("sent", "failed", "unknown", "skipped", "queued")
    totals = {k: sum(getattr(r, k) for r in reports) for k in keys}
    stopped = [r for r in reports if r.interrupted]
    if as_json:
        editions = [
            {
                "edition": r.edition_id,
                "finished": r.finished,
                "stopped": r.stopped,
                "elsewhere": r.elsewhere,
                **{k: getattr(r, k) for k in keys},
            }
            for r in reports
        ]
        out.print_json(json.dumps({**totals, "editions": editions}))
    else:
        for r in reports:
            if r.elsewhere:
                state = f"being sent by {r.elsewhere}; left to it"
            else:
                state = "sent" if r.finished else "stopped early"
            out.print(
                f"edition {r.edition_id} ({state}): sent {r.sent}, failed {r.failed}, "
                f"unknown {r.unknown}, skipped {r.skipped}, still queued {r.queued}",
                highlight=False,
            )
        if not reports:
            out.print("no edition is due", highlight=False)
    for r in stopped:
        err.print(
            f"edition {r.edition_id} stopped early: {r.stopped or 'not finished'}; "
            f"{r.queued} still queued: the next run (send-due, or `eudigest send "
            f"{r.edition_id}`) continues",
            highlight=False,
        )
    if totals["failed"] or totals["unknown"]:
        err.print(
            f"{totals['failed']} failed, {totals['unknown']} unknown: check the deliveries "
            "in the desk (unknown ones may have been delivered; never resent automatically)",
            highlight=False,
        )
    if stopped:
        return EXIT_STOPPED
    if totals["failed"] or totals["unknown"]:
        return EXIT_ATTENTION
    return EXIT_OK


def cmd_status(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    settings = services.settings
    report = ops_status.collect(
        services.store,
        settings.cron_path,
        services.clock(),
        heartbeat_max_age_s=settings.heartbeat_max_age_s,
    )
    if args.json:
        out.print_json(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        _print_status(report, out, settings.tz)
    for p in report.problems:
        err.print(f"[red]attention:[/] {p.check}: {p.message}", highlight=False)
    return 0 if report.ok else 1


def _print_status(report: ops_status.StatusReport, out: Console, tz: dt.tzinfo) -> None:
    table = Table("job", "last run", "outcome", "duration", "next run", box=None)
    for j in report.jobs:
        run = j.last_run
        table.add_row(
            j.id,
            _local(run.scheduled_for, tz) if run else "-",
            (run.outcome + (f": {run.detail}" if run.detail else "")) if run else "-",
            f"{run.duration_s:.1f} s" if run and run.duration_s is not None else "-",
            _local(j.next_run, tz) if j.next_run else "-",
        )
    out.print(table)
    age = report.newest_heartbeat_age_s
    out.print(
        "scheduler: "
        + (f"last heartbeat {age:.0f} s ago" if age is not None else "never reported"),
        highlight=False,
    )
    for h in report.failing_sources:
        out.print(
            f"source {h.source.id}: {h.consecutive_failures} failures in a row: {h.last_error}",
            highlight=False,
        )
    for e in report.editions_due:
        out.print(f"edition {e.id} ({e.state.value}) due: {e.title}", highlight=False)
    for d in report.delivery_issues:
        out.print(f"edition {d.edition_id}: {d.count} deliveries {d.state.value}", highlight=False)
    out.print("status: ok" if report.ok else f"status: {len(report.problems)} need attention")


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
    return Runner(services.store, cron, ProcessExecutor(os.environ, stop_grace_s=grace))


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
        out.print_json(
            data={
                "job": fired.job,
                "key": fired.key,
                "scheduled_for": _iso(fired.scheduled_for),
                "claimed": fired.claimed,
                "run": _run_json(fired.run) if fired.run else None,
                "existing": _run_json(fired.existing) if fired.existing else None,
                "error": fired.error,
            }
        )
    elif fired.error:
        err.print(f"[red]error:[/] job {fired.job}: {fired.error}", highlight=False)
    elif fired.run is None:
        e = fired.existing
        when = f"started {_local(e.started_at, tz)} " if e and e.started_at else ""
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
    if args.json:
        out.print_json(data=[_run_json(r) for r in found])
        return 0
    tz = services.settings.tz
    table = Table(title="Job runs", title_justify="left")
    for col in ("job", "scheduled", "started", "seconds", "outcome", "instance"):
        table.add_column(col, no_wrap=True)
    table.add_column("detail", overflow="ellipsis", no_wrap=True, max_width=60)
    for r in found:
        color = {"ok": "green", "running": "blue", "missed": "yellow", "skipped": "yellow"}.get(
            r.outcome, "red"
        )
        table.add_row(
            r.job,
            _local(r.scheduled_for, tz),
            _local(r.started_at, tz) if r.started_at else "",
            f"{r.duration_s:.1f}" if r.duration_s is not None else "",
            f"[{color}]{r.outcome}[/]",
            r.instance,
            (r.detail or "").splitlines()[0][:120] if r.detail else "",
        )
    out.print(table)
    return 0


def _run_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "job": r.job,
        "key": r.key,
        "scheduled_for": _iso(r.scheduled_for),
        "started_at": _iso(r.started_at),
        "finished_at": _iso(r.finished_at),
        "duration_s": r.duration_s,
        "outcome": r.outcome,
        "instance": r.instance,
        "attempts": r.attempts,
        "detail": r.detail,
    }


def cmd_serve(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline.web import create_app

    app = create_app(services.settings, services)
    out.print(f"desk on http://{args.host}:{args.port}/desk/ (Ctrl-C stops)", highlight=False)
    app.run(host=args.host, port=args.port, debug=False, use_reloader=False)
    return 0


def cmd_demo(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`make run`: init, fetch, then a digest to the demo subscriber; 0 even when offline."""
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
    _print_fetch_report(r.fetch, out, tz)
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
        _print_edition(_edition_json(services, e), out)
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


# ---------------------------------------------------------------- subscribers


def _split_ids(values: Sequence[str]) -> list[str]:
    return [v for value in values for v in value.replace(";", ",").split(",") if v.strip()]


def cmd_subscribers_add(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    office, taxonomy = services.office(), services.taxonomy()
    links = Links.from_settings(services.settings)
    newsletters = _split_ids(args.newsletters) or [n.id for n in office.newsletters[:1]]
    form = SignUpForm(
        args.email,
        ProfileForm(
            name=args.name,
            organisation=args.organisation,
            org_type=args.org_type,
            language=args.language,
            newsletters=newsletters,
            topics=_split_ids(args.topics),
        ),
    )
    email, profile = signup.check_form(form, office, taxonomy)
    result = signup.request_confirmation(
        services.store, services.mailer, office, taxonomy, links, email, profile,
        now=services.clock(),
    )  # fmt: skip
    if result.known:
        out.print(
            f"Die Adresse ist bereits eingetragen (Abonnent Nr. {result.subscriber_id}): "
            "eine Bestätigungsmail mit den neuen Einstellungen ist verschickt; sie gelten "
            "erst nach der Bestätigung.",
            highlight=False,
        )
    else:
        out.print(
            f"Abonnent Nr. {result.subscriber_id} angelegt (unbestätigt); "
            "die Bestätigungsmail ist verschickt.",
            highlight=False,
        )
    return 0


def cmd_subscribers_import(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    path: Path = args.file
    try:
        with path.open("rb") as f:
            data = f.read(portability.MAX_IMPORT_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"{path}: nicht lesbar ({exc.strerror})") from None
    settings = services.settings
    links = Links.from_settings(settings) if settings.secret_key and settings.base_url else None
    report = portability.import_csv(
        services.store, services.mailer, services.office(), services.taxonomy(), data,
        links=links, tz=settings.tz, now=services.clock(),
    )  # fmt: skip
    _print_import_report(path, report, out)
    return 0 if report.imported else 1


def _print_import_report(path: Path, r: portability.ImportReport, out: Console) -> None:
    delimiter = {",": "Komma", ";": "Semikolon", "\t": "Tabulator"}.get(r.delimiter, r.delimiter)
    out.print(
        f"Datei {path.name}: Kodierung {r.encoding}, Trennzeichen {delimiter}.", highlight=False
    )
    if r.ignored_columns:
        out.print(f"Nicht verwendete Spalten: {', '.join(r.ignored_columns)}", highlight=False)
    if r.default_newsletters:
        out.print(
            f"Keine Spalte newsletters: alle Zeilen erhalten {', '.join(r.default_newsletters)}.",
            highlight=False,
        )
    out.print(
        f"{r.rows} Zeilen gelesen, {r.imported} importiert: {r.confirmed} bestätigt "
        f"(mit consent_at), {r.pending} unbestätigt ({r.mailed} Bestätigungsmails verschickt).",
        highlight=False,
    )
    if r.problem_count:
        out.print(f"{r.problem_count} Zeilen mit Problemen:", highlight=False)
        for p in r.problems:
            out.print(f"  Zeile {p.line}: {p.reason}", highlight=False, markup=False)
        if r.problem_count > len(r.problems):
            out.print(f"  … und {r.problem_count - len(r.problems)} weitere", highlight=False)
    if not r.imported:
        out.print("Es wurde keine Zeile importiert.", highlight=False)


def cmd_subscribers_export(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    write = portability.write_json if args.json else portability.write_csv
    if args.output:
        with args.output.open("w", encoding="utf-8", newline="") as f:
            n = write(services.store, f)
        err.print(f"{n} Abonnenten nach {args.output} exportiert.", highlight=False)
    else:
        n = write(services.store, sys.stdout)
        sys.stdout.flush()
    return 0


def _subscriber_by_email(services: Services, raw: str) -> Subscriber:
    subscriber = services.store.subscribers.by_hash(hash_of(raw))
    if subscriber is None:
        raise NotFound(raw.strip())
    return subscriber


def cmd_subscribers_data(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    subscriber = _subscriber_by_email(services, args.email)
    data = gdpr.subscriber_data(
        services.store, subscriber, services.office(), services.taxonomy(), now=services.clock()
    )
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return 0


def cmd_subscribers_erase(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    hashed = hash_of(args.email)
    subscriber = services.store.subscribers.by_hash(hashed)
    if subscriber is None:
        if services.store.subscribers.suppression(hashed) is not None:
            out.print("Keine Daten zu dieser Adresse; sie ist bereits gesperrt.", highlight=False)
            return 0
        raise NotFound(args.email.strip())
    gdpr.erase(services.store, subscriber.id, now=services.clock())
    out.print(
        f"Abonnent Nr. {subscriber.id} gelöscht; nur die Prüfsumme der Adresse bleibt gesperrt.",
        highlight=False,
    )
    return 0


def cmd_subscribers_purge(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    if args.days < 1:
        raise InvalidInput("--days: mindestens 1")
    n = gdpr.purge_pending(
        services.store, now=services.clock(), older_than=dt.timedelta(days=args.days)
    )
    out.print(f"{n} unbestätigte Anmeldungen (älter als {args.days} Tage) gelöscht.")
    return 0


# ---------------------------------------------------------------- JSON shapes


def item_json(i: Item, tz: dt.tzinfo) -> dict[str, Any]:
    return {
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
    }


def _health_json(h: SourceHealth) -> dict[str, Any]:
    return {
        "id": h.source.id,
        "name": h.source.name,
        "institution": h.source.institution,
        "url": h.source.url,
        "kind": h.source.kind.value,
        "language": h.source.language,
        "enabled": h.source.enabled,
        "last_attempt": _iso(h.last_attempt),
        "last_success": _iso(h.last_success),
        "last_error": h.last_error,
        "last_error_at": _iso(h.last_error_at),
        "consecutive_failures": h.consecutive_failures,
        "next_try": _iso(h.next_try),
        "etag": h.etag,
        "last_modified": h.last_modified,
        "items": h.items,
    }


def _source_report_json(r: SourceReport) -> dict[str, Any]:
    return {
        "source": r.source_id,
        "status": r.status,
        "entries": r.entries,
        "new": r.new,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "suppressed": r.suppressed,
        "error": r.error,
        "next_try": _iso(r.next_try),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _local(value: dt.datetime, tz: dt.tzinfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
