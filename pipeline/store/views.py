"""Saved inbox views ("Meine Ansichten"): named filter sets, each of one staff member."""

from __future__ import annotations

import builtins
import datetime as dt
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from pipeline.errors import DuplicateItem, NotFound
from pipeline.model.desk import SavedView
from pipeline.store.base import wrap_errors
from pipeline.store.schema import saved_views


class ViewsStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def list(self, user_id: int) -> builtins.list[SavedView]:
        v = saved_views
        with wrap_errors("listing saved views"), self._engine.connect() as conn:
            rows = conn.execute(
                select(v).where(v.c.user_id == user_id).order_by(func.lower(v.c.name), v.c.id)
            )
            return [_view(r._mapping) for r in rows]

    def get(self, user_id: int, view_id: int) -> SavedView:
        """One of the user's own views; NotFound for anyone else's."""
        v = saved_views
        with wrap_errors("reading a saved view"), self._engine.connect() as conn:
            row = conn.execute(select(v).where(v.c.id == view_id, v.c.user_id == user_id)).first()
        if row is None:
            raise NotFound(view_id)
        return _view(row._mapping)

    def add(self, user_id: int, name: str, query: str, *, now: dt.datetime) -> SavedView:
        with wrap_errors("saving a view"), self._engine.begin() as conn:
            _refuse_taken(conn, user_id, name, None)
            view_id = conn.execute(
                insert(saved_views)
                .values(user_id=user_id, name=name, query=query, created_at=now)
                .returning(saved_views.c.id)
            ).scalar_one()
        return SavedView(int(view_id), user_id, name, query, now)

    def rename(self, user_id: int, view_id: int, name: str) -> SavedView:
        v = saved_views
        with wrap_errors("renaming a saved view"), self._engine.begin() as conn:
            _refuse_taken(conn, user_id, name, view_id)
            done = conn.execute(
                update(v).where(v.c.id == view_id, v.c.user_id == user_id).values(name=name)
            ).rowcount
            if not done:
                raise NotFound(view_id)
        return self.get(user_id, view_id)

    def delete(self, user_id: int, view_id: int) -> SavedView:
        found = self.get(user_id, view_id)
        v = saved_views
        with wrap_errors("deleting a saved view"), self._engine.begin() as conn:
            conn.execute(delete(v).where(v.c.id == view_id, v.c.user_id == user_id))
        return found


def _refuse_taken(conn: Any, user_id: int, name: str, other_than: int | None) -> None:
    """Names are unique per user regardless of case ("Energie" and "energie" clash):
    DuplicateItem (as the unique constraint would raise when two saves race)."""
    v = saved_views
    where = [v.c.user_id == user_id, func.lower(v.c.name) == name.lower()]
    if other_than is not None:
        where.append(v.c.id != other_than)
    if conn.execute(select(v.c.id).where(*where)).first() is not None:
        raise DuplicateItem(f"saved view {name!r} exists")


def _view(m: Any) -> SavedView:
    return SavedView(
        id=int(m["id"]),
        user_id=int(m["user_id"]),
        name=m["name"],
        query=m["query"],
        created_at=m["created_at"],
    )
