"""store.learning on SQLite and PostgreSQL: labels follow the last decision, models are
versioned JSON (newest counts, old ones pruned), suggestions are set and cleared, and the
desk's order by relevance follows them."""

from __future__ import annotations

import dataclasses
import datetime as dt

from pipeline.ingest.dedupe import Incoming, decide
from pipeline.model import (
    Classification,
    DocType,
    ItemStatus,
    NormalizedItem,
    Source,
    SourceKind,
)
from pipeline.model.learning import (
    MODEL_FORMAT,
    Evaluation,
    LearnedModel,
    ModelOutput,
    SuggestedBy,
    Verdict,
)
from pipeline.store import Store
from pipeline.store.items_desk import InboxQuery
from pipeline.store.learning import KEEP

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
EC = Source("ec", "Presseraum", "European Commission", "https://x.test/ec", "de", SourceKind.FEED)


def add(store: Store, n: int, relevance: float) -> int:
    url = f"https://ec.europa.eu/commission/presscorner/detail/de/ip_26_{n}"
    item = NormalizedItem(
        source_id=EC.id, identity=f"url:{url}", title=f"Meldung {n}", url=url,
        summary_html="<p>Text</p>", summary_text="Text", language="de",
        published=NOW - dt.timedelta(hours=n), updated=None, content_hash=f"h{n}", family=None,
    )  # fmt: skip
    cl = Classification(
        topics=(), doc_type=DocType.PRESS_RELEASE, references=(), deadlines=(), relevance=relevance
    )
    known = store.items.lookup({item.identity}, {url}, set())
    store.items.apply(decide([Incoming(item, cl)], known, institution=EC.institution), now=NOW)
    return store.items.lookup({item.identity}, set(), set()).by_identity[item.identity].item_id


def model(n: int, *, active: bool = True) -> LearnedModel:
    return LearnedModel(
        id=0,
        output=ModelOutput.RELEVANCE,
        trained_at=NOW + dt.timedelta(days=n),
        format_version=MODEL_FORMAT,
        sklearn_version="1.9.1",
        eudigest_version="0.1.0",
        evaluation=Evaluation(
            ModelOutput.RELEVANCE,
            250 + n,
            positives=50,
            negatives=200 + n,
            sources=7,
            folds=5,
            auc_model=0.9,
            auc_rules=0.7,
            auc_blended=0.88,
            verdict=Verdict.ACTIVE if active else Verdict.NOT_BETTER,
            seconds=1.5,
        ),
        body={"kind": "tfidf+logistic", "terms": ["förderung", "zzsrc_ec"], "coef": [1.5, -0.25]},
    )


def test_labels_follow_the_last_decision_and_leave_undecided_items_out(store: Store) -> None:
    store.sources.register([EC], now=NOW)
    a, b, c = add(store, 1, 0.2), add(store, 2, 0.4), add(store, 3, 0.6)
    store.items.set_status([a, b], ItemStatus.ACCEPTED, now=NOW, actor="anna")
    store.items.set_status([b], ItemStatus.REJECTED, now=NOW, actor="bernd")  # reverted

    labels = {x.item_id: x for x in store.learning.labels()}

    assert set(labels) == {a, b}
    assert labels[a].accepted and not labels[b].accepted
    assert labels[a].institution == "European Commission" and labels[a].relevance == 0.2
    assert store.learning.label_counts() == (1, 1)
    assert [x.item_id for x in store.learning.to_score()] == [c]


def test_a_model_round_trips_as_json_and_the_newest_counts(store: Store) -> None:
    assert store.learning.latest(ModelOutput.RELEVANCE) is None
    saved = [store.learning.save(model(n)) for n in range(KEEP + 2)]

    newest = store.learning.latest(ModelOutput.RELEVANCE)

    assert newest == saved[-1]
    assert newest is not None and newest.body["terms"] == ["förderung", "zzsrc_ec"]
    assert dataclasses.replace(newest, id=0) == model(KEEP + 1)
    assert len(store.learning.history(ModelOutput.RELEVANCE)) == KEEP  # older ones pruned
    assert store.learning.latest(ModelOutput.TOPICS) is None
    assert store.learning.active(ModelOutput.RELEVANCE)
    store.learning.save(model(99, active=False))
    assert not store.learning.active(ModelOutput.RELEVANCE)


def test_suggestions_order_the_desk_and_clear_back_to_the_rules(store: Store) -> None:
    store.sources.register([EC], now=NOW)
    low, high = add(store, 1, 0.1), add(store, 2, 0.9)
    order = InboxQuery(order="relevance")
    assert [i.id for i in store.items.search(order).items] == [high, low]

    assert store.learning.set_suggestions([(low, 0.95), (high, 0.5)]) == 2

    page = store.items.search(order).items
    assert [i.id for i in page] == [low, high]
    assert [(i.suggested_by, i.suggestion, i.score) for i in page] == [
        (SuggestedBy.MODEL, 0.95, 0.95),
        (SuggestedBy.MODEL, 0.5, 0.5),
    ]
    assert store.learning.set_suggestions([(high, 0.7)], replace=True) == 1
    assert {i.id: i.suggested_by for i in store.items.search(order).items} == {
        high: SuggestedBy.MODEL,
        low: SuggestedBy.RULES,
    }
    assert store.learning.clear_suggestions() == 1
    page = store.items.search(order).items
    assert [i.id for i in page] == [high, low]
    assert {(i.suggested_by, i.suggestion) for i in page} == {(SuggestedBy.RULES, None)}


def test_the_migration_goes_down_and_up_again(store: Store) -> None:
    store.learning.save(model(1))
    store.downgrade("0010")
    assert store.revision() == "0010"
    store.upgrade()
    assert store.revision() == store.head_revision()
    assert store.learning.latest(ModelOutput.RELEVANCE) is None
