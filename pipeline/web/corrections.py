"""Corrections of a sent edition's items under /desk/editions/<id>/korrektur (ADR 0009).

GET shows the form (the item as readers got it, what changes, why, how readers hear
of it); POST records the correction through curate.corrections and returns to the
edition (303), or shows the form again with the German error and what was typed.
"""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from pipeline.curate import corrections as rules
from pipeline.errors import InvalidInput
from pipeline.model import DELIVERY_LABELS, EditionState
from pipeline.web.auth import desk_blueprint
from pipeline.web.context import desk, staff_user

bp = desk_blueprint("corrections", "/desk/editions")


@bp.route("/<int:edition_id>/korrektur/<int:item_id>", methods=["GET", "POST"])
def correct(edition_id: int, item_id: int) -> ResponseReturnValue:
    d = desk()
    edition = d.store.editions.get(edition_id)
    if edition.state is not EditionState.SENT or item_id not in edition.item_ids:
        raise InvalidInput("Korrigiert werden nur Meldungen einer versandten Ausgabe.")
    error = None
    if request.method == "POST":
        from pipeline import jobs  # the sending side, loaded only when a correction is made

        try:
            result = jobs.correct(d.services, edition_id, item_id, _request(), actor=staff_user())
        except InvalidInput as exc:
            error = str(exc)
        else:
            flash(result.message, "success")
            return redirect(url_for("editions.edition", edition_id=edition_id), code=303)
    item = d.store.items.get(item_id)
    return (
        render_template(
            "web/correction.html",
            edition=edition,
            item=item,
            deadlines=rules.deadline_choices(d.store, item_id),
            earlier=d.store.corrections.for_items([item_id]),
            deliveries=DELIVERY_LABELS,
            form=request.form,
            error=error,
        ),
        400 if error else 200,
    )


@bp.post("/<int:edition_id>/korrekturen/<int:correction_id>/ungeklaert")
def resolve(edition_id: int, correction_id: int) -> ResponseReturnValue:
    """Unknown correction mails: "Als zugestellt werten" or "Erneut senden"."""
    d = desk()
    correction = d.store.corrections.get(correction_id)
    if correction.edition_id != edition_id:
        raise InvalidInput("Diese Korrektur gehört nicht zu dieser Ausgabe.")
    resend = request.form.get("action") == "resend"
    n = rules.resolve_unknown(
        d.store, correction_id, resend=resend, actor=staff_user(), now=d.now()
    )
    what = f"{n} {'Korrektur-Mail' if n == 1 else 'Korrektur-Mails'}"
    flash(
        f"{what} erneut in die Warteschlange gestellt; der nächste Versandlauf sendet sie."
        if resend
        else f"{what} als zugestellt gewertet; es wird nichts erneut gesendet.",
        "success",
    )
    return redirect(url_for("editions.edition", edition_id=edition_id), code=303)


def _request() -> rules.CorrectionRequest:
    form = request.form
    new_date = None
    if form.get("deadline_new"):
        try:
            new_date = dt.date.fromisoformat(form["deadline_new"])
        except ValueError:
            raise InvalidInput("Das neue Datum der Frist ist ungültig.") from None
    return rules.CorrectionRequest(
        headline=form.get("headline"),  # prefilled: only what differs counts as a change
        comment=form.get("comment"),
        link=form.get("link") or None,
        deadline_old=form.get("deadline_old") or None,
        deadline_new=new_date,
        withdrawn=form.get("withdrawn") == "1",
        reason=form.get("reason", ""),
        delivery=rules.parse_delivery(form.get("delivery", "")),
    )
