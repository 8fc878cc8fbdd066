"""Turning item rows into `Item` values, and the text full-text search reads."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, select, update

from pipeline.model import (
    Annotation,
    Audience,
    Deadline,
    DeadlineKind,
    DocType,
    Item,
    ItemStatus,
    ItemVersion,
    Priority,
    TopicAssignment,
    TopicOrigin,
)
from pipeline.model.learning import SuggestedBy
from pipeline.store.base import upsert
from pipeline.store.schema import (
    item_annotations,
    item_deadlines,
    item_references,
    item_sightings,
    item_topics,
    item_versions,
    items,
)

T = TypeVar("T")
_CHUNK = 500  # bound IN (...) lists well below SQLite's parameter limit
_TAG = re.compile(r"<[^>]+>")


def chunks(values: Collection[T]) -> Iterable[list[T]]:
    ordered = list(values)
    for i in range(0, len(ordered), _CHUNK):
        yield ordered[i : i + _CHUNK]


def seen_in(source_ids: Collection[str] | Select[Any]) -> ColumnElement[bool]:
    """Items that any of these sources carried (a sighting), not only the first one."""
    ids = source_ids if isinstance(source_ids, Select) else list(source_ids)
    return items.c.id.in_(
        select(item_sightings.c.item_id).where(item_sightings.c.source_id.in_(ids))
    )


def record_sightings(conn: Connection, pairs: Iterable[tuple[int, str]], now: dt.datetime) -> None:
    """Record that each source carried each item: new rows, or a later `last_seen`.

    One bulk INSERT .. ON CONFLICT DO UPDATE (SQLite and PostgreSQL alike).
    """
    rows = [
        {"item_id": item_id, "source_id": source_id, "first_seen": now, "last_seen": now}
        for item_id, source_id in sorted(set(pairs))
    ]
    if not rows:
        return
    key = [item_sightings.c.item_id, item_sightings.c.source_id]
    insert = upsert(conn, item_sightings)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=key, set_={"last_seen": insert.excluded.last_seen}
        ),
        rows,
    )


def html_text(fragment: str) -> str:
    """Rough plain text of stored (already sanitised) HTML, for the search index."""
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def refresh_search_text(conn: Connection, item_id: int) -> None:
    """Index every language version's title, the shown summary and the annotation."""
    titles = conn.execute(
        select(item_versions.c.title).where(item_versions.c.item_id == item_id)
    ).scalars()
    row = conn.execute(
        select(items.c.title, items.c.summary_html).where(items.c.id == item_id)
    ).one()
    note = conn.execute(
        select(item_annotations.c.headline, item_annotations.c.comment_md).where(
            item_annotations.c.item_id == item_id
        )
    ).first()
    parts = [row.title, *titles, html_text(row.summary_html)]
    if note is not None:
        parts += [note.headline, note.comment_md]
    text = "\n".join(dict.fromkeys(p for p in parts if p))
    conn.execute(update(items).where(items.c.id == item_id).values(search_text=text))


def hydrate(conn: Connection, rows: Sequence[Any]) -> list[Item]:
    ids = [r.id for r in rows]
    topics: Mapping[int, list[TopicAssignment]] = defaultdict(list)
    refs: Mapping[int, list[str]] = defaultdict(list)
    deadlines: Mapping[int, list[Deadline]] = defaultdict(list)
    versions: Mapping[int, list[ItemVersion]] = defaultdict(list)
    seen_by: Mapping[int, list[str]] = defaultdict(list)
    notes: dict[int, Annotation] = {}
    for chunk in chunks(ids):
        for t in conn.execute(
            select(item_topics)
            .where(item_topics.c.item_id.in_(chunk))
            .order_by(item_topics.c.confidence.desc(), item_topics.c.topic_id)
        ):
            topics[t.item_id].append(
                TopicAssignment(t.topic_id, float(t.confidence), TopicOrigin(t.origin))
            )
        for r in conn.execute(
            select(item_references)
            .where(item_references.c.item_id.in_(chunk))
            .order_by(item_references.c.position)
        ):
            refs[r.item_id].append(r.reference)
        for d in conn.execute(
            select(item_deadlines)
            .where(item_deadlines.c.item_id.in_(chunk))
            .order_by(item_deadlines.c.date)
        ):
            deadlines[d.item_id].append(Deadline(d.date, DeadlineKind(d.kind), d.label))
        for v in conn.execute(
            select(item_versions)
            .where(item_versions.c.item_id.in_(chunk))
            .order_by(item_versions.c.id)
        ):
            versions[v.item_id].append(
                ItemVersion(
                    identity=v.identity,
                    source_id=v.source_id,
                    language=v.language,
                    title=v.title,
                    url=v.url,
                    summary_html=v.summary_html,
                    content_hash=v.content_hash,
                )
            )
        for s in conn.execute(
            select(item_sightings.c.item_id, item_sightings.c.source_id)
            .where(item_sightings.c.item_id.in_(chunk))
            .order_by(item_sightings.c.first_seen, item_sightings.c.source_id)
        ):
            seen_by[s.item_id].append(s.source_id)
        for a in conn.execute(
            select(item_annotations).where(item_annotations.c.item_id.in_(chunk))
        ):
            notes[a.item_id] = Annotation(
                item_id=a.item_id,
                headline=a.headline,
                comment_md=a.comment_md,
                priority=Priority(a.priority),
                audiences=tuple(Audience(x) for x in a.audiences or ()),
                version=a.version,
                updated_at=a.updated_at,
                updated_by=a.updated_by,
            )
    from pipeline.store.eligibility import read as read_eligibility

    facets = read_eligibility(conn, ids)
    return [
        Item(
            id=r.id,
            source_id=r.source_id,
            title=r.title,
            url=r.url,
            summary_html=r.summary_html,
            language=r.language,
            published=r.published,
            fetched_at=r.fetched_at,
            updated_at=r.updated_at,
            doc_type=DocType(r.doc_type),
            status=ItemStatus(r.status),
            relevance=float(r.relevance),
            relevance_reasons=tuple(str(x) for x in (r.relevance_reasons or ())),
            family=r.family,
            topics=tuple(topics[r.id]),
            references=tuple(refs[r.id]),
            deadlines=tuple(deadlines[r.id]),
            versions=tuple(versions[r.id]),
            annotation=notes.get(r.id),
            sources=tuple(dict.fromkeys([r.source_id, *seen_by[r.id]])),
            suggestion=None if r.suggestion is None else float(r.suggestion),
            suggested_by=SuggestedBy(r.suggested_by or "rules"),
            eligibility=facets.get(r.id),
        )
        for r in rows
    ]
