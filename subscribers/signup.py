"""Sign-up with double opt-in.

    sign_up(form):
        email, profile = check the form (address, newsletters, topics, org type, language)
        take a rate-limit slot for the client (IP) and for the address, or RateLimited
        request_confirmation(email, profile):
            unknown address  → add as pending (consent text version, time)
                               + mail with a confirm link (7 days)
            known address    → change nothing now; mail a confirm link that carries the
                               requested choices (any status: pending, confirmed,
                               unsubscribed, suppressed); name and organisation are
                               not carried (links end up in logs) and stay as stored
    confirm(token):          → confirmed, profile applied, suppression lifted

The caller answers both cases the same way, so a sign-up never reveals whether an
address is known. Only `store.subscribers.confirmed_for()` decides who gets a digest,
and it returns confirmed subscribers only.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace

from pipeline.errors import DeliveryError, DuplicateItem, InvalidInput, SubscriberNotFound
from pipeline.model import (
    Mailer,
    NewSubscriber,
    Office,
    OutgoingEmail,
    Profile,
    Subscriber,
    Taxonomy,
)
from pipeline.store import Store
from subscribers import mails
from subscribers.addresses import InvalidEmail, email_hash, normalise_email
from subscribers.profiles import InvalidForm, ProfileForm, parse_profile
from subscribers.tokens import Links, TokenInvalid, TokenProblem, confirmed_mark

log = logging.getLogger("eudigest.subscribers")

# The consent text shown on the sign-up page; its version is stored with each sign-up.
# Change the text → change the version.
CONSENT_VERSION = "2026-11-v1"
CONSENT_TEXT = (
    "Ich möchte die gewählten Newsletter von „{office}“ per E-Mail erhalten. "
    "Meine Einwilligung kann ich jederzeit widerrufen, über den Abmeldelink in jeder "
    "E-Mail oder die Seite mit meinen Einstellungen."
)

IP_LIMIT = 20  # sign-ups from one client address per hour (a whole office may share one)
IP_WINDOW = dt.timedelta(hours=1)
ADDRESS_LIMIT = 3  # confirmation mails to one address per day
ADDRESS_WINDOW = dt.timedelta(days=1)


class RateLimited(InvalidInput):
    """Too many requests; `scope` is "ip" or "address". The message is German."""

    def __init__(self, scope: str, message: str) -> None:
        super().__init__(message)
        self.scope = scope


@dataclass(frozen=True, slots=True)
class SignUpForm:
    email: str
    profile: ProfileForm = field(default_factory=ProfileForm)


@dataclass(frozen=True, slots=True)
class SignUpResult:
    """What happened: for logs and tests. A web page must not show `known`."""

    subscriber_id: int
    known: bool  # the address was there before (no change until confirmed)
    reference: str  # the confirmation mail's reference


def check_form(form: SignUpForm, office: Office, taxonomy: Taxonomy) -> tuple[str, Profile]:
    """The normalised address and the profile, or InvalidForm naming every wrong field."""
    errors: dict[str, str] = {}
    email = ""
    try:
        email = normalise_email(form.email)
    except InvalidEmail as exc:
        errors["email"] = str(exc)
    try:
        profile = parse_profile(form.profile, office, taxonomy)
    except InvalidForm as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidForm(errors)
    return email, profile


def sign_up(
    store: Store,
    mailer: Mailer,
    office: Office,
    taxonomy: Taxonomy,
    links: Links,
    form: SignUpForm,
    *,
    client: str,
    now: dt.datetime,
) -> SignUpResult:
    """The public sign-up: check, rate-limit, then request a confirmation."""
    email, profile = check_form(form, office, taxonomy)
    client_key = f"signup:ip:{links.tokens.keyed_hash(client)}"
    if not store.subscribers.take(client_key, now=now, window=IP_WINDOW, limit=IP_LIMIT):
        raise RateLimited(
            "ip",
            "Von Ihrem Anschluss kamen in der letzten Stunde sehr viele Anmeldungen. "
            "Bitte versuchen Sie es später noch einmal.",
        )
    address_key = f"signup:addr:{email_hash(email)[:32]}"
    if not store.subscribers.take(address_key, now=now, window=ADDRESS_WINDOW, limit=ADDRESS_LIMIT):
        raise RateLimited(
            "address",
            "An diese Adresse haben wir heute schon mehrere Bestätigungsmails geschickt. "
            "Bitte sehen Sie in Ihrem Postfach nach (auch im Spam-Ordner) oder versuchen "
            "Sie es morgen noch einmal.",
        )
    return request_confirmation(store, mailer, office, taxonomy, links, email, profile, now=now)


def request_confirmation(
    store: Store,
    mailer: Mailer,
    office: Office,
    taxonomy: Taxonomy,
    links: Links,
    email: str,
    profile: Profile,
    *,
    now: dt.datetime,
    imported: bool = False,
) -> SignUpResult:
    """Add a pending subscriber (new address) or not (known), and mail a confirm link.

    `email` is normalised already. DeliveryError when the mail could not be handed over.
    """
    hashed = email_hash(email)
    subscriber = store.subscribers.by_hash(hashed)
    known = subscriber is not None
    if subscriber is None:
        try:
            subscriber = store.subscribers.add(
                NewSubscriber(email, hashed, profile, CONSENT_VERSION), now=now
            )
        except DuplicateItem:  # signed up at the same moment in another request
            subscriber = store.subscribers.by_hash(hashed)
            if subscriber is None:
                raise
            known = True
    # A link is seen by proxies and lands in access logs: it carries the choices
    # (newsletters, topics, language, organisation type), never a name.
    carried = replace(profile, name="", organisation="") if known else None
    url = links.confirm(subscriber, now=now, profile=carried)
    message = mails.confirmation(
        office, taxonomy, subscriber, url, profile=profile, imported=imported
    )
    send(mailer, message)
    log.info(
        "confirmation mail %s for subscriber %d (%s)",
        message.reference,
        subscriber.id,
        "known address" if known else "new sign-up",
    )
    return SignUpResult(subscriber.id, known, message.reference)


def send(mailer: Mailer, message: OutgoingEmail) -> None:
    """Hand one message to the mailer; DeliveryError if it was refused."""
    result = mailer.send([message])[0]
    if not result.ok:
        log.warning("mail %s not sent: %s", message.reference, result.error)
        raise DeliveryError(result.error or "the mail was not accepted", permanent=result.permanent)


@dataclass(frozen=True, slots=True)
class Confirmation:
    subscriber: Subscriber


def open_confirmation(store: Store, links: Links, token: str, *, now: dt.datetime) -> Subscriber:
    """Check a confirm link without using it: its subscriber, or TokenInvalid.

    A link is used once: after its confirmation (a new `confirmed_at`) it is USED, also
    a first sign-up's link clicked again, so it never hands out a preference link twice.
    """
    claim = links.tokens.read_confirm(token, now=now)
    try:
        subscriber = store.subscribers.get(claim.subscriber_id)
    except SubscriberNotFound:
        raise TokenInvalid(TokenProblem.GONE) from None
    links.tokens.check_claim(claim, subscriber)
    if claim.confirmed_mark != confirmed_mark(subscriber):
        raise TokenInvalid(TokenProblem.USED)
    return subscriber


def confirm(store: Store, links: Links, token: str, *, now: dt.datetime) -> Confirmation:
    """Use a confirm link: confirmed, the carried profile applied, suppression lifted."""
    subscriber = open_confirmation(store, links, token, now=now)
    claim = links.tokens.read_confirm(token, now=now)
    profile = claim.profile
    if profile is not None:  # name and organisation stay as stored (never in a link)
        profile = replace(profile, name=subscriber.name, organisation=subscriber.organisation)
    confirmed = store.subscribers.confirm(subscriber.id, now=now, profile=profile)
    log.info("subscriber %d confirmed", subscriber.id)
    return Confirmation(confirmed)
