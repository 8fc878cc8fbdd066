"""Editions under /desk/editions: list, create, propose, edit, the lifecycle, the deliveries
(unknown ones decided by staff), the real preview and the test send."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from pipeline import curate
from pipeline.bootstrap import Services
from pipeline.compose import preflight
from pipeline.compose.render import RenderedDigest
from pipeline.curate import deliveries
from pipeline.curate import feedback as feedback_curate
from pipeline.curate.feedback import EditionFeedback, edition_feedback
from pipeline.errors import Forbidden, InvalidInput, PreflightBlocked, StaleEdit, StoreError
from pipeline.model import (
    ORG_TYPE_LABELS,
    Correction,
    DeliveryState,
    Dossier,
    Edition,
    EditionState,
    ItemStatus,
    Preflight,
    Reach,
    ReviewRequest,
)
from pipeline.store.items import InboxQuery
from pipeline.text import de_number
from pipeline.web.auth import desk_blueprint
from pipeline.web.context import as_id, desk, staff_user
from pipeline.web.errors import error_page
from pipeline.web.formatting import parse_datetime_local
from pipeline.web.forms import EditionCreateForm, EditionForm, choices
from pipeline.web.preview import (
    LANGUAGES,
    MAIL_CSP,
    PRESETS,
    PreviewProfile,
    build_test_mail,
    framed_html,
    parse_profile,
    render_for_profile,
)

log = logging.getLogger(__name__)
bp = desk_blueprint("editions", "/desk/editions")

CANDIDATES = 50  # recently accepted items offered for adding
PROBLEMS_SHOWN = 500  # failed and unknown deliveries listed on the edition page
NOTHING = "Für diese Auswahl enthält die Ausgabe keine Meldungen."


@bp.get("/")
def index() -> ResponseReturnValue:
    return _index_page(_create_form())


def _create_form() -> EditionCreateForm:
    form = EditionCreateForm()
    form.newsletter.choices = choices((n.id, n.name) for n in desk().office.newsletters)
    return form


def _index_page(form: EditionCreateForm, status: int = 200) -> ResponseReturnValue:
    d = desk()
    by_newsletter = [
        (n, d.store.editions.list(newsletter_id=n.id, limit=20)) for n in d.office.newsletters
    ]
    requests = d.store.approvals.open_requests()
    waiting = [(r, d.store.editions.get(r.edition_id)) for r in requests]
    return (
        render_template(
            "web/editions.html",
            by_newsletter=by_newsletter,
            form=form,
            waiting=waiting,
            me=staff_user(),
            default_days={n.id: _default_days(n.id) for n in d.office.newsletters},
            max_days=curate.MAX_DRAFT_DAYS,
        ),
        status,
    )


@bp.post("/")
def create() -> ResponseReturnValue:
    d = desk()
    form = _create_form()
    if not form.validate():
        return _index_page(form, 400)
    edition = curate.create_edition(
        d.store,
        d.office,
        form.newsletter.data,
        title=(form.title.data or "").strip(),
        intro=form.intro.data or "",
        actor=staff_user(),
        now=d.now(),
    )
    flash("Ausgabe angelegt.", "success")
    return redirect(url_for("editions.edition", edition_id=edition.id), code=303)


@bp.post("/propose")
def propose() -> ResponseReturnValue:
    d = desk()
    g.back = url_for("editions.index")
    newsletter_id = request.form.get("newsletter", "")
    if d.office.newsletter(newsletter_id) is None:
        raise InvalidInput("Unbekannter Newsletter.")
    days = _days()
    now = d.now()
    since = curate.draft_from(d.store, newsletter_id, now=now, days=days)
    edition = curate.propose_draft(
        d.store,
        d.office,
        newsletter_id,
        actor=staff_user(),
        now=now,
        topic_labels=d.topic_labels,
        days=days,
    )
    window = f"veröffentlicht seit dem {since:%d.%m.%Y} ({(now.date() - since).days} Tage)"
    flash(
        f"Entwurf mit {len(edition.item_ids)} Meldungen vorgeschlagen, aus den übernommenen "
        f"Meldungen {window}. Mehr Tage unter „Ausgaben“ wählen, um weiter zurückzugehen.",
        "success",
    )
    return redirect(url_for("editions.edition", edition_id=edition.id), code=303)


def _days() -> int | None:
    """The proposal's window in days ("Zeitraum"); empty: since the last edition."""
    raw = request.form.get("days", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput("Der Zeitraum ist keine Zahl von Tagen.") from None


def _default_days(newsletter_id: str) -> int:
    """What "Entwurf vorschlagen" takes by default, in days back from today."""
    d = desk()
    now = d.now()
    return (now.date() - curate.draft_from(d.store, newsletter_id, now=now)).days


# ---------------------------------------------------------------- the editor


@bp.get("/<int:edition_id>")
def edition(edition_id: int) -> ResponseReturnValue:
    found = desk().store.editions.get(edition_id)
    form = EditionForm(formdata=None, data={"title": found.title, "intro": found.intro})
    return _edition_page(found, form, check_links=request.args.get("links") == "1")


def _preflight(found: Edition, *, check_links: bool = False) -> Preflight:
    d = desk()
    return preflight.run(
        d.store,
        d.office,
        d.services.settings,
        found.id,
        now=d.now(),
        tz=d.tz,
        check_links=check_links,
    )


def _edition_page(
    found: Edition,
    form: EditionForm,
    *,
    status: int = 200,
    version: int | None = None,
    conflict: Edition | None = None,
    check_links: bool = False,
) -> ResponseReturnValue:
    d, me = desk(), staff_user()
    counts = d.store.deliveries.counts(found.id)
    editor = found.last_editor or found.created_by
    checked = found.state in (EditionState.DRAFT, EditionState.APPROVED, EditionState.SCHEDULED)
    items = d.store.items.get_many(list(found.item_ids))
    accepted = d.store.items.search(
        InboxQuery(
            statuses=(ItemStatus.ACCEPTED,),
            per_page=CANDIDATES,
            tz=d.tz,
            exclude_ids=found.item_ids,
        )
    )
    return (
        render_template(
            "web/edition.html",
            edition=found,
            form=form,
            version=found.version if version is None else version,
            conflict=conflict,
            items=items,
            candidates=accepted.items,
            newsletter=d.office.newsletter(found.newsletter_id),
            draft=found.state is EditionState.DRAFT,
            four_eyes=d.office.four_eyes,
            editor=editor,
            own_edit=d.office.four_eyes and editor == me.name,
            review=next(iter(d.store.approvals.open_requests(found.id)), None),
            check=_preflight(found, check_links=check_links) if checked else None,
            links_checked=check_links,
            audit=d.store.editions.audit(found.id),
            delivery_counts=counts,
            delivery_total=sum(counts.values()),
            problems=d.store.deliveries.problems(found.id, limit=PROBLEMS_SHOWN),
            may_decide=deliveries.may_decide(staff_user()),
            corrections=_corrections(found),
            correction_counts=_correction_counts(found),
            feedback=_feedback(found),
            send_blockers=d.services.settings.send_blockers(),
        ),
        status,
    )


def _corrections(found: Edition) -> dict[int, list[Correction]]:
    """The corrections of a sent edition's items ("Korrigieren", ADR 0009)."""
    if found.state is not EditionState.SENT:
        return {}
    by_item: dict[int, list[Correction]] = {}
    for c in desk().store.corrections.for_edition(found.id):
        by_item.setdefault(c.item_id, []).append(c)
    return by_item


def _feedback(found: Edition) -> EditionFeedback | None:
    """Readers' answers to a sent edition's links (issue 17)."""
    if found.state is not EditionState.SENT:
        return None
    return edition_feedback(desk().store, found)


@bp.post("/<int:edition_id>/rueckmeldungen/<int:suggestion_id>/loeschen")
def erase_suggestion(edition_id: int, suggestion_id: int) -> ResponseReturnValue:
    """Erase one "Was fehlt Ihnen?" text (staff read it, or it says too much)."""
    d = desk()
    erased = feedback_curate.erase_suggestion(
        d.store, edition_id, suggestion_id, actor=staff_user(), now=d.now()
    )
    message = "Hinweis gelöscht." if erased else "Dieser Hinweis war schon gelöscht."
    return _done(edition_id, message, "feedback-title")


def _correction_counts(found: Edition) -> dict[int, dict[str, int]]:
    if found.state is not EditionState.SENT:
        return {}
    store = desk().store.corrections
    return {c.id: store.counts(c.id) for c in store.for_edition(found.id)}


def _back(edition_id: int) -> str:
    g.back = url_for("editions.edition", edition_id=edition_id)
    return str(g.back)


def _done(edition_id: int, message: str, anchor: str | None = None) -> ResponseReturnValue:
    """Back to the editor, at the place acted on (`#section-3`, `#item-42`), not the top;
    JSON for the editor's script (drag and drop), which changes the page in place."""
    if request.accept_mimetypes.best == "application/json":
        return {"message": message, "anchor": anchor}
    flash(message, "success")
    url = url_for("editions.edition", edition_id=edition_id)
    return redirect(f"{url}#{anchor}" if anchor else url, code=303)


def _int(name: str) -> int:
    """A form field's number (an id, or a step such as -1); none past what the store holds."""
    try:
        value = int(request.form.get(name, ""))
        as_id(str(abs(value)))  # ValueError past the largest id
        return value
    except ValueError:
        raise InvalidInput(f"Feld {name} fehlt oder ist keine Zahl.") from None


@bp.post("/<int:edition_id>/meta")
def update(edition_id: int) -> ResponseReturnValue:
    d = desk()
    found = d.store.editions.get(edition_id)
    form = EditionForm()
    version = form.version.data if isinstance(form.version.data, int) else 0
    if not form.validate():
        return _edition_page(found, form, status=400, version=version)
    try:
        curate.update_edition(
            d.store,
            edition_id,
            title=(form.title.data or "").strip(),
            intro=form.intro.data or "",
            expected_version=version,
            actor=staff_user(),
            now=d.now(),
        )
    except StaleEdit:
        current = d.store.editions.get(edition_id)
        return _edition_page(current, form, status=409, version=current.version, conflict=current)
    return _done(edition_id, "Titel und Einleitung gespeichert.", "meta-title")


@bp.post("/<int:edition_id>/items")
def add_item(edition_id: int) -> ResponseReturnValue:
    """One item (its row's button `one`, or `item_id`) or many (ticked `item_id` boxes, one
    submit), each into
    the section chosen for it (`section_<id>`), else `section_id`, else the first."""
    d = desk()
    _back(edition_id)
    try:
        one = request.form.get("one")  # a row's own button: only that row
        picked = [one] if one else request.form.getlist("item_id")
        ids = list(dict.fromkeys(as_id(v) for v in picked))
    except ValueError:
        raise InvalidInput("Ungültige Meldungsnummer.") from None
    if not ids:
        raise InvalidInput("Bitte zuerst Meldungen auswählen.")
    default = _int("section_id") if request.form.get("section_id") else None
    for item_id in ids:
        own = request.form.get(f"section_{item_id}")
        section_id = _int(f"section_{item_id}") if own else default
        curate.place_item(
            d.store,
            edition_id,
            item_id,
            section_id=section_id,
            position=None,
            actor=staff_user(),
            now=d.now(),
        )
    if len(ids) == 1:
        return _done(edition_id, "Meldung hinzugefügt.", f"item-{ids[0]}")
    return _done(edition_id, f"{len(ids)} Meldungen hinzugefügt.", "sections-title")


@bp.post("/<int:edition_id>/items/<int:item_id>/move")
def move_item(edition_id: int, item_id: int) -> ResponseReturnValue:
    """One place up or down (`delta`), or into `section_id`: at its end, or at `position`
    (0 first; the drag and drop of the editor sends both)."""
    d = desk()
    _back(edition_id)
    if request.form.get("section_id"):
        position = _int("position") if request.form.get("position") else None
        if position is not None and position < 0:
            raise InvalidInput("position muss ≥ 0 sein.")
        curate.place_item(
            d.store,
            edition_id,
            item_id,
            section_id=_int("section_id"),
            position=position,
            actor=staff_user(),
            now=d.now(),
        )
        return _done(edition_id, "Meldung verschoben.", f"item-{item_id}")
    delta = _int("delta")
    if delta not in (-1, 1):
        raise InvalidInput("delta muss -1 oder 1 sein.")
    curate.move_item(d.store, edition_id, item_id, delta=delta, actor=staff_user(), now=d.now())
    return _done(edition_id, "Reihenfolge geändert.", f"item-{item_id}")


@bp.post("/<int:edition_id>/items/<int:item_id>/remove")
def remove_item(edition_id: int, item_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    curate.remove_item(d.store, edition_id, item_id, actor=staff_user(), now=d.now())
    return _done(edition_id, "Meldung aus der Ausgabe entfernt.", "sections-title")


@bp.post("/<int:edition_id>/sections")
def add_section(edition_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    title = _section_title()
    curate.add_section(d.store, edition_id, title, actor=staff_user(), now=d.now())
    return _done(edition_id, f"Abschnitt „{title}“ angelegt.", "sections-title")


@bp.post("/<int:edition_id>/sections/<int:section_id>/move")
def move_section(edition_id: int, section_id: int) -> ResponseReturnValue:
    """ "nach oben"/"nach unten" for a whole section (`delta`), or to `position` (0 first;
    the editor's drag and drop), audited like every edit."""
    d = desk()
    _back(edition_id)
    if request.form.get("position"):
        position = _int("position")
        if position < 0:
            raise InvalidInput("position muss ≥ 0 sein.")
        curate.move_section(
            d.store, edition_id, section_id, position=position, actor=staff_user(), now=d.now()
        )
        return _done(edition_id, "Reihenfolge der Abschnitte geändert.", f"section-{section_id}")
    delta = _int("delta")
    if delta not in (-1, 1):
        raise InvalidInput("delta muss -1 oder 1 sein.")
    curate.move_section(
        d.store, edition_id, section_id, delta=delta, actor=staff_user(), now=d.now()
    )
    return _done(edition_id, "Reihenfolge der Abschnitte geändert.", f"section-{section_id}")


@bp.post("/<int:edition_id>/sections/<int:section_id>/rename")
def rename_section(edition_id: int, section_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    title = _section_title()
    curate.rename_section(d.store, edition_id, section_id, title, actor=staff_user(), now=d.now())
    return _done(edition_id, f"Abschnitt in „{title}“ umbenannt.", f"section-{section_id}")


@bp.post("/<int:edition_id>/sections/<int:section_id>/remove")
def remove_section(edition_id: int, section_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    curate.remove_section(d.store, edition_id, section_id, actor=staff_user(), now=d.now())
    return _done(edition_id, "Abschnitt entfernt.", "sections-title")


def _section_title() -> str:
    return " ".join((request.form.get("title") or "").split())  # curate checks the length


# ---------------------------------------------------------------- lifecycle


@bp.post("/<int:edition_id>/approve")
def approve(edition_id: int) -> ResponseReturnValue:
    """Refused (with the reason, on the edition page) while the preflight blocks, and
    for the last editor when four eyes are on: they get "Freigabe anfordern" instead."""
    _back(edition_id)
    refused = _approve(edition_id)
    return refused or _done(edition_id, "Ausgabe freigegeben.")


def _approve(edition_id: int) -> ResponseReturnValue | None:
    """Approve as the signed-in person; the way back to the editor with the reason when
    the preflight or the four eyes refuse, else None."""
    d = desk()
    try:
        curate.approve(
            d.store,
            d.office,
            edition_id,
            actor=staff_user(),
            now=d.now(),
            settings=d.services.settings,
        )
    except PreflightBlocked as exc:
        count = len(exc.findings)
        flash(
            f"Nicht freigegeben: {count} {'Punkt' if count == 1 else 'Punkte'} der Prüfliste "
            f"{'blockiert' if count == 1 else 'blockieren'} die Freigabe (siehe unten).",
            "error",
        )
    except Forbidden as exc:
        flash(f"Nicht freigegeben. {exc}", "error")
    else:
        return None
    return redirect(url_for("editions.edition", edition_id=edition_id), code=303)


@bp.post("/<int:edition_id>/request-review")
def request_review(edition_id: int) -> ResponseReturnValue:
    """Four eyes: the author asks a colleague; the request shows under "Ausgaben"."""
    d = desk()
    _back(edition_id)
    try:
        curate.request_review(
            d.store,
            d.office,
            edition_id,
            actor=staff_user(),
            now=d.now(),
            settings=d.services.settings,
        )
    except PreflightBlocked:
        flash("Erst die blockierenden Punkte der Prüfliste beheben (siehe unten).", "error")
        return redirect(url_for("editions.edition", edition_id=edition_id), code=303)
    return _done(
        edition_id,
        "Freigabe angefordert: Die Kolleginnen und Kollegen sehen die Anfrage unter "
        "„Ausgaben“; freigeben kann, wer die Ausgabe nicht zuletzt bearbeitet hat.",
    )


@bp.post("/<int:edition_id>/acknowledge")
def acknowledge(edition_id: int) -> ResponseReturnValue:
    """Staff let a warning of the checklist stand (audited)."""
    d = desk()
    _back(edition_id)
    found = d.store.editions.get(edition_id)
    key = (request.form.get("key") or "")[:600]
    curate.acknowledge(d.store, _preflight(found), key, actor=staff_user(), now=d.now())
    return _done(edition_id, "Hinweis als gesehen bestätigt.")


@bp.post("/<int:edition_id>/reopen")
def reopen(edition_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    curate.reopen(d.store, edition_id, actor=staff_user(), now=d.now())
    return _done(edition_id, "Ausgabe ist wieder ein Entwurf; die Freigabe ist zurückgenommen.")


@bp.post("/<int:edition_id>/schedule")
def schedule(edition_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    try:
        send_at = parse_datetime_local(
            request.form.get("send_at", ""), d.tz, request.form.get("occurrence", "")
        )
    except InvalidInput:
        raise  # the hour of the clock change: says which offsets there are
    except ValueError:
        raise InvalidInput("Bitte Datum und Uhrzeit des Versands angeben.") from None
    curate.schedule(d.store, edition_id, send_at=send_at, actor=staff_user(), now=d.now())
    return _done(edition_id, "Versand geplant.")


SEND_THREAD = "send-now-{}"  # the name of the desk's sender thread of an edition


@bp.post("/<int:edition_id>/send-now")
def send_now(edition_id: int) -> ResponseReturnValue:
    """ "Jetzt senden" on an approved edition: first a confirmation naming the audience,
    then (confirm=1) the preflight again, the edition scheduled for now and a sender
    started in this process (`_start_sending`). Refused while anything blocks.

    With approve=1 on a draft ("Freigeben und senden …" in the preview): the same
    confirmation, then the approval (four eyes and preflight as for "Freigeben") and the
    send in one step."""
    d, me = desk(), staff_user()
    _back(edition_id)
    found = d.store.editions.get(edition_id)
    approving = request.form.get("approve") == "1" and found.state is EditionState.DRAFT
    if found.state is not EditionState.APPROVED and not approving:
        raise InvalidInput("„Jetzt senden“ gibt es nur für eine freigegebene Ausgabe.")
    blockers = d.services.settings.send_blockers()
    if blockers:
        lines = "; ".join(b.message_de for b in blockers)
        raise InvalidInput(f"Nicht gesendet: So kann die Ausgabe nicht versandt werden ({lines}).")
    check = _preflight(found)
    if request.form.get("confirm") != "1":
        if check.blocked:  # the same refusal as below, before anyone confirms
            curate.send_now(d.store, edition_id, check=check, actor=me, now=d.now())
        items = d.store.items.get_many(list(found.item_ids))
        return render_template(
            "web/send_confirm.html",
            edition=found,
            audience=audience_words(preflight.reach(d.store, found, items)),
            newsletter=d.office.newsletter(found.newsletter_id),
            approving=approving,
        )
    if approving and (refused := _approve(edition_id)):
        return refused
    curate.send_now(d.store, edition_id, check=check, actor=me, now=d.now())
    _start_sending(d.services, edition_id)
    return _done(
        edition_id,
        "Versand gestartet. Der Stand steht unten unter „Zustellungen“; "
        "bricht der Versand ab, setzt der nächste Versandlauf (send-due) ihn fort.",
        "state-title",
    )


@bp.app_context_processor
def _review_banner() -> dict[str, object]:
    """Every desk page: the open requests for approval the signed-in person may grant
    (`reviews_for_me()`, called by base.html only for staff)."""
    return {"reviews_for_me": _reviews_for_me}


def _reviews_for_me() -> list[tuple[ReviewRequest, Edition]]:
    d, me = desk(), staff_user()
    found = []
    try:
        for r in d.store.approvals.open_requests():
            edition = d.store.editions.get(r.edition_id)
            if (edition.last_editor or edition.created_by) != me.name:
                found.append((r, edition))
    except StoreError:  # the error page of a failing store renders all the same
        log.warning("review notice left out: the store failed", exc_info=True)
        return []
    return found


def audience_words(reach: Reach) -> str:
    """ "geht an 1.234 Leserinnen und Leser in 312 Varianten; 56 bekommen nichts" """
    if not reach.readers:
        return "geht an niemanden: Der Newsletter hat keine bestätigten Leserinnen und Leser"
    readers = (
        "1 Leserin oder Leser"
        if reach.readers == 1
        else f"{de_number(reach.readers, 0)} Leserinnen und Leser"
    )
    variants = "1 Variante" if reach.variants == 1 else f"{de_number(reach.variants, 0)} Varianten"
    words = f"geht an {readers} in {variants}"
    if reach.nothing:
        verb = "bekommt" if reach.nothing == 1 else "bekommen"
        words += f"; {de_number(reach.nothing, 0)} {verb} nichts"
    return words


def _start_sending(services: Services, edition_id: int) -> None:
    """Send in a thread of the web process, as `eudigest send ID` would: the sender joins
    with a lease, so a `send-due` run at the same time shares the rows and nobody gets
    the edition twice; if this process dies, the lease runs out and send-due finishes."""
    from pipeline import jobs  # the sending side, loaded only when an edition is sent

    def run() -> None:
        try:
            jobs.send(services, edition_id)
        except Exception:  # the edition stays scheduled/sending/halted: send-due goes on
            log.exception("send-now: edition %d stopped; send-due continues it", edition_id)

    threading.Thread(target=run, name=SEND_THREAD.format(edition_id), daemon=False).start()


@bp.post("/<int:edition_id>/resume")
def resume(edition_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    deliveries.resume_halted(
        d.store,
        edition_id,
        blockers=d.services.settings.send_blockers(),
        actor=staff_user(),
        now=d.now(),
    )
    return _done(
        edition_id,
        "Versand fortgesetzt: Der nächste Versandlauf (send-due) verschickt, was noch wartet.",
    )


@bp.post("/<int:edition_id>/unschedule")
def unschedule(edition_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    curate.unschedule(d.store, edition_id, actor=staff_user(), now=d.now())
    return _done(edition_id, "Versand gestoppt: Die Ausgabe ist wieder ein Entwurf.")


# ---------------------------------------------------------------- deliveries

RESOLVE_ACTIONS = {  # form value: (resend?, the button's words)
    "sent": (False, "Als zugestellt werten"),
    "resend": (True, "Erneut senden"),
}


@bp.post("/<int:edition_id>/deliveries/resolve")
def resolve_deliveries(edition_id: int) -> ResponseReturnValue:
    """Unknown deliveries: first a confirmation page, then (confirm=1) the decision."""
    d, me = desk(), staff_user()
    _back(edition_id)
    found = d.store.editions.get(edition_id)
    action = request.form.get("action", "")
    if action not in RESOLVE_ACTIONS:
        raise InvalidInput("Unbekannte Aktion.")
    if not deliveries.may_decide(me):
        raise Forbidden("Nur die Redaktion entscheidet über Zustellungen.")
    resend, label = RESOLVE_ACTIONS[action]
    ids = None if request.form.get("scope") == "all" else _delivery_ids()
    if request.form.get("confirm") != "1":
        return _confirm_page(found, action, label, ids)
    done = deliveries.resolve_unknown(
        d.store, edition_id, delivery_ids=ids, resend=resend, actor=me, now=d.now()
    )
    n = _deliveries(done.changed)
    if not resend:
        return _done(edition_id, f"{n} als zugestellt gewertet; es wird nichts erneut gesendet.")
    resumed = " Die Ausgabe ist wieder im Versand." if done.resumed else ""
    return _done(
        edition_id,
        f"{n} erneut in die Warteschlange gestellt; der nächste Versandlauf sendet sie.{resumed}",
    )


def _confirm_page(
    found: Edition, action: str, label: str, ids: list[int] | None
) -> ResponseReturnValue:
    d = desk()
    unknown = {x.id for x in d.store.deliveries.list(found.id, DeliveryState.UNKNOWN)}
    chosen = unknown if ids is None else set(ids)
    if not unknown or not chosen <= unknown:
        raise InvalidInput(
            "Die gewählten Zustellungen sind nicht (mehr) ungeklärt. Es wurde nichts geändert."
        )
    shown = [p for p in d.store.deliveries.problems(found.id) if p.delivery.id in chosen]
    return render_template(
        "web/deliveries_confirm.html",
        edition=found,
        action=action,
        label=label,
        ids=ids,
        count=len(chosen),
        shown=shown,
        resend=RESOLVE_ACTIONS[action][0],
    )


def _delivery_ids() -> list[int]:
    try:
        ids = sorted({as_id(v) for v in request.form.getlist("delivery_id")})
    except ValueError:
        raise InvalidInput("Ungültige Zustellungsnummer.") from None
    if not ids:
        raise InvalidInput("Bitte zuerst Zustellungen auswählen (oder „alle“).")
    return ids


def _deliveries(n: int) -> str:
    return "1 Zustellung" if n == 1 else f"{n} Zustellungen"


# ---------------------------------------------------------------- preview and test send

TEST_SEND_LIMIT = 5  # test sends per staff member …
TEST_SEND_WINDOW = dt.timedelta(minutes=10)  # … in this window


def _offered() -> list[Dossier]:
    """The dossiers subscribers can follow (published), for the preview's choice."""
    d = desk()
    return d.store.dossiers.list(today=d.now().astimezone(d.tz).date(), published=True)


def _profile(values: MultiDict[str, str], offered: list[Dossier] | None = None) -> PreviewProfile:
    refs = [x.reference for x in (_offered() if offered is None else offered)]
    return parse_profile(values, desk().topic_ids, refs)


def _render(found: Edition, profile: PreviewProfile) -> RenderedDigest | None:
    d = desk()
    base_url = d.services.settings.base_url
    news = d.store.dossiers.preview_news(
        found.newsletter_id, found.id, profile.dossiers, today=d.now().date()
    )  # reads only: a preview never marks news as reported
    return render_for_profile(
        found,
        d.store.items.get_many(list(found.item_ids)),
        profile,
        office=d.office,
        topic_labels=d.topic_labels,
        sources={h.source.id: h.source for h in d.store.sources.health()},
        tz=d.tz,
        now=d.now(),
        web_url=f"{base_url}/archiv/{found.id}" if base_url else None,
        news=news,
        base_url=base_url,
        glossary=d.glossary,
    )


@bp.get("/<int:edition_id>/preview")
def preview_page(edition_id: int) -> ResponseReturnValue:
    d = desk()
    found = d.store.editions.get(edition_id)
    offered = _offered()
    profile = _profile(request.args, offered)
    part = "text" if request.args.get("part") == "text" else "html"
    return render_template(
        "web/preview.html",
        edition=found,
        digest=_render(found, profile),
        profile=profile,
        args=profile.args(),
        part=part,
        org_types=ORG_TYPE_LABELS,
        languages=LANGUAGES,
        presets=PRESETS,
        offered=offered,
        newsletter=d.office.newsletter(found.newsletter_id),
        me=staff_user(),
        **_decisions(found),
        test_limit=TEST_SEND_LIMIT,
        test_minutes=int(TEST_SEND_WINDOW.total_seconds() // 60),
    )


def _decisions(found: Edition) -> dict[str, object]:
    """What the preview offers besides reading: request approval, approve (and send),
    send now. The core loop of issue 15: the colleague asked for approval reads the
    mail and decides on the same page."""
    d, me = desk(), staff_user()
    if found.state not in (EditionState.DRAFT, EditionState.APPROVED):
        return {"decide": None}
    editor = found.last_editor or found.created_by
    return {
        "decide": found.state.value,
        "own_edit": d.office.four_eyes and editor == me.name,
        "editor": editor,
        "review": next(iter(d.store.approvals.open_requests(found.id)), None),
        "blocked": _preflight(found).blocked or bool(d.services.settings.send_blockers()),
    }


@bp.get("/<int:edition_id>/preview/mail.html")
def preview_mail(edition_id: int) -> ResponseReturnValue:
    """The mail's HTML alone, for the preview's sandboxed iframe (its own strict CSP)."""
    d = desk()
    digest = _render(d.store.editions.get(edition_id), _profile(request.args))
    if digest is None:
        return error_page(404, NOTHING)
    response = make_response(framed_html(digest.html))
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = MAIL_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/<int:edition_id>/preview/mail.txt")
def preview_text(edition_id: int) -> ResponseReturnValue:
    d = desk()
    digest = _render(d.store.editions.get(edition_id), _profile(request.args))
    if digest is None:
        return error_page(404, NOTHING)
    response = make_response(digest.text)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response


@bp.post("/<int:edition_id>/preview/test")
def test_send(edition_id: int) -> ResponseReturnValue:
    """Testversand an mich: the sample digest to the staff member's own address.

    Not in the delivery ledger; audit-logged; at most TEST_SEND_LIMIT per window."""
    d, me = desk(), staff_user()
    found = d.store.editions.get(edition_id)
    profile = _profile(request.form)
    back = g.back = url_for("editions.preview_page", edition_id=edition_id, **profile.args())
    if not me.email:
        flash(NO_ADDRESS, "warning")
        return redirect(back, code=303)
    key = f"test-send:u{me.id}"
    if not d.store.subscribers.take(
        key, now=d.now(), window=TEST_SEND_WINDOW, limit=TEST_SEND_LIMIT
    ):
        minutes = int(TEST_SEND_WINDOW.total_seconds() // 60)
        return error_page(
            429,
            f"Höchstens {TEST_SEND_LIMIT} Testversände in {minutes} Minuten. "
            "Bitte etwas später erneut versuchen; es wurde nichts gesendet.",
        )
    digest = _render(found, profile)
    if digest is None:
        raise InvalidInput(
            "Für diese Auswahl enthält die Ausgabe keine Meldungen; es wurde nichts gesendet."
        )
    mail = build_test_mail(digest, office=d.office, to=me.email, edition_id=found.id, user_id=me.id)
    result = d.services.mailer.send([mail])[0]
    outcome = "gesendet" if result.ok else "fehlgeschlagen"
    detail = f"an die eigene Adresse ({profile.describe(d.topic_labels)}): {outcome}"
    d.store.editions.note(found.id, actor=me.name, action=TEST_ACTION, detail=detail, now=d.now())
    if result.ok:
        flash(f"Testversand an {me.email} ist unterwegs (Betreff „{mail.subject}“).", "success")
    else:
        flash(
            f"Der Testversand ist fehlgeschlagen: {result.error or 'unbekannter Fehler'}", "error"
        )
    return redirect(back, code=303)


NO_ADDRESS = (
    "Für Ihr Konto ist keine E-Mail-Adresse hinterlegt, an die der Testversand gehen kann. "
    "Bitte zuerst unter „Mein Konto“ eine Adresse eintragen."
)
TEST_ACTION = "edition.test_send"
