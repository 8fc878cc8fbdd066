"""SendGrid Event Webhook batches → suppression and subscriber state, exactly once.

    parse_events(raw body)          JSON array, bounded; each event validated → ParsedBatch
    effect_of(event)                decide: suppress / unsubscribe / record only / ignore
    process_events(store, batch)    store.apply_events: mark seen + apply, one transaction

What each event does:
- bounce (type "bounce"), dropped, spamreport: the address hash is suppressed and the
  subscriber unsubscribed from all. A "blocked" bounce is temporary: recorded only.
  A drop because of the message (spam content, quota, bad header), not the address,
  is recorded only.
- unsubscribe, group_unsubscribe: unsubscribed from all and suppressed ("unsubscribe");
  a group mapped to a newsletter (`groups`) unsubscribes from that newsletter only.
- processed, delivered, deferred, open, click: recorded for the delivery record only,
  under `delivery_ref` (our opaque custom arg `delivery_id`).
- anything else: ignored, and counted.

Retries carry a new sg_event_id, so an event is known by sha256 of (sg_message_id,
event, timestamp, address hash). Addresses are never stored here, only their hash;
reasons are stored with addresses in them blanked out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from pipeline.errors import InvalidInput
from pipeline.model import RECORD_ONLY, EventEffect, SuppressionReason, WebhookEvent
from pipeline.store import Store
from subscribers import addresses

log = logging.getLogger("eudigest.events")

MAX_BODY_BYTES = 5_000_000
MAX_EVENTS = 20_000
MAX_EMAIL_CHARS = 320
MAX_MESSAGE_ID_CHARS = 200
MAX_REASON_CHARS = 1000
_MIN_TIMESTAMP = 946_684_800  # 2000-01-01
_MAX_TIMESTAMP = 4_102_444_800  # 2100-01-01

SUPPRESSING = {
    "bounce": SuppressionReason.BOUNCE,
    "dropped": SuppressionReason.DROPPED,
    "spamreport": SuppressionReason.SPAMREPORT,
}
UNSUBSCRIBING = frozenset({"unsubscribe", "group_unsubscribe"})
DELIVERY_ONLY = frozenset({"processed", "delivered", "deferred", "open", "click"})
KNOWN = frozenset(SUPPRESSING) | UNSUBSCRIBING | DELIVERY_ONLY
# Drops caused by the message or the account, not the address: no suppression.
_MESSAGE_DROPS = frozenset(
    {"spam content", "invalid smtpapi header", "recipient list over package quota"}
)

_EVENT_NAME = re.compile(r"[a-z_]{1,32}")
_DELIVERY_REF = re.compile(r"[A-Za-z0-9._:-]{1,100}")  # opaque; an address has an @
_ADDRESS = re.compile(r"<?[^\s<>\"'(),;:@\[\]]+@[^\s<>\"'(),;:@\[\]]+>?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BatchTooLarge(InvalidInput):
    """More bytes or events than one webhook request may carry."""


@dataclass(frozen=True, slots=True)
class SendGridEvent:
    """One validated event; the address only as its hash."""

    event: str
    email_hash: str
    timestamp: int
    message_id: str | None = None
    delivery_ref: str | None = None
    reason: str = ""
    bounce_type: str | None = None  # bounce: "bounce" (permanent) or "blocked" (temporary)
    asm_group_id: int | None = None

    @property
    def occurred_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp, dt.UTC)

    @property
    def dedupe_key(self) -> str:
        parts = (self.message_id or "", self.event, str(self.timestamp), self.email_hash)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    events: tuple[SendGridEvent, ...]
    received: int  # entries in the array
    ignored: int = 0  # unknown event types
    invalid: int = 0  # entries that are not a valid event
    problems: tuple[str, ...] = ()  # the first few, for the log (no personal data)


@dataclass(frozen=True, slots=True)
class EventReport:
    received: int
    new: int
    duplicates: int
    ignored: int
    invalid: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def email_hash(email: str) -> str:
    """The address's lookup hash, made as for sign-ups (InvalidInput if it is unusable)."""
    return addresses.hash_of(email)


# ---------------------------------------------------------------- parsing


def parse_events(
    raw: bytes, *, max_bytes: int = MAX_BODY_BYTES, max_events: int = MAX_EVENTS
) -> ParsedBatch:
    """Read a webhook body: InvalidInput unless it is a JSON array (BatchTooLarge if huge).

    Entries that are not valid events are counted, not fatal: the rest still counts.
    """
    if len(raw) > max_bytes:
        raise BatchTooLarge(f"body of {len(raw)} bytes is over the limit of {max_bytes}")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise InvalidInput(f"body must be a JSON array of events, not {type(data).__name__}")
    if len(data) > max_events:
        raise BatchTooLarge(f"{len(data)} events are over the limit of {max_events}")
    events: list[SendGridEvent] = []
    ignored = invalid = 0
    problems: list[str] = []
    for n, entry in enumerate(data):
        try:
            event = _event(entry)
        except InvalidInput as exc:
            invalid += 1
            if len(problems) < 10:
                problems.append(f"event {n}: {exc}")
            continue
        if event is None:
            ignored += 1
        else:
            events.append(event)
    return ParsedBatch(tuple(events), len(data), ignored, invalid, tuple(problems))


def _event(entry: object) -> SendGridEvent | None:
    """One entry as a SendGridEvent; None for an event type we do not handle."""
    if not isinstance(entry, dict):
        raise InvalidInput("not an object")
    name = entry.get("event")
    if not isinstance(name, str) or not _EVENT_NAME.fullmatch(name):
        raise InvalidInput("no valid 'event'")
    if name not in KNOWN:
        return None
    email = entry.get("email")
    if (
        not isinstance(email, str)
        or not 3 <= len(email) <= MAX_EMAIL_CHARS
        or "@" not in email
        or _CONTROL.search(email)
    ):
        raise InvalidInput("no valid 'email'")
    try:
        address_hash = email_hash(email)
    except InvalidInput:
        raise InvalidInput("'email' is not a usable address") from None
    timestamp = entry.get("timestamp")
    if (
        not isinstance(timestamp, int)
        or isinstance(timestamp, bool)
        or not _MIN_TIMESTAMP <= timestamp <= _MAX_TIMESTAMP
    ):
        raise InvalidInput("no valid 'timestamp' (whole seconds since 1970)")
    message_id = _optional_str(entry, "sg_message_id", MAX_MESSAGE_ID_CHARS)
    delivery_ref = entry.get("delivery_id")
    if isinstance(delivery_ref, int) and not isinstance(delivery_ref, bool):
        delivery_ref = str(delivery_ref)
    if not isinstance(delivery_ref, str) or not _DELIVERY_REF.fullmatch(delivery_ref):
        delivery_ref = None  # absent, or not one of ours: never store what it might hold
    group = entry.get("asm_group_id")
    if not isinstance(group, int) or isinstance(group, bool):
        group = None
    reason = _text(entry, "reason") or _text(entry, "response")
    bounce_type = _text(entry, "type")[:32]
    return SendGridEvent(
        event=name,
        email_hash=address_hash,
        timestamp=timestamp,
        message_id=message_id,
        delivery_ref=delivery_ref,
        reason=_redact(reason, email),
        bounce_type=bounce_type.lower() if bounce_type else None,
        asm_group_id=group,
    )


def _optional_str(entry: Mapping[str, object], key: str, limit: int) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"'{key}' is not a string of at most {limit} characters")
    return value or None


def _text(entry: Mapping[str, object], key: str) -> str:
    """An informative field: kept if it is a string (bounded), never fatal."""
    value = entry.get(key)
    return value[: 10 * MAX_REASON_CHARS] if isinstance(value, str) else ""


def _redact(reason: str, email: str) -> str:
    """A bounce reason often quotes the address: keep the reason, blank the address."""
    text = _ADDRESS.sub("<address>", reason)
    text = re.sub(re.escape(email), "<address>", text, flags=re.IGNORECASE)
    text = _CONTROL.sub(" ", text)
    return text[:MAX_REASON_CHARS]


# ---------------------------------------------------------------- deciding


def effect_of(event: SendGridEvent, groups: Mapping[int, str] | None = None) -> EventEffect:
    """What an event does to suppression and subscriptions (pure)."""
    if event.event == "bounce" and event.bounce_type == "blocked":
        return RECORD_ONLY  # temporary: the receiving server refused for now
    if event.event == "dropped" and event.reason.strip().lower() in _MESSAGE_DROPS:
        return RECORD_ONLY
    if event.event in SUPPRESSING:
        return EventEffect(suppress=SUPPRESSING[event.event], unsubscribe=True)
    if event.event in UNSUBSCRIBING:
        newsletter = None
        if event.event == "group_unsubscribe" and event.asm_group_id is not None:
            newsletter = (groups or {}).get(event.asm_group_id)
        if newsletter is not None:
            return EventEffect(unsubscribe=True, newsletter_id=newsletter)
        return EventEffect(suppress=SuppressionReason.UNSUBSCRIBE, unsubscribe=True)
    return RECORD_ONLY


# ---------------------------------------------------------------- doing


def process_events(
    store: Store,
    batch: ParsedBatch,
    *,
    now: dt.datetime,
    groups: Mapping[int, str] | None = None,
) -> EventReport:
    """Apply a parsed batch in one transaction; StoreError means nothing was applied."""
    pairs = [
        (
            WebhookEvent(
                dedupe_key=e.dedupe_key,
                event=e.event,
                occurred_at=e.occurred_at,
                email_hash=e.email_hash,
                message_id=e.message_id,
                delivery_ref=e.delivery_ref,
                reason=e.reason,
            ),
            effect_of(e, groups),
        )
        for e in batch.events
    ]
    new = store.subscribers.apply_events(pairs, now=now) if pairs else []
    report = EventReport(
        received=batch.received,
        new=sum(new),
        duplicates=len(new) - sum(new),
        ignored=batch.ignored,
        invalid=batch.invalid,
    )
    if batch.problems:
        log.warning("webhook: %d invalid events, e.g. %s", batch.invalid, "; ".join(batch.problems))
    log.info("webhook: %s", report.as_dict())
    return report
