"""The desk under /desk/: inbox, item pages, own items, status and staff accounts.

Every view parses its input, calls one curate (or store read) function, then
renders or redirects with 303. The rules live in pipeline.curate; errors are
turned into HTTP answers by errors.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from flask import (
    flash,
    g,
    make_response,
    redirect,
    render_template,
    render_template_string,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user
from werkzeug.datastructures import MultiDict

from pipeline import curate
from pipeline import status as ops_status
from pipeline.curate import inbox as inbox_memory
from pipeline.curate import staff as accounts
from pipeline.curate import tokens as api_tokens
from pipeline.curate.eligibility import correct as correct_eligibility
from pipeline.curate.eligibility import parse_facets
from pipeline.errors import InvalidInput, StaleEdit
from pipeline.model import (
    Annotation,
    Audience,
    Edition,
    EditionState,
    Item,
    ItemStatus,
    Priority,
    Role,
    SourceHealth,
    reasons_as_of,
)
from pipeline.model.eligibility import APPLICANT_LABELS
from pipeline.store.items import InboxQuery, ItemPage
from pipeline.store.stats import DailyActivity
from pipeline.text import de_count, de_date, de_number, html_to_paragraphs
from pipeline.web import charts
from pipeline.web.auth import DeskUser, admin_required, client, desk_blueprint
from pipeline.web.context import desk, staff_user
from pipeline.web.forms import (
    AnnotationForm,
    OwnItemForm,
    PasswordChangeForm,
    TopicsForm,
    UserForm,
    choices,
)
from pipeline.web.preview import item_topics
from subscribers.addresses import normalise_email

bp = desk_blueprint("staff", "/desk")

PER_PAGE = 50
MAX_BULK = 200
STATUS_FILTERS: dict[str, tuple[str, tuple[ItemStatus, ...]]] = {
    "new": ("Neu", (ItemStatus.NEW,)),
    "accepted": ("Übernommen", (ItemStatus.ACCEPTED,)),
    "rejected": ("Abgelehnt", (ItemStatus.REJECTED,)),
    "all": ("Alle", (ItemStatus.NEW, ItemStatus.ACCEPTED, ItemStatus.REJECTED)),
}
# The inbox's orders; "relevance" (older links) means "suggested".
ORDERS = {"suggested": "Vorschläge", "published": "Neueste zuerst"}
INBOX_FILTERS = (
    "q",
    "source",
    "institution",
    "topic",
    "doc_type",
    "applicant",  # funding calls open to this kind of applicant (issue 17)
    "programme",
    "language",
    "status",
    "from",
    "to",
    "order",
    "fold",
    "later",
)
# What a saved view keeps: the filters, not the page or the unfolding.
VIEW_FILTERS = tuple(k for k in INBOX_FILTERS if k != "fold")


# ---------------------------------------------------------------- inbox


def inbox_query(
    args: MultiDict[str, str], tz: ZoneInfo, now: dt.datetime | None = None
) -> tuple[InboxQuery, list[str]]:
    """The inbox filters of a query string; unusable values are dropped and named. With
    `now`, new items put off ("Später") are left out, or with later=1 only they are shown."""
    problems: list[str] = []

    def text(name: str) -> str | None:
        value = (args.get(name) or "").strip()[:200]
        return value or None

    def day(name: str, label: str) -> dt.date | None:
        value = text(name)
        if value is None:
            return None
        for pattern in ("%Y-%m-%d", "%d.%m.%Y"):  # the date input, or typed by hand
            try:
                return dt.datetime.strptime(value, pattern).date()  # noqa: DTZ007
            except ValueError:
                continue
        problems.append(f"{label}: „{value}“ ist kein Datum (z. B. 25.11.2026).")
        return None

    try:
        page = max(1, min(int(args.get("page") or 1), 100_000))
    except ValueError:
        page = 1
    status = args.get("status") or "new"
    if status not in STATUS_FILTERS:
        problems.append("Unbekannter Status; es werden neue Meldungen gezeigt.")
        status = "new"
    order = args.get("order") or "suggested"
    if order == "relevance":
        order = "suggested"
    if order not in ORDERS:
        problems.append("Unbekannte Sortierung; es werden Vorschläge gezeigt.")
        order = "suggested"
    date_from, date_to = day("from", "Zeitraum von"), day("to", "Zeitraum bis")
    if date_from and date_to and date_from > date_to:
        problems.append("Der Zeitraum endet vor seinem Beginn.")
    applicant = text("applicant")
    if applicant and applicant not in APPLICANT_LABELS:
        problems.append("Unbekannte Art des Antragstellers; der Filter wird nicht angewandt.")
        applicant = None
    query = InboxQuery(
        text=text("q"),
        applicant=applicant,
        programme=text("programme"),
        source_id=text("source"),
        institution=text("institution"),
        topic=text("topic"),
        doc_type=text("doc_type"),
        language=text("language"),
        statuses=STATUS_FILTERS[status][1],
        date_from=date_from,
        date_to=date_to,
        order="relevance" if order == "suggested" else "published",
        deferred="only" if args.get("later") == "1" else ("hide" if status == "new" else "any"),
        deferred_at=now,
        page=page,
        per_page=PER_PAGE,
        tz=tz,
    )
    return query, problems


def inbox_url(query_string: str) -> str:
    """The inbox with the filters of `query_string`, re-encoded (never another site)."""
    pairs = [(k, v) for k, v in parse_qsl(query_string) if k in (*INBOX_FILTERS, "page")]
    base = url_for("staff.inbox")
    return f"{base}?{urlencode(pairs)}" if pairs else base


@bp.get("/")
def inbox() -> ResponseReturnValue:
    """The inbox. In the default order "Vorschläge" (relevance, with its reasons), new items
    below the office's `desk.inbox_threshold` are folded into a closed group "Wahrscheinlich
    nicht relevant (N)" after the last page of suggestions. A search or any filter (status,
    source, topic, dates …) folds nothing: whoever looks for something sees every match, the
    unlikely ones marked. "Alle anzeigen" (fold=0) unfolds the default view too."""
    d = desk()
    query, problems = inbox_query(request.args, d.tz, d.now())
    filters = {k: request.args.get(k, "") for k in INBOX_FILTERS}
    filters["status"] = filters["status"] or "new"
    filtered = any(v for k, v in filters.items() if k not in ("status", "order", "fold"))
    threshold = d.office.inbox_threshold
    fold = query.order == "relevance" and not filtered and filters["status"] == "new"
    page, folded = _inbox_pages(query, threshold if fold and filters["fold"] != "0" else 0.0)
    today = d.now().astimezone(d.tz).date()

    def reasons(item: Item) -> tuple[str, ...]:
        return reasons_as_of(item.relevance_reasons, item.deadlines, today)

    def page_url(n: int) -> str:
        args = [(k, v) for k, v in filters.items() if v] + [("page", str(n))]
        return f"{url_for('staff.inbox')}?{urlencode(args)}"

    unseen = d.store.dossiers.unseen(staff_user().name)  # followed dossiers' new events
    later_total = inbox_memory.later_count(d.store, now=d.now())
    view_query = urlencode([(k, v) for k, v in filters.items() if v and k in VIEW_FILTERS])

    return render_template(
        "web/inbox.html",
        page=page,
        query=query,
        filters=filters,
        problems=problems,
        facets=d.store.items.facets(),
        statuses=STATUS_FILTERS,
        topics=d.taxonomy.topics,
        page_url=page_url,
        back=request.query_string.decode("utf-8", "replace"),
        filtered=filtered,
        orders=ORDERS,
        suggested=query.order == "relevance",
        order_key="published" if query.order == "published" else "suggested",
        threshold=threshold,
        folded=folded,
        unfold_url=f"{url_for('staff.inbox')}?{urlencode({'order': 'suggested', 'fold': '0'})}",
        reasons=reasons,
        followed_dossiers=_followed_dossiers(page, folded),
        unseen=unseen,
        unseen_by={u.reference: u for u in unseen},
        draft=current_draft(),
        later=filters["later"] == "1",
        later_total=later_total,
        later_url=f"{url_for('staff.inbox')}?later=1",
        views=d.store.views.list(staff_user().id),
        view_query=view_query,
        view_name_max=inbox_memory.MAX_VIEW_NAME,
        applicants=APPLICANT_LABELS,
        programmes=d.store.eligibility.programmes(),
    )


def _followed_dossiers(page: ItemPage, folded: ItemPage | None) -> dict[int, list[str]]:
    """Item id → references of the dossiers the signed-in staff member follows."""
    ids = [i.id for i in page.items] + [i.id for i in (folded.items if folded else ())]
    return desk().store.dossiers.followed_of_items(staff_user().name, ids)


def _inbox_pages(query: InboxQuery, threshold: float) -> tuple[ItemPage, ItemPage | None]:
    """The page asked for (the last one when it is past the end) and, with a threshold,
    the items below it, shown folded after the last page of the items above it."""
    store = desk().store
    if threshold > 0:
        query = replace(query, min_relevance=threshold)
    page = store.items.search(query)
    if page.total and query.page > page.pages:
        page = store.items.search(replace(query, page=page.pages))
    if threshold <= 0 or page.page < page.pages:
        return page, None
    below = replace(query, min_relevance=None, below_relevance=threshold, page=1)
    folded = store.items.search(below, cap=inbox_memory.FOLDED_COUNT_CAP)
    return page, (folded if folded.total else None)


@bp.post("/items/bulk")
def bulk() -> ResponseReturnValue:
    """The bulk bar: a form without the script, JSON for it (the rows change in place)."""
    back = g.back = inbox_url(request.form.get("back", ""))
    try:
        answer = _bulk(
            _item_ids(request.form.getlist("item_id")),
            _topic_ids(request.form.getlist("topic")),
            request.form.get("action") or "",
        )
    except InvalidInput as exc:
        if _wants_json():
            return {"error": str(exc), "message": str(exc)}, 400
        raise
    if _wants_json():
        return answer
    flash(str(answer["message"]), "success" if answer["ids"] else "warning")
    return redirect(back, code=303)


def _bulk(ids: list[int], topics: list[str], action: str) -> dict[str, object]:
    """One bulk action; the answer names the items, their new status and topic chips."""
    d, actor = desk(), staff_user()
    status: str | None = None
    if not ids:
        return {"ids": [], "message": "Bitte zuerst Meldungen auswählen."}
    if action == "accept":
        if topics:  # chosen topics are added, never replace the confirmed ones
            curate.change_topics(
                d.store, ids, add=topics, actor=actor, now=d.now(), topic_ids=d.topic_ids
            )
        _remember_undo(ids, "accept")
        n = curate.accept(d.store, ids, actor=actor, now=d.now())
        message, status = f"{_count(n)} übernommen.", ItemStatus.ACCEPTED.value
    elif action == "reject":
        _remember_undo(ids, "reject")
        n = curate.reject(d.store, ids, actor=actor, now=d.now())
        message, status = f"{_count(n)} abgelehnt.", ItemStatus.REJECTED.value
    elif action == "later":
        message = f"{_count(len(ids))} auf später gelegt (bis {_put_off(ids)})."
    elif action == "edition":
        message, status = _into_draft(ids), ItemStatus.ACCEPTED.value
    elif action in ("topics", "topics_add", "topics_remove"):
        if not topics:
            raise InvalidInput("Bitte mindestens ein Thema wählen.")
        remove = action == "topics_remove"
        curate.change_topics(
            d.store,
            ids,
            add=() if remove else topics,
            remove=topics if remove else (),
            actor=actor,
            now=d.now(),
            topic_ids=d.topic_ids,
        )
        message = f"Themen für {_count(len(ids))} {'entfernt' if remove else 'hinzugefügt'}."
    else:
        raise InvalidInput("Unbekannte Aktion.")
    return {"ids": ids, "status": status, "message": message, "chips": _chips(ids)}


def _chips(ids: list[int]) -> dict[str, str]:
    """Each item's topic chips as the inbox row shows them (for the script)."""
    if not _wants_json():
        return {}
    found = desk().store.items.get_many(ids)
    return {str(i): render_template_string(CHIPS, item=item).strip() for i, item in found.items()}


CHIPS = '{% from "web/_macros.html" import topic_chips %}{{ topic_chips(item) }}'


def _into_draft(ids: list[int]) -> str:
    """Accept what is new and put every item into the newest draft, in this order."""
    d, actor = desk(), staff_user()
    draft = current_draft()
    if draft is None:
        raise InvalidInput("Es gibt keinen Entwurf; bitte zuerst eine Ausgabe anlegen.")
    found = d.store.items.get_many(ids)
    new = [i for i in ids if found[i].status is not ItemStatus.ACCEPTED]
    if new:
        curate.accept(d.store, new, actor=actor, now=d.now())
    for item_id in ids:
        curate.place_item(d.store, draft.id, item_id, section_id=None, actor=actor, now=d.now())
    session.pop("inbox_undo", None)  # an item in an edition is not put back by "u"
    return f"{_count(len(ids))} übernommen und in „{draft.title}“ eingefügt."


def _put_off(ids: list[int]) -> str:
    """ "Später": the items leave the inbox until tomorrow (undo puts them back); returns
    the German day they come back."""
    d = desk()
    before = inbox_memory.put_off(d.store, ids, actor=staff_user(), now=d.now(), tz=d.tz)
    session["inbox_undo"] = {
        "action": "later",
        "deferred": {str(i): (v.isoformat() if v else None) for i, v in before.items()},
    }
    until = inbox_memory.later_until(d.now(), d.tz)
    return de_date(until.astimezone(d.tz).date())


# Per-row triage: one item's status without a reload (JSON for the script, a redirect
# without it), and undo of the last status change in this session.
ROW_STATUSES = {
    "accept": (ItemStatus.ACCEPTED, "übernommen"),
    "reject": (ItemStatus.REJECTED, "abgelehnt"),
}


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _remember_undo(ids: list[int], action: str) -> None:
    """Keep the statuses before a change so "Rückgängig" can restore them."""
    items = desk().store.items
    before: dict[str, list[int]] = {}
    for i in ids:
        before.setdefault(items.get(i).status.value, []).append(i)
    session["inbox_undo"] = {"action": action, "before": before}


@bp.post("/items/<int:item_id>/triage")
def triage(item_id: int) -> ResponseReturnValue:
    d, actor = desk(), staff_user()
    back = g.back = inbox_url(request.form.get("back", ""))
    action = request.form.get("action", "")
    if action not in ROW_STATUSES:
        raise InvalidInput("Unbekannte Aktion.")
    status, verb = ROW_STATUSES[action]
    found = d.store.items.get(item_id)
    session["inbox_undo"] = {"action": action, "before": {found.status.value: [item_id]}}
    if status is ItemStatus.ACCEPTED:
        curate.accept(d.store, [item_id], actor=actor, now=d.now())
    else:
        curate.reject(d.store, [item_id], actor=actor, now=d.now())
    message = f"„{_short(found.title)}“ {verb}."
    if _wants_json():
        return {"id": item_id, "status": status.value, "message": message}
    flash(message, "success")
    return redirect(back, code=303)


@bp.post("/items/<int:item_id>/later")
def later(item_id: int) -> ResponseReturnValue:
    """ "Später" for one row (action=later), or back into the inbox now (action=back)."""
    d = desk()
    back = g.back = inbox_url(request.form.get("back", ""))
    found = d.store.items.get(item_id)
    if request.form.get("action") == "back":
        before = inbox_memory.bring_back(d.store, [item_id], actor=staff_user(), now=d.now())
        session["inbox_undo"] = {
            "action": "back",
            "deferred": {str(i): (v.isoformat() if v else None) for i, v in before.items()},
        }
        message = f"„{_short(found.title)}“ ist wieder im Eingang."
    else:
        message = f"„{_short(found.title)}“ auf später gelegt (bis {_put_off([item_id])})."
    if _wants_json():
        return {"id": item_id, "status": found.status.value, "message": message}
    flash(message, "success")
    return redirect(back, code=303)


@bp.post("/items/undo")
def undo() -> ResponseReturnValue:
    d, actor = desk(), staff_user()
    back = g.back = inbox_url(request.form.get("back", ""))
    last = session.pop("inbox_undo", None)
    restored: dict[str, str] = {}
    if not last:
        message = "Nichts rückgängig zu machen."
    elif "deferred" in last:  # "Später" or "wieder in den Eingang"
        previous = {
            int(k): (dt.datetime.fromisoformat(v) if v else None)
            for k, v in last["deferred"].items()
        }
        inbox_memory.restore_deferred(d.store, previous, actor=actor, now=d.now())
        found = d.store.items.get_many(previous)
        restored = {str(i): found[i].status.value for i in previous if i in found}
        message = f"Rückgängig: {_count(len(restored))} wieder wie vorher."
    else:
        for value, ids in sorted(last["before"].items()):
            curate.restore_status(d.store, ids, ItemStatus(value), actor=actor, now=d.now())
            restored.update({str(i): value for i in ids})
        message = f"Rückgängig: {_count(len(restored))} wieder wie vorher."
    if _wants_json():
        return {"restored": restored, "message": message}
    flash(message, "success" if restored else "warning")
    return redirect(back, code=303)


def current_draft() -> Edition | None:
    """The edition "e" adds to: the newest draft."""
    drafts = desk().store.editions.list(states=[EditionState.DRAFT], limit=1)
    return drafts[0] if drafts else None


@bp.post("/items/<int:item_id>/edition")
def to_edition(item_id: int) -> ResponseReturnValue:
    """Put one item into the current draft, accepting it first if it is new."""
    d, actor = desk(), staff_user()
    back = g.back = inbox_url(request.form.get("back", ""))
    draft = current_draft()
    if draft is None:
        raise InvalidInput("Es gibt keinen Entwurf; bitte zuerst eine Ausgabe anlegen.")
    found = d.store.items.get(item_id)
    if found.status is not ItemStatus.ACCEPTED:
        curate.accept(d.store, [item_id], actor=actor, now=d.now())
    curate.place_item(d.store, draft.id, item_id, section_id=None, actor=actor, now=d.now())
    session.pop("inbox_undo", None)  # an item in an edition is not put back by "u"
    message = f"„{_short(found.title)}“ übernommen und in „{draft.title}“ eingefügt."
    if _wants_json():
        return {"id": item_id, "status": ItemStatus.ACCEPTED.value, "message": message}
    flash(message, "success")
    return redirect(back, code=303)


def _short(title: str) -> str:
    return title if len(title) <= 60 else title[:59] + "…"


def _count(n: int) -> str:
    return de_count(n, "Meldung", "Meldungen")


def _item_ids(values: Iterable[str]) -> list[int]:
    try:
        ids = sorted({int(v) for v in values})
    except ValueError:
        raise InvalidInput("Ungültige Meldungsnummer.") from None
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"Höchstens {MAX_BULK} Meldungen auf einmal.")
    return ids


def _topic_ids(values: Iterable[str]) -> list[str]:
    known = desk().topic_ids
    chosen = list(dict.fromkeys(v for v in values if v))
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise InvalidInput(f"Unbekanntes Thema: {unknown[0]}")
    return chosen


# ---------------------------------------------------------------- saved views


@bp.post("/ansichten")
def save_view() -> ResponseReturnValue:
    """Save the inbox's current filters under a name ("Meine Ansichten")."""
    d = desk()
    query = request.form.get("query", "")[:4000]
    g.back = inbox_url(query)
    view = inbox_memory.save_view(
        d.store,
        staff_user(),
        request.form.get("name", "")[:1000],
        query,
        allowed=VIEW_FILTERS,
        now=d.now(),
    )
    flash(f"Ansicht „{view.name}“ gespeichert.", "success")
    return redirect(inbox_url(view.query), code=303)


@bp.get("/ansichten/<int:view_id>")
def open_view(view_id: int) -> ResponseReturnValue:
    """Open a saved view; filters that no longer fit (a removed topic) are left out."""
    d = desk()
    view = d.store.views.get(staff_user().id, view_id)
    known = {"topic": d.topic_ids, "source": {sid for sid, _ in d.store.items.facets().sources}}
    query, notes = inbox_memory.open_view(view, known)
    for note in notes:
        flash(f"Ansicht „{view.name}“: {note}", "warning")
    return redirect(inbox_url(query), code=303)


@bp.post("/ansichten/<int:view_id>/rename")
def rename_view(view_id: int) -> ResponseReturnValue:
    d = desk()
    g.back = inbox_url(request.form.get("back", ""))
    view = inbox_memory.rename_view(
        d.store, staff_user(), view_id, request.form.get("name", "")[:1000]
    )
    flash(f"Ansicht umbenannt in „{view.name}“.", "success")
    return redirect(g.back, code=303)


@bp.post("/ansichten/<int:view_id>/delete")
def delete_view(view_id: int) -> ResponseReturnValue:
    d = desk()
    g.back = inbox_url(request.form.get("back", ""))
    view = inbox_memory.delete_view(d.store, staff_user(), view_id)
    flash(f"Ansicht „{view.name}“ gelöscht.", "success")
    return redirect(g.back, code=303)


# ---------------------------------------------------------------- one item


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> ResponseReturnValue:
    found = desk().store.items.get(item_id)
    return _item_page(found, _annotation_form(found.annotation or Annotation(found.id)))


def _annotation_form(a: Annotation) -> AnnotationForm:
    return AnnotationForm(
        formdata=None,
        data={
            "headline": a.headline,
            "comment": a.comment_md,
            "priority": a.priority.value,
            "audiences": [x.value for x in a.audiences],
            "version": a.version,
        },
    )


def _item_page(
    found: Item,
    form: AnnotationForm,
    *,
    status: int = 200,
    version: int | None = None,
    conflict: Annotation | None = None,
    preview: str | None = None,
    error: str | None = None,
    topics: list[str] | None = None,
) -> ResponseReturnValue:
    """`topics`: the ticks to show again (a preview or a refused save keeps them)."""
    d = desk()
    g.back = url_for("staff.item", item_id=found.id)
    ticked = list(item_topics(found)) if topics is None else topics
    topics_form = TopicsForm(formdata=None, data={"topics": ticked})
    topics_form.topics.choices = choices((t.id, t.label_de) for t in d.taxonomy.topics)
    sources = dict(d.store.items.facets().sources)
    saved = found.annotation
    return (
        render_template(
            "web/item.html",
            item=found,
            form=form,
            topics_form=topics_form,
            version=version if version is not None else (saved.version if saved else 0),
            conflict=conflict,
            preview=preview,
            error=error,
            audit=d.store.items.audit(found.id),
            source_names=sources,
            dossiers=d.store.dossiers.of_item(found.id),
            merges=d.store.items.merges(found.id),
            feedback=d.store.feedback.counts_by_item([found.id]).get(found.id),
            relevance_reasons=reasons_as_of(
                found.relevance_reasons, found.deadlines, d.now().astimezone(d.tz).date()
            ),
            applicants=APPLICANT_LABELS,
            glossary_used=d.glossary.find(found.title, html_to_paragraphs(found.summary_html)),
            glossary=d.glossary,
        ),
        status,
    )


@bp.post("/items/<int:item_id>/eligibility")
def item_eligibility(item_id: int) -> ResponseReturnValue:
    """Staff correct a funding call's facets (or clear them: "siehe Aufruf")."""
    d = desk()
    g.back = url_for("staff.item", item_id=item_id)
    form = request.form
    facets = None if form.get("clear") else parse_facets(form, form.getlist("applicants"))
    correct_eligibility(d.store, item_id, facets, actor=staff_user(), now=d.now())
    flash("Antragsberechtigung gespeichert." if facets else "Angaben gelöscht.", "success")
    return redirect(url_for("staff.item", item_id=item_id) + "#eligibility-title", code=303)


@bp.post("/items/<int:item_id>/annotation")
def annotate(item_id: int) -> ResponseReturnValue:
    """The item page's one form: topics (when the form carries them, `topics_shown`) and
    the annotation, saved together; topics only when the ticks differ from what was shown,
    and not at all when the annotation is refused (the page comes back with the ticks)."""
    d = desk()
    found = d.store.items.get(item_id)
    form = AnnotationForm()
    version = form.version.data if isinstance(form.version.data, int) else 0
    ticked = (
        _topic_ids(request.form.getlist("topics")) if request.form.get("topics_shown") else None
    )
    if not form.validate():
        return _item_page(found, form, status=400, version=version, topics=ticked)
    if form.preview.data:
        preview = form.comment.data or ""
        return _item_page(found, form, version=version, preview=preview, topics=ticked)
    try:
        curate.annotate(
            d.store,
            item_id,
            headline=(form.headline.data or "").strip(),
            comment_md=form.comment.data or "",
            priority=Priority(form.priority.data),
            audiences=[Audience(a) for a in form.audiences.data or ()],
            expected_version=version,
            actor=staff_user(),
            now=d.now(),
        )
    except StaleEdit:
        current = d.store.items.get(item_id)
        saved = current.annotation or Annotation(item_id)
        return _item_page(
            current, form, status=409, version=saved.version, conflict=saved, topics=ticked
        )
    except InvalidInput as exc:
        return _item_page(found, form, status=400, version=version, error=str(exc), topics=ticked)
    if ticked is not None and set(ticked) != set(item_topics(found)):
        curate.set_topics(
            d.store, [item_id], ticked, actor=staff_user(), now=d.now(), topic_ids=d.topic_ids
        )
        flash("Themen und Einordnung gespeichert.", "success")
    else:
        flash("Einordnung gespeichert.", "success")
    return redirect(url_for("staff.item", item_id=item_id), code=303)


@bp.post("/items/<int:item_id>/status")
def item_status(item_id: int) -> ResponseReturnValue:
    d, actor = desk(), staff_user()
    g.back = url_for("staff.item", item_id=item_id)
    action = request.form.get("action")
    if action == "accept":
        curate.accept(d.store, [item_id], actor=actor, now=d.now(), topic_ids=d.topic_ids)
        flash("Meldung übernommen.", "success")
    elif action == "reject":
        curate.reject(d.store, [item_id], actor=actor, now=d.now())
        flash("Meldung abgelehnt.", "success")
    else:
        raise InvalidInput("Unbekannte Aktion.")
    return redirect(g.back, code=303)


@bp.post("/items/<int:item_id>/topics")
def item_topics_(item_id: int) -> ResponseReturnValue:
    d = desk()
    g.back = url_for("staff.item", item_id=item_id)
    topics = _topic_ids(request.form.getlist("topics"))
    curate.set_topics(
        d.store, [item_id], topics, actor=staff_user(), now=d.now(), topic_ids=d.topic_ids
    )
    flash("Themen gespeichert.", "success")
    return redirect(g.back, code=303)


@bp.route("/items/new", methods=["GET", "POST"])
def new_item() -> ResponseReturnValue:
    d = desk()
    form = OwnItemForm()
    form.topics.choices = choices((t.id, t.label_de) for t in d.taxonomy.topics)
    error = None
    if form.validate_on_submit():
        try:
            created = curate.create_own_item(
                d.store,
                title=(form.title.data or "").strip(),
                url=(form.url.data or "").strip() or None,
                summary_md=form.text.data or "",
                published=None,
                event_date=form.event_date.data,
                deadline=form.deadline.data,
                topics=list(form.topics.data or ()),
                topic_ids=d.topic_ids,
                actor=staff_user(),
                now=d.now(),
            )
        except InvalidInput as exc:
            error = str(exc)
        else:
            flash("Eigene Meldung angelegt.", "success")
            return redirect(url_for("staff.item", item_id=created.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("web/item_new.html", form=form, error=error), status


# ---------------------------------------------------------------- status


@bp.get("/status")
def status() -> ResponseReturnValue:
    d = desk()
    settings = d.services.settings
    health = d.store.sources.health()
    activity = d.store.stats.daily_activity(now=d.now(), tz=d.tz, days=STATUS_MAIL_DAYS)
    report = ops_status.collect(
        d.store,
        settings.cron_path,
        d.now(),
        heartbeat_max_age_s=settings.heartbeat_max_age_s,
        office=d.office,
    )
    return render_template(
        "web/status.html",
        report=report,
        outcome_labels=ops_status.OUTCOME_LABELS,
        health=health,
        charts=_status_charts(activity, {h.source.id: h.source.name for h in health}),
        figures=_status_figures(activity, health),
        last_sent=d.store.stats.last_sent(),
        editions=d.store.editions.list(limit=50),
        newsletters={n.id: n.name for n in d.office.newsletters},
        now=d.now(),
    )


STATUS_ITEM_DAYS = 14
STATUS_MAIL_DAYS = 30


def _status_charts(activity: DailyActivity, names: dict[str, str]) -> list[charts.Chart]:
    """The status page's charts: items and failures over 14 days, mail over 30."""
    k = STATUS_ITEM_DAYS

    def n(value: int) -> str:
        return de_number(value, 0)

    days14 = activity.days[-k:]
    by_source = {names.get(sid, sid): v[-k:] for sid, v in activity.items_by_source.items()}
    items_series = charts.top_series(by_source) or (charts.Series("Meldungen", (0,) * k),)
    sent = charts.Series("Zugestellt", activity.sent, "c1")
    bounces = charts.Series("Bounces", activity.bounces, "c4")
    complaints = charts.Series("Beschwerden", activity.complaints, "c6")
    failed = charts.Series("Fehlgeschlagene Läufe", activity.failed_runs[-k:], "c4")
    return [
        charts.daily_bars(
            "chart-items",
            "Neue Meldungen pro Tag (14 Tage)",
            f"Gestapelte Säulen je Tag, nach Quelle; {n(sum(s.total for s in items_series))} "
            "Meldungen in 14 Tagen. Die Zahlen stehen in der Tabelle darunter.",
            days14,
            items_series,
        ),
        charts.daily_bars(
            "chart-failures",
            "Fehlgeschlagene Aufgabenläufe pro Tag (14 Tage)",
            f"Säulen je Tag; {n(failed.total)} fehlgeschlagene, abgebrochene oder verpasste Läufe "
            "in 14 Tagen. Die Zahlen stehen in der Tabelle darunter.",
            days14,
            [failed],
        ),
        charts.daily_bars(
            "chart-sent",
            "Zustellungen pro Tag (30 Tage)",
            f"Säulen je Tag; {n(sent.total)} zugestellte E-Mails in 30 Tagen. "
            "Die Zahlen stehen in der Tabelle darunter.",
            activity.days,
            [sent],
        ),
        charts.daily_bars(
            "chart-bounces",
            "Bounces und Beschwerden pro Tag (30 Tage)",
            f"Gestapelte Säulen je Tag; {n(bounces.total)} Bounces und {n(complaints.total)} "
            "Beschwerden in 30 Tagen. Die Zahlen stehen in der Tabelle darunter.",
            activity.days,
            [bounces, complaints],
        ),
    ]


def _status_figures(activity: DailyActivity, health: list[SourceHealth]) -> dict[str, int]:
    per_day = [
        sum(v[i] for v in activity.items_by_source.values()) for i in range(len(activity.days))
    ]
    return {
        "items_today": per_day[-1] if per_day else 0,
        "items_week": sum(per_day[-7:]),
        "sources_failing": sum(1 for h in health if h.consecutive_failures and h.source.enabled),
        "sources": sum(1 for h in health if h.source.enabled),
        "bounces": sum(activity.bounces),
        "complaints": sum(activity.complaints),
    }


# ---------------------------------------------------------------- staff accounts


@bp.get("/users")
@admin_required
def users() -> ResponseReturnValue:
    return _users_page(UserForm(formdata=None))


def _users_page(form: UserForm, status: int = 200) -> ResponseReturnValue:
    d = desk()
    users_ = sorted(d.store.users.list(), key=lambda u: (not u.active, u.name.lower()))
    throttled = accounts.throttled_until(d.store, [u.name for u in users_], now=d.now())
    page = render_template(
        "web/users.html", users=users_, form=form, now_utc=d.now(), throttled=throttled
    )
    return page, status


@bp.post("/users")
@admin_required
def add_user() -> ResponseReturnValue:
    d = desk()
    form = UserForm()
    if not form.validate():
        return _users_page(form, 400)
    try:
        user = accounts.add_user(
            d.store,
            form.name.data or "",
            Role(form.role.data),
            form.password.data or "",
            now=d.now(),
        )
    except InvalidInput as exc:
        form.name.errors = [*form.name.errors, str(exc)]
        return _users_page(form, 400)
    flash(f"Konto „{user.name}“ angelegt.", "success")
    return redirect(url_for("staff.users"), code=303)


@bp.post("/users/<int:user_id>/active")
@admin_required
def set_active(user_id: int) -> ResponseReturnValue:
    d = desk()
    g.back = url_for("staff.users")
    user = d.store.users.get(user_id)
    active = request.form.get("active") == "1"
    if not active and user.id == staff_user().id:
        raise InvalidInput("Das eigene Konto lässt sich nicht deaktivieren.")
    d.store.users.set_active(user_id, active)
    flash(f"Konto „{user.name}“ {'aktiviert' if active else 'deaktiviert'}.", "success")
    return redirect(g.back, code=303)


@bp.post("/users/<int:user_id>/sperre")
@admin_required
def lift_throttle(user_id: int) -> ResponseReturnValue:
    """Sperre aufheben: the failed logins counted for this name, from any client, go."""
    d = desk()
    g.back = url_for("staff.users")
    user = d.store.users.get(user_id)
    accounts.lift_throttle(d.store, staff_user().name, user.name, now=d.now())
    flash(f"Anmeldesperre für „{user.name}“ aufgehoben.", "success")
    return redirect(g.back, code=303)


@bp.post("/users/<int:user_id>/email")
@admin_required
def set_user_email(user_id: int) -> ResponseReturnValue:
    d = desk()
    g.back = url_for("staff.users")
    user = d.store.users.get(user_id)
    address = _staff_email(request.form.get("email", ""))
    accounts.set_email(d.store, user.id, address)
    flash(f"Adresse für „{user.name}“ {'gespeichert' if address else 'entfernt'}.", "success")
    return redirect(g.back, code=303)


@bp.route("/konto", methods=["GET", "POST"])
def account() -> ResponseReturnValue:
    """Mein Konto: everyone sets their own address (where test sends go)."""
    d, me = desk(), staff_user()
    error, value = None, me.email or ""
    if request.method == "POST":
        value = (request.form.get("email") or "")[:1000]
        try:
            address = _staff_email(value)
        except InvalidInput as exc:
            error = str(exc)
        else:
            accounts.set_email(d.store, me.id, address)
            flash(
                "E-Mail-Adresse gespeichert." if address else "E-Mail-Adresse entfernt.", "success"
            )
            return redirect(url_for("staff.account"), code=303)
    return _account_page(value=value, error=error)


def _account_page(
    *, value: str | None = None, error: str | None = None, new_token: str | None = None
) -> ResponseReturnValue:
    d, me = desk(), staff_user()
    return (
        render_template(
            "web/account.html",
            me=me,
            value=me.email or "" if value is None else value,
            error=error,
            tokens=d.store.tokens.list(me.id),
            new_token=new_token,
        ),
        400 if error else 200,
    )


@bp.post("/konto/tokens")
def create_token() -> ResponseReturnValue:
    """A personal API token, shown once on this page (never in a redirect or a cookie)."""
    d = desk()
    _, token = api_tokens.create(
        d.store, staff_user(), (request.form.get("label") or "")[:1000], now=d.now()
    )
    response = make_response(_account_page(new_token=token))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/konto/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> ResponseReturnValue:
    d = desk()
    g.back = url_for("staff.account")
    api_tokens.revoke(d.store, staff_user(), token_id, now=d.now())
    flash("Token widerrufen: Er gilt ab sofort nicht mehr.", "success")
    return redirect(url_for("staff.account"), code=303)


def _staff_email(raw: str) -> str | None:
    """A staff member's address, normalised like a subscriber's; empty: none."""
    return normalise_email(raw) if raw.strip() else None


@bp.route("/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
    """Everyone changes their own password; the session goes on with the new one."""
    d, me = desk(), staff_user()
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            accounts.authenticate(
                d.store, me.name, form.current.data or "", now=d.now(), client=client()
            )
        except accounts.LoginFailed:
            form.current.errors = [*form.current.errors, "Das bisherige Passwort stimmt nicht."]
        else:
            accounts.set_password(d.store, me.id, form.new.data or "")
            login_user(DeskUser(d.store.users.get(me.id)))
            session.permanent = True
            flash("Passwort geändert.", "success")
            return redirect(url_for("staff.inbox"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("web/password.html", form=form), status
