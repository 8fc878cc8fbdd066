"""Signed links for subscribers: no password, the link is the key.

Two purposes, each with its own salt (a token of one is worthless as the other):

    confirm  /abo/bestaetigen/<token>   7 days; id, token_version, address tag,
                                        confirmation mark, and (re-sign-up) the requested
                                        Profile (the caller leaves name and organisation out:
                                        a token is signed, not encrypted)
    manage   /abo/einstellungen/<token> no expiry (unsubscribing from an old mail must work);
             /abo/abmelden/<token>      id, token_version, address tag

Every token carries a tag of the address, so a link never opens another
subscriber's data when an id is reused after an erasure (SQLite may reuse ids).
The tag is keyed with EUDIGEST_SECRET_KEY (an HMAC of the address hash): nothing in
a link lets anyone who sees it test a guessed address offline. Links mailed before
carried the first 16 hex digits of the address's plain SHA-256; they are still
accepted (`legacy_address_tag`), because refusing them would hide nothing (the tag
is in the link already) and would break the unsubscribe link of every mail sent.
`store.subscribers.bump_token_version(id)` revokes every link sent so far.

A confirm token also carries the subscriber's `confirmed_at` at the time it was
made: it is used once. After the confirmation (which sets a new `confirmed_at`)
it neither applies its profile again nor hands out a link to the preferences: the
page says it was used and offers to mail a new link. The clock is passed in, so
expiry is testable with a frozen clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from itsdangerous import (
    BadSignature,
    Serializer,
    SignatureExpired,
    Signer,
    TimestampSigner,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_encode

from pipeline.config import Settings
from pipeline.errors import ConfigError, InvalidInput, SubscriberNotFound
from pipeline.model import OrgType, Profile, Subscriber
from pipeline.model.eligibility import Applicant
from pipeline.store import Store
from subscribers.addresses import email_hash

CONFIRM_MAX_AGE = dt.timedelta(days=7)
MAX_TOKEN_CHARS = 2000  # a confirm token with a full profile is well below this
COMPRESS_FROM = 64  # payload bytes; shorter ones are never tried with zlib (_DatedSerializer)

CONFIRM_PATH = "/abo/bestaetigen/"
MANAGE_PATH = "/abo/einstellungen/"
UNSUBSCRIBE_PATH = "/abo/abmelden/"

_SALT_CONFIRM = "eudigest.subscriber.confirm"
_SALT_MANAGE = "eudigest.subscriber.manage"
_TAG_KEY = b"eudigest.subscriber.address-tag\0"
_TAG_CHARS = 16
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class TokenProblem(StrEnum):
    FORGED = "forged"  # not signed by us, damaged, or of the wrong purpose
    EXPIRED = "expired"  # older than its maximum age
    REVOKED = "revoked"  # token_version changed since: a newer link exists
    USED = "used"  # a confirm link that was already used
    GONE = "gone"  # the subscriber no longer exists (erased, or an old sign-up deleted)


TOKEN_MESSAGES = {
    TokenProblem.FORGED: (
        "Dieser Link ist ungültig. Bitte kopieren Sie ihn vollständig aus der E-Mail "
        "oder fordern Sie einen neuen an."
    ),
    TokenProblem.EXPIRED: (
        "Dieser Bestätigungslink ist abgelaufen (er gilt 7 Tage). "
        "Bitte melden Sie sich erneut an; Sie erhalten dann einen neuen Link."
    ),
    TokenProblem.REVOKED: (
        "Dieser Link gilt nicht mehr, weil inzwischen ein neuerer verschickt wurde. "
        "Bitte verwenden Sie den Link aus der neuesten E-Mail."
    ),
    TokenProblem.USED: (
        "Dieser Bestätigungslink wurde bereits verwendet. Ihre Einstellungen können Sie "
        "über den Link in jeder E-Mail des Newsletters ändern, oder Sie lassen sich hier "
        "einen neuen Link per E-Mail schicken."
    ),
    TokenProblem.GONE: (
        "Zu diesem Link gibt es keine Anmeldung mehr (zum Beispiel, weil die Daten "
        "gelöscht wurden). Sie können sich jederzeit neu anmelden."
    ),
}


class TokenInvalid(InvalidInput):
    """A link that cannot be used; `problem` says why, the message is German."""

    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(TOKEN_MESSAGES[problem])
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ConfirmClaim:
    subscriber_id: int
    token_version: int
    tag: str
    confirmed_mark: int  # confirmed_at (epoch µs) when the link was made; 0: never
    profile: Profile | None  # a re-sign-up's requested preferences


@dataclass(frozen=True, slots=True)
class ManageClaim:
    subscriber_id: int
    token_version: int
    tag: str


class _ClockSigner(TimestampSigner):
    """A timestamp signer that reads the time we give it, not the system clock, and
    derives its signing key once (itsdangerous derives it again for every signature)."""

    def __init__(self, *args: Any, now: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._now = now
        self._signing_key = super().derive_key()

    def get_timestamp(self) -> int:
        return self._now

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        if secret_key is None:
            return self._signing_key
        return super().derive_key(secret_key)


class _DatedSerializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer for one secret, salt and second, which
    makes its signer once (the library makes a new one for every `dumps` and `loads`).
    Signers keep no state between calls: one serves every thread. `hashlib.sha1` is
    itsdangerous' own digest (its default only defers looking it up), named here so that
    `hmac` takes OpenSSL's path instead of its pure-Python one."""

    def __init__(self, secret: str, salt: str, now: int) -> None:
        kwargs = {"now": now, "digest_method": hashlib.sha1}
        super().__init__(secret, salt=salt, signer=_ClockSigner, signer_kwargs=kwargs)
        self._signer = super().make_signer()

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        if salt is None or salt == self.salt:  # `loads` passes its own salt
            return self._signer
        return super().make_signer(salt)

    def dump_payload(self, obj: Any) -> bytes:
        """itsdangerous' payload, without trying zlib on short ones: the library compresses
        every payload and keeps the result only when it is shorter, which for a reader's
        link (a few ids and a hex tag, under 64 bytes) it never is, and the attempt cost
        more than the rest of the signature in a send (zlib sets up 256 KiB for each).
        Tokens stay byte for byte the library's unless such a payload would have shrunk
        (a long run of one character); either form is read alike."""
        data = Serializer.dump_payload(self, obj)
        if len(data) >= COMPRESS_FROM:
            return super().dump_payload(obj)
        return base64_encode(data)


def dated_serializer(secret: str, salt: str, now: dt.datetime) -> URLSafeTimedSerializer:
    """The serializer that signs and reads tokens of `salt` as of `now` (whole seconds):
    made once per second and shared, because a send signs for thousands of readers in
    each second. The tokens are itsdangerous' own, byte for byte."""
    return _serializer_at(secret, salt, int(now.timestamp()))


@functools.lru_cache(maxsize=32)
def _serializer_at(secret: str, salt: str, seconds: int) -> URLSafeTimedSerializer:
    return _DatedSerializer(secret, salt, seconds)


def legacy_address_tag(subscriber: Subscriber) -> str:
    """The tag of links mailed before keyed tags: the address hash's first 16 hex digits.
    Only read, never made (see the module docstring)."""
    return email_hash(subscriber.email)[:_TAG_CHARS]


def confirmed_mark(subscriber: Subscriber) -> int:
    """`confirmed_at` in microseconds since 1970 (0: never): changes with every confirmation."""
    if subscriber.confirmed_at is None:
        return 0
    return (subscriber.confirmed_at - _EPOCH) // dt.timedelta(microseconds=1)


class Tokens:
    """Makes and reads the signed tokens of one installation (one secret key)."""

    def __init__(self, secret: str | None) -> None:
        if not secret:
            raise ConfigError(
                "EUDIGEST_SECRET_KEY: needed to sign the links in subscriber mails "
                "(at least 32 random characters, the same for the web app and the CLI)"
            )
        self._secret = secret

    def address_tag(self, subscriber: Subscriber) -> str:
        """A short keyed tag of the address: binds a token to the address, not only the id,
        and tells nothing about the address to anyone without the key."""
        key = _TAG_KEY + self._secret.encode("utf-8")
        digest = hmac.new(key, email_hash(subscriber.email).encode("ascii"), hashlib.sha256)
        return digest.hexdigest()[:_TAG_CHARS]

    def check_claim(self, claim: ConfirmClaim | ManageClaim, subscriber: Subscriber) -> None:
        """The link belongs to this subscriber and is the current one; TokenInvalid otherwise."""
        tags = (self.address_tag(subscriber), legacy_address_tag(subscriber))
        if not any(hmac.compare_digest(claim.tag, tag) for tag in tags):
            raise TokenInvalid(TokenProblem.GONE)  # the id now belongs to someone else
        if claim.token_version != subscriber.token_version:
            raise TokenInvalid(TokenProblem.REVOKED)

    def keyed_hash(self, value: str) -> str:
        """HMAC of a value (an IP address for rate limits): not reversible without the key."""
        key = self._secret.encode("utf-8")
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def _serializer(self, salt: str, now: dt.datetime) -> URLSafeTimedSerializer:
        return dated_serializer(self._secret, salt, now)

    # ------------------------------------------------------------ confirm

    def confirm_token(
        self,
        subscriber: Subscriber,
        *,
        now: dt.datetime,
        profile: Profile | None = None,
    ) -> str:
        payload: list[Any] = [
            subscriber.id,
            subscriber.token_version,
            self.address_tag(subscriber),
            confirmed_mark(subscriber),
        ]
        if profile is not None:
            payload.append(_profile_to_list(profile))
        return str(self._serializer(_SALT_CONFIRM, now).dumps(payload))

    def read_confirm(self, token: str, *, now: dt.datetime) -> ConfirmClaim:
        data = self._load(_SALT_CONFIRM, token, now, CONFIRM_MAX_AGE)
        try:
            subscriber_id, version, tag, mark = data[:4]
            profile = _profile_from_list(data[4]) if len(data) > 4 else None
            return ConfirmClaim(int(subscriber_id), int(version), str(tag), int(mark), profile)
        except (TypeError, ValueError, IndexError):
            raise TokenInvalid(TokenProblem.FORGED) from None

    # ------------------------------------------------------------ manage

    def manage_token(self, subscriber: Subscriber, *, now: dt.datetime) -> str:
        payload = [subscriber.id, subscriber.token_version, self.address_tag(subscriber)]
        return str(self._serializer(_SALT_MANAGE, now).dumps(payload))

    def read_manage(self, token: str, *, now: dt.datetime) -> ManageClaim:
        data = self._load(_SALT_MANAGE, token, now, None)
        try:
            subscriber_id, version, tag = data
            return ManageClaim(int(subscriber_id), int(version), str(tag))
        except (TypeError, ValueError):
            raise TokenInvalid(TokenProblem.FORGED) from None

    # ------------------------------------------------------------ common

    def _load(
        self, salt: str, token: str, now: dt.datetime, max_age: dt.timedelta | None
    ) -> list[Any]:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenInvalid(TokenProblem.FORGED)
        serializer = self._serializer(salt, now)
        seconds = int(max_age.total_seconds()) if max_age is not None else None
        try:
            data = serializer.loads(token, max_age=seconds)
        except SignatureExpired:
            raise TokenInvalid(TokenProblem.EXPIRED) from None
        except (BadSignature, ValueError, UnicodeError):
            raise TokenInvalid(TokenProblem.FORGED) from None
        if not isinstance(data, list):
            raise TokenInvalid(TokenProblem.FORGED)
        return data


def _profile_to_list(p: Profile) -> list[Any]:
    return [
        p.name,
        p.organisation,
        p.org_type.value,
        p.language,
        list(p.topics),
        list(p.newsletters),
        p.applicant.value if p.applicant else "",
    ]


def _profile_from_list(data: Any) -> Profile:
    name, organisation, org_type, language, topics, newsletters, *rest = data
    applicant = str(rest[0]) if rest else ""  # tokens made before issue 17 have none
    return Profile(
        name=str(name),
        organisation=str(organisation),
        org_type=OrgType(org_type),
        language=str(language),
        topics=tuple(str(t) for t in topics),
        newsletters=tuple(str(n) for n in newsletters),
        applicant=Applicant(applicant) if applicant in set(Applicant) else None,
    )


class Links:
    """Absolute signed links of one installation: its secret and its public address."""

    def __init__(self, tokens: Tokens, base_url: str | None) -> None:
        if not base_url:
            raise ConfigError(
                "EUDIGEST_BASE_URL: needed for the links in subscriber mails "
                "(the public https address of this installation)"
            )
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> Links:
        """For the CLI and jobs: both EUDIGEST_SECRET_KEY and EUDIGEST_BASE_URL are needed."""
        return cls(Tokens(settings.secret_key), settings.base_url)

    def confirm(
        self, subscriber: Subscriber, *, now: dt.datetime, profile: Profile | None = None
    ) -> str:
        token = self.tokens.confirm_token(subscriber, now=now, profile=profile)
        return f"{self.base_url}{CONFIRM_PATH}{token}"

    def manage(self, subscriber: Subscriber, *, now: dt.datetime) -> str:
        return f"{self.base_url}{MANAGE_PATH}{self.tokens.manage_token(subscriber, now=now)}"

    def unsubscribe(self, subscriber: Subscriber, *, now: dt.datetime) -> str:
        return f"{self.base_url}{UNSUBSCRIBE_PATH}{self.tokens.manage_token(subscriber, now=now)}"

    def manage_and_unsubscribe(
        self, subscriber: Subscriber, *, now: dt.datetime
    ) -> tuple[str, str]:
        """Both links of one mail, signed once (the sender makes them for every recipient)."""
        token = self.tokens.manage_token(subscriber, now=now)
        return f"{self.base_url}{MANAGE_PATH}{token}", f"{self.base_url}{UNSUBSCRIBE_PATH}{token}"


def subscriber_for(store: Store, tokens: Tokens, token: str, *, now: dt.datetime) -> Subscriber:
    """The subscriber a manage link (preferences, unsubscribe) belongs to; TokenInvalid else."""
    claim = tokens.read_manage(token, now=now)
    try:
        subscriber = store.subscribers.get(claim.subscriber_id)
    except SubscriberNotFound:
        raise TokenInvalid(TokenProblem.GONE) from None
    tokens.check_claim(claim, subscriber)
    return subscriber
