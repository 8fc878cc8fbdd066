"""The feedback store on SQLite and PostgreSQL, and readers' answers as learning labels."""

from __future__ import annotations

import datetime as dt

from pipeline.catalog import load_taxonomy
from pipeline.curate.learning import with_reader_labels
from pipeline.model.feedback import Answer, FeedbackCounts, Recorded
from pipeline.model.learning import Label
from pipeline.store import Store
from tests.conftest import ROOT
from tests.web.conftest import EC_DE, EP_EN, NOW, seed_items


def test_one_answer_per_reader_and_item_and_question(store: Store) -> None:
    store.topics.sync(load_taxonomy(ROOT / "taxonomy.yaml"))
    store.sources.register([EC_DE, EP_EN], now=NOW)
    ids = seed_items(store).ids
    edition = store.editions.create(
        "weekly", title="KW 48", intro="", sections=[("A", list(ids.values()))],
        actor="anna", now=NOW,
    )  # fmt: skip
    item = ids["call"]

    def record(answer: Answer, reader: str, org: str = "kommune") -> Recorded:
        return store.feedback.record(
            edition_id=edition.id, item_id=item, answer=answer, reader_hash=reader,
            org_type=org, now=NOW,
        )  # fmt: skip

    assert record(Answer.YES, "a" * 64) is Recorded.NEW
    assert record(Answer.YES, "a" * 64) is Recorded.SAME
    assert record(Answer.NO, "a" * 64) is Recorded.CHANGED
    assert record(Answer.MORE, "a" * 64) is Recorded.NEW  # another question
    assert record(Answer.YES, "b" * 64, "hochschule") is Recorded.NEW
    assert store.feedback.counts_by_item([item]) == {item: FeedbackCounts(1, 1, 1)}
    assert store.feedback.counts_by_edition_item(edition.id) == {item: FeedbackCounts(1, 1, 1)}
    labels = store.feedback.reader_labels()
    assert labels[item]["kommune"] == FeedbackCounts(0, 1, 1)
    assert labels[item]["hochschule"] == FeedbackCounts(1, 0, 0)

    midnight = NOW.replace(hour=0, minute=0)  # only the day is stored
    assert store.feedback.forget_readers(midnight) == 0
    assert store.feedback.forget_readers(midnight + dt.timedelta(seconds=1)) == 3
    assert record(Answer.YES, "a" * 64) is Recorded.NEW  # only ever after links expired
    assert store.feedback.counts_by_item([item])[item] == FeedbackCounts(2, 1, 1)

    s = store.feedback.add_suggestion(edition.id, "<b>Mehr</b> zu EFRE", org_type="", now=NOW)
    assert [x.text for x in store.feedback.suggestions(edition.id)] == ["<b>Mehr</b> zu EFRE"]
    assert not store.feedback.erase_suggestion(edition.id + 1, s.id)  # another edition's
    assert store.feedback.erase_suggestion(edition.id, s.id)
    assert not store.feedback.erase_suggestion(edition.id, s.id)
    assert store.feedback.suggestions(edition.id) == []


def label(item_id: int, accepted: bool) -> Label:
    return Label(item_id, "ec", "EC", "t", "", None, "news", 0.5, accepted)


def test_a_majority_of_nein_makes_an_accepted_item_a_negative_label() -> None:
    answers = {
        1: {"kommune": FeedbackCounts(0, 2, 0), "hochschule": FeedbackCounts(1, 0, 0)},
        2: {"kommune": FeedbackCounts(1, 1, 0)},  # a tie keeps the desk's decision
        3: {"": FeedbackCounts(3, 0, 0)},  # "Ja" never overrides a rejection
    }
    labels = [label(1, True), label(2, True), label(3, False), label(4, True)]
    assert [x.accepted for x in with_reader_labels(labels, answers)] == [
        False, True, False, True,
    ]  # fmt: skip
