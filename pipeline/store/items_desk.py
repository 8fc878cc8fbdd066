"""What the desk does with items: search the inbox, decide, tag, annotate, write own items.

Mixed into `ItemsStore` (store.items.*). Each method is one transaction and writes
its audit entries in that same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Text,
    and_,
    cast,
    column,
    delete,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
    update,
)

from pipeline.errors import InvalidInput, ItemNotFound, StaleEdit
from pipeline.model import (
    OWN_SOURCE_ID,
    PRIORITY_LABELS,
    Annotation,
    Audience,
    AuditEntry,
    Deadline,
    DocType,
    Item,
    ItemStatus,
    Priority,
    SourceKind,
)
from pipeline.store.audit import entries, write_audit, write_audit_many
from pipeline.store.base import COUNT_CAP, bounded_count, distinct_values, wrap_errors
from pipeline.store.eligibility import applicant_filter, programme_filter
from pipeline.store.item_rows import (
    chunks,
    hydrate,
    record_sightings,
    refresh_search_text,
    seen_in,
)
from pipeline.store.schema import (
    audit_log,
    item_annotations,
    item_deadlines,
    item_topics,
    item_versions,
    items,
    sources,
)

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 12
BRUSSELS = ZoneInfo("Europe/Brussels")


@dataclass(frozen=True, slots=True)
class InboxQuery:
    text: str | None = None
    source_id: str | None = None
    institution: str | None = None
    topic: str | None = None
    doc_type: str | None = None
    applicant: str | None = None  # funding calls this kind of applicant may apply for
    programme: str | None = None  # funding calls of this programme
    language: str | None = None
    statuses: tuple[ItemStatus, ...] = (ItemStatus.NEW,)
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    order: str = "published"  # or "relevance"
    # The inbox's suggestions (at or above) and its folded group (below); items without
    # relevance reasons (scored before migration 0011) always count as suggestions.
    min_relevance: float | None = None
    below_relevance: float | None = None
    exclude_ids: tuple[int, ...] = ()  # e.g. the items already in an edition
    # "Später": "hide" leaves out items put off beyond `deferred_at`, "only" shows just
    # those, "any" ignores it (migration 0023)
    deferred: str = "any"
    deferred_at: dt.datetime | None = None
    page: int = 1
    per_page: int = 50
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Brussels"))


@dataclass(frozen=True, slots=True)
class ItemPage:
    items: list[Item]
    total: int
    page: int
    per_page: int
    exact: bool = True  # False: counting stopped at `total`, more items match

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True, slots=True)
class Facets:
    sources: list[tuple[str, str]]  # (id, name)
    institutions: list[str]
    doc_types: list[str]
    languages: list[str]


class ItemDeskMixin:
    _engine: Engine

    # ------------------------------------------------------------ reading

    def search(self, q: InboxQuery, *, cap: int | None = None) -> ItemPage:
        """The inbox: filtered, full-text searched, paged; counted up to `cap` (default
        COUNT_CAP) or to the page asked for."""
        if not 1 <= q.per_page <= 200 or q.page < 1:
            raise InvalidInput("page must be ≥ 1 and per_page 1..200")
        if q.order not in ("published", "relevance"):
            raise InvalidInput(f"unknown order {q.order!r}")
        with wrap_errors("searching items"), self._engine.connect() as conn:
            where = _filters(q, conn.dialect.name)
            # Counted up to the cap, or past it to the page asked for (its pager is then right).
            cap = max(COUNT_CAP if cap is None else cap, q.page * q.per_page)
            total, exact = bounded_count(conn, select(items.c.id).where(*where), cap)
            order = (
                (_score().desc(), items.c.published.desc(), items.c.id.desc())
                if q.order == "relevance"
                else (items.c.published.desc(), items.c.id.desc())
            )
            stmt = select(items).where(*where).order_by(*order)
            rows = list(conn.execute(stmt.limit(q.per_page).offset((q.page - 1) * q.per_page)))
            return ItemPage(hydrate(conn, rows), total, q.page, q.per_page, exact)

    def search_count(self, q: InboxQuery) -> tuple[int, bool]:
        """How many items `q` matches, counted up to COUNT_CAP: (count, exact). One query,
        no page read (e.g. "Später (n)" above every inbox page)."""
        with wrap_errors("counting items"), self._engine.connect() as conn:
            where = _filters(q, conn.dialect.name)
            return bounded_count(conn, select(items.c.id).where(*where), COUNT_CAP)

    def get_many(self, item_ids: Iterable[int]) -> dict[int, Item]:
        ids = list(dict.fromkeys(item_ids))
        found: dict[int, Item] = {}
        with wrap_errors("reading items"), self._engine.connect() as conn:
            for chunk in chunks(ids):
                rows = list(conn.execute(select(items).where(items.c.id.in_(chunk))))
                found.update((i.id, i) for i in hydrate(conn, rows))
        return found

    def facets(self) -> Facets:
        with wrap_errors("reading facets"), self._engine.connect() as conn:
            srcs = conn.execute(
                select(sources.c.id, sources.c.name, sources.c.institution).order_by(sources.c.name)
            ).all()
            doc_types = distinct_values(conn, items.c.doc_type)
            languages = distinct_values(conn, item_versions.c.language)
        return Facets(
            sources=[(s.id, s.name) for s in srcs],
            institutions=sorted({s.institution for s in srcs}),
            doc_types=sorted(doc_types),
            languages=sorted(languages),
        )

    def audit(self, item_id: int) -> list[AuditEntry]:
        with wrap_errors("reading the audit trail"), self._engine.connect() as conn:
            return entries(conn, audit_log.c.item_id == item_id)

    def counts_per_day(
        self, days: int, *, now: dt.datetime, tz: ZoneInfo = BRUSSELS
    ) -> list[tuple[dt.date, int]]:
        """Items first fetched per local day, the last `days` days, oldest first."""
        today = now.astimezone(tz).date()
        first = today - dt.timedelta(days=days - 1)
        start = dt.datetime.combine(first, dt.time(), tzinfo=tz)
        with wrap_errors("counting items"), self._engine.connect() as conn:
            stamps = conn.execute(
                select(items.c.fetched_at).where(items.c.fetched_at >= start)
            ).scalars()
            counts = Counter(s.astimezone(tz).date() for s in stamps)
        return [
            (first + dt.timedelta(days=n), counts[first + dt.timedelta(days=n)])
            for n in range(days)
        ]

    # ------------------------------------------------------------ deciding

    def set_status(
        self,
        item_ids: Iterable[int],
        status: ItemStatus,
        *,
        now: dt.datetime,
        actor: str = "system",
    ) -> int:
        """Accept, reject or delete items (deleting leaves a tombstone); returns how many."""
        ids = list(dict.fromkeys(item_ids))
        with wrap_errors("changing item status"), self._engine.begin() as conn:
            _require_items(conn, ids)
            result = conn.execute(
                update(items).where(items.c.id.in_(ids)).values(status=status.value, updated_at=now)
            )
            write_audit_many(conn, now, actor, f"status.{status.value}", ids, "")
            return int(result.rowcount)

    def defer(
        self,
        item_ids: Iterable[int],
        until: dt.datetime | None,
        *,
        now: dt.datetime,
        actor: str,
    ) -> dict[int, dt.datetime | None]:
        """Put items off until `until` ("Später"; None: back now); returns each item's
        previous value, so the desk can undo it."""
        ids = list(dict.fromkeys(item_ids))
        with wrap_errors("putting items off"), self._engine.begin() as conn:
            _require_items(conn, ids)
            before = {
                int(r.id): r.deferred_until
                for r in conn.execute(
                    select(items.c.id, items.c.deferred_until).where(items.c.id.in_(ids))
                )
            }
            conn.execute(update(items).where(items.c.id.in_(ids)).values(deferred_until=until))
            detail = until.isoformat() if until else ""
            write_audit_many(conn, now, actor, "deferred" if until else "undeferred", ids, detail)
            return before

    def restore_deferred(
        self, previous: dict[int, dt.datetime | None], *, now: dt.datetime, actor: str
    ) -> int:
        """Put back what `defer` returned (undo); returns how many items."""
        with wrap_errors("restoring put-off items"), self._engine.begin() as conn:
            _require_items(conn, list(previous))
            for item_id, until in previous.items():
                conn.execute(
                    update(items).where(items.c.id == item_id).values(deferred_until=until)
                )
            write_audit_many(conn, now, actor, "undeferred", list(previous), "Rückgängig")
            return len(previous)

    def set_topics(
        self, item_ids: Iterable[int], topic_ids: Sequence[str], *, now: dt.datetime, actor: str
    ) -> None:
        """Staff decide the topics: these, confirmed, and no others."""
        ids = list(dict.fromkeys(item_ids))
        chosen = list(dict.fromkeys(topic_ids))
        with wrap_errors("setting topics"), self._engine.begin() as conn:
            _require_items(conn, ids)
            conn.execute(delete(item_topics).where(item_topics.c.item_id.in_(ids)))
            rows = [
                {"item_id": i, "topic_id": t, "confidence": 1.0, "origin": "staff"}
                for i in ids
                for t in chosen
            ]
            if rows:
                conn.execute(insert(item_topics), rows)
            conn.execute(update(items).where(items.c.id.in_(ids)).values(updated_at=now))
            write_audit_many(conn, now, actor, "topics", ids, ", ".join(chosen) or "keine")

    def annotate(
        self,
        item_id: int,
        *,
        headline: str,
        comment_md: str,
        priority: Priority,
        audiences: Sequence[Audience],
        expected_version: int,
        now: dt.datetime,
        actor: str,
    ) -> Annotation:
        """Save the office's annotation if nobody saved since `expected_version`."""
        values = {
            "headline": headline,
            "comment_md": comment_md,
            "priority": priority.value,
            "audiences": [a.value for a in audiences],
            "updated_at": now,
            "updated_by": actor,
        }
        with wrap_errors(f"annotating item {item_id}"), self._engine.begin() as conn:
            _require_items(conn, [item_id])
            current = conn.execute(
                select(item_annotations.c.version, item_annotations.c.updated_by).where(
                    item_annotations.c.item_id == item_id
                )
            ).first()
            if current is None and expected_version == 0:
                conn.execute(insert(item_annotations).values(item_id=item_id, version=1, **values))
            else:
                changed = conn.execute(
                    update(item_annotations)
                    .where(
                        item_annotations.c.item_id == item_id,
                        item_annotations.c.version == expected_version,
                    )
                    .values(version=item_annotations.c.version + 1, **values)
                ).rowcount
                if changed != 1:
                    who = current.updated_by if current is not None else "jemand anderem"
                    raise StaleEdit(
                        f"Die Einordnung wurde inzwischen von {who} geändert; "
                        "Ihr Text ist unten erhalten – bitte prüfen und erneut speichern."
                    )
            refresh_search_text(conn, item_id)
            write_audit(
                conn, now, actor, "annotate", item_id=item_id,
                detail=f"Priorität: {PRIORITY_LABELS[priority]}; Überschrift: „{headline[:80]}“",
            )  # fmt: skip
            conn.execute(update(items).where(items.c.id == item_id).values(updated_at=now))
        item = self.get(item_id)  # type: ignore[attr-defined]
        assert isinstance(item, Item) and item.annotation is not None
        return item.annotation

    def create_own(
        self,
        *,
        title: str,
        url: str | None,
        summary_html: str,
        published: dt.datetime,
        deadlines: Sequence[Deadline],
        topics: Sequence[str],
        doc_type: DocType,
        now: dt.datetime,
        actor: str,
    ) -> Item:
        """An item the office writes itself (an event, a network meeting): accepted at once."""
        with wrap_errors("creating an own item"), self._engine.begin() as conn:
            _ensure_own_source(conn, now)
            item_id = conn.execute(
                insert(items)
                .values(
                    source_id=OWN_SOURCE_ID,
                    title=title,
                    url=url,
                    summary_html=summary_html,
                    language="de",
                    published=published,
                    fetched_at=now,
                    updated_at=now,
                    doc_type=doc_type.value,
                    status=ItemStatus.ACCEPTED.value,
                    relevance=1.0,
                    family=None,
                )
                .returning(items.c.id)
            ).scalar_one()
            conn.execute(
                insert(item_versions).values(
                    item_id=item_id,
                    identity=f"own:{uuid.uuid4()}",
                    source_id=OWN_SOURCE_ID,
                    language="de",
                    title=title,
                    url=url,
                    summary_html=summary_html,
                    content_hash="",
                    first_seen=now,
                    last_seen=now,
                )
            )
            record_sightings(conn, [(int(item_id), OWN_SOURCE_ID)], now)
            if topics:
                conn.execute(
                    insert(item_topics),
                    [
                        {"item_id": item_id, "topic_id": t, "confidence": 1.0, "origin": "staff"}
                        for t in dict.fromkeys(topics)
                    ],
                )
            unique = {(d.date, d.kind): d for d in deadlines}
            if unique:
                conn.execute(
                    insert(item_deadlines),
                    [
                        {"item_id": item_id, "date": d.date, "kind": d.kind.value, "label": d.label}
                        for d in unique.values()
                    ],
                )
            refresh_search_text(conn, item_id)
            write_audit(conn, now, actor, "create", item_id=item_id, detail=title[:200])
        return self.get(int(item_id))  # type: ignore[attr-defined,no-any-return]


def _score() -> ColumnElement[float]:
    """The order "by relevance": the model's blended suggestion while one is active."""
    return func.coalesce(items.c.suggestion, items.c.relevance)


def _require_items(conn: Connection, ids: list[int]) -> None:
    found: set[int] = set()
    for chunk in chunks(ids):
        found |= set(conn.execute(select(items.c.id).where(items.c.id.in_(chunk))).scalars())
    missing = [i for i in ids if i not in found]
    if missing:
        raise ItemNotFound(missing[0] if len(missing) == 1 else missing)


def _ensure_own_source(conn: Connection, now: dt.datetime) -> None:
    if conn.execute(select(sources.c.id).where(sources.c.id == OWN_SOURCE_ID)).first() is None:
        conn.execute(
            insert(sources).values(
                id=OWN_SOURCE_ID,
                name="Eigene Meldungen des Büros",
                institution="Europabüro",
                url="https://localhost/",
                language="de",
                kind=SourceKind.OWN.value,
                topics=[],
                options={},
                enabled=False,
                interval_minutes=10080,
                consecutive_failures=0,
                created_at=now,
                updated_at=now,
            )
        )


def _filters(q: InboxQuery, dialect: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [items.c.status.in_([s.value for s in q.statuses])]
    if q.source_id:  # any source that carried the item, not only the first
        where.append(seen_in([q.source_id]))
    if q.institution:
        where.append(seen_in(select(sources.c.id).where(sources.c.institution == q.institution)))
    if q.topic:
        where.append(items.c.id.in_(select(item_topics.c.item_id).where(
            item_topics.c.topic_id == q.topic)))  # fmt: skip
    if q.doc_type:
        where.append(items.c.doc_type == q.doc_type)
    if q.applicant:
        where.append(applicant_filter(q.applicant))
    if q.programme:
        where.append(programme_filter(q.programme))
    if q.language:
        where.append(items.c.id.in_(select(item_versions.c.item_id).where(
            item_versions.c.language == q.language)))  # fmt: skip
    if q.date_from:
        where.append(items.c.published >= dt.datetime.combine(q.date_from, dt.time(), q.tz))
    if q.date_to:
        end = dt.datetime.combine(q.date_to + dt.timedelta(days=1), dt.time(), q.tz)
        where.append(items.c.published < end)
    if q.exclude_ids:
        where.append(items.c.id.not_in(list(q.exclude_ids)))
    if q.deferred != "any" and q.deferred_at is not None:
        put_off = items.c.deferred_until > q.deferred_at
        where.append(put_off if q.deferred == "only" else or_(
            items.c.deferred_until.is_(None), not_(put_off)))  # fmt: skip
    # Items stored before migration 0011 (no reasons) were scored by older rules: they are
    # never folded away as unlikely, they count as suggestions.
    unjudged = cast(items.c.relevance_reasons, Text) == "[]"
    if q.min_relevance is not None:
        where.append(or_(_score() >= q.min_relevance, unjudged))
    if q.below_relevance is not None:
        where.append(and_(_score() < q.below_relevance, not_(unjudged)))
    words = _WORD.findall(q.text or "")[:MAX_QUERY_WORDS]
    if words:
        where.append(_full_text(words, dialect))
    return where


def _full_text(words: list[str], dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        # Each word as a quoted prefix term; FTS5 ANDs them. Quoting keeps
        # operators in user input (AND, NEAR, *, ") from being interpreted.
        match = " ".join('"' + w.replace('"', "") + '"*' for w in words)
        fts = table("items_fts", column("rowid"))
        hits = select(fts.c.rowid).where(text("items_fts MATCH :match").bindparams(match=match))
        return items.c.id.in_(hits)
    # items.search_vector: a stored tsvector column with a GIN index (migration 0004).
    vector: ColumnElement[Any] = literal_column("items.search_vector")
    query = func.plainto_tsquery(literal_column("'german'::regconfig"), " ".join(words))
    return vector.op("@@")(query)
