"""Who gets what: an edition's items per subscriber, grouped into segments (pure).

A subscriber receives the edition's items that
- match one of their topics (no topics chosen = all topics; an item without any
  topic is general news and goes to everyone), and
- are meant for their organisation type, where the annotation names audiences
  (no audiences = for everyone; "Sonstige" gets only items for everyone).
Only confirmed subscribers of this newsletter count. Each item appears once (its
first place in the edition); sections keep their order and empty ones are left
out; a subscriber with nothing to read gets nothing. Subscribers with identical
content and language form one Segment, rendered once.

News of followed dossiers ("Neues in Ihren Verfahren", `news`: subscriber id → the
blocks, planned by the sender) is content too: the segment key then carries
(dossier id, event ids…) per dossier, so readers with different news get different
segments, each distinct block rendered once; a reader with news but no items gets a
digest of the block alone. Readers without news keep the key they always had.

Funding calls that say who may apply (issue 17) order a section by the reader's kind of
applicant (model/eligibility.applicant_of): where the segment has such calls, the key
ends with ("eligible", ((call id, may apply)…)), so readers who may apply for the same
calls share a segment, and the segment carries their `applicant`. Readers of editions
without such calls keep the key they always had.

Corrections a reader's digest carries ("Korrektur", `corrections`: subscriber id → the
notes, frozen by the sender) are content the same way: the key then ends with the
correction ids; a reader with a correction but nothing else gets the block alone.

How: each item is a bit; a topic, an audience and the untagged items are bit
masks, so a subscriber's content is one OR/AND over at most ~20 masks, cached
per topic set. Grouping is a dict on (language, mask).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.model import (
    CorrectionNote,
    DocType,
    DossierNews,
    Item,
    OrgType,
    Reach,
    ReaderProfile,
    Segment,
    SegmentKey,
    Subscriber,
    SubscriberStatus,
)
from pipeline.model.eligibility import Applicant, applicant_of

SectionInput = tuple[str, Sequence[Item]]


def item_topics(item: Item) -> frozenset[str]:
    return frozenset(t.topic_id for t in item.topics)


def item_audiences(item: Item) -> frozenset[str]:
    """The org types an item is for; empty: everyone."""
    if item.annotation is None:
        return frozenset()
    return frozenset(a.value for a in item.annotation.audiences)


def wants(subscriber: Subscriber, item: Item) -> bool:
    """The rule for one subscriber and one item (what resolve_segments computes in bulk)."""
    topics = item_topics(item)
    audiences = item_audiences(item)
    topic_ok = not subscriber.topics or not topics or bool(topics & set(subscriber.topics))
    return topic_ok and (not audiences or subscriber.org_type.value in audiences)


def receives(subscriber: Subscriber, newsletter_id: str) -> bool:
    """Only a confirmed subscriber of this newsletter gets an edition of it."""
    return (
        subscriber.status is SubscriberStatus.CONFIRMED and newsletter_id in subscriber.newsletters
    )


def _placed(edition_sections: Sequence[SectionInput]) -> list[tuple[int, Item]]:
    """(section index, item) in edition order, each item once (its first place)."""
    placed: list[tuple[int, Item]] = []
    seen: set[int] = set()
    for index, (_, items) in enumerate(edition_sections):
        for item in items:
            if item.id not in seen:
                seen.add(item.id)
                placed.append((index, item))
    return placed


class _Masks:
    """The edition's items as bits: all of them, the untagged ones, per topic, and per
    organisation type the items meant for it (audiences)."""

    def __init__(self, placed: Sequence[tuple[int, Item]]) -> None:
        self.everything = (1 << len(placed)) - 1
        self.untagged = 0
        self.by_topic: dict[str, int] = {}
        restricted = 0
        by_audience: dict[str, int] = {}
        for bit, (_, item) in enumerate(placed):
            flag = 1 << bit
            topics = item_topics(item)
            if not topics:
                self.untagged |= flag
            for topic in topics:
                self.by_topic[topic] = self.by_topic.get(topic, 0) | flag
            audiences = item_audiences(item)
            if audiences:
                restricted |= flag
            for audience in audiences:
                by_audience[audience] = by_audience.get(audience, 0) | flag
        for_all = self.everything & ~restricted
        self.audience = {o: for_all | by_audience.get(o.value, 0) for o in OrgType}

    def of(self, topics: Sequence[str], org_type: OrgType) -> int:
        """The items a reader with these topics and this organisation type gets."""
        mask = self.everything
        if topics:
            mask = self.untagged
            for topic in topics:
                mask |= self.by_topic.get(topic, 0)
        return mask & self.audience[org_type]


def _calls(placed: Sequence[tuple[int, Item]]) -> list[tuple[int, Item]]:
    """(bit, item) of the funding calls that say who may apply: they order a section by
    the reader's kind of applicant, so they split segments."""
    return [
        (bit, item)
        for bit, (_, item) in enumerate(placed)
        if item.doc_type is DocType.FUNDING_CALL
        and item.eligibility is not None
        and item.eligibility.applicants
    ]


def _eligible(
    calls: Sequence[tuple[int, Item]], mask: int, kind: Applicant | None
) -> tuple[tuple[int, bool], ...]:
    """(call id, may apply) for the calls in `mask`: part of the segment key."""
    if kind is None:
        return ()
    return tuple(
        (item.id, item.eligibility.open_to(kind) is True)
        for bit, item in calls
        if mask >> bit & 1 and item.eligibility is not None
    )


def reach_of(edition_sections: Sequence[SectionInput], profiles: Iterable[ReaderProfile]) -> Reach:
    """What `resolve_segments` would give for the confirmed readers (dossier news and
    corrections aside), counted from their profiles: readers, distinct renderings,
    readers who get nothing. The preflight's figure without loading every reader:
    readers with the same language, organisation type and topics count as one row."""
    placed = _placed(edition_sections)
    masks = _Masks(placed)
    calls = _calls(placed)
    cache: dict[tuple[tuple[str, ...], OrgType], int] = {}
    readers = getting = 0
    variants: set[tuple[str, int, tuple[tuple[int, bool], ...]]] = set()
    for p in profiles:
        readers += p.count
        key = (p.topics, p.org_type)
        mask = cache.get(key)
        if mask is None:
            mask = cache[key] = masks.of(p.topics, p.org_type)
        if mask:
            getting += p.count
            eligible = _eligible(calls, mask, applicant_of(p.applicant, p.org_type))
            variants.add((p.language, mask, eligible))
    return Reach(readers=readers, variants=len(variants), nothing=readers - getting)


def resolve_segments(
    edition_sections: Sequence[SectionInput],
    subscribers: Iterable[Subscriber],
    newsletter_id: str,
    news: Mapping[int, tuple[DossierNews, ...]] | None = None,
    corrections: Mapping[int, tuple[CorrectionNote, ...]] | None = None,
) -> list[Segment]:
    """The segments of an edition, in the order their first subscriber came."""
    titles = [title for title, _ in edition_sections]
    placed = _placed(edition_sections)
    masks = _Masks(placed)
    everything, untagged, by_topic = masks.everything, masks.untagged, masks.by_topic
    audience_mask = masks.audience
    calls = _calls(placed)

    topic_cache: dict[tuple[str, ...], int] = {}
    groups: dict[
        tuple[str, int, tuple[tuple[int, ...], ...], tuple[int, ...], tuple[Any, ...]],
        list[Subscriber],
    ] = {}
    kinds: dict[tuple[Any, ...], Applicant | None] = {}
    blocks: dict[tuple[tuple[int, ...], ...], tuple[DossierNews, ...]] = {}
    notes: dict[tuple[int, ...], tuple[CorrectionNote, ...]] = {}
    done: set[int] = set()
    for subscriber in subscribers:
        if subscriber.id in done or not receives(subscriber, newsletter_id):
            continue
        done.add(subscriber.id)
        mask = topic_cache.get(subscriber.topics)
        if mask is None:
            mask = everything
            if subscriber.topics:
                mask = untagged
                for topic in subscriber.topics:
                    mask |= by_topic.get(topic, 0)
            topic_cache[subscriber.topics] = mask
        mask &= audience_mask[subscriber.org_type]
        mine = news.get(subscriber.id, ()) if news else ()
        block = tuple((n.dossier_id, *n.event_ids) for n in mine if n.event_ids)
        if block:
            blocks.setdefault(block, tuple(n for n in mine if n.event_ids))
        mine_fixes = corrections.get(subscriber.id, ()) if corrections else ()
        fixes = tuple(sorted(mine_fixes, key=lambda n: n.correction_id))
        fixed = tuple(n.correction_id for n in fixes)
        if fixed:
            notes.setdefault(fixed, fixes)
        kind = applicant_of(subscriber.applicant, subscriber.org_type)
        eligible = _eligible(calls, mask, kind)
        kinds.setdefault(eligible, kind)
        if mask or block or fixed:
            groups.setdefault((subscriber.language, mask, block, fixed, eligible), []).append(
                subscriber
            )

    segments = []
    for (language, mask, block, fixed, eligible), members in groups.items():
        per_section: list[list[Item]] = [[] for _ in titles]
        for bit, (index, item) in enumerate(placed):
            if mask >> bit & 1:
                per_section[index].append(item)
        content = tuple(tuple(i.id for i in s) for s in per_section)
        key: SegmentKey = (language, content, block) if block else (language, content)
        if fixed:
            key = (language, content, block, fixed)
        if eligible:
            key = (*key, ("eligible", eligible))
        segments.append(
            Segment(
                newsletter_id=newsletter_id,
                language=language,
                sections=tuple(
                    (titles[n], tuple(items)) for n, items in enumerate(per_section) if items
                ),
                subscribers=tuple(members),
                key=key,
                dossiers=blocks.get(block, ()),
                corrections=notes.get(fixed, ()),
                applicant=kinds[eligible] if eligible else None,
            )
        )
    return segments
