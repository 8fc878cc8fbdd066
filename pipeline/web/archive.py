"""The public archive of sent editions, its Atom feeds and the deadline calendars (German).

    /archiv/                        sent editions, newest first; ?newsletter=weekly&seite=2
    /archiv/<id>                    → 301 to /archiv/<id>/<slug>, the canonical address
    /archiv/<id>/<slug>             one sent edition, whole (every topic), nothing personal
    /archiv/feed.atom               Atom feed of the newest editions of all newsletters
    /archiv/<newsletter>.atom       … of one newsletter
    /fristen.ics                    deadlines of the items of sent editions, from 30 days ago
    /fristen/<topic>.ics            … of one topic
    /archiv/verfahren/              published dossiers (office.yaml archive.dossiers)
    /archiv/verfahren/<slug>        one dossier: stage, next step, timeline; no followers
    /archiv/verfahren/<slug>.atom   its events as an Atom feed
    /archiv/verfahren/<slug>.ics    its key dates and forecasts as a calendar

Pages, feeds and calendars are the same for every visitor: they never touch the
session, carry an ETag (a hash of the body) and Last-Modified, answer a matching
conditional GET with 304, and may be cached publicly for a few minutes. Only SENT
editions exist here; anything else is a German 404 page.
Views load from the store and hand over to pipeline.compose.archive (pure).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import NoReturn
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from pipeline.compose import archive, dossier_archive
from pipeline.compose.archive import ArchivedEdition
from pipeline.compose.dossier_archive import PublicDossier
from pipeline.errors import DossierNotFound, EditionNotFound
from pipeline.model import Correction, Edition, EditionState, Item, Newsletter, Source
from pipeline.text import de_count
from pipeline.web.context import Desk, desk

bp = Blueprint("archive", __name__)

PAGE_SIZE = 20  # editions per page of the list
FEED_ENTRIES = 50  # editions in an Atom feed
MAX_PAGE = 10_000
CACHE_SECONDS = 300
ATOM = "application/atom+xml"
ICS = "text/calendar"


# ---------------------------------------------------------------- errors


@bp.errorhandler(404)
@bp.errorhandler(400)
def _missing(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 404
    title = "Nicht gefunden" if status == 404 else "Ungültige Anfrage"
    message = exc.description
    if not message or message == type(exc).description:  # werkzeug's English default
        message = "Diese Seite gibt es nicht." if status == 404 else "Die Anfrage ist ungültig."
    body = render_template("web/public/archive_message.html", title=title, message=message)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found(message: str) -> NoReturn:
    abort(404, description=message)


# ---------------------------------------------------------------- pages


@bp.route("/archiv/")
def index() -> ResponseReturnValue:
    d = desk()
    newsletter = _newsletter(d, request.args.get("newsletter") or None)
    page = _page_number(request.args.get("seite", "1"))
    newsletter_id = newsletter.id if newsletter else None
    total = d.store.editions.count_sent(newsletter_id)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        _not_found(
            f"Seite {page} gibt es nicht; das Archiv hat {de_count(pages, 'Seite', 'Seiten')}."
        )
    editions = d.store.editions.sent(newsletter_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    entries = [
        archive.archive_entry(e, d.office.newsletter(e.newsletter_id), d.tz) for e in editions
    ]
    body = render_template(
        "web/public/archive_index.html",
        entries=entries,
        newsletter=newsletter,
        newsletters=d.office.newsletters,
        topics=d.taxonomy.topics,
        page=page,
        pages=pages,
        total=total,
        base=_base(d),
    )
    newest = max((e.sent_at for e in entries), default=None)
    return _cacheable(body, "text/html", newest)


@bp.route("/archiv/<int:edition_id>")
@bp.route("/archiv/<int:edition_id>/<slug>")
def edition(edition_id: int, slug: str | None = None) -> ResponseReturnValue:
    d = desk()
    # The page exists from the moment the first mail leaves: readers follow "Im Browser
    # lesen" while a long send (or one waiting for SendGrid) is still going.
    found = _sent_edition(d, edition_id, sending_too=True)
    canonical = archive.slugify(found.title)
    if slug != canonical:
        return redirect(url_for("archive.edition", edition_id=edition_id, slug=canonical), 301)
    view = _archived(d, found)
    body = render_template(
        "web/public/archive_edition.html",
        edition=view,
        newsletter=d.office.newsletter(found.newsletter_id),
        base=_base(d),
    )
    return _cacheable(body, "text/html", view.changed_at)


# ---------------------------------------------------------------- Atom


@bp.route("/archiv/feed.atom")
def feed() -> ResponseReturnValue:
    return _feed(None)


@bp.route("/archiv/<newsletter_id>.atom")
def newsletter_feed(newsletter_id: str) -> ResponseReturnValue:
    newsletter = _newsletter(desk(), newsletter_id)
    return _feed(newsletter)


def _feed(newsletter: Newsletter | None) -> ResponseReturnValue:
    d = desk()
    base = _base(d)
    newsletter_id = newsletter.id if newsletter else None
    editions = d.store.editions.sent(newsletter_id, limit=FEED_ENTRIES)
    items = d.store.items.get_many(i for e in editions for i in e.item_ids)
    views = [archive.feed_entry(e, d.office.newsletter(e.newsletter_id), items) for e in editions]
    if newsletter is None:
        self_url = base + url_for("archive.feed")
        title = f"EU-Newsletter – {d.office.name}"
    else:
        self_url = base + url_for("archive.newsletter_feed", newsletter_id=newsletter.id)
        title = f"{newsletter.name} – {d.office.name}"
    info = archive.FeedInfo(
        feed_id=self_url,
        title=title,
        self_url=self_url,
        archive_url=base + url_for("archive.index", newsletter=newsletter_id),
        author=d.office.name,
    )
    body = archive.atom_feed(
        views,
        info,
        entry_url=lambda e: base + url_for("archive.edition", edition_id=e.id, slug=e.slug),
        entry_id=lambda e: base + url_for("archive.edition", edition_id=e.id),
    )
    newest = max((v.changed_at for v in views), default=None)
    return _cacheable(body, ATOM, newest)


# ---------------------------------------------------------------- calendars


@bp.route("/fristen.ics")
def calendar() -> ResponseReturnValue:
    return _calendar(None)


@bp.route("/fristen/<topic_id>.ics")
def topic_calendar(topic_id: str) -> ResponseReturnValue:
    if topic_id not in desk().topic_ids:
        _not_found("Dieses Thema gibt es nicht. Die Kalender stehen im Archiv.")
    return _calendar(topic_id)


def _calendar(topic_id: str | None) -> ResponseReturnValue:
    d = desk()
    base = _base(d)
    today = d.now().astimezone(d.tz).date()
    since = today - archive.CALENDAR_PAST
    placed = d.store.editions.sent_items_with_deadlines(since)
    items = d.store.items.get_many(placed)
    pairs = [(items[i], e) for i, e in placed.items() if i in items]
    fixes: dict[int, list[Correction]] = {}
    for c in d.store.corrections.for_items(items):
        fixes.setdefault(c.item_id, []).append(c)
    events = archive.deadline_events(
        pairs,
        since=since,
        uid_domain=urlsplit(base).hostname or "eudigest.invalid",
        archive_url=lambda e: (
            base + url_for("archive.edition", edition_id=e.id, slug=archive.slugify(e.title))
        ),
        topic_labels=d.topic_labels,
        sources=_sources(d, [item for item, _ in pairs]),
        corrections=fixes,
    )
    if topic_id is None:
        name = f"Fristen – {d.office.name}"
        about = "Alle Themen"
        url = base + url_for("archive.calendar")
    else:
        events = [e for e in events if topic_id in e.topic_ids]
        label = d.topic_labels.get(topic_id, topic_id)
        name = f"Fristen {label} – {d.office.name}"
        about = f"Thema {label}"
        url = base + url_for("archive.topic_calendar", topic_id=topic_id)
    info = archive.CalendarInfo(
        name=name,
        description=(
            f"{d.office.name}: Fristen und Termine aus den EU-Newslettern ({about}). "
            f"Alle Ausgaben: {base}{url_for('archive.index')}"
        ),
        timezone=d.tz.key,
        url=url,
    )
    body = archive.deadline_calendar(events, info)
    newest = max((e.stamp for e in events), default=None)
    return _cacheable(body, ICS, newest, filename=url.rsplit("/", 1)[-1])


# ---------------------------------------------------------------- dossiers


def _everything(d: Desk) -> bool:
    return d.office.archive_dossiers == "public"


def _public_dossier(d: Desk, slug: str) -> PublicDossier:
    reference = dossier_archive.reference_of(slug)
    message = "Dieses Verfahren gibt es im Archiv nicht (oder noch nicht)."
    if reference is None:
        _not_found(message)
    today = d.now().astimezone(d.tz).date()
    try:
        found = d.store.dossiers.get_published(reference, today=today, everything=_everything(d))
    except DossierNotFound:
        _not_found(message)
    if found.reference != reference:  # reached by an alias's spelling: not its address
        _not_found(message)
    sent = d.store.editions.first_sent(found.item_ids)
    items = d.store.items.get_many(sent)
    base = _base(d)
    return dossier_archive.public_dossier(
        found,
        today,
        [(items[i], e) for i, e in sent.items() if i in items],
        lambda i, e: (
            base
            + url_for("archive.edition", edition_id=e.id, slug=archive.slugify(e.title))
            + f"#meldung-{i.id}"
        ),
    )


@bp.route("/archiv/verfahren/")
def dossiers() -> ResponseReturnValue:
    d = desk()
    today = d.now().astimezone(d.tz).date()
    views = [
        dossier_archive.public_dossier(x, today)
        for x in d.store.dossiers.published(today=today, everything=_everything(d))
    ]
    body = render_template("web/public/archive_dossiers.html", dossiers=views, base=_base(d))
    return _cacheable(body, "text/html", max((v.updated_at for v in views), default=None))


@bp.route("/archiv/verfahren/<slug>")
def dossier(slug: str) -> ResponseReturnValue:
    d = desk()
    if slug.endswith((".atom", ".ics")):
        return _dossier_file(d, slug)
    view = _public_dossier(d, slug)
    base = _base(d)
    body = render_template(
        "web/public/archive_dossier.html",
        dossier=view,
        base=base,
        feed_url=base + url_for("archive.dossier", slug=f"{view.slug}.atom"),
        calendar_url=base + url_for("archive.dossier", slug=f"{view.slug}.ics"),
    )
    return _cacheable(body, "text/html", view.updated_at)


def _dossier_file(d: Desk, name: str) -> ResponseReturnValue:
    slug, kind = name.rsplit(".", 1)
    view = _public_dossier(d, slug)
    base = _base(d)
    page_url = base + url_for("archive.dossier", slug=view.slug)
    self_url = base + url_for("archive.dossier", slug=name)
    if kind == "atom":
        info = archive.FeedInfo(
            feed_id=self_url,
            title=f"{view.reference}: {view.title} – {d.office.name}",
            self_url=self_url,
            archive_url=page_url,
            author=d.office.name,
        )
        return _cacheable(dossier_archive.dossier_feed(view, info, page_url), ATOM, view.updated_at)
    info_ics = archive.CalendarInfo(
        name=f"{view.reference} – {d.office.name}",
        description=f"{view.title}: Verfahrensschritte und Termine. Im Archiv: {page_url}",
        timezone=d.tz.key,
        url=self_url,
    )
    body = dossier_archive.dossier_calendar(
        view, info_ics, uid_domain=urlsplit(base).hostname or "eudigest.invalid", page_url=page_url
    )
    return _cacheable(body, ICS, view.updated_at, filename=name)


# ---------------------------------------------------------------- helpers


def _base(d: Desk) -> str:
    """Absolute links: EUDIGEST_BASE_URL, else the address this request came to."""
    return (d.services.settings.base_url or request.host_url).rstrip("/")


def _newsletter(d: Desk, newsletter_id: str | None) -> Newsletter | None:
    if newsletter_id is None:
        return None
    found = d.office.newsletter(newsletter_id)
    if found is None:
        _not_found("Diesen Newsletter gibt es nicht.")
    return found


def _page_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        abort(400, description="Die Seitenzahl ist ungültig.")
    return int(text)


def _sent_edition(d: Desk, edition_id: int, *, sending_too: bool = False) -> Edition:
    try:
        found = d.store.editions.get(edition_id)
    except EditionNotFound:
        found = None
    public = (EditionState.SENT, EditionState.SENDING) if sending_too else (EditionState.SENT,)
    if found is None or found.state not in public:
        _not_found("Diese Ausgabe gibt es im Archiv nicht (oder noch nicht).")
    return found


def _sources(d: Desk, items: Sequence[Item]) -> Mapping[str, Source]:
    ids = sorted({i.source_id for i in items})
    return {h.source.id: h.source for h in d.store.sources.health(ids)} if ids else {}


def _archived(d: Desk, edition: Edition) -> ArchivedEdition:
    """The edition's view model, with its items and their sources read in one go each."""
    items = d.store.items.get_many(edition.item_ids)
    return archive.archived_edition(
        edition,
        d.office.newsletter(edition.newsletter_id),
        items,
        office=d.office,
        topic_labels=d.topic_labels,
        tz=d.tz,
        sources=_sources(d, list(items.values())),
        corrections=d.store.corrections.for_items(items),
        glossary=d.glossary,
    )


def _cacheable(
    body: str | bytes,
    mimetype: str,
    last_modified: dt.datetime | None,
    *,
    filename: str | None = None,
) -> Response:
    """A public, briefly cacheable answer with ETag and Last-Modified; 304 when unchanged."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = Response(data, content_type=f"{mimetype}; charset=utf-8")
    response.set_etag(hashlib.sha256(data).hexdigest()[:32])
    if last_modified is not None:
        response.last_modified = last_modified
    # A signed-in staff member's browser sends the session cookie, and Flask may refresh
    # it on the answer: such an answer must never sit in a shared cache.
    signed_in = current_app.config["SESSION_COOKIE_NAME"] in request.cookies
    scope = "private" if signed_in else "public"
    response.headers["Cache-Control"] = f"{scope}, max-age={CACHE_SECONDS}"
    response.vary.add("Cookie")
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.make_conditional(request)  # 304 without a body when the client has it
    return response
