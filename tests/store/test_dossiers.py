"""The dossier store on a real SQLite file and a real PostgreSQL server: round trip,
merging of sources, threading rules, staff links and follows (audited)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from pipeline.errors import DossierNotFound, ItemNotFound
from pipeline.ingest.dedupe import Incoming, decide
from pipeline.model import (
    Classification,
    DocType,
    DossierEvent,
    DossierRecord,
    EventKind,
    NormalizedItem,
    ProcedureType,
    Source,
    SourceKind,
    Stage,
)
from pipeline.store import Store
from pipeline.store.schema import audit_log

NOW = dt.datetime(2026, 6, 20, 8, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
SRC = Source("press", "Press", "European Commission", "https://x.test/feed", "en", SourceKind.FEED)


def add_items(store: Store, refs: dict[int, tuple[str, ...]]) -> dict[int, int]:
    """Items numbered n with the given references; returns n → item id."""
    store.sources.register([SRC], now=NOW)
    incoming = []
    for n, references in refs.items():
        item = NormalizedItem(
            source_id="press",
            identity=f"guid:{n}",
            title=f"Item {n}",
            url=f"https://x.test/item/{n}",
            summary_html="",
            summary_text="",
            language="en",
            published=NOW - dt.timedelta(days=n),
            updated=None,
            content_hash=f"h{n}",
            family=None,
        )
        incoming.append(
            Incoming(item, Classification((), DocType.PRESS_RELEASE, references, (), 0.0))
        )
    known = store.items.lookup({i.item.identity for i in incoming}, set(), set())
    store.items.apply(decide(incoming, known, institution="European Commission"), now=NOW)
    page = store.items.lookup({i.item.identity for i in incoming}, set(), set())
    return {int(k.split(":")[1]): v.item_id for k, v in page.by_identity.items()}


def ep_record(**kw: object) -> DossierRecord:
    values: dict[str, object] = dict(
        reference="2025/0260(COD)",
        source="ep-procedures",
        title_de="Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren",
        title_en="Non-application of customs duties on imports of certain goods",
        procedure_type=ProcedureType.COD,
        lead_committee="INTA",
        aliases=("COM(2025) 123", "A10-0070/2026"),
        events=(
            DossierEvent(dt.date(2025, 10, 20), EventKind.REFERRAL, "ep-procedures", key="e1"),
            DossierEvent(
                dt.date(2026, 3, 19), EventKind.COMMITTEE_ADOPTING_REPORT, "ep-procedures", key="e2"
            ),
            DossierEvent(
                dt.date(2026, 9, 1),
                EventKind.PLENARY_VOTE,
                "ep-procedures",
                key="f1",
                forecast=True,
            ),
        ),
    )
    values.update(kw)
    return DossierRecord(**values)  # type: ignore[arg-type]


def test_round_trip_by_reference_and_by_any_alias_spelling(store: Store) -> None:
    counts = store.dossiers.upsert([ep_record()], now=NOW)
    assert (counts.new, counts.updated, counts.unchanged) == (1, 0, 0)
    for asked in ("2025/260(COD)", "2025/0260 (COD)", "COM(2025)123 final", "52025PC0123"):
        d = store.dossiers.get(asked, today=TODAY)
        assert d.reference == "2025/0260(COD)"
    assert d.title_de.startswith("Nichtanwendung von Zöllen")
    assert d.stage is Stage.COMMITTEE and d.stage_label == "im Ausschuss"
    assert d.procedure_type is ProcedureType.COD and d.lead_committee == "INTA"
    assert set(d.aliases) == {"COM(2025) 123", "52025PC0123", "52025DC0123", "A10-0070/2026"}
    assert [e.kind for e in d.events][:2] == [
        EventKind.REFERRAL,
        EventKind.COMMITTEE_ADOPTING_REPORT,
    ]
    assert d.event_count == 2  # the forecast is not an event that happened
    assert d.next_step == "Abstimmung im Plenum (voraussichtlich 1. September 2026)"
    later = store.dossiers.get("2025/0260(COD)", today=dt.date(2026, 9, 2))
    assert not any(e.forecast for e in later.events)  # a forecast whose day has passed
    assert later.next_step == "Abstimmung im Ausschuss"  # what usually follows the stage
    with pytest.raises(DossierNotFound):
        store.dossiers.get("2099/0001(COD)", today=TODAY)


def test_a_second_fetch_changes_nothing_and_a_second_source_adds_without_erasing(
    store: Store,
) -> None:
    store.dossiers.upsert([ep_record()], now=NOW)
    later = NOW + dt.timedelta(hours=1)
    again = store.dossiers.upsert([ep_record()], now=later)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    assert store.dossiers.get("2025/0260(COD)", today=TODAY).updated_at == NOW
    oeil = DossierRecord(
        reference="2025/0260(COD)",
        source="oeil",
        title_en="Non-application of customs duties",  # a different wording wins …
        rapporteur="LANGE Bernd (S&D)",
        events=(
            DossierEvent(
                dt.date(2026, 6, 2), EventKind.COMMITTEE_APPROVE_PROVISIONAL_AGREEMENT, "oeil"
            ),
            DossierEvent(dt.date(2026, 6, 16), EventKind.PLENARY_ADOPT_POSITION, "oeil"),
        ),
    )
    assert store.dossiers.upsert([oeil], now=later).updated == 1
    d = store.dossiers.get("2025/0260(COD)", today=TODAY)
    assert d.title_de.startswith("Nichtanwendung")  # … but an empty field never erases
    assert d.rapporteur == "LANGE Bernd (S&D)" and d.lead_committee == "INTA"
    assert d.stage is Stage.COUNCIL  # the plenary adopted the agreed text: the Council is next
    assert {e.source for e in d.events} == {"ep-procedures", "oeil"}
    assert d.updated_at == later


def test_a_withdrawn_procedure_says_so(store: Store) -> None:
    store.dossiers.upsert([ep_record(withdrawn=True)], now=NOW)
    d = store.dossiers.get("2025/0260(COD)", today=TODAY)
    assert d.stage is Stage.WITHDRAWN and d.stage_label == "zurückgezogen"
    assert d.next_step == "Abstimmung im Plenum (voraussichtlich 1. September 2026)"


def test_threading_joins_items_by_reference_alias_equivalent_and_corrigendum(store: Store) -> None:
    ids = add_items(
        store,
        {
            1: ("2025/0260(COD)",),
            2: ("52025PC0123",),  # the proposal's CELEX: same document as COM(2025) 123
            3: ("IP/26/1",),  # unrelated
            4: ("32026R0999R(01)",),  # a corrigendum of the adopted act
            5: ("A10-0070/2026", "2025/0260(COD)"),
        },
    )
    # items came first: the dossier is not known yet
    assert store.dossiers.thread(now=NOW) == 0
    store.dossiers.upsert(
        [ep_record(aliases=("COM(2025) 123", "A10-0070/2026", "32026R0999"))], now=NOW
    )
    assert store.dossiers.thread(now=NOW) == 4
    assert store.dossiers.thread(now=NOW) == 0  # idempotent
    d = store.dossiers.get("2025/0260(COD)", today=TODAY)
    assert set(d.item_ids) == {ids[1], ids[2], ids[4], ids[5]}
    assert store.dossiers.of_item(ids[2]) == ["2025/0260(COD)"]
    listed = store.dossiers.list(today=TODAY)
    assert [(x.reference, x.item_count, x.event_count) for x in listed] == [
        ("2025/0260(COD)", 4, 2)
    ]


def test_staff_detach_sticks_and_attach_by_hand_is_audited(store: Store) -> None:
    ids = add_items(store, {1: ("2025/0260(COD)",), 2: ("IP/26/7",)})
    store.dossiers.upsert([ep_record()], now=NOW)
    store.dossiers.thread(now=NOW)
    assert store.dossiers.detach("2025/260(COD)", ids[1], actor="anna", now=NOW)
    assert not store.dossiers.detach("2025/260(COD)", ids[1], actor="anna", now=NOW)
    assert store.dossiers.thread(now=NOW) == 0  # a detached item does not come back
    assert store.dossiers.attach("COM(2025) 123", ids[2], actor="anna", now=NOW)
    assert not store.dossiers.attach("COM(2025) 123", ids[2], actor="anna", now=NOW)
    assert store.dossiers.get("2025/0260(COD)", today=TODAY).item_ids == (ids[2],)
    with pytest.raises(ItemNotFound):
        store.dossiers.attach("2025/0260(COD)", 999_999, actor="anna", now=NOW)
    with store.engine.connect() as conn:
        trail = conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.item_id, audit_log.c.detail)
            .where(audit_log.c.action.like("dossier.%"))
            .order_by(audit_log.c.id)
        ).all()
    assert [tuple(t) for t in trail] == [
        ("anna", "dossier.detach", ids[1], "2025/0260(COD)"),
        ("anna", "dossier.attach", ids[2], "2025/0260(COD)"),
    ]


def test_follow_and_unfollow(store: Store) -> None:
    store.dossiers.upsert([ep_record(), ep_record(reference="2026/0010(COD)", aliases=())], now=NOW)
    assert store.dossiers.follow("2025/0260(COD)", "anna", now=NOW)
    assert not store.dossiers.follow("2025/0260(COD)", "anna", now=NOW)
    assert [d.reference for d in store.dossiers.list(today=TODAY, followed_by="anna")] == [
        "2025/0260(COD)"
    ]
    assert store.dossiers.get("2025/0260(COD)", today=TODAY).followers == ("anna",)
    assert store.dossiers.unfollow("2025/0260(COD)", "anna", now=NOW)
    assert not store.dossiers.unfollow("2025/0260(COD)", "anna", now=NOW)
    assert store.dossiers.list(today=TODAY, followed_by="anna") == []
    assert [d.reference for d in store.dossiers.list(today=TODAY, stage=Stage.COMMITTEE)] == [
        "2025/0260(COD)",
        "2026/0010(COD)",
    ]


def test_schema_py_matches_the_migration(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pipeline.store.schema import metadata

    ours = {"dossiers", "dossier_aliases", "dossier_events", "dossier_items", "dossier_follows"}
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    mine = [d for d in diff if any(t in repr(d) for t in ours)]
    assert mine == []


def test_a_procedure_split_in_two_shares_its_proposal_and_items_join_both(store: Store) -> None:
    ids = add_items(store, {1: ("COM(2025) 123",), 2: ("2026/0010(COD)",)})
    store.dossiers.upsert(
        [ep_record(), ep_record(reference="2026/0010(COD)", aliases=("COM(2025) 123",))],
        now=NOW,
    )
    assert store.dossiers.thread(now=NOW) == 3
    assert store.dossiers.of_item(ids[1]) == ["2025/0260(COD)", "2026/0010(COD)"]
    assert store.dossiers.of_item(ids[2]) == ["2026/0010(COD)"]
    # a shared alias names the older dossier; its own reference names each one
    assert store.dossiers.get("COM(2025) 123", today=TODAY).reference == "2025/0260(COD)"
    assert store.dossiers.get("2026/10(COD)", today=TODAY).reference == "2026/0010(COD)"
