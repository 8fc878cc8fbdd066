"""Staff accounts: adding them, checking passwords (argon2), locking after failed logins."""

from __future__ import annotations

import datetime as dt
import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline.errors import DuplicateItem, EudigestError, InvalidInput
from pipeline.model import Role, StaffUser
from pipeline.store import Store

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
LOCK_AFTER = 5  # failed logins in a row
LOCK_MINUTES = 15

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class LoginFailed(EudigestError):
    """Wrong name or password, inactive or locked: the message never says which."""

    def __init__(self, locked_until: dt.datetime | None = None) -> None:
        super().__init__("login failed")
        self.locked_until = locked_until


def hash_password(password: str) -> str:
    _check_password(password)
    return _hasher.hash(password)


def add_user(store: Store, name: str, role: Role, password: str, *, now: dt.datetime) -> StaffUser:
    name = name.strip().lower()
    if not NAME_RE.match(name):
        raise InvalidInput(
            "Benutzernamen: 2–50 Zeichen, Kleinbuchstaben, Ziffern, Punkt, Binde- und Unterstrich."
        )
    try:
        return store.users.add(name, role, hash_password(password), now=now)
    except DuplicateItem:
        raise InvalidInput(f"Den Benutzer {name!r} gibt es schon.") from None


def set_email(store: Store, user_id: int, email: str | None) -> None:
    """A staff member's test-send address ("Mein Konto"; None removes it). The shells
    normalise what was typed first (subscribers.addresses.normalise_email, the rule every
    address in eudigest follows); a value in another form is refused here."""
    if email is not None and (not email or email != email.strip().lower() or "@" not in email):
        raise InvalidInput("Bitte eine gültige E-Mail-Adresse angeben.")
    store.users.set_email(user_id, email)


def set_password(store: Store, user_id: int, password: str) -> None:
    store.users.set_password(user_id, hash_password(password))


def authenticate(store: Store, name: str, password: str, *, now: dt.datetime) -> StaffUser:
    """The user, if name and password match and the account is active and not locked.

    Raises LoginFailed otherwise; `locked_until` tells a locked account (also the one
    this failure just locked). Unknown names cost a hash too, so timing reveals nothing.
    """
    user = store.users.by_name(name.strip().lower()) if len(password) <= MAX_PASSWORD else None
    if user is None:
        _verify(_dummy_hash(), password)
        raise LoginFailed()
    if user.locked_until is not None and user.locked_until > now:
        raise LoginFailed(user.locked_until)
    if not _verify(user.password_hash, password) or not user.active:
        after = store.users.record_failure(
            user.id, now=now, lock_after=LOCK_AFTER, lock_minutes=LOCK_MINUTES
        )
        locked = after.locked_until if after.locked_until and after.locked_until > now else None
        raise LoginFailed(locked)
    if _hasher.check_needs_rehash(user.password_hash):
        store.users.set_password(user.id, _hasher.hash(password))
    store.users.record_login(user.id, now=now)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return False


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"Das Passwort braucht mindestens {MIN_PASSWORD} Zeichen.")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput("Das Passwort ist zu lang.")


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown names (made on first use: argon2 costs ~0.1 s,
    which every process would pay at import)."""
    return _hasher.hash("not a real password, only for timing")
