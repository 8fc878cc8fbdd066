"""POST /webhooks/sendgrid: SendGrid's signed Event Webhook.

    size cap → signature + freshness (deliver.sendgrid) → parse (subscribers.events)
    → apply in one transaction → 200 {received, new, duplicates, ignored, invalid}

Answers are JSON for SendGrid and the operator's log. SendGrid retries anything
but a 2xx for a day: a database failure answers 503 (nothing was applied, the
retry applies it); a request we will never accept (bad signature, malformed
JSON) answers 4xx. CSRF does not apply: the signature authenticates the caller.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import RequestEntityTooLarge

from pipeline.deliver.sendgrid import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RejectReason,
    WebhookRejected,
    verify_event_webhook,
)
from pipeline.errors import InvalidInput, StoreError
from pipeline.web.context import desk
from subscribers import events

log = logging.getLogger("eudigest.web.webhooks")

MAX_BODY_BYTES = events.MAX_BODY_BYTES  # 5 MB; the app's limit for forms is 1 MB
RETRY_AFTER_S = 60

_REJECT_STATUS = {
    RejectReason.MISSING_HEADERS: 401,
    RejectReason.BAD_TIMESTAMP: 403,
    RejectReason.TOO_OLD: 403,
    RejectReason.IN_FUTURE: 403,
    RejectReason.BAD_SIGNATURE: 403,
    RejectReason.NOT_UTF8: 400,
    RejectReason.BAD_KEY: 503,  # our configuration, not the caller
}


def webhooks_blueprint() -> Blueprint:
    """The webhook routes; register after CSRFProtect(app), which it exempts itself from."""
    bp = Blueprint("webhooks", __name__)
    bp.record_once(_exempt_from_csrf)
    bp.add_url_rule("/webhooks/sendgrid", view_func=sendgrid_events, methods=["POST"])
    return bp


def _exempt_from_csrf(state: BlueprintSetupState) -> None:
    csrf = state.app.extensions.get("csrf")
    if csrf is None:
        raise RuntimeError("register the webhooks blueprint after CSRFProtect(app)")
    csrf.exempt(state.blueprint)


def sendgrid_events() -> tuple[Response, int]:
    d = desk()
    key = d.services.settings.sendgrid_webhook_key
    if not key:
        log.error("SendGrid webhook called but EUDIGEST_SENDGRID_WEBHOOK_KEY is not set")
        return _answer(503, "webhook not configured")
    raw = _body()
    if raw is None:
        return _answer(413, f"body too large: at most {MAX_BODY_BYTES} bytes per request")
    now = d.now()
    try:
        verify_event_webhook(
            key,
            raw,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
            now=now,
        )
    except WebhookRejected as exc:
        status = _REJECT_STATUS[exc.reason]
        level = logging.ERROR if status >= 500 else logging.WARNING
        log.log(level, "SendGrid webhook rejected from %s: %s", request.remote_addr, exc)
        if exc.reason is RejectReason.BAD_KEY:
            return _answer(status, "webhook not configured: the public key cannot be read")
        return _answer(status, f"rejected: {exc.reason.value}")
    try:
        batch = events.parse_events(raw, max_bytes=MAX_BODY_BYTES)
    except events.BatchTooLarge as exc:
        return _answer(413, str(exc))
    except InvalidInput as exc:
        log.warning("SendGrid webhook: malformed body: %s", exc)
        return _answer(400, str(exc))
    try:
        report = events.process_events(d.store, batch, now=now)
    except StoreError as exc:
        log.error("SendGrid webhook: nothing applied, SendGrid will retry: %s", exc)
        response, status = _answer(503, "database unavailable: nothing applied, retry later")
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response, status
    return jsonify(report.as_dict()), 200


def _body() -> bytes | None:
    """The raw body, exactly as sent; None when it is over the cap."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    # A chunked body has no Content-Length: werkzeug stops reading at the limit without
    # an error, so read one byte more than allowed and look.
    request.max_content_length = MAX_BODY_BYTES + 1
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return None
    return None if len(raw) > MAX_BODY_BYTES else raw


def _answer(status: int, error: str) -> tuple[Response, int]:
    return jsonify({"error": error}), status
