"""`eudigest dossiers | dossier show|follow|unfollow|publish|unpublish|attach|detach`.

What staff read is German (stage, events, next step); the JSON keys are English.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pipeline.cli.output import Column, RankedTable, iso
from pipeline.errors import InvalidInput
from pipeline.model import (
    PROCEDURE_TYPE_LABELS,
    Dossier,
    Stage,
    dossier_links,
    german_date,
    new_events_label,
)

if TYPE_CHECKING:
    from pipeline.bootstrap import Services
    from pipeline.cli.output import Console


def cmd_dossiers(services: Services, args: argparse.Namespace, out: Console, err: Console) -> int:
    followed_by = None
    unseen: dict[str, int] = {}
    if args.followed is not None:
        from pipeline.curate.dossiers import staff_account

        name = args.followed or args.as_user
        if not name:
            raise InvalidInput(
                "--followed: wessen Verfahren? Bitte das Konto mit --as USER nennen."
            )
        followed_by = staff_account(services.store, name).name
        unseen = {u.reference: u.count for u in services.store.dossiers.unseen(followed_by)}
    found = services.store.dossiers.list(
        today=services.clock().astimezone(services.settings.tz).date(),
        stage=Stage(args.stage) if args.stage else None,
        followed_by=followed_by,
        published=True if getattr(args, "published", False) else None,
    )
    if args.json:
        rows = [dossier_summary_json(d) for d in found]
        if followed_by is not None:  # what they have not seen since they last looked
            rows = [{**r, "new_events": unseen.get(r["reference"], 0)} for r in rows]
        out.json(rows)
        return 0
    if not found:
        out.print("Keine Verfahrensakten.", highlight=False)
        return 0
    from rich.markup import escape

    columns = [
        Column("Verfahren"),
        Column("Titel", flex=True, min_width=20),
        Column("Stand", rank=1),
        Column("Nächster Schritt", rank=3, flex=True, min_width=16),
        Column("Meldungen", rank=2),
        Column("Ereignisse", rank=4),
    ]
    if followed_by is not None:
        columns.append(Column("Neu", rank=1))
    table = RankedTable("Verfahrensakten", columns)
    for d in found:
        cells = [
            escape(d.reference),
            escape(d.title),
            escape(d.stage_label),
            escape(d.next_step),
            str(d.item_count),
            str(d.event_count),
        ]
        if followed_by is not None:
            count = unseen.get(d.reference, 0)
            cells.append(new_events_label(count) if count else "–")
        table.add_row(*cells)
    table.print(out, wide=getattr(args, "wide", False))
    return 0


def cmd_dossier_show(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    today = services.clock().astimezone(services.settings.tz).date()
    d = services.store.dossiers.get(args.reference, today=today)
    if getattr(args, "as_user", None):  # a follower looks, as on the desk's page
        from pipeline.curate.dossiers import staff_account

        services.store.dossiers.mark_seen(
            d.reference, staff_account(services.store, args.as_user).name
        )
    if args.json:
        out.json(dossier_json(d))
        return 0
    out.print(f"[bold]{d.reference}[/] – {d.title}", highlight=False)
    if d.title_en and d.title_de:
        out.print(f"  (englisch: {d.title_en})", highlight=False)
    elif d.title_language not in ("", "de"):
        from pipeline.text import language_name

        name = language_name(d.title_language, default=d.title_language)
        out.print(f"  (kein deutscher Titel; Titel auf {name})", highlight=False)
    type_label = PROCEDURE_TYPE_LABELS[d.procedure_type]
    out.print(f"Verfahren: {d.procedure_type.value} – {type_label}", highlight=False)
    out.print(f"Stand: {d.stage_label}", highlight=False)
    if d.next_step:
        out.print(f"Nächster Schritt: {d.next_step}", highlight=False)
    if d.lead_committee:
        out.print(f"Federführender Ausschuss: {d.lead_committee}", highlight=False)
    if d.rapporteur:
        out.print(f"Berichterstattung: {d.rapporteur}", highlight=False)
    if d.aliases:
        out.print(f"Auch bekannt als: {', '.join(d.aliases)}", highlight=False)
    out.print("\nVerlauf:", highlight=False)
    for e in d.events:
        note = f" [{e.label_en}]" if e.label_en and e.kind.value == "OTHER" else ""
        doc = f" ({e.document})" if e.document else ""
        out.print(f"  {german_date(e.date)}: {e.label_de}{doc}{note} – {e.source}", highlight=False)
    count = len(d.item_ids)
    from pipeline.text import de_count

    out.print(f"\n{de_count(count, 'Meldung', 'Meldungen')}:", highlight=False)
    found = services.store.items.get_many(d.item_ids)
    for item in sorted(found.values(), key=lambda i: i.published, reverse=True):
        day = german_date(item.published.astimezone(services.settings.tz).date())
        out.print(f"  [{item.id}] {day}: {item.title}", highlight=False)
    if d.followers:
        out.print(f"Folgen: {', '.join(d.followers)}", highlight=False)
    for name, url in links(d).items():
        out.print(f"{_LINK_NAMES.get(name, name)}: {url}", highlight=False)
    return 0


def cmd_dossier_follow(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline.curate import dossiers

    now = services.clock()
    if args.action == "follow":
        done = dossiers.follow(services.store, args.reference, args.as_user, now=now)
        text = "folgt jetzt" if done else "folgte bereits"
    else:
        done = dossiers.unfollow(services.store, args.reference, args.as_user, now=now)
        text = "folgt nicht mehr" if done else "folgte nicht"
    out.print(f"{args.as_user} {text}: {args.reference}", highlight=False)
    return 0


def cmd_dossier_publish(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline.curate import dossiers

    publish = args.action == "publish"
    done = dossiers.publish(
        services.store, args.reference, publish, args.as_user, now=services.clock()
    )
    if publish:
        text = "für Abonnenten veröffentlicht" if done else "war schon veröffentlicht"
    else:
        text = "nicht mehr veröffentlicht" if done else "war nicht veröffentlicht"
    out.print(f"{args.reference}: {text}", highlight=False)
    return 0


def cmd_dossier_link(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline.curate import dossiers

    actor = dossiers.staff_account(services.store, args.as_user)
    now = services.clock()
    if args.action == "attach":
        done = dossiers.attach(services.store, args.reference, args.item_id, actor=actor, now=now)
        text = "zugeordnet" if done else "war schon zugeordnet"
    else:
        done = dossiers.detach(services.store, args.reference, args.item_id, actor=actor, now=now)
        text = "herausgenommen" if done else "war nicht zugeordnet"
    out.print(f"Meldung {args.item_id} {text}: {args.reference}", highlight=False)
    return 0


_LINK_NAMES = {
    "oeil": "Legislative Observatory (englisch)",
    "eurlex_de": "EUR-Lex (deutsch)",
    "eurlex_en": "EUR-Lex (englisch)",
    "legislative_train": "Legislative Train des Parlaments (englisch)",
}

# ---------------------------------------------------------------- JSON shapes


def dossier_summary_json(d: Dossier) -> dict[str, Any]:
    return {
        "reference": d.reference,
        "title_de": d.title_de,
        "title_en": d.title_en,
        "type": d.procedure_type.value,
        "stage": d.stage.value,
        "stage_de": d.stage_label,
        "next_step": d.next_step,
        "updated_at": iso(d.updated_at),
        "items": d.item_count,
        "events": d.event_count,
        "published": d.published,
    }


def dossier_json(d: Dossier) -> dict[str, Any]:
    return {
        **dossier_summary_json(d),
        "title_other": d.title_other,
        "title_other_language": d.title_other_language,
        "title_language": d.title_language,
        "lead_committee": d.lead_committee,
        "rapporteur": d.rapporteur,
        "aliases": list(d.aliases),
        "events": [
            {
                "date": e.date.isoformat(),
                "kind": e.kind.value,
                "label_de": e.label_de,
                "label_en": e.label_en,
                "document": e.document,
                "forecast": e.forecast,
                "source": e.source,
            }
            for e in d.events
        ],
        "items": list(d.item_ids),
        "followers": list(d.followers),
        "links": links(d),
    }


def links(d: Dossier) -> dict[str, str]:
    """The dossier's links by name (`model.dossier_links`: German first; the
    Legislative Train only where a source named its page)."""
    return {link.key: link.url for link in dossier_links(d)}
