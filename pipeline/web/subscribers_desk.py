"""The subscriber list of the desk: /desk/subscribers (login required).

GET  /desk/subscribers/                     search, filters, counts per status
GET  /desk/subscribers/export.csv           all subscribers as CSV (admins)
GET  /desk/subscribers/<id>/daten.json      one subscriber's data, GDPR (admins)
GET  /desk/subscribers/<id>/loeschen        asks; POST erases (admins, CSRF)
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from pipeline.model import ORG_TYPE_LABELS, OrgType, SubscriberStatus
from pipeline.store.subscribers import SubscriberQuery
from pipeline.web.auth import admin_required, desk_blueprint
from pipeline.web.context import desk, staff_user
from pipeline.web.public import json_download
from subscribers import gdpr, portability

bp = desk_blueprint("subscribers", "/desk/subscribers")

PER_PAGE = 50
FILTERS = ("q", "org_type", "topic", "newsletter", "status")
STATUS_LABELS = {
    SubscriberStatus.PENDING.value: "unbestätigt",
    SubscriberStatus.CONFIRMED.value: "bestätigt",
    SubscriberStatus.UNSUBSCRIBED.value: "abgemeldet",
}


def _query() -> tuple[SubscriberQuery, dict[str, str]]:
    d = desk()
    args = {k: (request.args.get(k) or "").strip()[:200] for k in FILTERS}
    org_type = args["org_type"] if args["org_type"] in {o.value for o in OrgType} else ""
    status = args["status"] if args["status"] in STATUS_LABELS else ""
    topic = args["topic"] if args["topic"] in d.topic_ids else ""
    newsletter = args["newsletter"] if d.office.newsletter(args["newsletter"]) else ""
    filters = {**args, "org_type": org_type, "status": status, "topic": topic}
    filters["newsletter"] = newsletter
    try:
        page = max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        page = 1
    query = SubscriberQuery(
        text=args["q"] or None,
        org_type=OrgType(org_type) if org_type else None,
        topic=topic or None,
        newsletter=newsletter or None,
        status=SubscriberStatus(status) if status else None,
        page=page,
        per_page=PER_PAGE,
    )
    return query, filters


@bp.get("/")
def index() -> ResponseReturnValue:
    d = desk()
    query, filters = _query()
    found = d.store.subscribers.search(query)
    pages = max(1, -(-found.total // PER_PAGE))

    def page_url(n: int) -> str:
        args = [(k, v) for k, v in filters.items() if v] + [("page", str(n))]
        return f"{url_for('subscribers.index')}?{urlencode(args)}"

    return render_template(
        "web/subscribers.html",
        found=found,
        pages=pages,
        filters=filters,
        counts=d.store.subscribers.counts(),
        org_types=ORG_TYPE_LABELS,
        status_labels=STATUS_LABELS,
        topics=d.taxonomy.topics,
        newsletters=d.office.newsletters,
        page_url=page_url,
        is_admin=staff_user().is_admin,
    )


@bp.get("/export.csv")
@admin_required
def export() -> ResponseReturnValue:
    return Response(
        portability.iter_csv(desk().store),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="abonnenten.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/<int:subscriber_id>/daten.json")
@admin_required
def data(subscriber_id: int) -> ResponseReturnValue:
    d = desk()
    subscriber = d.store.subscribers.get(subscriber_id)
    body = gdpr.subscriber_data(d.store, subscriber, d.office, d.taxonomy, now=d.now())
    return json_download(body, f"abonnent-{subscriber_id}.json")


@bp.route("/<int:subscriber_id>/loeschen", methods=["GET", "POST"])
@admin_required
def erase(subscriber_id: int) -> ResponseReturnValue:
    d = desk()
    subscriber = d.store.subscribers.get(subscriber_id)
    if request.method == "GET":
        return render_template("web/subscriber_erase.html", subscriber=subscriber)
    gdpr.erase(d.store, subscriber.id, now=d.now())
    flash(
        f"Die Daten von Abonnent Nr. {subscriber_id} sind gelöscht; die Adresse ist gesperrt.",
        "success",
    )
    return redirect(url_for("subscribers.index"), code=303)
