"""The one place where domain errors become HTTP answers (German pages)."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from pipeline.curate import transition_message
from pipeline.errors import (
    DossierNotFound,
    EditionNotFound,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    ItemNotFound,
    NotFound,
    StaleEdit,
    StoreError,
    UserNotFound,
)
from pipeline.web.auth import safe_next

log = logging.getLogger("eudigest.web")

_NOT_FOUND = {
    ItemNotFound: "Diese Meldung gibt es nicht (mehr).",
    EditionNotFound: "Diese Ausgabe gibt es nicht (mehr).",
    UserNotFound: "Dieses Konto gibt es nicht.",
    DossierNotFound: "Dieses Verfahren ist nicht bekannt.",
}
_HTTP_TITLES = {
    400: "Ungültige Anfrage",
    403: "Keine Berechtigung",
    404: "Nicht gefunden",
    405: "Methode nicht erlaubt",
    409: "Nicht möglich",
    413: "Anfrage zu groß",
    429: "Zu viele Anfragen",
    500: "Interner Fehler",
    503: "Datenbank nicht erreichbar",
}


def error_page(status: int, message: str, title: str | None = None) -> ResponseReturnValue:
    back = getattr(g, "back", None) or _referrer() or url_for("staff.inbox")
    return (
        render_template(
            "web/error.html",
            status=status,
            title=title or _HTTP_TITLES.get(status, "Fehler"),
            message=message,
            back=back,
        ),
        status,
    )


def _referrer() -> str | None:
    ref = request.referrer
    if not ref or not ref.startswith(request.host_url):
        return None
    return safe_next("/" + ref[len(request.host_url) :])


def register(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> ResponseReturnValue:
        message = next(
            (m for cls, m in _NOT_FOUND.items() if isinstance(exc, cls)),
            "Das gibt es nicht.",
        )
        return error_page(404, message)

    @app.errorhandler(StaleEdit)
    def stale(exc: StaleEdit) -> ResponseReturnValue:
        return error_page(409, str(exc), "Inzwischen geändert")

    @app.errorhandler(InvalidInput)
    def invalid(exc: InvalidInput) -> ResponseReturnValue:
        return error_page(400, str(exc) or "Die Eingabe ist ungültig.")

    @app.errorhandler(Forbidden)
    def forbidden(exc: Forbidden) -> ResponseReturnValue:
        return error_page(403, str(exc) or "Das dürfen Sie nicht.")

    @app.errorhandler(InvalidTransition)
    def transition(exc: InvalidTransition) -> ResponseReturnValue:
        return error_page(409, transition_message(exc))

    @app.errorhandler(CSRFError)
    def csrf(exc: CSRFError) -> ResponseReturnValue:
        where = request.url_rule.rule if request.url_rule is not None else "(no route)"
        log.info("CSRF check failed on %s %s: %s", request.method, where, exc.description)
        return error_page(
            400,
            "Das Formular ist abgelaufen oder ungültig (Sicherheitsprüfung). "
            "Bitte die Seite neu laden und erneut absenden. Es wurde nichts geändert.",
            "Sicherheitsprüfung fehlgeschlagen",
        )

    @app.errorhandler(StoreError)
    def store_error(exc: StoreError) -> ResponseReturnValue:
        log.error("store error on %s %s: %s", request.method, request.path, exc)
        return error_page(503, "Die Datenbank ist gerade nicht erreichbar. Bitte später erneut.")

    @app.errorhandler(HTTPException)
    def http(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        if status < 400:
            return exc
        message = {
            404: "Diese Seite gibt es nicht.",
            405: "Diese Aktion ist hier nicht möglich.",
            413: "Die Anfrage ist zu groß.",
        }.get(status, _HTTP_TITLES.get(status, "Fehler"))
        return error_page(status, message)
