"""Personal API tokens of staff accounts: only the SHA-256 of each token is stored."""

from __future__ import annotations

import builtins
import datetime as dt
from typing import Any

from sqlalchemy import Engine, insert, select, update

from pipeline.model import ApiToken, StaffUser
from pipeline.store.audit import write_audit
from pipeline.store.base import wrap_errors
from pipeline.store.schema import api_tokens, users
from pipeline.store.users import _user


class TokensStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, user: StaffUser, label: str, token_hash: str, *, now: dt.datetime) -> ApiToken:
        with wrap_errors("adding an API token"), self._engine.begin() as conn:
            token_id = conn.execute(
                insert(api_tokens)
                .values(user_id=user.id, label=label, token_hash=token_hash, created_at=now)
                .returning(api_tokens.c.id)
            ).scalar_one()
            write_audit(conn, now, user.name, "user.token_created", detail=label)
        return ApiToken(int(token_id), user.id, label, now)

    def list(self, user_id: int) -> builtins.list[ApiToken]:
        t = api_tokens
        with wrap_errors("listing API tokens"), self._engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.user_id == user_id).order_by(t.c.id.desc()))
            return [_token(r._mapping) for r in rows]

    def revoke(self, user: StaffUser, token_id: int, *, now: dt.datetime) -> bool:
        """Revoke one of the user's own tokens; False when there is no such active one."""
        t = api_tokens
        with wrap_errors("revoking an API token"), self._engine.begin() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.id == token_id, t.c.user_id == user.id, t.c.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
            if done:
                write_audit(conn, now, user.name, "user.token_revoked", detail=f"Nr. {token_id}")
            return bool(done)

    def owner(self, token_hash: str, *, now: dt.datetime) -> tuple[ApiToken, StaffUser] | None:
        """The active token with this hash and its account (its use is noted)."""
        t = api_tokens
        with wrap_errors("checking an API token"), self._engine.begin() as conn:
            row = conn.execute(
                select(t).where(t.c.token_hash == token_hash, t.c.revoked_at.is_(None))
            ).first()
            if row is None:
                return None
            user = conn.execute(select(users).where(users.c.id == row.user_id)).first()
            if user is None:
                return None
            conn.execute(update(t).where(t.c.id == row.id).values(last_used_at=now))
            return _token(row._mapping), _user(user._mapping)


def _token(m: Any) -> ApiToken:
    return ApiToken(
        id=int(m["id"]),
        user_id=int(m["user_id"]),
        label=m["label"],
        created_at=m["created_at"],
        last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"],
    )
