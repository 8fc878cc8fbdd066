"""The `eudigest` command: a thin shell over jobs and the store.

Exit codes: 0 success, 1 the job ran but failed as a whole (for example no
source could be fetched), 2 wrong usage or configuration.
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

from pipeline import curate, jobs
from pipeline.bootstrap import Services, build
from pipeline.config import VERSION, Settings, load_dotenv_into
from pipeline.curate import staff
from pipeline.deliver.send import SendReport
from pipeline.errors import EudigestError, InvalidInput, NotFound
from pipeline.model import (
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
from subscribers.addresses import hash_of
from subscribers.profiles import ProfileForm
from subscribers.signup import SignUpForm
from subscribers.tokens import Links

log = logging.getLogger("eudigest")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    out = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    try:
        load_dotenv_into(os.environ, Path.cwd() / ".env")
        settings = Settings.from_env(os.environ)
        services = build(settings)
    except EudigestError as exc:
        err.print(f"[red]error:[/] {exc}", markup=True, highlight=False)
        return 2
    try:
        return int(args.func(services, args, out, err))
    except NotFound as exc:
        err.print(f"[red]error:[/] not found: {exc.ident}", highlight=False)
        return 2
    except EudigestError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        return 2
    finally:
        services.close()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eudigest", description="EU policy digest pipeline.")
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
    d.set_defaults(func=cmd_users_add)
    d = users_sub.add_parser("list", help="list accounts")
    d.set_defaults(func=cmd_users_list)
    d = users_sub.add_parser("password", help="set a new password (from stdin or prompted)")
    d.add_argument("name")
    d.set_defaults(func=cmd_users_password)

    s = sub.add_parser("edition", help="editions of the newsletters")
    ed_sub = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = ed_sub.add_parser("draft", help="propose a draft from accepted items since the last one")
    d.add_argument("newsletter", metavar="NEWSLETTER")
    d.set_defaults(func=cmd_edition_draft)
    d = ed_sub.add_parser("list", help="list editions")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_edition_list)

    _subscribers_parser(sub)

    s = sub.add_parser(
        "serve", help="run the web desk (development server; gunicorn in production)"
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("send", help="send an approved edition (resumes an interrupted send)")
    s.add_argument("edition_id", type=int, metavar="EDITION_ID")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_send)

    s = sub.add_parser("send-due", help="send every scheduled edition whose time has come")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_send_due)

    s = sub.add_parser("demo", help="the main job on the embedded defaults: init and fetch")
    s.set_defaults(func=cmd_demo)
    return p


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
    password = _read_password(err, confirm=True)
    user = staff.add_user(
        services.store, args.name, Role(args.role), password, now=services.clock()
    )
    out.print(f"user {user.name} ({user.role.value}) added.", highlight=False)
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
    for col in ("name", "role", "active", "last login", "locked until"):
        table.add_column(col, no_wrap=True)
    tz = services.settings.tz
    for u in services.store.users.list():
        table.add_row(
            u.name,
            u.role.value,
            "yes" if u.active else "no",
            _local(u.last_login, tz) if u.last_login else "never",
            _local(u.locked_until, tz) if u.locked_until else "",
        )
    out.print(table)
    return 0


def cmd_edition_draft(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    labels = {t.id: t.label_de for t in services.taxonomy().topics}
    edition = curate.propose_draft(
        services.store,
        services.office(),
        args.newsletter,
        actor=_operator(),
        now=services.clock(),
        topic_labels=labels,
    )
    out.print(
        f"draft edition {edition.id} “{edition.title}”: {len(edition.item_ids)} items in "
        f"{len(edition.sections)} sections. Edit it in the desk: /desk/editions/{edition.id}",
        highlight=False,
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


def cmd_send(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    return _print_sends([jobs.send(services, args.edition_id)], args.json, out, err)


def cmd_send_due(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    return _print_sends(jobs.send_due(services), args.json, out, err)


def _print_sends(reports: Sequence[SendReport], as_json: bool, out: Console, err: Console) -> int:
    """Counts per edition; exit 1 when anything failed or its outcome is unknown."""
    keys = ("sent", "failed", "unknown", "skipped", "queued")
    totals = {k: sum(getattr(r, k) for r in reports) for k in keys}
    if as_json:
        editions = [
            {"edition": r.edition_id, "finished": r.finished, **{k: getattr(r, k) for k in keys}}
            for r in reports
        ]
        out.print_json(json.dumps({**totals, "editions": editions}))
    else:
        for r in reports:
            state = "sent" if r.finished else "not finished"
            out.print(
                f"edition {r.edition_id} ({state}): sent {r.sent}, failed {r.failed}, "
                f"unknown {r.unknown}, skipped {r.skipped}, still queued {r.queued}",
                highlight=False,
            )
        if not reports:
            out.print("no edition is due", highlight=False)
    if totals["failed"] or totals["unknown"]:
        err.print(
            f"{totals['failed']} failed, {totals['unknown']} unknown: check the deliveries "
            "in the desk (unknown ones may have been delivered; never resent automatically)",
            highlight=False,
        )
        return 1
    return 0


def cmd_serve(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline.web import create_app

    app = create_app(services.settings, services)
    out.print(f"desk on http://{args.host}:{args.port}/desk/ (Ctrl-C stops)", highlight=False)
    app.run(host=args.host, port=args.port, debug=False, use_reloader=False)
    return 0


def cmd_demo(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    cmd_init(services, args, out, err)
    out.print("fetching the sources of sources.yaml …", highlight=False)
    report = jobs.fetch(services)
    _print_fetch_report(report, out, services.settings.tz)
    if report.attempted and not report.succeeded:
        out.print(
            "[yellow]No source could be reached, so nothing was fetched.[/] "
            "This machine seems to have no connection to the EU sites "
            f"(first error: {report.attempted[0].error}). "
            "The run itself worked: `eudigest sources` shows each source's health, "
            "and the next run retries them.",
            highlight=False,
        )
    total = services.store.items.count()
    where = services.store.engine.url.render_as_string()  # the password, if any, hidden
    out.print(f"{total} items in the store ({where}).", highlight=False)
    if total:
        args.topic = args.source = args.since = args.status = None
        args.json, args.limit = False, 15
        cmd_items(services, args, out, err)
        out.print("More with `eudigest items`, source health with `eudigest sources`.")
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
        "source": i.source_id,
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
