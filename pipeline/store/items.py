"""Items, their language versions, topics, references and deadlines.

`lookup()` tells dedupe what is already known; `apply()` writes dedupe's
decisions for one fetched source in one transaction. An item whose status is
`deleted` is a tombstone: it keeps its versions so the entry is recognised and
never comes back.

Every entry a source delivers leaves a sighting (item_sightings: item, source,
first and last seen), whatever dedupe decided: a new item, an update, an unchanged
entry, a duplicate of another source's item, or a match with a tombstone (which
stays deleted). `items.source_id` is the first source; filters by source match
any sighting.

Every entry that joined an item by a shared cross-language key (dedupe's `merged_by`:
another language version, or the same document from another channel) leaves a merge
row (item_merges: the entry's source, identity, language and link, the key and the
rule that found it); `merges(item_id)` reads them for the desk.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, insert, select, update

from pipeline.errors import InvalidInput, ItemNotFound
from pipeline.model import (
    ChangeKind,
    Classification,
    Deadline,
    Item,
    ItemChange,
    ItemMerge,
    ItemStatus,
    Known,
    KnownItem,
    KnownVersion,
    NormalizedItem,
    TopicOrigin,
)
from pipeline.store.base import upsert, wrap_errors
from pipeline.store.eligibility import write_derived
from pipeline.store.item_rows import (
    chunks,
    hydrate,
    record_sightings,
    refresh_search_text,
    seen_in,
)
from pipeline.store.items_desk import Facets, InboxQuery, ItemDeskMixin, ItemPage
from pipeline.store.schema import (
    item_deadlines,
    item_merges,
    item_references,
    item_topics,
    item_versions,
    items,
    sources,
)

__all__ = ["Facets", "InboxQuery", "ItemPage", "ItemQuery", "ItemsStore"]

T = TypeVar("T")
PREFERRED_LANGUAGE = "de"  # German first: an item shows its German version when it has one


@dataclass(frozen=True, slots=True)
class ItemQuery:
    topic: str | None = None
    since: dt.datetime | None = None
    source_id: str | None = None
    status: Collection[ItemStatus] | None = None  # None: everything but deleted
    limit: int = 100
    offset: int = 0


@dataclass(slots=True)
class ApplyCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    suppressed: int = 0


class ItemsStore(ItemDeskMixin):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ------------------------------------------------------------ ingest

    def lookup(
        self,
        identities: Collection[str],
        urls: Collection[str],
        families: Collection[str],
    ) -> Known:
        """What the store already holds for these identities, URLs and family keys."""
        by_identity: dict[str, KnownVersion] = {}
        by_url: dict[str, KnownVersion] = {}
        by_family: dict[str, list[KnownItem]] = defaultdict(list)
        cols = (
            item_versions.c.identity,
            item_versions.c.item_id,
            item_versions.c.source_id,
            item_versions.c.language,
            item_versions.c.url,
            item_versions.c.content_hash,
            items.c.status,
        )
        base = select(*cols).join(items, items.c.id == item_versions.c.item_id)
        with wrap_errors("looking up known items"), self._engine.connect() as conn:
            for chunk in chunks(identities):
                for r in conn.execute(base.where(item_versions.c.identity.in_(chunk))):
                    by_identity[r.identity] = _known_version(r)
            for chunk in chunks(urls):
                for r in conn.execute(base.where(item_versions.c.url.in_(chunk))):
                    by_url.setdefault(r.url, _known_version(r))
            for chunk in chunks(families):
                rows = conn.execute(
                    select(
                        items.c.id,
                        items.c.family,
                        items.c.status,
                        items.c.published,
                        sources.c.institution,
                        item_versions.c.language,
                    )
                    .join(sources, sources.c.id == items.c.source_id)
                    .join(item_versions, item_versions.c.item_id == items.c.id)
                    .where(items.c.family.in_(chunk))
                    .order_by(items.c.id)
                )
                grouped: dict[int, dict[str, Any]] = {}
                for row in rows:
                    g = grouped.setdefault(row.id, {"row": row, "languages": set()})
                    g["languages"].add(row.language)
                for g in grouped.values():
                    first = g["row"]
                    by_family[first.family].append(
                        KnownItem(
                            item_id=first.id,
                            family=first.family,
                            status=ItemStatus(first.status),
                            languages=frozenset(g["languages"]),
                            published=first.published,
                            institution=first.institution,
                        )
                    )
        return Known(
            by_identity=by_identity,
            by_url=by_url,
            by_family={k: tuple(v) for k, v in by_family.items()},
        )

    def apply(self, changes: Sequence[ItemChange], *, now: dt.datetime) -> ApplyCounts:
        """Write one source's ingest decisions in one transaction."""
        counts = ApplyCounts()
        touched: list[str] = []
        with wrap_errors("storing items"), self._engine.begin() as conn:
            # New items first, in bulk: they depend on nothing, and a later
            # ADD_VERSION of the same batch may join one of them (`join`).
            fresh = [(n, c) for n, c in enumerate(changes) if c.kind is ChangeKind.NEW]
            created = _insert_new(conn, fresh, now)
            counts.new = len(created)
            record_sightings(conn, _sightings(changes, created), now)
            _record_merges(conn, changes, created, now)
            for change in changes:
                kind = change.kind
                if kind is ChangeKind.ADD_VERSION:
                    item_id = created[change.join] if change.join is not None else change.item_id
                    self._add_version(conn, _require(item_id), change, now)
                    counts.updated += 1
                elif kind is ChangeKind.UPDATE:
                    self._update_version(conn, change, now)
                    counts.updated += 1
                elif kind is ChangeKind.SUPPRESSED:
                    counts.suppressed += 1
                elif kind in (ChangeKind.UNCHANGED, ChangeKind.DUPLICATE):
                    if kind is ChangeKind.UNCHANGED:
                        touched.append(change.item.identity)
                    counts.unchanged += 1
            for chunk in chunks(touched):
                conn.execute(
                    update(item_versions)
                    .where(item_versions.c.identity.in_(chunk))
                    .values(last_seen=now)
                )
        return counts

    def _add_version(
        self, conn: Connection, item_id: int, change: ItemChange, now: dt.datetime
    ) -> None:
        conn.execute(insert(item_versions), [_version_row(item_id, change.item, now)])
        _write_classification(conn, item_id, _require(change.classification), replace_auto=False)
        write_derived(conn, item_id, _require(change.classification).eligibility, now)
        _refresh_display(conn, item_id, now)
        refresh_search_text(conn, item_id)

    def _update_version(self, conn: Connection, change: ItemChange, now: dt.datetime) -> None:
        it, item_id = change.item, _require(change.item_id)
        conn.execute(
            update(item_versions)
            .where(item_versions.c.identity == it.identity)
            .values(
                title=it.title,
                url=it.url,
                summary_html=it.summary_html,
                content_hash=it.content_hash,
                last_seen=now,
            )
        )
        _write_classification(conn, item_id, _require(change.classification), replace_auto=True)
        write_derived(conn, item_id, _require(change.classification).eligibility, now)
        _refresh_display(conn, item_id, now)
        refresh_search_text(conn, item_id)

    # ------------------------------------------------------------ reading

    def list(self, query: ItemQuery = ItemQuery()) -> list[Item]:
        if not 0 < query.limit <= 10_000:
            raise InvalidInput(f"limit must be 1..10000, not {query.limit}")
        stmt = select(items).order_by(items.c.published.desc(), items.c.id.desc())
        if query.status is None:
            stmt = stmt.where(items.c.status != ItemStatus.DELETED.value)
        else:
            stmt = stmt.where(items.c.status.in_([s.value for s in query.status]))
        if query.since is not None:
            stmt = stmt.where(items.c.published >= query.since)
        if query.source_id is not None:
            stmt = stmt.where(seen_in([query.source_id]))
        if query.topic is not None:
            stmt = stmt.where(
                items.c.id.in_(
                    select(item_topics.c.item_id).where(item_topics.c.topic_id == query.topic)
                )
            )
        stmt = stmt.limit(query.limit).offset(query.offset)
        with wrap_errors("listing items"), self._engine.connect() as conn:
            rows = list(conn.execute(stmt))
            return hydrate(conn, rows)

    def get(self, item_id: int) -> Item:
        with wrap_errors(f"reading item {item_id}"), self._engine.connect() as conn:
            rows = list(conn.execute(select(items).where(items.c.id == item_id)))
            if not rows:
                raise ItemNotFound(item_id)
            return hydrate(conn, rows)[0]

    def count(self, *, include_deleted: bool = False) -> int:
        stmt = select(func.count()).select_from(items)
        if not include_deleted:
            stmt = stmt.where(items.c.status != ItemStatus.DELETED.value)
        with wrap_errors("counting items"), self._engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def merges(self, item_id: int) -> tuple[ItemMerge, ...]:
        """The entries merged into an item by a shared key, oldest first, with the rule."""
        stmt = (
            select(item_merges)
            .where(item_merges.c.item_id == item_id)
            .order_by(item_merges.c.merged_at, item_merges.c.id)
        )
        with wrap_errors(f"reading the merges of item {item_id}"), self._engine.connect() as conn:
            return tuple(
                ItemMerge(
                    item_id=r.item_id,
                    source_id=r.source_id,
                    identity=r.identity,
                    language=r.language,
                    url=r.url,
                    key=r.key,
                    rule=r.rule,
                    added_version=bool(r.added_version),
                    merged_at=r.merged_at,
                )
                for r in conn.execute(stmt)
            )

    def count_versions(self) -> int:
        with wrap_errors("counting item versions"), self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(item_versions)).scalar_one())


# ---------------------------------------------------------------- helpers


def _insert_new(
    conn: Connection, fresh: Sequence[tuple[int, ItemChange]], now: dt.datetime
) -> dict[int, int]:
    """Insert new items with their first version and classification, a few statements
    for the whole batch. Returns decision number → item id."""
    if not fresh:
        return {}
    rows = []
    for _, change in fresh:
        it, cl = change.item, _require(change.classification)
        rows.append(
            {
                "source_id": it.source_id,
                "title": it.title,
                "url": it.url,
                "summary_html": it.summary_html,
                "language": it.language,
                "published": it.published,
                "fetched_at": now,
                "updated_at": now,
                "doc_type": cl.doc_type.value,
                "status": ItemStatus.NEW.value,
                "relevance": cl.relevance,
                "relevance_reasons": list(cl.relevance_reasons),
                "family": it.family,
                "search_text": f"{it.title}\n{it.summary_text}",
            }
        )
    ids = (
        conn.execute(insert(items).returning(items.c.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    created = {n: int(item_id) for (n, _), item_id in zip(fresh, ids, strict=True)}
    versions, topic_rows, ref_rows, deadline_rows = [], [], [], []
    for (_, change), item_id in zip(fresh, ids, strict=True):
        cl = _require(change.classification)
        versions.append(_version_row(item_id, change.item, now))
        topic_rows += [
            {"item_id": item_id, "topic_id": t.topic_id, "confidence": t.confidence,
             "origin": t.origin.value}
            for t in {t.topic_id: t for t in reversed(cl.topics)}.values()
        ]  # fmt: skip
        ref_rows += [
            {"item_id": item_id, "reference": ref[:200], "position": i}
            for i, ref in enumerate(dict.fromkeys(r[:200] for r in cl.references))
        ]
        deadline_rows += [
            {"item_id": item_id, "date": d.date, "kind": d.kind.value, "label": d.label[:300]}
            for d in {(d.date, d.kind): d for d in reversed(cl.deadlines)}.values()
        ]
    for table, batch in (
        (item_versions, versions),
        (item_topics, topic_rows),
        (item_references, ref_rows),
        (item_deadlines, deadline_rows),
    ):
        if batch:
            conn.execute(insert(table), batch)
    for (_, change), item_id in zip(fresh, ids, strict=True):
        write_derived(conn, item_id, _require(change.classification).eligibility, now)
    return created


def _sightings(changes: Sequence[ItemChange], created: dict[int, int]) -> list[tuple[int, str]]:
    """(item id, source id) for every decision that names its item.

    Only a repeat of an identity within one batch names none: its first occurrence,
    from the same source, already leaves the sighting.
    """
    pairs = []
    for n, change in enumerate(changes):
        if change.kind is ChangeKind.NEW:
            item_id: int | None = created[n]
        elif change.join is not None:
            item_id = created[change.join]
        else:
            item_id = change.item_id
        if item_id is not None:
            pairs.append((item_id, change.item.source_id))
    return pairs


def _record_merges(
    conn: Connection, changes: Sequence[ItemChange], created: dict[int, int], now: dt.datetime
) -> None:
    """One row per entry that joined an item by its family key (dedupe's `merged_by`):
    which item, which entry, the key and the rule. An entry seen again adds nothing."""
    rows = []
    for change in changes:
        if not change.merged_by or change.kind not in (
            ChangeKind.ADD_VERSION,
            ChangeKind.DUPLICATE,
        ):
            continue
        item_id = created[change.join] if change.join is not None else change.item_id
        it = change.item
        if item_id is None or it.family is None:
            continue
        rows.append(
            {
                "item_id": item_id,
                "identity": it.identity,
                "source_id": it.source_id,
                "language": it.language,
                "url": it.url,
                "key": it.family,
                "rule": change.merged_by[:64],
                "added_version": change.kind is ChangeKind.ADD_VERSION,
                "merged_at": now,
            }
        )
    if rows:
        stmt = upsert(conn, item_merges).on_conflict_do_nothing(
            index_elements=[item_merges.c.item_id, item_merges.c.identity]
        )
        conn.execute(stmt, rows)


def _version_row(item_id: int, it: NormalizedItem, now: dt.datetime) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "identity": it.identity,
        "source_id": it.source_id,
        "language": it.language,
        "title": it.title,
        "url": it.url,
        "summary_html": it.summary_html,
        "content_hash": it.content_hash,
        "first_seen": now,
        "last_seen": now,
    }


def _require(value: T | None) -> T:
    if value is None:
        raise ValueError("an item change is missing a required part")
    return value


def _known_version(r: Any) -> KnownVersion:
    return KnownVersion(
        identity=r.identity,
        item_id=r.item_id,
        source_id=r.source_id,
        language=r.language,
        url=r.url,
        content_hash=r.content_hash,
        item_status=ItemStatus(r.status),
    )


def _write_classification(
    conn: Connection, item_id: int, cl: Classification, *, replace_auto: bool
) -> None:
    """Merge a classification into an item.

    Topics: staff-confirmed assignments are never touched; auto ones take the higher
    confidence of old and new (or the new ones only, when the entry itself changed).
    References and deadlines are merged; relevance and doc type follow the newest
    evidence but never drop below what another language version gave.
    """
    existing = {
        r.topic_id: r
        for r in conn.execute(select(item_topics).where(item_topics.c.item_id == item_id))
    }
    if replace_auto:
        auto = [t for t, r in existing.items() if r.origin == TopicOrigin.AUTO.value]
        if auto:
            conn.execute(
                delete(item_topics).where(
                    and_(item_topics.c.item_id == item_id, item_topics.c.topic_id.in_(auto))
                )
            )
            for t in auto:
                existing.pop(t)
    inserts, raises = [], []
    for t in cl.topics:
        old = existing.get(t.topic_id)
        if old is None:
            inserts.append(
                {
                    "item_id": item_id,
                    "topic_id": t.topic_id,
                    "confidence": t.confidence,
                    "origin": t.origin.value,
                }
            )
        elif old.origin == TopicOrigin.AUTO.value and t.confidence > old.confidence:
            raises.append({"b_item": item_id, "b_topic": t.topic_id, "b_conf": t.confidence})
    if inserts:
        conn.execute(insert(item_topics), inserts)
    if raises:
        conn.execute(
            update(item_topics)
            .where(
                and_(
                    item_topics.c.item_id == bindparam("b_item"),
                    item_topics.c.topic_id == bindparam("b_topic"),
                )
            )
            .values(confidence=bindparam("b_conf")),
            raises,
        )
    known_refs = set(
        conn.execute(
            select(item_references.c.reference).where(item_references.c.item_id == item_id)
        ).scalars()
    )
    new_refs = [r for r in dict.fromkeys(cl.references) if r not in known_refs]
    if new_refs:
        start = len(known_refs)
        conn.execute(
            insert(item_references),
            [
                {"item_id": item_id, "reference": ref[:200], "position": start + i}
                for i, ref in enumerate(new_refs)
            ],
        )
    known_deadlines = {
        (r.date, r.kind)
        for r in conn.execute(
            select(item_deadlines.c.date, item_deadlines.c.kind).where(
                item_deadlines.c.item_id == item_id
            )
        )
    }
    fresh: dict[tuple[dt.date, str], Deadline] = {}
    for d in cl.deadlines:
        key = (d.date, d.kind.value)
        if key not in known_deadlines:
            fresh.setdefault(key, d)
    if fresh:
        conn.execute(
            insert(item_deadlines),
            [
                {"item_id": item_id, "date": d.date, "kind": d.kind.value, "label": d.label[:300]}
                for d in fresh.values()
            ],
        )
    # The reasons go with the score they explain: the new ones when it is at least as high
    # (or nothing was explained before), else the stored ones stay.
    old = conn.execute(
        select(items.c.relevance, items.c.relevance_reasons).where(items.c.id == item_id)
    ).first()
    explained = old is not None and bool(old.relevance_reasons) and old.relevance > cl.relevance
    conn.execute(
        update(items)
        .where(items.c.id == item_id)
        .values(
            relevance=func.max(items.c.relevance, cl.relevance)
            if conn.dialect.name == "sqlite"
            else func.greatest(items.c.relevance, cl.relevance),
            doc_type=cl.doc_type.value,
            **({} if explained else {"relevance_reasons": list(cl.relevance_reasons)}),
        )
    )


def _refresh_display(conn: Connection, item_id: int, now: dt.datetime) -> None:
    """Show the item in its preferred-language version (German first), else its first one."""
    versions = list(
        conn.execute(
            select(item_versions)
            .where(item_versions.c.item_id == item_id)
            .order_by(item_versions.c.id)
        )
    )
    chosen = next((v for v in versions if v.language == PREFERRED_LANGUAGE), versions[0])
    conn.execute(
        update(items)
        .where(items.c.id == item_id)
        .values(
            title=chosen.title,
            url=chosen.url,
            summary_html=chosen.summary_html,
            language=chosen.language,
            updated_at=now,
        )
    )
