"""`eudigest users … | serve`: the desk's staff accounts and the development server."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pipeline.cli.common import read_password
from pipeline.cli.output import local_time
from pipeline.errors import InvalidInput, NotFound
from pipeline.model import Role

if TYPE_CHECKING:
    from pipeline.bootstrap import Services
    from pipeline.cli.output import Console


def cmd_users_add(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline.curate import staff
    from subscribers.addresses import normalise_email

    email = normalise_email(args.email) if args.email else None  # refuse before asking
    password = read_password(err, confirm=True)
    user = staff.add_user(
        services.store, args.name, Role(args.role), password, now=services.clock()
    )
    if email:
        staff.set_email(services.store, user.id, email)
    out.print(f"user {user.name} ({user.role.value}) added.", highlight=False)
    return 0


def cmd_users_email(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline.curate import staff
    from subscribers.addresses import normalise_email

    user = services.store.users.by_name(args.name.strip().lower())
    if user is None:
        raise NotFound(args.name)
    if args.clear == bool(args.address):
        raise InvalidInput("give an ADDRESS or --clear (not both)")
    email = None if args.clear else normalise_email(args.address)
    staff.set_email(services.store, user.id, email)
    what = "removed" if email is None else "set"
    out.print(f"test-send address of {user.name} {what}.", highlight=False)
    return 0


def cmd_users_password(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline.curate import staff

    user = services.store.users.by_name(args.name.strip().lower())
    if user is None:
        raise NotFound(args.name)
    staff.set_password(services.store, user.id, read_password(err, confirm=True))
    out.print(
        f"password of {user.name} changed; every session signed in before has ended.",
        highlight=False,
    )
    return 0


def cmd_users_list(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline.cli.output import Column, RankedTable

    table = RankedTable(
        "Staff",
        [
            Column("name"),
            Column("role", rank=1),
            Column("active"),
            Column("last login", rank=2),
            Column("test email", rank=3, flex=True, min_width=16),
        ],
    )
    tz = services.settings.tz
    for u in services.store.users.list():
        table.add_row(
            u.name,
            u.role.value,
            "yes" if u.active else "no",
            local_time(u.last_login, tz) if u.last_login else "never",
            u.email or "",
        )
    table.print(out, wide=getattr(args, "wide", False))
    return 0


def cmd_serve(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    from pipeline.web import create_app

    settings = services.settings
    app = create_app(settings, services)
    missing = settings.unset_for_mail_links()
    if missing:
        err.print(
            f"warning: {' and '.join(missing)} not set: the public pages mail no links "
            "(sign-up, /abo/link) and sessions end at restart; for a local try set e.g. "
            f"EUDIGEST_BASE_URL=http://{args.host}:{args.port} and a secret key of 32+ "
            "characters in .env",
            highlight=False,
        )
    out.print(f"desk on http://{args.host}:{args.port}/desk/ (Ctrl-C stops)", highlight=False)
    app.run(host=args.host, port=args.port, debug=False, use_reloader=False)
    return 0
