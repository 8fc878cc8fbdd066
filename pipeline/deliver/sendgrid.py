"""SendGrid: the one module that imports the `sendgrid` library.

For now it checks the signed Event Webhook: `verify_event_webhook()` checks the
headers are there, the timestamp is fresh, and the ECDSA P-256 signature (made
by SendGrid over `timestamp + raw body`) is valid for the configured public key.
It raises `WebhookRejected(reason)` otherwise; the web shell maps reasons to HTTP.
"""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import re
from enum import StrEnum

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from pipeline.errors import EudigestError

SIGNATURE_HEADER: str = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER: str = EventWebhookHeader.TIMESTAMP
MAX_AGE = dt.timedelta(minutes=10)
_MAX_SIGNATURE_CHARS = 512  # a DER ECDSA P-256 signature is ~72 bytes, ~96 in base64
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class RejectReason(StrEnum):
    MISSING_HEADERS = "missing_headers"
    BAD_TIMESTAMP = "bad_timestamp"  # not a whole number of seconds
    TOO_OLD = "too_old"
    IN_FUTURE = "in_future"
    BAD_SIGNATURE = "bad_signature"
    NOT_UTF8 = "not_utf8"  # SendGrid sends UTF-8 JSON; the helper verifies text
    BAD_KEY = "bad_key"  # our configuration is wrong, not the request


class WebhookRejected(EudigestError):
    """A webhook request that must not be processed; `reason` says why."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


def verify_event_webhook(
    public_key_b64: str,
    raw_body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: dt.datetime,
    max_age: dt.timedelta = MAX_AGE,
) -> None:
    """Return when the request is SendGrid's and fresh; raise WebhookRejected otherwise.

    `raw_body` is the request body exactly as received (never re-serialised JSON).
    The timestamp may be at most `max_age` old and at most `max_age` ahead (clock skew).
    """
    if not signature or not timestamp:
        raise WebhookRejected(RejectReason.MISSING_HEADERS, "signature and timestamp required")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookRejected(RejectReason.BAD_TIMESTAMP, "timestamp is not whole seconds")
    signed_at = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    if signed_at < now - max_age:
        raise WebhookRejected(RejectReason.TOO_OLD, f"signed at {signed_at.isoformat()}")
    if signed_at > now + max_age:
        raise WebhookRejected(RejectReason.IN_FUTURE, f"signed at {signed_at.isoformat()}")
    verifier = _verifier(public_key_b64.strip())
    try:
        payload = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected(RejectReason.NOT_UTF8, "body is not UTF-8") from None
    if len(signature) > _MAX_SIGNATURE_CHARS:
        raise WebhookRejected(RejectReason.BAD_SIGNATURE, "signature too long")
    try:
        valid = verifier.verify_signature(payload, signature, timestamp)
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise WebhookRejected(RejectReason.BAD_SIGNATURE, "signature does not match")


@functools.lru_cache(maxsize=4)
def _verifier(public_key_b64: str) -> EventWebhook:
    """The helper for one configured key, parsed once."""
    if not public_key_b64:
        raise WebhookRejected(RejectReason.BAD_KEY, "no public key configured")
    try:
        verifier = EventWebhook(public_key_b64)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise WebhookRejected(RejectReason.BAD_KEY, f"cannot read the public key: {exc}") from None
    key = verifier.public_key
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise WebhookRejected(RejectReason.BAD_KEY, "the public key is not an ECDSA P-256 key")
    return verifier
