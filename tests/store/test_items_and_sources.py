"""The store on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.errors import ItemNotFound, SourceNotFound, StoreError
from pipeline.ingest.dedupe import Incoming, decide
from pipeline.model import (
    ChangeKind,
    Classification,
    Deadline,
    DeadlineKind,
    DocType,
    ItemStatus,
    NormalizedItem,
    Source,
    SourceKind,
    Taxonomy,
    Topic,
    TopicAssignment,
    TopicOrigin,
)
from pipeline.store import Store
from pipeline.store.items import InboxQuery, ItemQuery

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
SRC_EN = Source(
    "pc-en", "Press corner EN", "European Commission", "https://x.test/en", "en", SourceKind.FEED
)
SRC_DE = Source(
    "pc-de", "Press corner DE", "European Commission", "https://x.test/de", "de", SourceKind.FEED
)


def norm(n: int, *, language: str = "en", source: str = "pc-en", **kw: object) -> NormalizedItem:
    values: dict[str, object] = dict(
        source_id=source,
        identity=f"url:https://ec.europa.eu/commission/presscorner/detail/{language}/ip_26_{n}",
        title=f"Pressemitteilung Nummer {n} – Förderung für Straßenbahnen"
        if language == "de"
        else f"Press release {n}",
        url=f"https://ec.europa.eu/commission/presscorner/detail/{language}/ip_26_{n}",
        summary_html="<p>Text</p>",
        summary_text="Text",
        language=language,
        published=dt.datetime(2026, 7, 27, 9, 20, tzinfo=dt.UTC) - dt.timedelta(hours=n),
        updated=None,
        content_hash=f"hash-{n}",
        family=f"IP/26/{n}",
    )
    values.update(kw)
    return NormalizedItem(**values)  # type: ignore[arg-type]


def cls(*topics: tuple[str, float], relevance: float = 0.1) -> Classification:
    return Classification(
        topics=tuple(TopicAssignment(t, c) for t, c in topics),
        doc_type=DocType.PRESS_RELEASE,
        references=("IP/26/1",),
        deadlines=(Deadline(dt.date(2027, 3, 15), DeadlineKind.CONSULTATION_END, "Konsultation"),),
        relevance=relevance,
    )


def ingest(
    store: Store,
    items: list[NormalizedItem],
    institution: str = "European Commission",
    *,
    now: dt.datetime = NOW,
):
    incoming = [Incoming(i, cls(("industry", 0.7))) for i in items]
    known = store.items.lookup(
        {i.identity for i in items},
        {i.url for i in items if i.url},
        {i.family for i in items if i.family},
    )
    changes = decide(incoming, known, institution=institution)
    return changes, store.items.apply(changes, now=now)


MIGRATION_FILES = list(
    (Path(__file__).resolve().parents[2] / "pipeline/store/migrations/versions").glob("0*.py")
)


@pytest.fixture
def ready(store: Store) -> Store:
    store.sources.register([SRC_EN, SRC_DE], now=NOW)
    store.topics.sync(
        Taxonomy((Topic("industry", "Industrie", "Industry", ("Industrie",)),), ("Stuttgart",))
    )
    return store


def test_schema_goes_down_and_up_again(store: Store) -> None:
    assert store.revision() == store.head_revision() and store.is_current()
    assert sorted(p.name[:4] for p in MIGRATION_FILES)[-1] == store.head_revision()
    store.downgrade("base")
    assert not store.is_initialised() and not store.is_current()
    store.upgrade()
    assert store.is_initialised() and store.is_current()


def test_register_keeps_health_and_drops_validators_when_url_changes(ready: Store) -> None:
    ready.sources.record_success("pc-en", now=NOW, next_try=NOW, etag='"abc"', last_modified="x")
    ready.sources.register([replace(SRC_EN, name="Renamed")], now=NOW)
    h = ready.sources.get("pc-en")
    assert (h.source.name, h.etag, h.last_success) == ("Renamed", '"abc"', NOW)
    ready.sources.register([replace(SRC_EN, url="https://x.test/new")], now=NOW)
    h = ready.sources.get("pc-en")
    assert h.etag is None and h.last_modified is None and h.last_success == NOW


def test_failures_count_up_and_success_resets(ready: Store) -> None:
    later = NOW + dt.timedelta(hours=1)
    assert ready.sources.record_failure("pc-en", now=NOW, error="HTTP 503", next_try=later) == 1
    assert ready.sources.record_failure("pc-en", now=NOW, error="HTTP 503", next_try=later) == 2
    h = ready.sources.get("pc-en")
    assert (h.consecutive_failures, h.last_error, h.next_try) == (2, "HTTP 503", later)
    assert h.next_try is not None and h.next_try.tzinfo is not None
    ready.sources.record_success("pc-en", now=later, next_try=later, etag=None, last_modified=None)
    h = ready.sources.get("pc-en")
    assert (h.consecutive_failures, h.last_error, h.last_success) == (0, "HTTP 503", later)
    with pytest.raises(SourceNotFound):
        ready.sources.record_failure("nope", now=NOW, error="x", next_try=later)


def test_new_items_round_trip_with_umlauts_topics_deadlines(ready: Store) -> None:
    changes, counts = ingest(ready, [norm(1, language="de", source="pc-de"), norm(2)])
    assert [c.kind for c in changes] == [ChangeKind.NEW, ChangeKind.NEW]
    assert counts.new == 2
    items = ready.items.list()
    assert [i.family for i in items] == ["IP/26/1", "IP/26/2"]  # newest first
    de = items[0]
    assert de.title == "Pressemitteilung Nummer 1 – Förderung für Straßenbahnen"
    assert de.published == dt.datetime(2026, 7, 27, 8, 20, tzinfo=dt.UTC)
    assert de.topics == (TopicAssignment("industry", 0.7, TopicOrigin.AUTO),)
    assert de.deadlines[0].date == dt.date(2027, 3, 15)
    assert de.references == ("IP/26/1",)
    assert de.status is ItemStatus.NEW and de.doc_type is DocType.PRESS_RELEASE


def test_second_language_joins_the_item_and_german_is_shown(ready: Store) -> None:
    ingest(ready, [norm(7)])
    changes, _ = ingest(ready, [norm(7, language="de", source="pc-de")])
    assert [c.kind for c in changes] == [ChangeKind.ADD_VERSION]
    assert ready.items.count() == 1 and ready.items.count_versions() == 2
    item = ready.items.list()[0]
    assert item.languages == ("de", "en")
    assert item.language == "de" and item.title.startswith("Pressemitteilung Nummer 7")


def test_reingest_is_unchanged_and_a_change_updates_in_place(ready: Store) -> None:
    ingest(ready, [norm(3)])
    changes, counts = ingest(ready, [norm(3)])
    assert [c.kind for c in changes] == [ChangeKind.UNCHANGED] and counts.unchanged == 1
    changes, counts = ingest(
        ready, [norm(3, title="Press release 3 (corrected)", content_hash="h2")]
    )
    assert [c.kind for c in changes] == [ChangeKind.UPDATE] and counts.updated == 1
    assert ready.items.count() == 1
    assert ready.items.list()[0].title == "Press release 3 (corrected)"


def test_deleted_item_never_comes_back(ready: Store) -> None:
    ingest(ready, [norm(4)])
    item_id = ready.items.list()[0].id
    assert ready.items.set_status([item_id], ItemStatus.DELETED, now=NOW) == 1
    for variant in (
        norm(4),
        norm(4, content_hash="changed"),
        norm(4, language="de", source="pc-de"),
    ):
        changes, _ = ingest(ready, [variant])
        assert [c.kind for c in changes] == [ChangeKind.SUPPRESSED]
    assert ready.items.count() == 0
    assert ready.items.count(include_deleted=True) == 1


def test_list_filters_and_limits(ready: Store) -> None:
    ingest(ready, [norm(n) for n in range(1, 6)])
    assert len(ready.items.list(ItemQuery(limit=2))) == 2
    since = dt.datetime(2026, 7, 27, 6, 0, tzinfo=dt.UTC)
    assert {i.family for i in ready.items.list(ItemQuery(since=since))} == {
        "IP/26/1",
        "IP/26/2",
        "IP/26/3",
    }
    assert len(ready.items.list(ItemQuery(topic="industry"))) == 5
    assert ready.items.list(ItemQuery(topic="energy")) == []
    with pytest.raises(ValueError):
        ready.items.list(ItemQuery(limit=0))


def test_status_change_of_unknown_item_changes_nothing(ready: Store) -> None:
    ingest(ready, [norm(1)])
    item_id = ready.items.list()[0].id
    with pytest.raises(ItemNotFound):
        ready.items.set_status([item_id, 999_999], ItemStatus.ACCEPTED, now=NOW)
    assert ready.items.get(item_id).status is ItemStatus.NEW


def test_the_same_identity_twice_is_a_store_error_not_a_crash(ready: Store) -> None:
    ingest(ready, [norm(1)])
    from pipeline.model import ItemChange

    dup = ItemChange(ChangeKind.NEW, norm(1), cls(("industry", 0.5)))
    with pytest.raises(StoreError):
        ready.items.apply([dup], now=NOW)
    assert ready.items.count() == 1  # the failed transaction left nothing behind


def test_naive_datetimes_are_refused(ready: Store) -> None:
    with pytest.raises(StoreError):
        ready.sources.record_success(
            "pc-en", now=dt.datetime(2026, 1, 1), next_try=NOW, etag=None, last_modified=None
        )


# ---------------------------------------------------------------- sightings (migration 0009)

SRC_MIRROR = Source(
    "mirror", "Europe Direct mirror", "Europe Direct", "https://x.test/m", "en", SourceKind.FEED
)


def sightings(store: Store) -> dict[tuple[int, str], tuple[dt.datetime, dt.datetime]]:
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT item_id, source_id, first_seen, last_seen FROM item_sightings")
        )
        return {(r[0], r[1]): (_utc(r[2]), _utc(r[3])) for r in rows}


def _utc(value: object) -> dt.datetime:
    if isinstance(value, str):  # SQLite hands back text through a raw query
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def ids_for(store: Store, source_id: str) -> set[int]:
    found = {i.id for i in store.items.list(ItemQuery(source_id=source_id))}
    inbox = {i.id for i in store.items.search(InboxQuery(source_id=source_id)).items}
    assert found == inbox, (found, inbox)  # the CLI's list and the desk's inbox agree
    return found


@pytest.mark.parametrize("same_identity", [True, False], ids=["same-guid", "same-link"])
def test_an_entry_two_sources_carry_is_found_under_either(
    ready: Store, same_identity: bool
) -> None:
    ready.sources.register([SRC_MIRROR], now=NOW)
    ingest(ready, [norm(5), norm(6)])
    # The mirror carries press release 5 too: the very same entry (a repeated file, same
    # guid) or the same link under an identity of its own. It never had 6.
    copy = norm(5, source="mirror")
    if not same_identity:
        copy = replace(copy, identity="guid:mirror-5", content_hash="mirror-hash")
    changes, counts = ingest(ready, [copy])
    expected = ChangeKind.UNCHANGED if same_identity else ChangeKind.DUPLICATE
    assert [c.kind for c in changes] == [expected] and counts.new == 0
    assert ready.items.count() == 2
    by_family = {i.family: i.id for i in ready.items.list()}
    five, six = by_family["IP/26/5"], by_family["IP/26/6"]
    assert ids_for(ready, "pc-en") == {five, six}
    assert ids_for(ready, "mirror") == {five}
    assert ids_for(ready, "pc-de") == set()
    # The first source stays "the" source; every source is listed, the first first.
    item = ready.items.get(five)
    assert (item.source_id, item.sources) == ("pc-en", ("pc-en", "mirror"))
    assert ready.items.get(six).sources == ("pc-en",)
    by_institution = ready.items.search(InboxQuery(institution="Europe Direct")).items
    assert [i.id for i in by_institution] == [five]


def test_sightings_are_refreshed_not_repeated(ready: Store) -> None:
    ready.sources.register([SRC_MIRROR], now=NOW)
    ingest(ready, [norm(5)])
    ingest(ready, [norm(5, source="mirror")])
    item_id = ready.items.list()[0].id
    assert sightings(ready) == {(item_id, "pc-en"): (NOW, NOW), (item_id, "mirror"): (NOW, NOW)}
    later = NOW + dt.timedelta(hours=2)
    ingest(ready, [norm(5, source="mirror")], now=later)
    ingest(ready, [norm(5, source="mirror")], now=later)  # a re-run changes nothing more
    assert sightings(ready) == {(item_id, "pc-en"): (NOW, NOW), (item_id, "mirror"): (NOW, later)}
    assert ready.items.count() == 1 and ready.items.count_versions() == 1


def test_a_language_version_from_another_source_is_a_sighting_of_it(ready: Store) -> None:
    ingest(ready, [norm(7)])
    ingest(ready, [norm(7, language="de", source="pc-de")])
    (item,) = ready.items.list()
    assert item.sources == ("pc-en", "pc-de")
    assert ids_for(ready, "pc-de") == ids_for(ready, "pc-en") == {item.id}


def test_a_new_item_joined_in_the_same_batch_is_seen_once(ready: Store) -> None:
    # Two languages of one press release in one feed: one item, one sighting.
    ingest(ready, [norm(8), norm(8, language="de")])
    (item,) = ready.items.list()
    assert item.languages == ("de", "en") and item.sources == ("pc-en",)
    assert list(sightings(ready)) == [(item.id, "pc-en")]


def test_a_tombstone_seen_by_another_source_stays_deleted(ready: Store) -> None:
    ready.sources.register([SRC_MIRROR], now=NOW)
    ingest(ready, [norm(4)])
    item_id = ready.items.list()[0].id
    ready.items.set_status([item_id], ItemStatus.DELETED, now=NOW)
    changes, counts = ingest(ready, [norm(4, source="mirror")])
    assert [c.kind for c in changes] == [ChangeKind.SUPPRESSED] and counts.new == 0
    assert ready.items.get(item_id).status is ItemStatus.DELETED
    assert ids_for(ready, "mirror") == set() and ids_for(ready, "pc-en") == set()
    assert ready.items.count() == 0 and ready.items.count(include_deleted=True) == 1
    deleted = ready.items.list(ItemQuery(source_id="mirror", status=[ItemStatus.DELETED]))
    assert [i.id for i in deleted] == [item_id]  # recorded, never revived


def test_migration_backfills_sightings_from_items_and_versions(ready: Store) -> None:
    import sqlalchemy as sa

    ingest(ready, [norm(7), norm(9)])
    ingest(ready, [norm(7, language="de", source="pc-de")])
    by_family = {i.family: i.id for i in ready.items.list()}
    seven, nine = by_family["IP/26/7"], by_family["IP/26/9"]
    ready.downgrade("0008")
    with ready.engine.begin() as conn:
        assert not sa.inspect(conn).has_table("item_sightings")
    ready.upgrade()
    assert ready.is_current()
    assert set(sightings(ready)) == {(seven, "pc-en"), (seven, "pc-de"), (nine, "pc-en")}
    assert all(seen == (NOW, NOW) for seen in sightings(ready).values())
    assert ids_for(ready, "pc-de") == {seven}
    assert ready.items.get(seven).sources == ("pc-en", "pc-de")
