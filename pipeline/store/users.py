"""Staff accounts of the desk: names, roles, password hashes, failed logins."""

from __future__ import annotations

import builtins
import datetime as dt
from typing import Any

from sqlalchemy import Engine, case, insert, select, update

from pipeline.errors import UserNotFound
from pipeline.model import Role, StaffUser
from pipeline.store.base import wrap_errors
from pipeline.store.schema import users


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

    def record_failure(
        self, user_id: int, *, now: dt.datetime, lock_after: int, lock_minutes: int
    ) -> StaffUser:
        """Count a failed login; the `lock_after`-th failure in a row locks the account."""
        locks = users.c.failed_logins + 1 >= lock_after
        with wrap_errors("recording a failed login"), self._engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(
                    failed_logins=case((locks, 0), else_=users.c.failed_logins + 1),
                    locked_until=case(
                        (locks, now + dt.timedelta(minutes=lock_minutes)),
                        else_=users.c.locked_until,
                    ),
                )
            )
        return self.get(user_id)

    def record_login(self, user_id: int, *, now: dt.datetime) -> None:
        self._update(user_id, failed_logins=0, locked_until=None, last_login=now)

    def set_password(self, user_id: int, password_hash: str) -> None:
        self._update(user_id, password_hash=password_hash, failed_logins=0, locked_until=None)

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
    )
