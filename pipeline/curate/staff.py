"""Staff accounts: adding them, checking passwords (argon2), throttling failed logins.

Failed logins are counted per client and per (client, name typed), never per account
alone: a stranger cannot lock a colleague out, and an unknown name is counted, answered
and timed like a known one (a dummy hash is verified for it).

    per (client, name)  5 failures in 15 minutes block that pair for 1 minute, doubling
                        with every further failure up to 15 minutes
    per client          30 failures in 15 minutes block the client for 15 minutes

A blocked attempt is refused before any password is checked, for every name alike; a
correct password from a client that is not blocked always gets in.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline.errors import DuplicateItem, EudigestError, InvalidInput
from pipeline.model import Role, StaffUser
from pipeline.store import Store

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
PAIR_LIMIT = 5  # failures of one client with one name before it is slowed down
CLIENT_LIMIT = 30  # failures of one client, whatever names, before it is blocked
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_BLOCK = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(days=1)  # rows past their window are deleted at a success

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class LoginFailed(EudigestError):
    """Wrong name or password, inactive or throttled: the message never says which name.

    `locked_until`: this client (with this name) is throttled until then, whether the
    name exists or not."""

    def __init__(self, locked_until: dt.datetime | None = None) -> None:
        super().__init__("login failed")
        self.locked_until = locked_until


def pair_block(failures: int) -> dt.timedelta | None:
    """How long one client with one name is blocked after its n-th failure in the window."""
    if failures < PAIR_LIMIT:
        return None
    return min(dt.timedelta(minutes=2 ** min(failures - PAIR_LIMIT, 10)), MAX_BLOCK)


def client_block(failures: int) -> dt.timedelta | None:
    """How long a client is blocked after its n-th failure in the window, whatever names."""
    return MAX_BLOCK if failures >= CLIENT_LIMIT else None


def throttle_keys(client: str, name: str) -> tuple[str, str]:
    """(client key, pair key): SHA-256 hex digests, so no address or name is stored.

    The pair key starts with the name's tag (see name_tag), so an admin can find and lift
    the throttling of one name without knowing from where it was tried."""
    client_key = hashlib.sha256(f"client\0{client}".encode()).hexdigest()
    pair_hash = hashlib.sha256(f"pair\0{client}\0{name}".encode()).hexdigest()
    return client_key, name_tag(name) + pair_hash[: 64 - len(name_tag(name))]


def name_tag(name: str) -> str:
    """ "p" and 32 bits of a SHA-256 of the name: enough to pick out a staff name's rows,
    too few to tell what else was typed into the name field (many names share a tag).
    Client keys are plain hex and never start with "p"."""
    return "p" + hashlib.sha256(f"name\0{name}".encode()).hexdigest()[:8]


def throttled_until(store: Store, names: list[str], *, now: dt.datetime) -> dict[str, dt.datetime]:
    """The names (of these) whose logins are blocked now from some client, and until when."""
    tags = {name_tag(n.strip().lower()): n for n in names}
    blocked = store.users.blocked_prefixes(list(tags), now=now)
    return {tags[tag]: until for tag, until in blocked.items()}


def lift_throttle(store: Store, actor: str, name: str, *, now: dt.datetime) -> int:
    """Forget every failed login counted for this name from any client ("Sperre aufheben");
    audited. The throttling of a client as a whole (every name) stays. Returns rows cleared."""
    return store.users.clear_prefix(name_tag(name.strip().lower()), actor=actor, name=name, now=now)


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


def authenticate(
    store: Store, name: str, password: str, *, now: dt.datetime, client: str = "local"
) -> StaffUser:
    """The user, if name and password match, the account is active and `client` (an IP
    address; "local" for the command line) is not throttled for this name.

    Raises LoginFailed otherwise, with `locked_until` when the attempt was throttled (also
    the failure that starts throttling). Unknown names take exactly the path of known
    ones: counted, a hash verified, the same exception.
    """
    name = name.strip().lower()
    client_key, pair_key = throttle_keys(client, name)
    blocked = store.users.login_blocked_until([client_key, pair_key], now=now)
    if blocked is not None:
        raise LoginFailed(blocked)
    user = store.users.by_name(name) if len(password) <= MAX_PASSWORD else None
    matches = _verify(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None or not matches or not user.active:
        store.users.count_login_failure(
            client_key, now=now, window=THROTTLE_WINDOW, block_for=client_block
        )
        store.users.count_login_failure(
            pair_key, now=now, window=THROTTLE_WINDOW, block_for=pair_block
        )
        raise LoginFailed(store.users.login_blocked_until([client_key, pair_key], now=now))
    if _hasher.check_needs_rehash(user.password_hash):
        store.users.set_password(user.id, _hasher.hash(password))
    store.users.record_login(user.id, now=now)
    store.users.clear_login_failures(pair_key, now=now, older_than=FORGET_AFTER)
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
