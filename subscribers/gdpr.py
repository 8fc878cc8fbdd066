"""Data protection: a subscriber's data as JSON, erasure, and the retention rule.

subscriber_data(subscriber)   everything stored about one subscriber (Art. 15/20 GDPR)
erase(subscriber)             delete it all; only the address hash stays, suppressed,
                              so the address is never mailed again unless it signs up
                              anew and confirms (Art. 17 GDPR)
purge_pending(now)            unconfirmed sign-ups older than 30 days go
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pipeline.model import ORG_TYPE_LABELS, Office, Subscriber, Taxonomy
from pipeline.store import Store
from subscribers.addresses import email_hash

log = logging.getLogger("eudigest.subscribers")

PENDING_RETENTION = dt.timedelta(days=30)

_STATUS_LABELS = {
    "pending": "angemeldet, noch nicht bestätigt",
    "confirmed": "bestätigt",
    "unsubscribed": "abgemeldet",
}
_SUPPRESSION_LABELS = {
    "bounce": "gesperrt: E-Mails kamen als unzustellbar zurück",
    "dropped": "gesperrt: der Versanddienst hat E-Mails verworfen",
    "spamreport": "gesperrt: eine E-Mail wurde als Spam gemeldet",
    "unsubscribe": "gesperrt: beim Versanddienst abgemeldet",
    "erased": "gelöscht",
}


def subscriber_data(
    store: Store, subscriber: Subscriber, office: Office, taxonomy: Taxonomy, *, now: dt.datetime
) -> dict[str, Any]:
    """Everything the store holds about this subscriber, as JSON-ready data (German labels)."""
    labels = {t.id: t.label_de for t in taxonomy.topics}
    names = {n.id: n.name for n in office.newsletters}
    hashed = email_hash(subscriber.email)
    suppression = store.subscribers.suppression(hashed)
    return {
        "export": {
            "created_at": now.isoformat(),
            "controller": office.name,
            "privacy_policy": office.privacy_url or None,
            "contact": office.reply_to or office.sender_email,
        },
        "subscriber": {
            "id": subscriber.id,
            "email": subscriber.email,
            "email_sha256": hashed,
            "name": subscriber.name,
            "organisation": subscriber.organisation,
            "organisation_type": subscriber.org_type.value,
            "organisation_type_label": ORG_TYPE_LABELS[subscriber.org_type],
            "applicant_type": subscriber.applicant.value if subscriber.applicant else None,
            "language": subscriber.language,
            "status": subscriber.status.value,
            "status_label": _STATUS_LABELS.get(subscriber.status.value, subscriber.status.value),
            "created_at": _iso(subscriber.created_at),
        },
        "consent": {
            "given_at": _iso(subscriber.consent_at),
            "text_version": subscriber.consent_text,
            "confirmed_at": _iso(subscriber.confirmed_at),
        },
        "subscriptions": [{"id": n, "name": names.get(n, n)} for n in subscriber.newsletters],
        "topics": (
            [{"id": t, "label": labels.get(t, t)} for t in subscriber.topics]
            if subscriber.topics
            else "alle Themen"
        ),
        "dossiers": [
            {"reference": ref, "title": title, "followed_at": _iso(since)}
            for ref, title, since in store.dossiers.reader_follows(subscriber.id)
        ],
        "suppression": None
        if suppression is None
        else {"reason": suppression.value, "label": _SUPPRESSION_LABELS.get(suppression.value)},
    }


def erase(store: Store, subscriber_id: int, *, now: dt.datetime) -> str:
    """Delete the subscriber's personal data; returns the address hash kept as suppressed."""
    hashed = store.subscribers.erase(subscriber_id, now=now)
    log.info("subscriber %d erased; the address hash stays on the suppression list", subscriber_id)
    return hashed


def purge_pending(
    store: Store, *, now: dt.datetime, older_than: dt.timedelta = PENDING_RETENTION
) -> int:
    """Retention: delete sign-ups never confirmed within `older_than` (default 30 days)."""
    deleted = store.subscribers.delete_pending_before(now - older_than)
    log.info("%d unconfirmed sign-ups older than %d days deleted", deleted, older_than.days)
    return deleted


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
