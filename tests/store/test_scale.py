"""The query layer at a larger office's size, on SQLite and on PostgreSQL: bounded
counts, pages at their boundaries, the filter lists, the reach from reader profiles,
dossier pages, the indexes of migration 0026. Small data, the rules that make the
large data fast (bench/scale_bench.py measures them)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from pipeline.compose.segments import reach_of, resolve_segments
from pipeline.ingest.dedupe import Incoming, decide
from pipeline.model import (
    Annotation,
    Audience,
    Classification,
    DocType,
    DossierRecord,
    Item,
    ItemStatus,
    NewSubscriber,
    NormalizedItem,
    OrgType,
    Profile,
    Source,
    SourceKind,
    SubscriberStatus,
    TopicAssignment,
)
from pipeline.model.eligibility import Applicant, Eligibility
from pipeline.store import Store, base, items_desk
from pipeline.store import subscribers as subscribers_store
from pipeline.store.items import InboxQuery
from pipeline.store.subscribers import SubscriberQuery
from subscribers.addresses import email_hash

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
SRC = Source("ec", "EC", "European Commission", "https://x.test/", "de", SourceKind.FEED)
DOC_TYPES = [DocType.PRESS_RELEASE, DocType.FUNDING_CALL, DocType.CONSULTATION]


def add_items(store: Store, n: int) -> list[int]:
    store.sources.register([SRC], now=NOW)
    incoming = []
    for k in range(n):
        url = f"https://x.test/item/{k}"
        item = NormalizedItem(
            source_id=SRC.id, identity=f"url:{url}", title=f"Förderaufruf Nummer {k}", url=url,
            summary_html="<p>Text</p>", summary_text="Text", language="de" if k % 2 else "en",
            published=NOW - dt.timedelta(hours=k), updated=None, content_hash=f"h{k}",
            family=None,
        )  # fmt: skip
        classification = Classification(
            (TopicAssignment("energy_climate", 0.7),) if k % 3 == 0 else (),
            DOC_TYPES[k % len(DOC_TYPES)], (), (), relevance=round(1 - k / 100, 2),
        )  # fmt: skip
        incoming.append(Incoming(item, classification))
    known = store.items.lookup({i.item.identity for i in incoming}, set(), set())
    store.items.apply(decide(incoming, known, institution=SRC.institution), now=NOW)
    return [i.id for i in store.items.search(InboxQuery(per_page=200)).items]


def test_counts_stop_at_the_cap_and_go_on_to_the_page_asked_for(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_items(store, 7)
    monkeypatch.setattr(items_desk, "COUNT_CAP", 5)
    first = store.items.search(InboxQuery(per_page=2))
    assert (first.total, first.exact, first.pages) == (5, False, 3)
    # Page 4 lies past the cap: counted that far, the count is exact again.
    last = store.items.search(InboxQuery(per_page=2, page=4))
    assert (last.total, last.exact, last.pages, len(last.items)) == (7, True, 4, 1)
    monkeypatch.setattr(items_desk, "COUNT_CAP", 7)
    exact = store.items.search(InboxQuery(per_page=2))
    assert (exact.total, exact.exact) == (7, True)


@pytest.mark.parametrize("order", ["published", "relevance"])
def test_pages_at_their_boundaries_list_every_item_once(store: Store, order: str) -> None:
    ids = add_items(store, 11)
    seen: list[int] = []
    for page in (1, 2, 3):
        found = store.items.search(InboxQuery(per_page=5, page=page, order=order))
        assert len(found.items) == (5 if page < 3 else 1)
        seen += [i.id for i in found.items]
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == 11
    assert store.items.search(InboxQuery(per_page=5, page=4, order=order)).items == []


def test_filter_lists_read_through_the_index_give_select_distinct(store: Store) -> None:
    add_items(store, 6)
    facets = store.items.facets()
    assert facets.doc_types == sorted(d.value for d in DOC_TYPES)
    assert facets.languages == ["de", "en"]
    with store.engine.connect() as conn:
        from pipeline.store.schema import items

        assert base.distinct_values(conn, items.c.status) == ["new"]


def test_search_with_umlauts_finds_the_same_on_both_databases(store: Store) -> None:
    ids = add_items(store, 4)
    store.items.set_status(ids[:1], ItemStatus.ACCEPTED, now=NOW)
    found = store.items.search(InboxQuery(text="förderaufruf", statuses=tuple(ItemStatus)))
    assert found.total == 4
    assert {i.title for i in found.items} == {f"Förderaufruf Nummer {k}" for k in range(4)}


def new_subscriber(n: int, **profile: object) -> NewSubscriber:
    address = f"person{n}@gemeinde.example"
    profile.setdefault("newsletters", ("weekly",))
    return NewSubscriber(
        address,
        email_hash(address),
        Profile(**profile),
        "v1",
        NOW,  # type: ignore[arg-type]
    )


def test_subscriber_search_counts_up_to_the_cap_and_finds_umlauts(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.subscribers.add_many(
        [new_subscriber(1, name="Jürgen Müller"), new_subscriber(2, organisation="Müller & Söhne")]
        + [new_subscriber(n, name=f"Anna Schmidt {n}") for n in range(3, 9)],
        now=NOW,
    )
    found = store.subscribers.search(SubscriberQuery(text="müller"))
    assert sorted(s.id for s in found.subscribers) == [1, 2]
    assert (found.total, found.exact) == (2, True)
    monkeypatch.setattr(subscribers_store, "COUNT_CAP", 3)
    page = store.subscribers.search(SubscriberQuery(per_page=2))
    assert (page.total, page.exact) == (3, False)
    last = store.subscribers.search(SubscriberQuery(per_page=2, page=4))
    assert (last.total, last.exact, [s.id for s in last.subscribers]) == (8, True, [7, 8])


def test_suppressed_among_finds_the_blocked_hashes_in_one_go(store: Store) -> None:
    from pipeline.model import SuppressionReason

    store.subscribers.suppress(email_hash("weg@x.example"), SuppressionReason.ERASED, now=NOW)
    asked = [email_hash(f"p{n}@x.example") for n in range(3)] + [email_hash("weg@x.example")]
    assert store.subscribers.suppressed_among(asked) == {email_hash("weg@x.example")}


def edition_items(topic_ids: list[str], rng: random.Random) -> list[tuple[str, list[Item]]]:
    made = []
    for n in range(1, 13):
        topics = [] if n == 12 else rng.sample(topic_ids[:4], rng.randint(1, 2))
        audiences = (Audience.KOMMUNE,) if n % 4 == 0 else ()
        made.append(
            Item(
                id=n,
                source_id="ec",
                title=f"Meldung {n}",
                url=f"https://x.test/{n}",
                summary_html="",
                language="de",
                published=NOW,
                fetched_at=NOW,
                updated_at=NOW,
                # funding calls that say who may apply split segments by kind of applicant
                doc_type=DocType.FUNDING_CALL if n in CALLS else DocType.PRESS_RELEASE,
                status=ItemStatus.ACCEPTED,
                relevance=0.5,
                topics=tuple(TopicAssignment(t, 0.8) for t in topics),
                annotation=Annotation(n, audiences=audiences) if audiences else None,
                eligibility=CALLS.get(n),
            )
        )
    return [("Im Fokus", made[:6]), ("Förderung", made[6:])]


CALLS = {
    7: Eligibility(applicants=(Applicant.KOMMUNEN, Applicant.OEFFENTLICHE)),
    9: Eligibility(applicants=(Applicant.HOCHSCHULEN,), german_applicants=True),
    11: Eligibility(applicants=(Applicant.KMU,), german_applicants=False),
}


def test_reach_from_reader_profiles_equals_the_segments_of_every_reader(store: Store) -> None:
    rng = random.Random(16)
    topic_ids = ["energy_climate", "mobility", "funding", "cohesion", "digital", "health"]
    store.subscribers.add_many(
        [
            new_subscriber(
                n,
                topics=tuple(rng.sample(topic_ids, rng.randint(0, 3))),
                org_type=rng.choice(list(OrgType)),
                language=rng.choice(["de", "de", "en"]),
                newsletters=rng.choice([("weekly",), ("daily",), ("weekly", "daily")]),
                applicant=rng.choice([None, None, *Applicant]),
            )
            for n in range(120)
        ],
        now=NOW,
    )
    store.subscribers.unsubscribe(3, None, now=NOW)
    sections = edition_items(topic_ids, rng)
    readers = store.subscribers.confirmed_for("weekly")
    segments = resolve_segments(sections, readers, "weekly")
    reach = reach_of(sections, store.subscribers.reader_profiles("weekly"))
    assert reach.readers == len(readers)
    assert any(s.applicant is not None for s in segments)  # the calls split segments
    assert reach.variants == len(segments)
    assert reach.nothing == len(readers) - sum(len(s.subscribers) for s in segments)
    assert 0 < reach.nothing < reach.readers
    assert all(s.status is SubscriberStatus.CONFIRMED for s in readers)


def test_the_dossier_list_reads_one_page_and_counts_the_rest(store: Store) -> None:
    records = [DossierRecord(reference=f"2026/{n:04d}(COD)", source="oeil") for n in range(7)]
    store.dossiers.upsert(records, now=NOW)
    everything = [d.reference for d in store.dossiers.list(today=NOW.date())]
    pages = [
        [d.reference for d in store.dossiers.list(today=NOW.date(), limit=3, offset=o)]
        for o in (0, 3, 6)
    ]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [r for p in pages for r in p] == everything
    assert store.dossiers.count() == 7
    store.dossiers.follow("2026/0002(COD)", "anna", now=NOW)
    assert store.dossiers.count(followed_by="anna") == 1


def test_migration_0026_matches_schema_py_and_goes_down_and_up(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect

    from pipeline.store.schema import metadata

    ours = ("fetched_at", "doc_type", "status_source_id", "language", "sent_at", "occurred_at")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diff if any(f"ix_{t}" in repr(d) or t in repr(d) for t in ours)] == []

    def index_names(table: str) -> set[str]:
        return {i["name"] for i in inspect(store.engine).get_indexes(table)}  # type: ignore[misc]

    postgres = store.engine.dialect.name == "postgresql"
    assert "ix_items_fetched_at" in index_names("items")
    if postgres:
        assert {"ix_items_status_score", "ix_items_score"} <= index_names("items")
        assert "ix_subscribers_name_trgm" in index_names("subscribers")
    store.downgrade("0022")
    assert "ix_items_fetched_at" not in index_names("items")
    store.upgrade()
    assert store.is_current()
    assert "ix_items_fetched_at" in index_names("items")
    if postgres:
        assert "ix_items_status_score" in index_names("items")


def test_search_count_is_the_search_total_without_a_page(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_items(store, 9)
    for query in (
        InboxQuery(),
        InboxQuery(topic="energy_climate"),
        InboxQuery(text="förderaufruf", language="de"),
        InboxQuery(statuses=tuple(ItemStatus), per_page=2),
    ):
        found = store.items.search(query)
        assert store.items.search_count(query) == (found.total, found.exact)
    monkeypatch.setattr(items_desk, "COUNT_CAP", 4)
    assert store.items.search_count(InboxQuery()) == (4, False)
    assert store.items.search_count(InboxQuery(topic="energy_climate")) == (3, True)
    assert len(ids) == 9


def test_later_count_counts_new_items_put_off_beyond_now(store: Store) -> None:
    from pipeline.curate.inbox import later_count

    ids = add_items(store, 6)
    tomorrow, yesterday = NOW + dt.timedelta(days=1), NOW - dt.timedelta(days=1)
    store.items.defer(ids[:3], tomorrow, now=NOW, actor="anna")
    store.items.defer(ids[3:4], yesterday, now=NOW, actor="anna")  # came back already
    store.items.set_status(ids[2:3], ItemStatus.ACCEPTED, now=NOW)  # no longer new
    assert later_count(store, now=NOW) == 2
    assert later_count(store, now=tomorrow) == 0
    assert later_count(store, now=yesterday - dt.timedelta(hours=1)) == 3


def test_migration_0027_matches_schema_py_and_goes_down_and_up(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect

    from pipeline.store.schema import metadata

    ours = ("ix_items_deferred_until", "ix_items_status_id")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diff if any(name in repr(d) for name in ours)] == []

    def indexes() -> dict[str, dict[str, object]]:
        return {i["name"]: i for i in inspect(store.engine).get_indexes("items")}  # type: ignore[misc]

    assert set(ours) <= set(indexes())
    if store.engine.dialect.name == "postgresql":
        options = {name: indexes()[name]["dialect_options"] for name in ours}
        assert options["ix_items_status_id"]["postgresql_include"] == ["deferred_until"]
        assert "deferred_until IS NOT NULL" in str(
            options["ix_items_deferred_until"]["postgresql_where"]
        )
    store.downgrade("0026")
    assert not set(ours) & set(indexes())
    store.upgrade()
    assert store.is_current()
    assert set(ours) <= set(indexes())


def test_migration_0028_matches_schema_py_and_goes_down_and_up(store: Store) -> None:
    """The claim's index replaces ix_deliveries_edition_state, and back."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect

    from pipeline.store.schema import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diff if "ix_deliveries" in repr(d)] == []

    def indexes() -> dict[str, list[str]]:
        found = inspect(store.engine).get_indexes("deliveries")
        return {str(i["name"]): list(i["column_names"]) for i in found}  # type: ignore[arg-type]

    claim = ["edition_id", "state", "segment_key", "id"]
    assert indexes()["ix_deliveries_claim"] == claim
    assert "ix_deliveries_edition_state" not in indexes()
    store.downgrade("0027")
    assert indexes()["ix_deliveries_edition_state"] == ["edition_id", "state"]
    assert "ix_deliveries_claim" not in indexes()
    store.upgrade()
    assert store.is_current()
    assert indexes()["ix_deliveries_claim"] == claim


def test_add_many_keeps_every_profile_field_on_both_databases(store: Store) -> None:
    """The import's bulk path (COPY on PostgreSQL) writes what a single add writes."""
    profile = {
        "name": "Jürgen Müller",
        "organisation": "Stadt Esslingen",
        "org_type": OrgType.KOMMUNE,
        "applicant": Applicant.KOMMUNEN,
        "language": "en",
        "topics": ("energy_climate", "mobility"),
        "newsletters": ("weekly", "daily"),
    }
    (bulk,) = store.subscribers.add_many([new_subscriber(1, **profile)], now=NOW)
    single = store.subscribers.add(new_subscriber(2, **profile), now=NOW)
    got = store.subscribers.get(bulk or 0)
    fields = ("name", "organisation", "org_type", "applicant", "language", "topics")
    assert [getattr(got, f) for f in fields] == [getattr(single, f) for f in fields]
    assert got.applicant is Applicant.KOMMUNEN
    assert sorted(got.newsletters) == ["daily", "weekly"]
