"""Personal API tokens of staff: created and revoked in the desk ("Mein Konto"), used by
the command line to act as that account (`edition approve --as NAME` with four eyes).

A token is 32 random bytes (URL-safe, prefixed `eud_`), shown once; only its SHA-256
is stored (a random token needs no slow hash: nothing can be guessed offline).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from pipeline.errors import InvalidInput
from pipeline.model import ApiToken, StaffUser
from pipeline.store import Store

PREFIX = "eud_"
MAX_LABEL = 100
MAX_TOKENS = 20  # active tokens per account


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def create(store: Store, user: StaffUser, label: str, *, now: dt.datetime) -> tuple[ApiToken, str]:
    """A new token for `user` (audited); the token itself is returned once, never stored."""
    label = " ".join(label.split()) or "API-Token"
    if len(label) > MAX_LABEL:
        raise InvalidInput(f"Die Bezeichnung ist länger als {MAX_LABEL} Zeichen.")
    if sum(1 for t in store.tokens.list(user.id) if t.active) >= MAX_TOKENS:
        raise InvalidInput(
            f"Höchstens {MAX_TOKENS} aktive Tokens je Konto; bitte zuerst einen widerrufen."
        )
    token = PREFIX + secrets.token_urlsafe(32)
    return store.tokens.add(user, label, token_hash(token), now=now), token


def revoke(store: Store, user: StaffUser, token_id: int, *, now: dt.datetime) -> None:
    if not store.tokens.revoke(user, token_id, now=now):
        raise InvalidInput("Diesen Token gibt es nicht oder er ist schon widerrufen.")


def account_for(store: Store, name: str, token: str, *, now: dt.datetime) -> StaffUser | None:
    """The active account `name` if `token` is one of its active tokens, else None."""
    token = token.strip()
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    found = store.tokens.owner(token_hash(token), now=now)
    if found is None:
        return None
    _, user = found
    if not hmac.compare_digest(user.name, name.strip().lower()) or not user.active:
        return None
    return user
