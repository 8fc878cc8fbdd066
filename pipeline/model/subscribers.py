"""Subscribers: people who signed up, their profile (newsletters, topics, language,
organisation type), their status and the reasons an address is suppressed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.model.eligibility import Applicant


class OrgType(StrEnum):
    KOMMUNE = "kommune"
    LANDKREIS = "landkreis"
    UNTERNEHMEN = "unternehmen"
    HOCHSCHULE = "hochschule"
    KAMMER = "kammer"
    SONSTIGE = "sonstige"


ORG_TYPE_LABELS = {
    OrgType.KOMMUNE: "Kommune",
    OrgType.LANDKREIS: "Landkreis",
    OrgType.UNTERNEHMEN: "Unternehmen",
    OrgType.HOCHSCHULE: "Hochschule/Forschung",
    OrgType.KAMMER: "Kammer/Verband",
    OrgType.SONSTIGE: "Sonstige",
}


class SubscriberStatus(StrEnum):
    PENDING = "pending"  # signed up, not confirmed: never gets a digest
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"  # from everything; kept until erased


class SuppressionReason(StrEnum):
    BOUNCE = "bounce"
    DROPPED = "dropped"
    SPAMREPORT = "spamreport"
    UNSUBSCRIBE = "unsubscribe"
    ERASED = "erased"


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    status: SubscriberStatus
    created_at: dt.datetime
    name: str = ""
    organisation: str = ""
    org_type: OrgType = OrgType.SONSTIGE
    language: str = "de"
    topics: tuple[str, ...] = ()  # empty: all topics
    newsletters: tuple[str, ...] = ()  # active subscriptions
    consent_at: dt.datetime | None = None  # when the sign-up (consent) was given
    consent_text: str = ""  # version of the consent text shown
    confirmed_at: dt.datetime | None = None
    token_version: int = 1  # raising it invalidates every link sent before
    applicant: Applicant | None = None  # kind of applicant for funding calls (None: org_type's)


@dataclass(frozen=True, slots=True)
class ReaderProfile:
    """Readers alike in what an edition gives them (language, organisation type,
    topics, kind of applicant), and how many they are: the preflight's reach without
    every reader."""

    language: str
    org_type: OrgType
    topics: tuple[str, ...]
    count: int
    applicant: Applicant | None = None  # their own answer (None: follows org_type)


@dataclass(frozen=True, slots=True)
class Profile:
    """What a subscriber chooses: sent with a sign-up, applied on confirmation."""

    name: str = ""
    organisation: str = ""
    org_type: OrgType = OrgType.SONSTIGE
    language: str = "de"
    topics: tuple[str, ...] = ()
    newsletters: tuple[str, ...] = ()
    applicant: Applicant | None = None  # kind of applicant for funding calls


@dataclass(frozen=True, slots=True)
class NewSubscriber:
    email: str
    email_hash: str
    profile: Profile
    consent_text: str
    consent_at: dt.datetime | None = None  # given: imported as confirmed at that time


# A SendGrid Event Webhook event, as recorded (address hashed), and what it does.


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    dedupe_key: str
    event: str
    occurred_at: dt.datetime
    email_hash: str
    message_id: str | None = None
    delivery_ref: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class EventEffect:
    """What an event does besides being recorded."""

    suppress: SuppressionReason | None = None  # put the address hash on the suppression list
    unsubscribe: bool = False  # end the subscriber's subscriptions (if there is one)
    newsletter_id: str | None = None  # with unsubscribe: only this newsletter; None: all


RECORD_ONLY = EventEffect()
