"""The `eudigest` command line: the parser, and running one command.

    main(argv) ─ parse ─▶ (--help, --version: done, nothing else imported)
               ─ settings from the environment (and .env), logging
               ─ build the services (the store; fetcher and mailer on first use)
               ─ import the command's module, run `cmd_…(services, args, out, err)`
               ─ errors ─▶ exit codes (EXIT_CODES_HELP)

Commands live by area: `ingest` (init, fetch, sources, items), `desk` (users, serve),
`editions` (edition, send, send-due), `subscribers`, `dossiers` (dossiers, dossier),
`operations` (status, backup, scheduler, run, runs, demo), `model` (model train, model
status); `output` holds the consoles and JSON shapes. A command parses nothing itself,
calls one function of jobs, curate, subscribers or the store, and prints. Each command
module imports what it needs when it runs: `eudigest --help` imports neither the store
nor the web app.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipeline import logs, memory
from pipeline.cli.common import (
    EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    EXIT_STORE,
    EXIT_USAGE,
    date_arg,
)
from pipeline.cli.output import Console
from pipeline.config import VERSION, Settings, load_dotenv_into
from pipeline.errors import EudigestError, NotFound, StoreError
from pipeline.model import ItemStatus, Role, Stage

log = logging.getLogger("eudigest")

JSON_HELP = "print JSON instead of a table"
WIDE_HELP = "every column, however narrow the terminal"
AS_HELP = "the staff account doing it (audit trail)"

Command = Callable[..., int]


def main(argv: Sequence[str] | None = None) -> int:
    memory.tune_malloc()  # big buffers back to the system when freed
    parser = _parser()
    args = parser.parse_args(argv)
    logs.setup(verbose=args.verbose)  # until the settings are read
    out, err = Console(), Console(stderr=True)
    try:
        return _run(args, out, err)
    except KeyboardInterrupt:  # Ctrl-C anywhere, Ctrl-D at a prompt: no traceback
        err.print("\ninterrupted.", highlight=False)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        load_dotenv_into(os.environ, Path.cwd() / ".env")
        settings = Settings.from_env(os.environ)
        logs.setup(settings.log_format, settings.log_level, verbose=args.verbose)
        command = _command(args.func)
        from pipeline.bootstrap import build

        services = build(settings)
    except StoreError as exc:
        err.print(f"[red]error:[/] the database is unreachable: {exc}", highlight=False)
        return EXIT_STORE
    except EudigestError as exc:
        err.print(f"[red]error:[/] {exc}", markup=True, highlight=False)
        return EXIT_USAGE
    try:
        return int(command(services, args, out, err))
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


def _command(spec: str) -> Command:
    """ "editions:cmd_send" → the function, importing its module only now."""
    module, _, name = spec.partition(":")
    fn: Command = getattr(importlib.import_module(f"pipeline.cli.{module}"), name)
    return fn


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written; every option's help ends with its default, when it has
    one worth saying (not for flags, not for None or an empty list)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or not action.option_strings
            or default in (None, False, [], "", argparse.SUPPRESS)
            or action.nargs == 0
        ):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """Every parser and sub-parser of `eudigest` prints its defaults in --help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["formatter_class"] = _HelpFormatter
        super().__init__(*args, **kwargs)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="eudigest",
        description="EU policy digest pipeline.",
        epilog=EXIT_CODES_HELP,
    )
    p.add_argument("--version", action="version", version=f"eudigest {VERSION}")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", help="create or upgrade the database; load sources and taxonomy")
    s.set_defaults(func="ingest:cmd_init")

    s = sub.add_parser("fetch", help="fetch the sources and store new items")
    s.add_argument("--source", action="append", default=[], metavar="ID", help="only this source")
    s.add_argument("--sources-file", type=Path, metavar="PATH", help="use this sources.yaml")
    s.add_argument("--force", action="store_true", help="also fetch sources in backoff")
    s.add_argument("--due", action="store_true", help="only sources whose interval has passed")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func="ingest:cmd_fetch")

    s = sub.add_parser("sources", help="list sources and their health")
    s.add_argument("--json", action="store_true", help=JSON_HELP)
    s.add_argument("--wide", action="store_true", help=WIDE_HELP)
    s.set_defaults(func="ingest:cmd_sources")

    s = sub.add_parser("items", help="list items, or change their status")
    s.add_argument("--json", action="store_true", help=JSON_HELP)
    s.add_argument("--topic", metavar="ID", help="only items of this topic (taxonomy id)")
    s.add_argument("--source", metavar="ID", help="only items of this source")
    s.add_argument("--since", type=date_arg, metavar="YYYY-MM-DD", help="published since")
    s.add_argument(
        "--status", choices=[x.value for x in ItemStatus], action="append",
        help="only items in this status (repeatable)",
    )  # fmt: skip
    s.add_argument("--limit", type=int, default=50, help="at most this many, newest first")
    s.add_argument("--wide", action="store_true", help=WIDE_HELP)
    s.set_defaults(func="ingest:cmd_items")
    items_sub = s.add_subparsers(dest="action", metavar="ACTION")
    d = items_sub.add_parser("delete", help="delete items; they never come back from a feed")
    d.add_argument("ids", type=int, nargs="+", metavar="ID")
    d.set_defaults(func="ingest:cmd_items_delete")
    d = items_sub.add_parser("accept", help="accept items for the digests")
    d.add_argument("ids", type=int, nargs="+", metavar="ID")
    d.add_argument("--topics", nargs="+", metavar="TOPIC", help="set these topics (staff)")
    d.set_defaults(func="ingest:cmd_items_accept")
    d = items_sub.add_parser("reject", help="reject items")
    d.add_argument("ids", type=int, nargs="+", metavar="ID")
    d.set_defaults(func="ingest:cmd_items_reject")

    _dossier_parsers(sub)

    s = sub.add_parser("users", help="staff accounts of the desk")
    users_sub = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = users_sub.add_parser("add", help="add an account (password from stdin or prompted)")
    d.add_argument("name")
    d.add_argument(
        "--role", choices=[r.value for r in Role], default=Role.EDITOR.value,
        help="what the account may do",
    )  # fmt: skip
    d.add_argument("--email", help="where the desk's test sends go (optional)")
    d.set_defaults(func="desk:cmd_users_add")
    d = users_sub.add_parser("email", help="set (or with --clear remove) a test-send address")
    d.add_argument("name")
    d.add_argument("address", nargs="?", metavar="ADDRESS")
    d.add_argument("--clear", action="store_true", help="remove the address")
    d.set_defaults(func="desk:cmd_users_email")
    d = users_sub.add_parser("list", help="list accounts")
    d.add_argument("--wide", action="store_true", help=WIDE_HELP)
    d.set_defaults(func="desk:cmd_users_list")
    d = users_sub.add_parser("password", help="set a new password (from stdin or prompted)")
    d.add_argument("name")
    d.set_defaults(func="desk:cmd_users_password")

    s = sub.add_parser("edition", help="editions of the newsletters")
    ed_sub = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = ed_sub.add_parser("draft", help="propose a draft from accepted items since the last one")
    d.add_argument("newsletter", metavar="NEWSLETTER")
    d.add_argument("--json", action="store_true", help="print the new edition as JSON")
    d.set_defaults(func="editions:cmd_edition_draft")
    d = ed_sub.add_parser("list", help="list editions")
    d.add_argument("--json", action="store_true", help=JSON_HELP)
    d.add_argument("--wide", action="store_true", help=WIDE_HELP)
    d.set_defaults(func="editions:cmd_edition_list")
    _edition_parsers(ed_sub)

    _subscribers_parser(sub)

    s = sub.add_parser(
        "serve", help="run the web desk (development server; gunicorn in production)"
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on")
    s.add_argument("--port", type=int, default=8000, help="port to listen on")
    s.set_defaults(func="desk:cmd_serve")

    s = sub.add_parser(
        "send",
        help="send an approved edition (resumes an interrupted send)",
        description="Send an approved or scheduled edition, or resume one being sent. Beside "
        "another process sending the same edition, both share the rest; nobody gets it twice.",
        epilog=EXIT_CODES_HELP,
    )
    s.add_argument("edition_id", type=int, metavar="EDITION_ID")
    s.add_argument("--json", action="store_true", help=JSON_HELP)
    s.add_argument(
        "--processes",
        type=int,
        choices=range(1, 17),
        metavar="N",
        help="send with N processes of this machine (default EUDIGEST_SEND_PROCESSES, "
        "from 10,000 deliveries)",
    )
    s.add_argument("--helper-of", type=int, help=argparse.SUPPRESS)  # deliver.processes
    s.set_defaults(func="editions:cmd_send")

    s = sub.add_parser(
        "send-due",
        help="send every scheduled edition whose time has come",
        description="Send every scheduled edition whose time has come and resume interrupted "
        "sends; an edition another process is sending right now is left to it.",
        epilog=EXIT_CODES_HELP,
    )
    s.add_argument("--json", action="store_true", help=JSON_HELP)
    s.set_defaults(func="editions:cmd_send_due")

    _scheduler_parsers(sub)

    s = sub.add_parser("model", help="learning from the desk's decisions: train, status")
    model_sub = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = model_sub.add_parser(
        "train", help="train on the desk's decisions; in use only where it beats the rules"
    )
    d.add_argument("--json", action="store_true", help=JSON_HELP)
    d.set_defaults(func="model:cmd_model_train")
    d = model_sub.add_parser("status", help="decisions, last training, AUC beside the rules")
    d.add_argument("--json", action="store_true", help=JSON_HELP)
    d.add_argument("--wide", action="store_true", help=WIDE_HELP)
    d.set_defaults(func="model:cmd_model_status")

    s = sub.add_parser(
        "status", help="jobs, sources, editions, deliveries: exit 1 if any needs attention"
    )
    s.add_argument("--json", action="store_true", help=JSON_HELP)
    s.add_argument("--wide", action="store_true", help=WIDE_HELP)
    s.set_defaults(func="operations:cmd_status")

    s = sub.add_parser("backup", help="online copy of the SQLite database (PostgreSQL: pg_dump)")
    s.add_argument("path", nargs="?", type=Path, metavar="PATH", help="default: DATA_DIR/backups/")
    s.set_defaults(func="operations:cmd_backup")

    s = sub.add_parser(
        "demo",
        help="the whole job on the embedded defaults: init, fetch, draft, approve, and "
        "deliver a digest to a demo subscriber through the outbox",
    )
    s.set_defaults(func="operations:cmd_demo")
    return p


def _scheduler_parsers(sub: Any) -> None:
    s = sub.add_parser("scheduler", help="run the jobs of cron.yaml until SIGTERM")
    s.add_argument("--config", type=Path, metavar="PATH", help="default: EUDIGEST_CRON")
    s.add_argument(
        "--grace", type=float, default=20.0, metavar="SECONDS",
        help="on SIGTERM, how long a running job may finish before it is stopped and released",
    )  # fmt: skip
    s.set_defaults(func="operations:cmd_scheduler")
    s = sub.add_parser("run", help="run one job of cron.yaml now, under the same claim rules")
    s.add_argument("job_id", metavar="JOB_ID")
    s.add_argument("--config", type=Path, metavar="PATH", help="default: EUDIGEST_CRON")
    s.add_argument("--force", action="store_true", help="run even if the due run already ran")
    s.add_argument("--json", action="store_true", help=JSON_HELP)
    s.set_defaults(func="operations:cmd_run")
    s = sub.add_parser("runs", help="the history of job runs")
    s.add_argument("--job", metavar="ID", help="only runs of this job (cron.yaml id)")
    s.add_argument("--limit", type=int, default=50, help="at most this many, newest first")
    s.add_argument("--json", action="store_true", help=JSON_HELP)
    s.add_argument("--wide", action="store_true", help=WIDE_HELP)
    s.set_defaults(func="operations:cmd_runs")


def _dossier_parsers(sub: Any) -> None:
    s = sub.add_parser("dossiers", help="legislative files (Verfahrensakten): a list")
    s.add_argument("--json", action="store_true", help=JSON_HELP)
    s.add_argument(
        "--stage", choices=[x.value for x in Stage], metavar="STAGE",
        help="only dossiers at this stage: " + ", ".join(x.value for x in Stage),
    )  # fmt: skip
    s.add_argument(
        "--followed", nargs="?", const="", metavar="USER",
        help="only those the staff account of --as (or USER) follows, with their new events",
    )  # fmt: skip
    s.add_argument("--as", dest="as_user", metavar="USER", help="the staff account (--followed)")
    s.add_argument("--published", action="store_true", help="only those offered to subscribers")
    s.add_argument("--wide", action="store_true", help=WIDE_HELP)
    s.set_defaults(func="dossiers:cmd_dossiers")
    s = sub.add_parser("dossier", help="one legislative file: show, follow, attach items")
    d_sub = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = d_sub.add_parser("show", help="stage, next step, timeline, items, links")
    d.add_argument("reference", metavar="REFERENCE", help="2025/0260(COD), COM(2025) 123 …")
    d.add_argument("--json", action="store_true", help=JSON_HELP)
    d.add_argument(
        "--as", dest="as_user", metavar="USER",
        help="a follower looks: its events are no longer new to them (as on the desk page)",
    )  # fmt: skip
    d.set_defaults(func="dossiers:cmd_dossier_show")
    for action, text in (("follow", "follow a dossier"), ("unfollow", "stop following it")):
        d = d_sub.add_parser(action, help=text)
        d.add_argument("reference", metavar="REFERENCE")
        d.add_argument("--as", dest="as_user", required=True, metavar="USER", help=AS_HELP)
        d.set_defaults(func="dossiers:cmd_dossier_follow")
    for action, text in (
        ("publish", "offer a dossier to subscribers (preference page, digest block)"),
        ("unpublish", "stop offering it (followers' blocks pause)"),
    ):
        d = d_sub.add_parser(action, help=text)
        d.add_argument("reference", metavar="REFERENCE")
        d.add_argument("--as", dest="as_user", required=True, metavar="USER", help=AS_HELP)
        d.set_defaults(func="dossiers:cmd_dossier_publish")
    for action, text in (
        ("attach", "thread an item to a dossier by hand (audited)"),
        ("detach", "take an item out of a dossier; it stays out (audited)"),
    ):
        d = d_sub.add_parser(action, help=text)
        d.add_argument("reference", metavar="REFERENCE")
        d.add_argument("item_id", type=int, metavar="ITEM_ID")
        d.add_argument("--as", dest="as_user", required=True, metavar="USER", help=AS_HELP)
        d.set_defaults(func="dossiers:cmd_dossier_link")


def _edition_parsers(ed_sub: Any) -> None:
    d = ed_sub.add_parser("show", help="one edition: state, sections, items, deliveries")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.add_argument("--json", action="store_true", help=JSON_HELP)
    d.set_defaults(func="editions:cmd_edition_show")
    d = ed_sub.add_parser("check", help="the preflight: what blocks approval, what to look at")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.add_argument("--json", action="store_true", help='{"blocking": [...], "warnings": [...]}')
    d.add_argument("--no-links", action="store_true", help="do not check the links (offline)")
    d.set_defaults(func="editions:cmd_edition_check")
    d = ed_sub.add_parser("approve", help="approve a draft (four eyes: --as another account)")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.add_argument(
        "--as",
        dest="as_user",
        metavar="NAME",
        help="the staff account that approves (required when office.yaml has four_eyes); "
        "its password is asked at the terminal, or its API token read from EUDIGEST_API_TOKEN",
    )
    d.set_defaults(func="editions:cmd_edition_approve")
    d = ed_sub.add_parser("schedule", help="schedule an approved edition for sending")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.add_argument(
        "--at",
        required=True,
        metavar="ISO_TIME",
        help="e.g. 2026-12-01T08:00 (office time zone) or 2026-12-01T08:00+01:00",
    )
    d.set_defaults(func="editions:cmd_edition_schedule")
    d = ed_sub.add_parser("unschedule", help="stop a scheduled edition: back to draft")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.set_defaults(func="editions:cmd_edition_unschedule")
    d = ed_sub.add_parser("reopen", help="withdraw the approval: back to draft")
    d.add_argument("edition_id", type=int, metavar="ID")
    d.set_defaults(func="editions:cmd_edition_reopen")
    d = ed_sub.add_parser(
        "correct",
        help="correct an item of a sent edition; who got it hears of it (mail or next digest)",
    )
    d.add_argument("edition_id", type=int, metavar="ID")
    d.add_argument("--item", type=int, required=True, metavar="ITEM", help="the item's id")
    d.add_argument("--headline", metavar="TEXT", help="the corrected headline")
    d.add_argument("--comment", metavar="MARKDOWN", help="the corrected comment")
    d.add_argument("--link", metavar="URL", help="the correct link (https://…)")
    d.add_argument("--deadline", metavar="OLD=NEW", help="move a deadline: 2027-03-15=2027-03-22")
    d.add_argument("--deadline-kind", metavar="KIND", help="which, if two share the date")
    d.add_argument("--withdraw", action="store_true", help="withdraw the item („zurückgezogen“)")
    d.add_argument("--reason", required=True, metavar="TEXT", help="German; readers see it")
    d.add_argument(
        "--delivery",
        choices=("mail", "next"),
        default="next",
        help="mail: a short mail now (next send-due); next: on top of the next digest",
    )
    d.add_argument("--json", action="store_true", help=JSON_HELP)
    d.set_defaults(func="corrections:cmd_edition_correct")


def _subscribers_parser(sub: Any) -> None:
    s = sub.add_parser("subscribers", help="newsletter subscribers: add, import, export, GDPR")
    subs = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = subs.add_parser("add", help="add an address and send it the confirmation mail")
    d.add_argument("email", metavar="EMAIL")
    d.add_argument("--name", default="", help="the reader's name (optional)")
    d.add_argument("--organisation", default="", help="their organisation (optional)")
    d.add_argument("--org-type", default="", metavar="TYPE", help="kommune, landkreis, …")
    d.add_argument("--language", default="de", choices=["de", "en"], help="of their mails")
    d.add_argument("--topics", nargs="+", default=[], metavar="TOPIC", help="default: all")
    d.add_argument(
        "--newsletters", nargs="+", default=[], metavar="ID", help="default: the first one"
    )
    d.set_defaults(func="subscribers:cmd_subscribers_add")
    d = subs.add_parser("import", help="import a CSV file; bad rows are reported by line")
    d.add_argument("file", type=Path, metavar="FILE.csv")
    d.set_defaults(func="subscribers:cmd_subscribers_import")
    d = subs.add_parser("export", help="all subscribers as CSV (or JSON) to stdout")
    d.add_argument("--json", action="store_true", help=JSON_HELP)
    d.add_argument("--output", "-o", type=Path, metavar="PATH", help="write to a file")
    d.set_defaults(func="subscribers:cmd_subscribers_export")
    d = subs.add_parser("data", help="everything stored about one address, as JSON (GDPR)")
    d.add_argument("email", metavar="EMAIL")
    d.set_defaults(func="subscribers:cmd_subscribers_data")
    d = subs.add_parser("erase", help="erase an address; only its hash stays, suppressed")
    d.add_argument("email", metavar="EMAIL")
    d.set_defaults(func="subscribers:cmd_subscribers_erase")
    d = subs.add_parser("purge", help="delete sign-ups not confirmed within 30 days")
    d.add_argument("--days", type=int, default=30, help="unconfirmed for longer than this")
    d.set_defaults(func="subscribers:cmd_subscribers_purge")
