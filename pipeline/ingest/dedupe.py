"""Decide what each incoming entry is: new, an update, a language version, or known.

Pure: no I/O. `run_ingest` asks the store what it knows (`Known`) and hands
the entries of one source here; the store then writes the decisions.

Identity, in this order:
1. the entry's own identity (guid → link → content hash, made by normalize):
   known and its content hash equal → UNCHANGED; hash differs → UPDATE;
2. its canonical URL, published by another source → DUPLICATE (one item).
   Within one source the publisher's own ids decide: two entries with different
   guids are two items even when they share a link (some feeds give every entry
   the same placeholder link), and entries without guids share the link identity;
3. its family key (a cross-language key from its link by normalize.TWIN_RULES: the press
   corner number "IP/26/1692", the EP's "EP:20260713IPR46512", "CELEX:32024R1234"…; or a
   press number or procedure reference "2025/0123(COD)" in its text) on an item that lacks
   this language → ADD_VERSION. Such a key names one document: the same language again is
   a DUPLICATE. Both are merges: the decision names the rule (`merged_by`), and the store
   records which entry joined which item, by which key and rule.
   A procedure reference names a file with many documents, so it only merges
   another language version from the same institution published within
   `PROCEDURE_WINDOW`; anything else is a NEW item.
An item that staff deleted is a tombstone: every match with it is SUPPRESSED.

Every decision names the item it is about (`item_id`, or `join` for an item made
earlier in the same batch), whoever brought that item first: the store records that
this source carried it (a sighting), so a filter by source finds it under every
source. Only a repeat of an identity within one batch names none; its first
occurrence, from the same source, stands for it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.model import (
    ChangeKind,
    Classification,
    ItemChange,
    ItemStatus,
    Known,
    KnownItem,
    NormalizedItem,
)

PROCEDURE_WINDOW = dt.timedelta(days=3)
_PROCEDURE_RE = re.compile(r"^\d{4}/\d{4}\([A-Z]{3}\)$")


@dataclass(frozen=True, slots=True)
class Incoming:
    item: NormalizedItem
    classification: Classification


def decide(incoming: Sequence[Incoming], known: Known, *, institution: str) -> list[ItemChange]:
    """One decision per incoming entry, in order. Later entries see earlier decisions."""
    decisions: list[ItemChange] = []
    seen: set[str] = set()  # identities of this batch (one source)
    batch_family: dict[str, list[KnownItem]] = {}  # NEW items of this batch, by family
    for entry in incoming:
        it, cl = entry.item, entry.classification
        if it.identity in seen:
            decisions.append(ItemChange(ChangeKind.DUPLICATE, it))
            continue
        seen.add(it.identity)
        change = _decide_one(it, cl, known, institution)
        if change.kind is ChangeKind.NEW and it.family is not None:
            # Another language of an item that is itself new in this batch: join it.
            match = _family_match(it, batch_family.get(it.family, ()), institution)
            if match is not None:
                target, kind = match
                change = ItemChange(kind, it, cl, join=-target.item_id - 1, merged_by=_rule_of(it))
            else:
                batch_family.setdefault(it.family, []).append(
                    KnownItem(
                        item_id=-len(decisions) - 1,  # stands for "decision number n"
                        family=it.family,
                        status=ItemStatus.NEW,
                        languages=frozenset({it.language}),
                        published=it.published,
                        institution=institution,
                    )
                )
        decisions.append(change)
    return decisions


def _decide_one(
    it: NormalizedItem, cl: Classification, known: Known, institution: str
) -> ItemChange:
    version = known.by_identity.get(it.identity)
    if version is not None:
        if version.item_status is ItemStatus.DELETED:
            return ItemChange(ChangeKind.SUPPRESSED, it, item_id=version.item_id)
        if version.content_hash == it.content_hash:
            return ItemChange(ChangeKind.UNCHANGED, it, item_id=version.item_id)
        return ItemChange(ChangeKind.UPDATE, it, cl, item_id=version.item_id)

    same_url = known.by_url.get(it.url) if it.url else None
    if same_url is not None and same_url.source_id != it.source_id:
        deleted = same_url.item_status is ItemStatus.DELETED
        kind = ChangeKind.SUPPRESSED if deleted else ChangeKind.DUPLICATE
        return ItemChange(kind, it, item_id=same_url.item_id)

    if it.family is not None:
        match = _family_match(it, known.by_family.get(it.family, ()), institution)
        if match is not None:
            target, kind = match
            if target.status is ItemStatus.DELETED:
                return ItemChange(ChangeKind.SUPPRESSED, it, cl, item_id=target.item_id)
            return ItemChange(kind, it, cl, item_id=target.item_id, merged_by=_rule_of(it))
    return ItemChange(ChangeKind.NEW, it, cl)


def _rule_of(it: NormalizedItem) -> str:
    return it.family_rule or "family"


def is_procedure(family: str) -> bool:
    return bool(_PROCEDURE_RE.match(family))


def _family_match(
    it: NormalizedItem, candidates: Iterable[KnownItem], institution: str
) -> tuple[KnownItem, ChangeKind] | None:
    """The item this entry is another language version (or a copy) of, if any."""
    procedure = is_procedure(it.family or "")
    duplicate: tuple[KnownItem, ChangeKind] | None = None
    for cand in candidates:
        if procedure:
            if (
                cand.institution == institution
                and it.language not in cand.languages
                and abs(cand.published - it.published) <= PROCEDURE_WINDOW
            ):
                return cand, ChangeKind.ADD_VERSION
        elif it.language not in cand.languages:
            return cand, ChangeKind.ADD_VERSION
        elif duplicate is None:
            duplicate = (cand, ChangeKind.DUPLICATE)
    return duplicate
