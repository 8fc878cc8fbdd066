"""`eudigest edition correct ID --item ITEM …`: the desk's "Korrigieren" (ADR 0009)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from pipeline.cli.common import operator
from pipeline.errors import InvalidInput

if TYPE_CHECKING:
    from pipeline.bootstrap import Services
    from pipeline.cli.output import Console


def cmd_edition_correct(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    """Record a correction of an item of a sent edition; its notices go out as chosen."""
    from pipeline.curate import corrections as rules

    old = new = None
    if args.deadline:
        which, sep, when = args.deadline.partition("=")
        if not sep:
            raise InvalidInput("--deadline OLD=NEW, e.g. 2027-03-15=2027-03-22")
        try:
            old_date, new = dt.date.fromisoformat(which), dt.date.fromisoformat(when)
        except ValueError:
            raise InvalidInput("--deadline OLD=NEW takes two dates (YYYY-MM-DD)") from None
        choices = [v for v, _ in rules.deadline_choices(services.store, args.item)]
        found = [v for v in choices if v.startswith(old_date.isoformat())]
        if args.deadline_kind:
            found = [v for v in found if v.endswith(f" {args.deadline_kind}")]
        if len(found) != 1:
            raise InvalidInput(
                f"Meldung {args.item} hat {'keine' if not found else 'mehrere'} Frist(en) am "
                f"{old_date.isoformat()}" + ("" if not found else " (--deadline-kind wählen)")
            )
        old = found[0]
    request = rules.CorrectionRequest(
        headline=args.headline,
        comment=args.comment,
        link=args.link,
        deadline_old=old,
        deadline_new=new,
        withdrawn=args.withdraw,
        reason=args.reason,
        delivery=rules.parse_delivery(args.delivery),
    )
    from pipeline import jobs

    result = jobs.correct(services, args.edition_id, args.item, request, actor=operator())
    c = result.correction
    if args.json:
        out.json(
            {
                "correction": c.id,
                "edition": c.edition_id,
                "item": c.item_id,
                "delivery": c.delivery.value,
                "receivers": c.receivers,
                "unattributed": result.unattributed,
                "summary": c.summary,
            }
        )
    else:
        out.print(str(c.id), highlight=False)
    err.print(result.message, highlight=False, markup=False)
    return 0
