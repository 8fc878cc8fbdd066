"""Every merge by a shared cross-language key is recorded with its entry, key and rule
(item_merges, migration 0016), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from pipeline.model import ChangeKind, Source, SourceKind
from pipeline.store import Store
from tests.store.test_items_and_sources import NOW, SRC_DE, SRC_EN, SRC_MIRROR, ingest, norm

LATER = NOW + dt.timedelta(hours=2)
RULE = "presscorner_number"


@pytest.fixture
def ready(store: Store) -> Store:
    store.sources.register([SRC_EN, SRC_DE, SRC_MIRROR], now=NOW)
    return store


def test_a_german_version_from_another_source_is_recorded_with_its_reason(ready: Store) -> None:
    ingest(ready, [norm(7, family_rule=RULE)])
    de = norm(7, language="de", source="pc-de", family_rule=RULE)
    changes, _ = ingest(ready, [de], now=LATER)
    assert [(c.kind, c.merged_by) for c in changes] == [(ChangeKind.ADD_VERSION, RULE)]
    (item,) = ready.items.list()
    assert item.languages == ("de", "en")
    (merge,) = ready.items.merges(item.id)
    assert (merge.item_id, merge.source_id, merge.identity, merge.language, merge.url) == (
        item.id, "pc-de", de.identity, "de", de.url,
    )  # fmt: skip
    assert (merge.key, merge.rule, merge.added_version, merge.merged_at) == (
        "IP/26/7", RULE, True, LATER,
    )  # fmt: skip
    assert merge.reason_de == "gleiche Pressemitteilungsnummer IP/26/7 im Link"
    # Seen again (unchanged): nothing new to record.
    ingest(ready, [de], now=LATER + dt.timedelta(hours=1))
    assert len(ready.items.merges(item.id)) == 1


def test_the_same_document_from_another_channel_is_recorded_once(ready: Store) -> None:
    ingest(ready, [norm(4, family_rule=RULE)])
    copy = replace(
        norm(4, source="mirror", family_rule=RULE),
        identity="guid:mirror:4",
        url="https://mirror.example/4",
    )
    for n in range(2):  # a duplicate is decided again at every fetch
        changes, _ = ingest(ready, [copy], now=LATER + dt.timedelta(hours=n))
        assert [c.kind for c in changes] == [ChangeKind.DUPLICATE]
    (item,) = ready.items.list()
    (merge,) = ready.items.merges(item.id)
    assert (merge.source_id, merge.identity, merge.added_version, merge.merged_at) == (
        "mirror", "guid:mirror:4", False, LATER,
    )  # fmt: skip
    assert item.languages == ("en",)  # not stored as a version


def test_a_join_within_one_batch_is_recorded_and_plain_items_have_none(ready: Store) -> None:
    ingest(ready, [norm(8, family_rule=RULE), norm(8, language="de", family_rule=RULE), norm(9)])
    by_family = {i.family: i for i in ready.items.list()}
    (merge,) = ready.items.merges(by_family["IP/26/8"].id)
    assert (merge.language, merge.source_id, merge.added_version) == ("de", "pc-en", True)
    assert ready.items.merges(by_family["IP/26/9"].id) == ()
    assert ready.items.merges(999_999) == ()


def test_a_merge_keeps_naming_a_source_no_longer_configured(ready: Store) -> None:
    # Sources leave sources.yaml but stay registered: the merge still names them.
    other = Source("ep-de", "EP", "EP", "https://x.test/ep", "de", SourceKind.FEED)
    ready.sources.register([other], now=NOW)
    ingest(ready, [norm(5, family_rule=RULE)])
    ingest(ready, [norm(5, language="de", source="ep-de", family_rule=RULE)])
    ready.sources.register([SRC_EN], now=NOW)
    (item,) = ready.items.list()
    assert [m.source_id for m in ready.items.merges(item.id)] == ["ep-de"]
