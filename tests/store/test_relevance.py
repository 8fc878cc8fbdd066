"""relevance_reasons in the store (migration 0011), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import sqlalchemy as sa

from pipeline.cli.output import item_json
from pipeline.ingest.dedupe import Incoming, decide
from pipeline.model import Classification, Deadline, DeadlineKind, DocType, NormalizedItem
from pipeline.store import Store
from tests.store.test_items_and_sources import NOW, SRC_DE, SRC_EN, norm

REASONS = ("offene Ausschreibung", "Thema Förderprogramme", "Frist am 16.12.2026")
DEADLINE = Deadline(dt.date(2026, 12, 16), DeadlineKind.CALL_CLOSING, "Einreichungsfrist")


def classification(relevance: float, reasons: tuple[str, ...]) -> Classification:
    return Classification(
        topics=(),
        doc_type=DocType.FUNDING_CALL,
        references=(),
        deadlines=(DEADLINE,),
        relevance=relevance,
        relevance_reasons=reasons,
    )


def put(store: Store, item: NormalizedItem, cl: Classification, institution: str) -> None:
    known = store.items.lookup(
        {item.identity}, {item.url} if item.url else set(), {item.family} if item.family else set()
    )
    store.items.apply(decide([Incoming(item, cl)], known, institution=institution), now=NOW)


def test_reasons_round_trip_and_are_worded_for_the_day(store: Store) -> None:
    store.upgrade()
    store.sources.register([SRC_EN, SRC_DE], now=NOW)
    put(store, norm(1), classification(0.62, REASONS), "European Commission")
    (item,) = store.items.list()
    assert item.relevance == 0.62 and item.relevance_reasons == REASONS  # stored as facts
    shown = item_json(item, dt.UTC, today=dt.date(2026, 11, 25))["relevance_reasons"]
    assert shown == ["offene Ausschreibung", "Thema Förderprogramme", "Frist in 3 Wochen"]
    later = item_json(item, dt.UTC, today=dt.date(2026, 12, 17))["relevance_reasons"]
    assert later[-1] == "Frist abgelaufen"


def test_reasons_follow_the_score_they_explain(store: Store) -> None:
    store.upgrade()
    store.sources.register([SRC_EN, SRC_DE], now=NOW)
    put(store, norm(2), classification(0.3, ("Thema Förderprogramme",)), "European Commission")
    # The German version of the same press release explains a higher score: it wins.
    german = norm(2, language="de", source="pc-de")
    put(store, german, classification(0.5, ("erwähnt Baden-Württemberg",)), "European Commission")
    (item,) = store.items.list()
    assert (item.relevance, item.relevance_reasons) == (0.5, ("erwähnt Baden-Württemberg",))
    # A later, weaker version changes neither the score nor its reasons.
    weaker = replace(german, content_hash="hash-2-changed", title="Geänderter Titel")
    put(store, weaker, classification(0.1, ("keine EU-Quelle",)), "European Commission")
    (item,) = store.items.list()
    assert (item.relevance, item.relevance_reasons) == (0.5, ("erwähnt Baden-Württemberg",))


def test_items_from_before_the_migration_have_no_reasons(store: Store) -> None:
    store.upgrade()
    store.sources.register([SRC_EN, SRC_DE], now=NOW)
    put(store, norm(3), classification(0.4, REASONS), "European Commission")
    store.downgrade("0010")
    with store.engine.begin() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("items")}
        assert "relevance_reasons" not in columns
    store.upgrade()
    (item,) = store.items.list()
    assert item.relevance == 0.4 and item.relevance_reasons == ()
    assert item.versions and item.deadlines  # nothing else lost on the way


def test_unjudged_items_are_suggested_never_folded(store: Store) -> None:
    """Items scored before 0011 have no reasons: the inbox does not fold them away."""
    from pipeline.store.items import InboxQuery

    store.upgrade()
    store.sources.register([SRC_EN, SRC_DE], now=NOW)
    put(store, norm(4), classification(0.0, ()), "European Commission")  # old rules' 0
    put(store, norm(5), classification(0.05, ("keine EU-Quelle",)), "European Commission")
    put(store, norm(6), classification(0.6, REASONS), "European Commission")
    suggested = store.items.search(InboxQuery(order="relevance", min_relevance=0.2))
    folded = store.items.search(InboxQuery(order="relevance", below_relevance=0.2))
    assert [i.relevance for i in suggested.items] == [0.6, 0.0]
    assert [i.relevance for i in folded.items] == [0.05]
