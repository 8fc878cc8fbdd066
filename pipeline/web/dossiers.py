"""Dossiers (Verfahrensakten) at the desk: /desk/verfahren (login required).

GET  /desk/verfahren/                               the list (stage filter, "nur gefolgte")
GET  /desk/verfahren/<reference>                    one procedure: stage, next step,
                                                    timeline, items, note, followers;
                                                    a follower's visit marks its events seen
POST /desk/verfahren/<reference>/folgen             follow / unfollow (action=follow|unfollow)
POST /desk/verfahren/<reference>/einordnung         the office's note (Markdown)
POST /desk/verfahren/<reference>/meldungen          attach an item by its number
POST /desk/verfahren/<reference>/meldungen/<id>/entfernen   detach an item

A reference contains slashes (2025/0260(COD)): it is a `path` segment; an alias or
another spelling redirects to the canonical page. Every change goes through
pipeline.curate.dossiers (audited); CSRF is checked for every POST.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from pipeline.curate import dossiers as curate_dossiers
from pipeline.errors import InvalidInput, ItemNotFound
from pipeline.model import PROCEDURE_TYPE_LABELS, STAGE_LABELS, Dossier, Stage
from pipeline.model.dossiers import dossier_links, new_events_label
from pipeline.web.auth import desk_blueprint
from pipeline.web.context import as_id, desk, staff_user

bp = desk_blueprint("dossiers", "/desk/verfahren")

PER_PAGE = 50  # rows of the list; the most recently changed first


@bp.get("/")
def index() -> ResponseReturnValue:
    d, me = desk(), staff_user()
    stage_arg = (request.args.get("stage") or "").strip()
    stage = Stage(stage_arg) if stage_arg in {s.value for s in Stage} else None
    followed = request.args.get("followed") == "1"
    followed_by = me.name if followed else None
    total = d.store.dossiers.count(stage=stage, followed_by=followed_by)
    pages = max(1, -(-total // PER_PAGE))
    try:
        page = max(1, min(int(request.args.get("page") or 1), pages))
    except ValueError:
        page = 1
    found = d.store.dossiers.list(
        today=d.now().astimezone(d.tz).date(),
        stage=stage,
        followed_by=followed_by,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    filters = [
        (k, v)
        for k, v in (("stage", stage.value if stage else ""), ("followed", "1" if followed else ""))
        if v
    ]

    def page_url(n: int) -> str:
        return f"{url_for('dossiers.index')}?{urlencode([*filters, ('page', str(n))])}"

    return render_template(
        "web/dossiers.html",
        unseen={u.reference: u for u in d.store.dossiers.unseen(me.name)},
        dossiers=found,
        total=total,
        page=page,
        pages=pages,
        page_url=page_url,
        stage=stage.value if stage else "",
        followed=followed,
        stages=STAGE_LABELS,
        filtered=bool(stage or followed),
    )


@bp.get("/<path:reference>")
def show(reference: str) -> ResponseReturnValue:
    d, me = desk(), staff_user()
    dossier = d.store.dossiers.get(reference, today=d.now().astimezone(d.tz).date())
    if dossier.reference != reference:
        return redirect(url_for("dossiers.show", reference=dossier.reference), code=303)
    found = d.store.items.get_many(dossier.item_ids)
    items = sorted(
        (found[i] for i in dossier.item_ids if i in found),
        key=lambda i: i.published,
        reverse=True,
    )
    sources = dict(d.store.items.facets().sources)
    # Opening the page is looking: what arrived since the last look is "neu" this once.
    seen = d.store.dossiers.mark_seen(dossier.reference, me.name)
    new_ids = {e.id for e in dossier.events if not e.forecast and seen is not None and e.id > seen}
    return render_template(
        "web/dossier.html",
        dossier=dossier,
        type_label=PROCEDURE_TYPE_LABELS[dossier.procedure_type],
        events=sorted(dossier.events, key=lambda e: (not e.forecast, e.date), reverse=True),
        key_dates=key_dates(dossier),
        links=links(dossier),
        items=items,
        source_names=sources,
        note=d.store.dossiers.note(dossier.reference),
        following=me.name in dossier.followers,
        new_ids=new_ids,
        new_label=new_events_label(len(new_ids)),
        note_max=curate_dossiers.NOTE_MAX,
    )


def _back(reference: str) -> str:
    g.back = url_for("dossiers.show", reference=reference)
    return str(g.back)


@bp.post("/<path:reference>/folgen")
def follow(reference: str) -> ResponseReturnValue:
    d, me = desk(), staff_user()
    back = _back(reference)
    action = request.form.get("action")
    if action == "follow":
        curate_dossiers.follow(d.store, reference, me.name, now=d.now())
        flash(f"Sie folgen jetzt dem Verfahren {reference}.", "success")
    elif action == "unfollow":
        curate_dossiers.unfollow(d.store, reference, me.name, now=d.now())
        flash(f"Sie folgen dem Verfahren {reference} nicht mehr.", "success")
    else:
        raise InvalidInput("Unbekannte Aktion.")
    return redirect(back, code=303)


@bp.post("/<path:reference>/einordnung")
def note(reference: str) -> ResponseReturnValue:
    d = desk()
    back = _back(reference)
    changed = curate_dossiers.set_note(
        d.store, reference, request.form.get("note", ""), actor=staff_user(), now=d.now()
    )
    flash("Einordnung gespeichert." if changed else "Einordnung unverändert.", "success")
    return redirect(f"{back}#einordnung", code=303)


@bp.post("/<path:reference>/meldungen")
def attach(reference: str) -> ResponseReturnValue:
    d = desk()
    back = _back(reference)
    raw = (request.form.get("item_id") or "").strip().lstrip("#")
    try:
        item_id = as_id(raw)
    except ValueError:
        raise InvalidInput(f"„{raw[:50]}“ ist keine Meldungsnummer.") from None
    try:
        done = curate_dossiers.attach(d.store, reference, item_id, actor=staff_user(), now=d.now())
    except ItemNotFound:
        raise InvalidInput(f"Eine Meldung Nr. {item_id} gibt es nicht.") from None
    text = "zugeordnet" if done else "war schon zugeordnet"
    flash(f"Meldung Nr. {item_id} {text}.", "success")
    return redirect(f"{back}#meldungen", code=303)


@bp.post("/<path:reference>/meldungen/<int:item_id>/entfernen")
def detach(reference: str, item_id: int) -> ResponseReturnValue:
    d = desk()
    back = _back(reference)
    done = curate_dossiers.detach(d.store, reference, item_id, actor=staff_user(), now=d.now())
    text = "herausgenommen" if done else "war nicht zugeordnet"
    flash(f"Meldung Nr. {item_id} {text}.", "success")
    return redirect(f"{back}#meldungen", code=303)


# ---------------------------------------------------------------- what the page shows


def links(d: Dossier) -> list[tuple[str, str]]:
    """The dossier's links as the desk lists them (`model.dossier_links`: German first)."""
    return [(link.label_de, link.url) for link in dossier_links(d)]


_KEY_KINDS = {
    "PROPOSAL": "Vorschlag der Kommission",
    "COMMITTEE_ADOPTING_REPORT": "Abstimmung im Ausschuss",
    "PLENARY_ADOPT_POSITION": "Standpunkt des Parlaments",
    "COUNCIL_ADOPTION": "Annahme durch den Rat",
    "SIGNED": "Unterzeichnung",
    "OJ_PUBLICATION": "Veröffentlichung im Amtsblatt",
    "WITHDRAWN": "Rücknahme",
}


def key_dates(d: Dossier) -> list[tuple[str, object, bool]]:
    """The milestones of the file (the first of each kind) and the forecasts ahead:
    (German label, date, forecast), in the order of time."""
    found: dict[str, tuple[str, object, bool]] = {}
    for e in sorted(d.events, key=lambda e: e.date):
        if e.forecast:
            found.setdefault(f"f:{e.kind.value}:{e.date}", (e.label_de, e.date, True))
        elif e.kind.value in _KEY_KINDS:
            found.setdefault(e.kind.value, (_KEY_KINDS[e.kind.value], e.date, False))
    return sorted(found.values(), key=lambda t: str(t[1]))
