"""The web app: the staff desk under /desk/ and the public pages at the root.

`create_app(settings, services=None)` builds a Flask app over the given
services (tests inject their own store); views are thin: parse a form, call
one curate function, redirect (303) or render. Domain errors become HTTP
answers in `errors.py`, nowhere else.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect
from markupsafe import Markup
from werkzeug.routing import IntegerConverter

from pipeline import status as ops_status
from pipeline import text
from pipeline.bootstrap import Services, build
from pipeline.config import PROJECT_ROOT, Settings
from pipeline.model import german_link
from pipeline.model.dossiers import german_date
from pipeline.web import (
    archive,
    auth,
    corrections,
    dossiers,
    editions,
    errors,
    feedback,
    formatting,
    ops,
    public,
    staff,
    subscribers_desk,
    webhooks,
)
from pipeline.web.context import EXTENSION, MAX_ID, Desk

log = logging.getLogger("eudigest.web")

MAX_REQUEST_BYTES = 1_000_000  # the largest form (a comment) is 10,000 characters
SESSION_HOURS = 12

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: an id past what the store holds matches no route (404),
    instead of reaching the database and failing there (500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def create_app(settings: Settings, services: Services | None = None) -> Flask:
    services = services or build(settings)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    base_url: str | None = getattr(settings, "base_url", None)
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_NAME="eudigest_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(base_url and base_url.lower().startswith("https://")),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        # A token lives as long as the session: a long comment must not be lost to a timeout.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_I18N_ENABLED=False,
    )
    app.extensions[EXTENSION] = Desk(
        services=services,
        office=services.office(),
        taxonomy=services.taxonomy(),
        tz=settings.tz,
        glossary=services.glossary(),
    )
    CSRFProtect(app)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    auth.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(feedback.bp)  # /feedback/…: readers' answers, no CSRF cookie
    app.register_blueprint(staff.bp)
    app.register_blueprint(editions.bp)
    app.register_blueprint(corrections.bp)  # /desk/editions/<id>/korrektur/<item>
    app.register_blueprint(subscribers_desk.bp)
    app.register_blueprint(dossiers.bp)  # /desk/verfahren
    app.register_blueprint(webhooks.webhooks_blueprint())  # exempts itself from CSRF
    app.register_blueprint(ops.bp)  # /healthz /readyz /metrics: no login, no CSRF
    app.register_blueprint(archive.bp)  # the public archive, feeds and calendars
    errors.register(app)
    _register_filters(app)
    app.after_request(_security_headers)
    if base_url and base_url.lower().startswith("https://"):
        app.after_request(_strict_transport)
    return app


def _secret_key(settings: Settings) -> str:
    key: str | None = getattr(settings, "secret_key", None)
    if key:
        return key
    log.warning("EUDIGEST_SECRET_KEY is not set: using a random key; every session ends at restart")
    return secrets.token_urlsafe(32)


def _register_filters(app: Flask) -> None:
    desk: Desk = app.extensions[EXTENSION]
    tz = desk.tz

    def topic_label(topic_id: str) -> str:
        return desk.topic_labels.get(topic_id, topic_id)

    def markdown(md: str | None) -> Markup:
        # text.render_markdown sanitises (markdown-it + nh3): its HTML is safe to insert.
        return Markup(text.render_markdown(md or ""))  # noqa: S704

    app.jinja_env.filters.update(
        de_datetime=lambda v: text.de_datetime(v, tz),
        de_date=lambda v: text.de_date(v, tz=tz),
        long_date=german_date,  # 16. Juni 2026 (dossier timelines)
        de_number=text.de_number,
        de_count=text.de_count,
        source_error_de=ops_status.source_error_de,
        label=formatting.label,
        doc_type=formatting.doc_type_label,
        language_name=text.language_name,
        topic_label=topic_label,
        safe_href=text.safe_href,
        german_link=lambda url: text.safe_href(german_link(url)),
        markdown=markdown,
        datetime_local=lambda v: formatting.datetime_local_value(v, tz),
        audit_action=formatting.audit_action,
        audit_detail=lambda e: formatting.audit_detail(e.action, e.detail, tz, desk.topic_labels),
        learning_de=formatting.learning_de,
    )

    @app.context_processor
    def globals_() -> dict[str, Any]:
        return {"office": desk.office, "topic_labels": desk.topic_labels}


HSTS = f"max-age={365 * 24 * 3600}"  # a year; no includeSubDomains: the office's other hosts


def _strict_transport(response: Response) -> Response:
    """Served under an https base URL: browsers never try http again (RFC 6797)."""
    response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")
    return response
