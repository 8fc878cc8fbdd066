"""`eudigest edition … | send | send-due`: editions, their approval and schedule, and sending."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pipeline.cli.common import (
    EXIT_ATTENTION,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STOPPED,
    EXIT_USAGE,
    operator,
)
from pipeline.cli.output import Column, RankedTable, iso, local_time, short_time
from pipeline.errors import EditionNotFound, Forbidden, InvalidInput, InvalidTransition
from pipeline.model import (
    Edition,
    Preflight,
    StaffUser,
    local_time_issue,
    local_time_message,
)

if TYPE_CHECKING:
    from pipeline.bootstrap import Services
    from pipeline.cli.output import Console
    from pipeline.deliver.send import SendProgress, SendReport

log = logging.getLogger("eudigest")


def cmd_edition_draft(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    """Plain: the new id alone on stdout (`id=$(eudigest edition draft weekly)`)."""
    from pipeline import curate

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
        actor=operator(),
        now=services.clock(),
        topic_labels={t.id: t.label_de for t in services.taxonomy().topics},
        tz=services.settings.tz,
    )
    if args.json:
        out.json(edition_json(services, edition))
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
        out.json(
            [
                {
                    "id": e.id,
                    "newsletter": e.newsletter_id,
                    "title": e.title,
                    "state": e.state.value,
                    "items": list(e.item_ids),
                    "sections": [{"title": s.title, "items": list(s.item_ids)} for s in e.sections],
                    "approved_by": e.approved_by,
                    "scheduled_at": iso(e.scheduled_at),
                }
                for e in found
            ]
        )
        return 0
    from rich.markup import escape

    table = RankedTable(
        "Editions",
        [
            Column("id"),
            Column("newsletter", rank=2),
            Column("state"),
            Column("items", rank=1),
            Column("title", flex=True, min_width=20),
        ],
    )
    for e in found:
        table.add_row(
            str(e.id), e.newsletter_id, e.state.value, str(len(e.item_ids)), escape(e.title)
        )
    table.print(out, wide=getattr(args, "wide", False))
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
    data = edition_json(services, edition)
    if args.json:
        out.json(data)
        return 0
    print_edition(data, out)
    return 0


def print_edition(data: dict[str, Any], out: Console) -> None:
    def line(text: str) -> None:
        out.print(text, highlight=False, markup=False)

    line(f"edition {data['id']}: “{data['title']}” (newsletter {data['newsletter']})")
    state = data["state"]
    if data["approved_by"]:
        state += f", approved by {data['approved_by']} at {short_time(data['approved_at'])}"
    if data["scheduled_at"]:
        state += f", scheduled for {short_time(data['scheduled_at'])}"
    if data["sent_at"]:
        state += f", sent at {short_time(data['sent_at'])}"
    line(f"state: {state}")
    if data.get("halt_reason"):
        line(f"halted at {short_time(data['halted_at'])}: {data['halt_reason']}")
    line(
        f"created {short_time(data['created_at'])} by {data['created_by']}; "
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
        ended = f" – {short_time(s['ended_at'])}" if s["ended_at"] else ""
        why = f": {s['detail']}" if s["detail"] else ""
        line(f"  sender {s['instance']} {short_time(s['started_at'])}{ended} {s['outcome']}{why}")


def cmd_edition_approve(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    """Approve a draft. Without four eyes the local operator may (recorded as the system
    user); `--as NAME` (required with four eyes) needs that account's credential: its
    personal API token in EUDIGEST_API_TOKEN, or its password typed at the terminal."""
    from pipeline import curate
    from pipeline.errors import PreflightBlocked

    office = services.office()
    if args.as_user is not None:
        actor = _authenticated(services, args.as_user)
    elif office.four_eyes:  # the command line's operator is nobody in particular
        raise Forbidden(
            "four-eyes rule (office.yaml desk.four_eyes): approve as a staff account other "
            "than the last editor, with --as NAME and that account's credential (its "
            "password at the prompt, or its API token in EUDIGEST_API_TOKEN)"
        )
    else:
        actor = operator()
    try:
        with _explained(services, args.edition_id):
            edition = curate.approve(
                services.store,
                office,
                args.edition_id,
                actor=actor,
                now=services.clock(),
                settings=services.settings,
            )
    except PreflightBlocked as exc:
        err.print(
            f"error: edition {args.edition_id} cannot be approved while the preflight finds "
            f"{len(exc.findings)} blocking problem(s) (`eudigest edition check "
            f"{args.edition_id}`):",
            highlight=False,
            markup=False,
        )
        for f in exc.findings:
            err.print(f"  ✗ [{f.code.value}] {f.message}", highlight=False, markup=False)
        return EXIT_USAGE
    out.print(
        f"edition {edition.id} approved by {edition.approved_by}. Send it with "
        f"`eudigest send {edition.id}`, or schedule it with "
        f"`eudigest edition schedule {edition.id} --at YYYY-MM-DDTHH:MM`.",
        highlight=False,
        markup=False,
    )
    return 0


def _authenticated(services: Services, name: str) -> StaffUser:
    """The staff account `name`, proven by its API token (EUDIGEST_API_TOKEN) or by its
    password typed at the terminal; never by the name alone."""
    from pipeline.cli import common
    from pipeline.curate import staff, tokens

    user = _staff_account(services, name)
    now = services.clock()
    token = services.settings.api_token
    if token:
        found = tokens.account_for(services.store, user.name, token, now=now)
        if found is None:
            raise Forbidden(
                f"--as {user.name}: EUDIGEST_API_TOKEN is not an active API token of "
                f"{user.name} (tokens are made and revoked in the desk under „Mein Konto“)"
            )
        return found
    password = common.ask_password(f"Passwort von {user.name}: ")
    if password is None:
        raise Forbidden(
            f"--as {user.name} needs {user.name}'s credential: set EUDIGEST_API_TOKEN to a "
            "personal API token of that account (desk, „Mein Konto“), or run this in a "
            "terminal to type its password"
        )
    try:
        return staff.authenticate(services.store, user.name, password, now=now)
    except staff.LoginFailed:
        raise Forbidden(
            f"--as {user.name}: wrong password, or the account is locked or deactivated"
        ) from None


def _staff_account(services: Services, name: str) -> StaffUser:
    user = services.store.users.by_name(name.strip().lower())
    if user is None:
        raise InvalidInput(f"--as {name}: no staff account of that name (`eudigest users list`)")
    if not user.active:
        raise InvalidInput(f"--as {name}: the account is deactivated")
    return user


def cmd_edition_check(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    """The preflight: exit 1 while anything blocks (approval is refused then), else 0."""
    from pipeline.compose import preflight

    edition = _edition(services, args.edition_id)
    result = preflight.run(
        services.store,
        services.office(),
        services.settings,
        edition.id,
        now=services.clock(),
        tz=services.settings.tz,
        check_links=not args.no_links,
    )
    if args.json:
        out.json(result.as_json())
    else:
        print_preflight(edition, result, out)
    return EXIT_ATTENTION if result.blocked else EXIT_OK


def print_preflight(edition: Edition, result: Preflight, out: Console) -> None:
    def line(text: str) -> None:
        out.print(text, highlight=False, markup=False)

    line(
        f"edition {edition.id} “{edition.title}”: {len(result.blocking)} blocking, "
        f"{len(result.warnings)} warnings, {len(result.acknowledged)} acknowledged"
    )
    for f in result.blocking:
        line(f"  ✗ [{f.code.value}] {f.message}")
    for f in result.warnings:
        line(f"  ! [{f.code.value}] {f.message}")
    for f, a in result.acknowledged:
        line(f"  ✓ [{f.code.value}] {f.message} (acknowledged by {a.actor})")
    if result.blocked:
        line("approval is refused until the blocking problems are fixed")


def cmd_edition_schedule(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline import curate

    tz = services.settings.tz
    send_at = _send_time(args.at, tz)
    with _explained(services, args.edition_id):
        edition = curate.schedule(
            services.store, args.edition_id, send_at=send_at, actor=operator(), now=services.clock()
        )
    out.print(
        f"edition {edition.id} scheduled for {local_time(send_at, tz)} ({tz}); "
        "`eudigest send-due` (run by the scheduler) sends it from then on.",
        highlight=False,
        markup=False,
    )
    for b in services.settings.send_blockers():  # scheduled all the same; it would halt
        err.print(
            f"warning: {b.message}; the send will halt („Versand angehalten“) until it is fixed",
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
    if parsed.tzinfo is not None:
        return parsed
    issue = local_time_issue(parsed, tz)  # the hour the clocks go back, or the spring gap
    if issue is not None:
        raise InvalidInput(f"--at {text!r}: {local_time_message(parsed, tz, issue, german=False)}")
    return parsed.replace(tzinfo=tz)


def cmd_edition_unschedule(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline import curate

    with _explained(services, args.edition_id):
        edition = curate.unschedule(
            services.store, args.edition_id, actor=operator(), now=services.clock()
        )
    out.print(
        f"edition {edition.id} will not be sent; it is a draft again (approval withdrawn).",
        highlight=False,
    )
    return 0


def cmd_edition_reopen(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline import curate

    with _explained(services, args.edition_id):
        edition = curate.reopen(
            services.store, args.edition_id, actor=operator(), now=services.clock()
        )
    out.print(f"edition {edition.id} is a draft again (approval withdrawn).", highlight=False)
    return 0


# What to do next when an edition is not in the state a command needs (the rules and
# their German message are curate's; the commands to type are the command line's).
NEXT_STEP = {
    "draft": "approve it first: `eudigest edition approve {id}`",
    "approved": "`eudigest edition schedule {id} --at …` or `eudigest send {id}`",
    "scheduled": "`eudigest edition unschedule {id}` stops it (back to draft)",
    "sending": "it is being sent: `eudigest edition show {id}`",
    "halted": "its send was halted (`eudigest edition show {id}` says why); after the fix "
    "`eudigest send {id}` resumes it",
    "sent": "it was sent: `eudigest edition show {id}`",
}


@contextlib.contextmanager
def _explained(services: Services, edition_id: int) -> Iterator[None]:
    """An unknown id or a refused state change as one clear line with the next step."""
    from pipeline import curate

    try:
        yield
    except EditionNotFound:
        raise InvalidInput(
            f"edition {edition_id} does not exist (`eudigest edition list` shows them)"
        ) from None
    except InvalidTransition as exc:
        hint = NEXT_STEP.get(exc.from_state, "").format(id=edition_id)
        raise InvalidInput(
            f"edition {edition_id}: {curate.transition_message(exc)}"
            + (f" ({hint})" if hint else "")
        ) from None


def edition_json(services: Services, e: Edition) -> dict[str, Any]:
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
        "halt_reason": e.halt_reason,
        "halted_at": when(e.halted_at),
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
    from pipeline import jobs

    if args.helper_of is not None:  # started by another `eudigest send` (deliver.processes)
        return _help_send(services, args.edition_id, args.helper_of)
    # at a terminal, a status line says how far the send is (the log says it at INFO)
    shown = not args.json and err.is_terminal
    with err.status_line("sending…", show=shown) as update:

        def progress(p: SendProgress) -> None:
            update(f"sending… {p.line()}")

        report = jobs.send(
            services,
            args.edition_id,
            processes=args.processes,
            progress=progress if shown else None,
        )
    return _print_sends([report], args.json, out, err)


def _help_send(services: Services, edition_id: int, parent: int) -> int:
    """A helper sends its share and ends with its parent; the parent reports. Exit 0 when
    its share went out (or there was nothing left: the edition sent meanwhile)."""
    from pipeline import jobs
    from pipeline.deliver.processes import follow_parent
    from pipeline.deliver.send import NotSendable

    if not follow_parent(parent):
        log.warning("sender helper: its parent process %d is gone; not sending", parent)
        return EXIT_INTERRUPTED
    try:
        report = jobs.send(services, edition_id, helper_of=parent)
    except NotSendable as exc:  # the parent finished before this one started
        log.info("sender helper: nothing to do: %s", exc)
        return 0
    return EXIT_STOPPED if report.stopped else 0


def cmd_send_due(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline import jobs
    from pipeline.deliver.send import SendDueStopped, SendUnfinished

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
        out.json({**totals, "editions": editions})
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
