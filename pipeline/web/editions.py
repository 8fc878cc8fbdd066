"""Editions under /desk/editions: list, create, propose, edit, the lifecycle and the preview."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from pipeline import curate
from pipeline.errors import InvalidInput, StaleEdit
from pipeline.model import AUDIENCE_LABELS, Audience, Edition, EditionState, ItemStatus
from pipeline.store.items import InboxQuery
from pipeline.web.auth import desk_blueprint
from pipeline.web.context import desk, staff_user
from pipeline.web.formatting import parse_datetime_local
from pipeline.web.forms import EditionCreateForm, EditionForm, choices
from pipeline.web.preview import preview

bp = desk_blueprint("editions", "/desk/editions")

CANDIDATES = 50  # recently accepted items offered for adding


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
    return render_template("web/editions.html", by_newsletter=by_newsletter, form=form), status


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
    edition = curate.propose_draft(
        d.store,
        d.office,
        newsletter_id,
        actor=staff_user(),
        now=d.now(),
        topic_labels=d.topic_labels,
    )
    flash(f"Entwurf mit {len(edition.item_ids)} Meldungen vorgeschlagen.", "success")
    return redirect(url_for("editions.edition", edition_id=edition.id), code=303)


# ---------------------------------------------------------------- the editor


@bp.get("/<int:edition_id>")
def edition(edition_id: int) -> ResponseReturnValue:
    found = desk().store.editions.get(edition_id)
    form = EditionForm(formdata=None, data={"title": found.title, "intro": found.intro})
    return _edition_page(found, form)


def _edition_page(
    found: Edition,
    form: EditionForm,
    *,
    status: int = 200,
    version: int | None = None,
    conflict: Edition | None = None,
) -> ResponseReturnValue:
    d = desk()
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
            audit=d.store.editions.audit(found.id),
        ),
        status,
    )


def _back(edition_id: int) -> str:
    g.back = url_for("editions.edition", edition_id=edition_id)
    return str(g.back)


def _done(edition_id: int, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("editions.edition", edition_id=edition_id), code=303)


def _int(name: str) -> int:
    try:
        return int(request.form.get(name, ""))
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
    return _done(edition_id, "Titel und Einleitung gespeichert.")


@bp.post("/<int:edition_id>/items")
def add_item(edition_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    section_id = _int("section_id") if request.form.get("section_id") else None
    curate.place_item(
        d.store,
        edition_id,
        _int("item_id"),
        section_id=section_id,
        position=None,
        actor=staff_user(),
        now=d.now(),
    )
    return _done(edition_id, "Meldung hinzugefügt.")


@bp.post("/<int:edition_id>/items/<int:item_id>/move")
def move_item(edition_id: int, item_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    if request.form.get("section_id"):
        curate.place_item(
            d.store,
            edition_id,
            item_id,
            section_id=_int("section_id"),
            position=None,
            actor=staff_user(),
            now=d.now(),
        )
        return _done(edition_id, "Meldung verschoben.")
    delta = _int("delta")
    if delta not in (-1, 1):
        raise InvalidInput("delta muss -1 oder 1 sein.")
    curate.move_item(d.store, edition_id, item_id, delta=delta, actor=staff_user(), now=d.now())
    return _done(edition_id, "Reihenfolge geändert.")


@bp.post("/<int:edition_id>/items/<int:item_id>/remove")
def remove_item(edition_id: int, item_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    curate.remove_item(d.store, edition_id, item_id, actor=staff_user(), now=d.now())
    return _done(edition_id, "Meldung aus der Ausgabe entfernt.")


@bp.post("/<int:edition_id>/sections")
def add_section(edition_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    title = _section_title()
    curate.add_section(d.store, edition_id, title, actor=staff_user(), now=d.now())
    return _done(edition_id, f"Abschnitt „{title}“ angelegt.")


@bp.post("/<int:edition_id>/sections/<int:section_id>/rename")
def rename_section(edition_id: int, section_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    title = _section_title()
    curate.rename_section(d.store, edition_id, section_id, title, actor=staff_user(), now=d.now())
    return _done(edition_id, f"Abschnitt in „{title}“ umbenannt.")


@bp.post("/<int:edition_id>/sections/<int:section_id>/remove")
def remove_section(edition_id: int, section_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    curate.remove_section(d.store, edition_id, section_id, actor=staff_user(), now=d.now())
    return _done(edition_id, "Abschnitt entfernt.")


def _section_title() -> str:
    return " ".join((request.form.get("title") or "").split())  # curate checks the length


# ---------------------------------------------------------------- lifecycle


@bp.post("/<int:edition_id>/approve")
def approve(edition_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    curate.approve(d.store, d.office, edition_id, actor=staff_user(), now=d.now())
    return _done(edition_id, "Ausgabe freigegeben.")


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
        send_at = parse_datetime_local(request.form.get("send_at", ""), d.tz)
    except ValueError:
        raise InvalidInput("Bitte Datum und Uhrzeit des Versands angeben.") from None
    curate.schedule(d.store, edition_id, send_at=send_at, actor=staff_user(), now=d.now())
    return _done(edition_id, "Versand geplant.")


@bp.post("/<int:edition_id>/unschedule")
def unschedule(edition_id: int) -> ResponseReturnValue:
    d = desk()
    _back(edition_id)
    curate.unschedule(d.store, edition_id, actor=staff_user(), now=d.now())
    return _done(edition_id, "Versand gestoppt: Die Ausgabe ist wieder ein Entwurf.")


# ---------------------------------------------------------------- preview


@bp.get("/<int:edition_id>/preview")
def preview_page(edition_id: int) -> ResponseReturnValue:
    d = desk()
    found = d.store.editions.get(edition_id)
    org_type = request.args.get("org_type") or ""
    audience = Audience(org_type) if org_type in {a.value for a in Audience} else None
    topics = [t for t in request.args.getlist("topics") if t in d.topic_ids]
    language = (
        request.args.get("language") if request.args.get("language") in ("de", "en") else "de"
    )
    sections = preview(
        found,
        d.store.items.get_many(list(found.item_ids)),
        audience=audience,
        topics=topics,
        language=language or "de",
    )
    return render_template(
        "web/preview.html",
        edition=found,
        sections=sections,
        audience=audience,
        audiences=AUDIENCE_LABELS,
        topics=topics,
        language=language,
        newsletter=d.office.newsletter(found.newsletter_id),
    )
