"""Dedupe decides; it never touches the store. These tests feed it `Known` by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from pipeline.ingest.dedupe import Incoming, decide, is_procedure
from pipeline.model import (
    ChangeKind,
    Classification,
    DocType,
    ItemStatus,
    Known,
    KnownItem,
    KnownVersion,
    NormalizedItem,
)

T0 = dt.datetime(2026, 7, 27, 9, 0, tzinfo=dt.UTC)
CL = Classification((), DocType.OTHER, (), (), 0.0)
EP = "European Parliament"


def item(
    ident: str,
    *,
    url: str | None = None,
    family: str | None = None,
    lang: str = "en",
    h: str = "h1",
    published: dt.datetime = T0,
) -> NormalizedItem:
    return NormalizedItem(
        source_id="s",
        identity=ident,
        title="t",
        url=url,
        summary_html="",
        summary_text="",
        language=lang,
        published=published,
        updated=None,
        content_hash=h,
        family=family,
    )


def known(
    *, versions: tuple[KnownVersion, ...] = (), families: tuple[KnownItem, ...] = ()
) -> Known:
    return Known(
        by_identity={v.identity: v for v in versions},
        by_url={v.url: v for v in versions if v.url},
        by_family={f.family: (f,) for f in families},
    )


def version(
    ident: str,
    *,
    item_id: int = 1,
    url: str | None = None,
    h: str = "h1",
    status: ItemStatus = ItemStatus.NEW,
    source: str = "other",
) -> KnownVersion:
    return KnownVersion(ident, item_id, source, "en", url, h, status)


def kinds(incoming: list[NormalizedItem], k: Known, institution: str = EP) -> list[ChangeKind]:
    return [c.kind for c in decide([Incoming(i, CL) for i in incoming], k, institution=institution)]


def test_unknown_is_new_and_known_is_unchanged_or_updated() -> None:
    k = known(versions=(version("url:a"),))
    assert kinds([item("url:b")], k) == [ChangeKind.NEW]
    assert kinds([item("url:a")], k) == [ChangeKind.UNCHANGED]
    assert kinds([item("url:a", h="h2")], k) == [ChangeKind.UPDATE]


def test_twice_in_one_batch_is_a_duplicate_but_own_guids_win_over_a_shared_link() -> None:
    twice = [
        item("hash:s:1"),
        item("hash:s:1"),
        item("url:https://x/p=1", url="https://x/placeholder"),
        item("url:https://x/p=2", url="https://x/placeholder"),
    ]
    assert kinds(twice, known()) == [
        ChangeKind.NEW,
        ChangeKind.DUPLICATE,
        ChangeKind.NEW,
        ChangeKind.NEW,
    ]


def test_same_url_from_another_source_is_a_duplicate_from_the_same_source_not() -> None:
    k = known(versions=(version("guid:other:9", url="https://x/1"),))
    assert kinds([item("guid:s:1", url="https://x/1")], k) == [ChangeKind.DUPLICATE]
    mine = known(versions=(version("url:https://x/p=9", url="https://x/1", source="s"),))
    assert kinds([item("url:https://x/p=1", url="https://x/1")], mine) == [ChangeKind.NEW]


def test_deleted_items_are_suppressed_by_every_route() -> None:
    gone = version("url:a", url="https://x/a", status=ItemStatus.DELETED)
    fam = KnownItem(1, "IP/26/1", ItemStatus.DELETED, frozenset({"en"}), T0, EP)
    k = known(versions=(gone,), families=(fam,))
    assert kinds([item("url:a", h="changed")], k) == [ChangeKind.SUPPRESSED]
    assert kinds([item("guid:s:z", url="https://x/a")], k) == [ChangeKind.SUPPRESSED]
    assert kinds([item("url:de", family="IP/26/1", lang="de")], k) == [ChangeKind.SUPPRESSED]


def test_press_number_joins_another_language_and_dedupes_the_same_one() -> None:
    fam = KnownItem(5, "IP/26/1692", ItemStatus.NEW, frozenset({"en"}), T0, "European Commission")
    k = known(families=(fam,))
    changes = decide(
        [Incoming(item("url:de", family="IP/26/1692", lang="de"), CL)], k, institution="x"
    )
    assert (changes[0].kind, changes[0].item_id) == (ChangeKind.ADD_VERSION, 5)
    assert kinds([item("url:en2", family="IP/26/1692", lang="en")], k) == [ChangeKind.DUPLICATE]


def test_procedure_reference_merges_only_a_close_other_language_of_the_same_institution() -> None:
    fam = KnownItem(5, "2025/0123(COD)", ItemStatus.NEW, frozenset({"en"}), T0, EP)
    k = known(families=(fam,))
    de = item("url:de", family="2025/0123(COD)", lang="de", published=T0 + dt.timedelta(hours=2))
    assert kinds([de], k) == [ChangeKind.ADD_VERSION]
    # Another English document on the same file is news of its own, not a duplicate.
    assert kinds([item("url:en2", family="2025/0123(COD)")], k) == [ChangeKind.NEW]
    # The Council on the same procedure, or a German text weeks later: new items.
    assert kinds([de], k, institution="Council of the EU") == [ChangeKind.NEW]
    late = replace(de, published=T0 + dt.timedelta(days=30))
    assert kinds([late], k) == [ChangeKind.NEW]
    assert is_procedure("2025/0123(COD)") and not is_procedure("IP/26/1")


def test_languages_in_one_batch_join_the_item_made_in_that_batch() -> None:
    batch = [item("url:en", family="IP/26/7"), item("url:de", family="IP/26/7", lang="de")]
    changes = decide([Incoming(i, CL) for i in batch], known(), institution=EP)
    assert [c.kind for c in changes] == [ChangeKind.NEW, ChangeKind.ADD_VERSION]
    assert changes[1].join == 0


def test_every_decision_names_its_item_so_the_source_is_recorded_as_carrying_it() -> None:
    # The store records a sighting (this source carried that item) from the item each
    # decision names: `item_id`, or `join` for an item made earlier in the same batch.
    fam = KnownItem(7, "IP/26/7", ItemStatus.NEW, frozenset({"en"}), T0, EP)
    gone = version("url:gone", item_id=9, status=ItemStatus.DELETED)
    k = known(
        versions=(
            version("url:a", item_id=1),
            version("guid:o:2", item_id=2, url="https://x/2"),
            gone,
        ),
        families=(fam,),
    )
    batch = [
        item("url:a"),  # the very entry another source brought first (a repeated file)
        item("url:a"),  # ... twice in this feed: its first occurrence speaks for it
        item("guid:s:2", url="https://x/2"),  # another source's entry, by its link
        item("url:7en", family="IP/26/7"),  # the same press release again
        item("url:7de", family="IP/26/7", lang="de"),  # another language of it
        item("url:gone"),  # a tombstone: seen, and still suppressed
        item("url:new", family="IP/26/8"),
        item("url:new2", family="IP/26/8"),  # the same press release within this batch
    ]
    changes = decide([Incoming(i, CL) for i in batch], k, institution=EP)
    assert [(c.kind, c.item_id, c.join) for c in changes] == [
        (ChangeKind.UNCHANGED, 1, None),
        (ChangeKind.DUPLICATE, None, None),
        (ChangeKind.DUPLICATE, 2, None),
        (ChangeKind.DUPLICATE, 7, None),
        (ChangeKind.ADD_VERSION, 7, None),
        (ChangeKind.SUPPRESSED, 9, None),
        (ChangeKind.NEW, None, None),
        (ChangeKind.DUPLICATE, None, 6),
    ]
    assert kinds([item("url:a", h="changed")], k) == [ChangeKind.UPDATE]


def test_a_merge_names_the_rule_that_found_its_key() -> None:
    # The store records every merge with its key and rule: the decision carries the rule.
    fam = KnownItem(7, "EP:20260713IPR46512", ItemStatus.NEW, frozenset({"en"}), T0, EP)
    de = replace(
        item("url:de", family="EP:20260713IPR46512", lang="de"), family_rule="ep_news_reference"
    )
    en_again = replace(de, identity="url:en2", language="en")
    plain = item("url:plain")
    changes = decide(
        [Incoming(i, CL) for i in (de, en_again, plain)], known(families=(fam,)), institution=EP
    )
    assert [(c.kind, c.item_id, c.merged_by) for c in changes] == [
        (ChangeKind.ADD_VERSION, 7, "ep_news_reference"),
        (ChangeKind.DUPLICATE, 7, "ep_news_reference"),
        (ChangeKind.NEW, None, ""),
    ]


def test_a_merge_within_one_batch_names_its_rule_and_a_tombstone_is_no_merge() -> None:
    en = replace(item("url:en", family="CELEX:32024R1234"), family_rule="eurlex_celex")
    de = replace(en, identity="url:de", language="de")
    changes = decide([Incoming(en, CL), Incoming(de, CL)], known(), institution=EP)
    assert [(c.kind, c.join, c.merged_by) for c in changes] == [
        (ChangeKind.NEW, None, ""),
        (ChangeKind.ADD_VERSION, 0, "eurlex_celex"),
    ]
    gone = KnownItem(3, "CELEX:32024R1234", ItemStatus.DELETED, frozenset({"en"}), T0, EP)
    (change,) = decide([Incoming(de, CL)], known(families=(gone,)), institution=EP)
    assert (change.kind, change.merged_by) == (ChangeKind.SUPPRESSED, "")
