"""Feedback from readers without tracking (issue 17).

A digest's item carries "Hilfreich? Ja · Nein" and "Mehr dazu bitte", its end "Was fehlt
Ihnen?". Each link is

    /feedback/<item token>/<reader token>
      item token    signed [edition id, item id (0: the edition), answer]; the same for
                    every reader, so a segment's mail is still rendered once
      reader token  signed and dated [edition id, reader pseudonym, organisation type],
                    substituted per recipient (%%feedback%%); valid DEDUP_DAYS

    GET   the question with a button (mail scanners open links: a GET never counts)
    POST  answer(): check both tokens, rate-limit (client address hash, reader), record

The reader pseudonym is an HMAC (EUDIGEST_SECRET_KEY) of subscriber id and address hash:
a link names no one. What the store keeps to count one answer per reader and item is
another HMAC, of pseudonym, item and question, and housekeeping (jobs.purge) drops it
after DEDUP_DAYS: from then on an answer is an anonymous count. The POST needs no CSRF
cookie: the signed tokens in its URL are the proof, and only the reader has them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from pipeline.errors import ConfigError, InvalidInput
from pipeline.model import Subscriber
from pipeline.model.feedback import (
    DEDUP_DAYS,
    FEEDBACK_PATH,
    MAX_SUGGESTION_CHARS,
    READER_PLACEHOLDER,
    Answer,
    Question,
    Recorded,
)
from pipeline.store import Store
from subscribers.addresses import email_hash
from subscribers.signup import RateLimited
from subscribers.tokens import dated_serializer

MAX_AGE = dt.timedelta(days=DEDUP_DAYS)
MAX_TOKEN_CHARS = 400
IP_LIMIT = 60  # answers from one client address per minute (an office may share one)
READER_LIMIT = 30  # answers of one reader per minute
WINDOW = dt.timedelta(minutes=1)

_SALT_ITEM = "eudigest.feedback.item"
_SALT_READER = "eudigest.feedback.reader"
_PSEUDONYM_KEY = b"eudigest.feedback.reader\0"
_DEDUP_KEY = b"eudigest.feedback.dedup\0"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FeedbackProblem(StrEnum):
    FORGED = "forged"
    EXPIRED = "expired"
    REPLAYED = "replayed"
    GONE = "gone"


FEEDBACK_MESSAGES = {
    FeedbackProblem.FORGED: (
        "Dieser Link ist ungültig. Bitte öffnen Sie ihn vollständig aus der E-Mail. "
        "Es wurde nichts gespeichert."
    ),
    FeedbackProblem.EXPIRED: (
        f"Dieser Link ist abgelaufen: Rückmeldungen sind {DEDUP_DAYS} Tage nach dem Versand "
        "möglich. Es wurde nichts gespeichert."
    ),
    FeedbackProblem.REPLAYED: (
        "Diese Antwort haben wir bereits gezählt; sie zählt nur einmal. Es wurde nichts "
        "weiter gespeichert."
    ),
    FeedbackProblem.GONE: ("Diese Meldung gibt es nicht mehr. Es wurde nichts gespeichert."),
}


class FeedbackInvalid(InvalidInput):
    """A feedback link that cannot count; the message is German."""

    def __init__(self, problem: FeedbackProblem) -> None:
        super().__init__(FEEDBACK_MESSAGES[problem])
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Claim:
    """What a pair of feedback tokens says."""

    edition_id: int
    item_id: int  # 0: the edition ("Was fehlt Ihnen?")
    answer: Answer
    pseudonym: str
    org_type: str


class FeedbackTokens:
    """Makes and reads the feedback tokens of one installation (one secret key)."""

    def __init__(self, secret: str | None) -> None:
        if not secret:
            raise ConfigError("EUDIGEST_SECRET_KEY: needed to sign the feedback links")
        self._secret = secret

    def _hmac(self, key: bytes, value: str) -> str:
        return hmac.new(key + self._secret.encode(), value.encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, subscriber: Subscriber) -> str:
        return self._hmac(_PSEUDONYM_KEY, f"{subscriber.id}:{email_hash(subscriber.email)}")[:32]

    def dedup_hash(self, claim: Claim) -> str:
        """Keyed hash of reader and item (and question): one answer per reader counts."""
        question = claim.answer.question.value
        return self._hmac(_DEDUP_KEY, f"{claim.pseudonym}:{claim.item_id}:{question}")

    def address_hash(self, address: str) -> str:
        return self._hmac(b"eudigest.feedback.ip\0", address)[:32]

    def item_token(self, edition_id: int, item_id: int, answer: Answer) -> str:
        serializer = URLSafeSerializer(self._secret, salt=_SALT_ITEM)
        return str(serializer.dumps([edition_id, item_id, answer.value]))

    def reader_token(self, subscriber: Subscriber, edition_id: int, *, now: dt.datetime) -> str:
        org = subscriber.org_type.value if subscriber.org_type else ""
        return str(self._timed(now).dumps([edition_id, self.pseudonym(subscriber), org]))

    def _timed(self, now: dt.datetime) -> URLSafeTimedSerializer:
        return dated_serializer(self._secret, _SALT_READER, now)

    def read(self, item_token: str, reader_token: str, *, now: dt.datetime) -> Claim:
        """Both tokens checked (signature, age, the same edition); FeedbackInvalid else."""
        if not (
            0 < len(item_token) <= MAX_TOKEN_CHARS and 0 < len(reader_token) <= MAX_TOKEN_CHARS
        ):
            raise FeedbackInvalid(FeedbackProblem.FORGED)
        try:
            edition_id, item_id, answer = _list(
                URLSafeSerializer(self._secret, salt=_SALT_ITEM).loads(item_token), 3
            )
            reader = self._timed(now).loads(reader_token, max_age=int(MAX_AGE.total_seconds()))
            reader_edition, pseudonym, org = _list(reader, 3)
            claim = Claim(int(edition_id), int(item_id), Answer(answer), str(pseudonym), str(org))
            same_edition = int(reader_edition) == claim.edition_id
        except SignatureExpired:
            raise FeedbackInvalid(FeedbackProblem.EXPIRED) from None
        except (BadSignature, ValueError, TypeError, UnicodeError):
            raise FeedbackInvalid(FeedbackProblem.FORGED) from None
        if not same_edition:
            raise FeedbackInvalid(FeedbackProblem.FORGED)
        if (claim.item_id == 0) != (claim.answer is Answer.WISH):
            raise FeedbackInvalid(FeedbackProblem.FORGED)
        return claim


def _list(data: Any, n: int) -> list[Any]:
    if not isinstance(data, list) or len(data) != n:
        raise ValueError("not a feedback token")
    return data


class FeedbackLinks:
    """The feedback links of one edition's mails, with the reader's part as a placeholder."""

    def __init__(self, tokens: FeedbackTokens, base_url: str, edition_id: int) -> None:
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")
        self.edition_id = edition_id

    def __call__(self, item_id: int, answer: str) -> str:
        token = self.tokens.item_token(self.edition_id, item_id, Answer(answer))
        return f"{self.base_url}{FEEDBACK_PATH}{token}/{READER_PLACEHOLDER}"

    def reader(self, subscriber: Subscriber, *, now: dt.datetime) -> str:
        """The value of %%feedback%% for one recipient."""
        return self.tokens.reader_token(subscriber, self.edition_id, now=now)


def _rate_limit(store: Store, tokens: FeedbackTokens, client: str, now: dt.datetime) -> None:
    """Per client address (a keyed hash of it), before any token is read."""
    ip_key = f"feedback:ip:{tokens.address_hash(client)}"
    if not store.subscribers.take(ip_key, now=now, window=WINDOW, limit=IP_LIMIT):
        raise RateLimited(
            "ip",
            "Von Ihrem Anschluss kamen in der letzten Minute sehr viele Rückmeldungen. "
            "Bitte versuchen Sie es in einer Minute noch einmal. Es wurde nichts gespeichert.",
        )


def check(
    store: Store, tokens: FeedbackTokens, item_token: str, reader_token: str, *, now: dt.datetime
) -> Claim:
    """A GET: the claim, if the link is good (nothing is recorded)."""
    claim = tokens.read(item_token, reader_token, now=now)
    if claim.item_id and not store.items.get_many([claim.item_id]):
        raise FeedbackInvalid(FeedbackProblem.GONE)
    return claim


def answer(
    store: Store,
    tokens: FeedbackTokens,
    item_token: str,
    reader_token: str,
    *,
    client: str,
    now: dt.datetime,
) -> tuple[Claim, Recorded]:
    """A POST of "Ja", "Nein", "Mehr dazu": rate-limited, then counted once per reader."""
    _rate_limit(store, tokens, client, now)
    claim = check(store, tokens, item_token, reader_token, now=now)
    if claim.answer.question is Question.WISH:
        raise FeedbackInvalid(FeedbackProblem.FORGED)
    _rate_limit_reader(store, tokens, claim, now)
    done = store.feedback.record(
        edition_id=claim.edition_id,
        item_id=claim.item_id,
        answer=claim.answer,
        reader_hash=tokens.dedup_hash(claim),
        org_type=claim.org_type,
        now=now,
    )
    if done is Recorded.SAME:
        raise FeedbackInvalid(FeedbackProblem.REPLAYED)
    return claim, done


def _rate_limit_reader(
    store: Store, tokens: FeedbackTokens, claim: Claim, now: dt.datetime
) -> None:
    reader_key = f"feedback:reader:{claim.pseudonym}"
    if not store.subscribers.take(reader_key, now=now, window=WINDOW, limit=READER_LIMIT):
        raise RateLimited(
            "reader",
            "Sie haben in der letzten Minute sehr viele Rückmeldungen geschickt. Bitte "
            "versuchen Sie es in einer Minute noch einmal. Es wurde nichts gespeichert.",
        )


class SuggestionInvalid(InvalidInput):
    """Free text that cannot be stored; the message is German."""


def clean_suggestion(text: str) -> str:
    """Plain text: control characters dropped, bounded; HTML stays text (escaped on output)."""
    if len(text) > MAX_SUGGESTION_CHARS:
        given, most = (
            f"{len(text):,}".replace(",", "."),
            f"{MAX_SUGGESTION_CHARS:,}".replace(",", "."),
        )
        raise SuggestionInvalid(
            f"Ihr Text ist zu lang ({given} Zeichen; höchstens {most}). Bitte kürzen Sie "
            "ihn. Es wurde nichts gespeichert."
        )
    clean = _CONTROL.sub("", text.replace("\r\n", "\n")).strip()
    if not clean:
        raise SuggestionInvalid(
            "Bitte schreiben Sie, was Ihnen fehlt. Es wurde nichts gespeichert."
        )
    return clean


def suggest(
    store: Store,
    tokens: FeedbackTokens,
    item_token: str,
    reader_token: str,
    text: str,
    *,
    client: str,
    now: dt.datetime,
) -> Claim:
    """A POST of "Was fehlt Ihnen?": rate-limited, checked, stored as text."""
    _rate_limit(store, tokens, client, now)
    claim = check(store, tokens, item_token, reader_token, now=now)
    if claim.answer is not Answer.WISH:
        raise FeedbackInvalid(FeedbackProblem.FORGED)
    clean = clean_suggestion(text)
    _rate_limit_reader(store, tokens, claim, now)
    store.feedback.add_suggestion(claim.edition_id, clean, org_type=claim.org_type, now=now)
    return claim
