"""Unsubscribing: from one newsletter or all, and the one-click headers of RFC 8058.

Every digest carries

    List-Unsubscribe: <https://…/abo/abmelden/TOKEN>, <mailto:office?subject=unsubscribe>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click

A POST to that URL (by the mail provider, without cookies) unsubscribes from all
newsletters at once; a GET only shows a page that asks (mail scanners follow GETs).
It takes effect at once: `confirmed_for()` no longer returns the subscriber.
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import quote

from pipeline.config import Settings
from pipeline.errors import InvalidInput
from pipeline.model import Office, Subscriber
from pipeline.store import Store
from subscribers.tokens import Links

log = logging.getLogger("eudigest.subscribers")


def unsubscribe(
    store: Store, subscriber: Subscriber, newsletter_id: str | None, *, now: dt.datetime
) -> Subscriber:
    """From one newsletter (its id), or from all (None). Unknown newsletter: InvalidInput."""
    if newsletter_id is not None and newsletter_id not in subscriber.newsletters:
        raise InvalidInput("Diesen Newsletter haben Sie nicht abonniert.")
    updated = store.subscribers.unsubscribe(subscriber.id, newsletter_id, now=now)
    log.info("subscriber %d unsubscribed from %s", subscriber.id, newsletter_id or "all")
    return updated


def list_unsubscribe_headers(
    settings: Settings,
    office: Office,
    subscriber: Subscriber,
    *,
    now: dt.datetime | None = None,
    links: Links | None = None,
    url: str | None = None,
) -> dict[str, str]:
    """The RFC 2369 / RFC 8058 headers for one subscriber's mail.

    Needs EUDIGEST_SECRET_KEY and EUDIGEST_BASE_URL (ConfigError otherwise), unless
    `links` or the subscriber's unsubscribe `url` is given. The URL must be https in
    production (RFC 8058 requires it).
    """
    if url is None:
        links = links or Links.from_settings(settings)
        url = links.unsubscribe(subscriber, now=now or dt.datetime.now(dt.UTC))
    mailbox = office.reply_to or office.sender_email
    mailto = f"mailto:{quote(mailbox, safe='@')}?subject=unsubscribe"
    return {
        "List-Unsubscribe": f"<{url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
