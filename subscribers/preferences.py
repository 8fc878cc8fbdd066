"""The subscriber's own page: change the profile, and get the link to it by mail.

save(subscriber, profile)        newsletters, topics, language, name, organisation;
                                 no newsletter left → unsubscribed from all; with
                                 `dossiers`: exactly these published dossiers followed
request_link(email)              mail the link to the page (or, for a sign-up not yet
                                 confirmed, a new confirmation link); the answer is the
                                 same whether the address is known or not
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from pipeline.model import Mailer, Office, Profile, Subscriber, SubscriberStatus, Taxonomy
from pipeline.store import Store
from subscribers import mails
from subscribers.addresses import InvalidEmail, email_hash, normalise_email
from subscribers.profiles import InvalidForm
from subscribers.signup import (
    ADDRESS_LIMIT,
    ADDRESS_WINDOW,
    IP_LIMIT,
    IP_WINDOW,
    RateLimited,
    send,
)
from subscribers.tokens import Links

log = logging.getLogger("eudigest.subscribers")


def save(
    store: Store,
    subscriber: Subscriber,
    profile: Profile,
    *,
    now: dt.datetime,
    dossiers: Sequence[str] | None = None,
) -> Subscriber:
    """Apply the profile; with no newsletter chosen the subscriber is unsubscribed from all.

    `dossiers` (references; None: leave them as they are): the published dossiers the
    subscriber follows from now on ("Verfahren verfolgen")."""
    updated = store.subscribers.update_profile(subscriber.id, profile, now=now)
    if dossiers is not None:
        store.dossiers.set_reader_follows(subscriber.id, dossiers, now=now)
    if not profile.newsletters and updated.status is SubscriberStatus.CONFIRMED:
        updated = store.subscribers.unsubscribe(subscriber.id, None, now=now)
    log.info("subscriber %d changed preferences", subscriber.id)
    return updated


def request_link(
    store: Store,
    mailer: Mailer,
    office: Office,
    taxonomy: Taxonomy,
    links: Links,
    raw_email: str,
    *,
    client: str,
    now: dt.datetime,
) -> None:
    """Mail the link to the preference page if the address is known; say nothing either way."""
    try:
        email = normalise_email(raw_email)
    except InvalidEmail as exc:
        raise InvalidForm({"email": str(exc)}) from None
    client_key = f"link:ip:{links.tokens.keyed_hash(client)}"
    if not store.subscribers.take(client_key, now=now, window=IP_WINDOW, limit=IP_LIMIT):
        raise RateLimited("ip", "Zu viele Anfragen von Ihrem Anschluss. Bitte später erneut.")
    hashed = email_hash(email)
    address_key = f"link:addr:{hashed[:32]}"
    if not store.subscribers.take(address_key, now=now, window=ADDRESS_WINDOW, limit=ADDRESS_LIMIT):
        raise RateLimited(
            "address",
            "An diese Adresse haben wir heute schon mehrere E-Mails geschickt. "
            "Bitte sehen Sie in Ihrem Postfach nach oder versuchen Sie es morgen noch einmal.",
        )
    subscriber = store.subscribers.by_hash(hashed)
    if subscriber is None:
        log.info("preference link requested for an unknown address: nothing sent")
        return
    if subscriber.status is SubscriberStatus.PENDING:
        message = mails.confirmation(
            office, taxonomy, subscriber, links.confirm(subscriber, now=now)
        )
    else:
        message = mails.manage_link(office, subscriber, links.manage(subscriber, now=now))
    send(mailer, message)
    log.info("mail %s with a link for subscriber %d", message.reference, subscriber.id)
