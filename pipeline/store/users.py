"""Staff accounts of the desk: names, roles, password hashes, sessions; login throttling."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, delete, func, insert, or_, select, update

from pipeline.errors import UserNotFound
from pipeline.model import Role, StaffUser
from pipeline.store.audit import write_audit
from pipeline.store.base import upsert, wrap_errors
from pipeline.store.schema import login_throttle, users

_DAY = dt.timedelta(days=1)  # throttle rows this far past their window are deleted


class UsersStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, name: str, role: Role, password_hash: str, *, now: dt.datetime) -> StaffUser:
        """A new account; DuplicateItem when the name is taken."""
        with wrap_errors(f"adding user {name!r}"), self._engine.begin() as conn:
            user_id = conn.execute(
                insert(users)
                .values(
                    name=name,
                    role=role.value,
                    password_hash=password_hash,
                    active=True,
                    failed_logins=0,
                    created_at=now,
                )
                .returning(users.c.id)
            ).scalar_one()
        return self.get(int(user_id))

    def get(self, user_id: int) -> StaffUser:
        with wrap_errors("reading a user"), self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise UserNotFound(user_id)
        return _user(row._mapping)

    def by_name(self, name: str) -> StaffUser | None:
        with wrap_errors("reading a user"), self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        return _user(row._mapping) if row is not None else None

    def list(self) -> builtins.list[StaffUser]:
        with wrap_errors("listing users"), self._engine.connect() as conn:
            return [_user(r._mapping) for r in conn.execute(select(users).order_by(users.c.name))]

    def login_blocked_until(
        self, keys: builtins.list[str], *, now: dt.datetime
    ) -> dt.datetime | None:
        """The latest time one of these throttle keys is blocked until, if later than now."""
        with wrap_errors("reading login throttling"), self._engine.connect() as conn:
            until = conn.execute(
                select(func.max(login_throttle.c.blocked_until)).where(
                    login_throttle.c.key.in_(keys), login_throttle.c.blocked_until > now
                )
            ).scalar_one_or_none()
        return until

    def count_login_failure(
        self,
        key: str,
        *,
        now: dt.datetime,
        window: dt.timedelta,
        block_for: Callable[[int], dt.timedelta | None],
    ) -> int:
        """One more failed login under `key`, in one transaction; the failures in the window.

        A key whose window has passed and that is not blocked starts again at one; keys
        a day past their window go (no table of addresses that only grows).
        `block_for(failures)` says how long the key is blocked from now (None: not).
        """
        with wrap_errors("recording a failed login"), self._engine.begin() as conn:
            conn.execute(  # this key, if its window has passed; every key a day past it
                delete(login_throttle).where(
                    (login_throttle.c.key == key) | (login_throttle.c.window_start <= now - _DAY),
                    login_throttle.c.window_start <= now - window,
                    (login_throttle.c.blocked_until.is_(None))
                    | (login_throttle.c.blocked_until <= now),
                )
            )
            conn.execute(
                upsert(conn, login_throttle)
                .values(key=key, failures=0, window_start=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            failures = int(
                conn.execute(
                    update(login_throttle)
                    .where(login_throttle.c.key == key)
                    .values(failures=login_throttle.c.failures + 1)
                    .returning(login_throttle.c.failures)
                ).scalar_one()
            )
            block = block_for(failures)
            if block is not None:
                conn.execute(
                    update(login_throttle)
                    .where(login_throttle.c.key == key)
                    .values(blocked_until=now + block)
                )
        return failures

    def clear_login_failures(self, key: str, *, now: dt.datetime, older_than: dt.timedelta) -> None:
        """Forget one key (a login that worked), and every key long past its window."""
        with wrap_errors("clearing login throttling"), self._engine.begin() as conn:
            conn.execute(delete(login_throttle).where(login_throttle.c.key == key))
            conn.execute(
                delete(login_throttle).where(
                    login_throttle.c.window_start <= now - older_than,
                    (login_throttle.c.blocked_until.is_(None))
                    | (login_throttle.c.blocked_until <= now),
                )
            )

    def blocked_prefixes(
        self, prefixes: builtins.list[str], *, now: dt.datetime
    ) -> dict[str, dt.datetime]:
        """prefix → the latest time a throttle key starting with it is blocked until, for
        the prefixes with a key blocked beyond now."""
        if not prefixes:
            return {}
        found: dict[str, dt.datetime] = {}
        with wrap_errors("reading login throttling"), self._engine.connect() as conn:
            rows = conn.execute(
                select(login_throttle.c.key, login_throttle.c.blocked_until).where(
                    or_(*(login_throttle.c.key.startswith(p, autoescape=True) for p in prefixes)),
                    login_throttle.c.blocked_until > now,
                )
            )
            for key, until in rows:
                prefix = next(p for p in prefixes if key.startswith(p))
                found[prefix] = max(until, found.get(prefix, until))
        return found

    def clear_prefix(self, prefix: str, *, actor: str, name: str, now: dt.datetime) -> int:
        """Delete the throttle keys starting with `prefix`, audited as `actor` lifting the
        throttling of `name`; the number of rows deleted."""
        with wrap_errors("lifting login throttling"), self._engine.begin() as conn:
            cleared = conn.execute(
                delete(login_throttle).where(
                    login_throttle.c.key.startswith(prefix, autoescape=True)
                )
            ).rowcount
            write_audit(conn, now, actor, "user.unthrottled", detail=name)
        return int(cleared or 0)

    def end_sessions(self, user_id: int) -> None:
        """Every session of this account signed in so far stops working (logout)."""
        self._update(user_id, session_version=users.c.session_version + 1)

    def record_login(self, user_id: int, *, now: dt.datetime) -> None:
        self._update(user_id, failed_logins=0, locked_until=None, last_login=now)

    def set_password(self, user_id: int, password_hash: str) -> None:
        """A new password hash; every session signed in before ends (session_version)."""
        self._update(
            user_id,
            password_hash=password_hash,
            failed_logins=0,
            locked_until=None,
            session_version=users.c.session_version + 1,
        )

    def set_email(self, user_id: int, email: str | None) -> None:
        """The address test sends go to (already validated by the caller), or None."""
        self._update(user_id, email=email)

    def set_active(self, user_id: int, active: bool) -> None:
        self._update(user_id, active=active)

    def set_role(self, user_id: int, role: Role) -> None:
        self._update(user_id, role=role.value)

    def _update(self, user_id: int, **values: Any) -> None:
        with wrap_errors("updating a user"), self._engine.begin() as conn:
            if (
                conn.execute(update(users).where(users.c.id == user_id).values(**values)).rowcount
                != 1
            ):
                raise UserNotFound(user_id)


def _user(m: Any) -> StaffUser:
    return StaffUser(
        id=int(m["id"]),
        name=m["name"],
        role=Role(m["role"]),
        active=bool(m["active"]),
        password_hash=m["password_hash"],
        failed_logins=int(m["failed_logins"]),
        locked_until=m["locked_until"],
        last_login=m["last_login"],
        email=m["email"],
        session_version=int(m["session_version"]),
    )
