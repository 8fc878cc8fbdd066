"""Sources and their health: what is configured, and how each fetch went."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, func, literal, select, update

from pipeline.errors import SourceNotFound
from pipeline.model import Source, SourceHealth, SourceKind
from pipeline.model.sources import FetchOutcome
from pipeline.store.base import wrap_errors
from pipeline.store.schema import items, sources

MAX_ERROR_CHARS = 1000


class SourcesStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def register(self, configured: Iterable[Source], *, now: dt.datetime) -> None:
        """Insert new sources and update the configuration of known ones; health stays.

        A source whose URL changed loses its validators (ETag, Last-Modified): they
        belonged to the old URL.
        """
        with wrap_errors("registering sources"), self._engine.begin() as conn:
            known = {
                r.id: r._mapping
                for r in conn.execute(select(sources.c.id, *(sources.c[k] for k in _CONFIG)))
            }
            new = []
            for source in configured:
                values = _config_values(source)
                if source.id not in known:
                    new.append(
                        {
                            "id": source.id,
                            "consecutive_failures": 0,
                            "created_at": now,
                            "updated_at": now,
                            **values,
                        }
                    )
                    continue
                row = known[source.id]
                if all(row[k] == v for k, v in values.items()):
                    continue  # unchanged: no write (a warm fetch writes only health)
                if row["url"] != source.url:
                    values.update(etag=None, last_modified=None)
                conn.execute(
                    update(sources)
                    .where(sources.c.id == source.id)
                    .values(updated_at=now, **values)
                )
            if new:
                conn.execute(sources.insert(), new)

    def health(
        self, ids: Sequence[str] | None = None, *, counts: bool = True
    ) -> list[SourceHealth]:
        """Configuration and health of the sources (`ids`, or all); `counts=False` leaves
        `items` at 0 and reads no item (an ingest run needs no count)."""
        if counts:
            per_source = (
                select(items.c.source_id, func.count().label("n"))
                .group_by(items.c.source_id)
                .subquery()
            )
            query = (
                select(sources, func.coalesce(per_source.c.n, 0).label("item_count"))
                .outerjoin(per_source, per_source.c.source_id == sources.c.id)
                .order_by(sources.c.id)
            )
        else:
            query = select(sources, literal(0).label("item_count")).order_by(sources.c.id)
        if ids is not None:
            query = query.where(sources.c.id.in_(list(ids)))
        with wrap_errors("reading source health"), self._engine.connect() as conn:
            return [_health(r._mapping) for r in conn.execute(query)]

    def get(self, source_id: str) -> SourceHealth:
        found = self.health([source_id])
        if not found:
            raise SourceNotFound(source_id)
        return found[0]

    def record_success(
        self,
        source_id: str,
        *,
        now: dt.datetime,
        next_try: dt.datetime,
        etag: str | None,
        last_modified: str | None,
    ) -> None:
        """A fetch that gave a body (200) or confirmed the old one (304)."""
        self._update(
            source_id,
            last_attempt=now,
            last_success=now,
            consecutive_failures=0,
            next_try=next_try,
            etag=etag,
            last_modified=last_modified,
        )

    def record_failure(
        self, source_id: str, *, now: dt.datetime, error: str, next_try: dt.datetime
    ) -> int:
        """A failed fetch or parse; returns the number of failures in a row."""
        with wrap_errors(f"recording a failure of {source_id}"), self._engine.begin() as conn:
            result = conn.execute(
                update(sources)
                .where(sources.c.id == source_id)
                .values(
                    last_attempt=now,
                    last_error=error[:MAX_ERROR_CHARS],
                    last_error_at=now,
                    consecutive_failures=sources.c.consecutive_failures + 1,
                    next_try=next_try,
                )
                .returning(sources.c.consecutive_failures)
            )
            row = result.first()
            if row is None:
                raise SourceNotFound(source_id)
            return int(row[0])

    def record(self, outcomes: Sequence[FetchOutcome]) -> None:
        """The health of every source an ingest run fetched, in one transaction: as
        record_success and record_failure, one statement each for all successes and all
        failures. Ids that are not registered are ignored."""
        ok = [o for o in outcomes if o.error is None]
        failed = [o for o in outcomes if o.error is not None]
        if not outcomes:
            return
        where = sources.c.id == bindparam("b_id")
        with wrap_errors("recording the sources' health"), self._engine.begin() as conn:
            if ok:
                conn.execute(
                    update(sources)
                    .where(where)
                    .values(
                        last_attempt=bindparam("b_at"),
                        last_success=bindparam("b_at"),
                        consecutive_failures=0,
                        next_try=bindparam("b_next"),
                        etag=bindparam("b_etag"),
                        last_modified=bindparam("b_lm"),
                    ),
                    [
                        {
                            "b_id": o.source_id,
                            "b_at": o.at,
                            "b_next": o.next_try,
                            "b_etag": o.etag,
                            "b_lm": o.last_modified,
                        }
                        for o in ok
                    ],
                )
            if failed:
                conn.execute(
                    update(sources)
                    .where(where)
                    .values(
                        last_attempt=bindparam("b_at"),
                        last_error=bindparam("b_error"),
                        last_error_at=bindparam("b_at"),
                        consecutive_failures=sources.c.consecutive_failures + 1,
                        next_try=bindparam("b_next"),
                    ),
                    [
                        {
                            "b_id": o.source_id,
                            "b_at": o.at,
                            "b_next": o.next_try,
                            "b_error": (o.error or "")[:MAX_ERROR_CHARS],
                        }
                        for o in failed
                    ],
                )

    def _update(self, source_id: str, **values: Any) -> None:
        with wrap_errors(f"updating source {source_id}"), self._engine.begin() as conn:
            result = conn.execute(update(sources).where(sources.c.id == source_id).values(**values))
            if result.rowcount != 1:
                raise SourceNotFound(source_id)


_CONFIG = (
    "name",
    "institution",
    "url",
    "language",
    "kind",
    "adapter",
    "topics",
    "options",
    "enabled",
    "interval_minutes",
)


def _config_values(source: Source) -> dict[str, Any]:
    return {
        "name": source.name,
        "institution": source.institution,
        "url": source.url,
        "language": source.language,
        "kind": source.kind.value,
        "adapter": source.adapter,
        "topics": list(source.topics),
        "options": dict(source.options),
        "enabled": source.enabled,
        "interval_minutes": source.interval_minutes,
    }


def source_from_row(m: Any) -> Source:
    return Source(
        id=m["id"],
        name=m["name"],
        institution=m["institution"],
        url=m["url"],
        language=m["language"],
        kind=SourceKind(m["kind"]),
        topics=tuple(m["topics"] or ()),
        adapter=m["adapter"],
        enabled=bool(m["enabled"]),
        interval_minutes=int(m["interval_minutes"]),
        options=dict(m["options"] or {}),
    )


def _health(m: Any) -> SourceHealth:
    return SourceHealth(
        source=source_from_row(m),
        etag=m["etag"],
        last_modified=m["last_modified"],
        last_attempt=m["last_attempt"],
        last_success=m["last_success"],
        last_error=m["last_error"],
        last_error_at=m["last_error_at"],
        consecutive_failures=int(m["consecutive_failures"]),
        next_try=m["next_try"],
        items=int(m["item_count"]),
    )
