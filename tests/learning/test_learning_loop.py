"""The learning loop end to end: staff decide at the desk → train → suggestions and order.

The corpus is ingested from the loopback FeedServer; the staff's decisions are made
through the curate functions the desk's buttons call: the office of corpus_desk's
staff_judgement (a taste the rules do not know), or the hand labels of tests/data/labels
as they are (high or medium: accepted; low: rejected), which the rules already rank
better than a model of 407 decisions.
"""

from __future__ import annotations

from pathlib import Path

from pipeline import curate, jobs
from pipeline.bootstrap import Services
from pipeline.curate import learning
from pipeline.model import ItemStatus
from pipeline.model.learning import MIN_LABELS, ModelOutput, SuggestedBy, Verdict
from pipeline.store.items import ItemQuery
from pipeline.store.items_desk import InboxQuery
from tests.learning.conftest import NOW
from tests.learning.corpus_desk import ANNA, decide, label_judgement, staff_judgement
from tests.support.feedserver import FeedServer
from tests.support.fetching import allow_server


def inbox_ids(services: Services, n: int = 50) -> list[int]:
    page = services.store.items.search(InboxQuery(order="relevance", per_page=n))
    return [i.id for i in page.items]


def test_cold_start_without_decisions_works_exactly_as_the_rules(services: Services) -> None:
    before = services.store.items.search(InboxQuery(order="relevance", per_page=200)).items

    model = jobs.train_model(services)

    assert model.evaluation.verdict is Verdict.NO_LABELS
    assert model.body == {}
    after = services.store.items.search(InboxQuery(order="relevance", per_page=200)).items
    assert [i.id for i in after] == [i.id for i in before]
    assert all(i.suggested_by is SuggestedBy.RULES and i.suggestion is None for i in after)
    assert [i.score for i in after] == [i.relevance for i in before]
    relevance = {s.output: s for s in learning.states(services.store)}[ModelOutput.RELEVANCE]
    assert relevance.active is False and relevance.labels == 0


def test_too_few_decisions_keep_the_rules_and_say_how_many_are_needed(
    services: Services,
) -> None:
    judgement = dict(list(staff_judgement(services.store).items())[:40])
    decide(services.store, judgement, now=NOW)
    before = inbox_ids(services)

    model = jobs.train_model(services)

    assert model.evaluation.verdict is Verdict.TOO_FEW
    assert model.evaluation.labels == 40
    assert inbox_ids(services) == before
    from pipeline.model.learning import verdict_text

    assert verdict_text(model.evaluation, german=True) == (
        f"erst 40 Entscheidungen (nötig: {MIN_LABELS}): es gelten die Regeln"
    )


def test_decisions_of_one_kind_only_keep_the_rules(services: Services) -> None:
    judgement = staff_judgement(services.store)
    rejected_only = {i: False for i in list(judgement)[: MIN_LABELS + 10]}
    decide(services.store, rejected_only, now=NOW)

    model = jobs.train_model(services)

    assert model.evaluation.verdict is Verdict.ONE_CLASS
    assert (model.evaluation.positives, model.evaluation.negatives) == (0, MIN_LABELS + 10)
    assert not model.evaluation.active
    assert all(i.suggested_by is SuggestedBy.RULES for i in services.store.items.list())


def test_a_model_that_does_not_beat_the_rules_is_kept_but_not_used(
    services: Services,
) -> None:
    judgement = label_judgement(services.store)
    decide(services.store, judgement, now=NOW)
    before = inbox_ids(services)

    model = jobs.train_model(services)

    assert model.evaluation.verdict is Verdict.NOT_BETTER
    assert model.evaluation.auc_model is not None and model.evaluation.auc_rules is not None
    assert model.evaluation.auc_model <= model.evaluation.auc_rules
    assert not model.evaluation.active
    assert inbox_ids(services) == before
    assert all(
        i.suggested_by is SuggestedBy.RULES
        for i in services.store.items.list(ItemQuery(limit=10_000))
    )


def test_the_desk_learns_from_decisions_and_the_inbox_order_changes(
    services: Services,
) -> None:
    store = services.store
    judgement = staff_judgement(store)
    assert len(judgement) >= MIN_LABELS
    # A decision reverted by staff: first accepted, then rejected; the label is "rejected".
    reverted = next(i for i, ok in judgement.items() if not ok)
    curate.accept(store, [reverted], actor=ANNA, now=NOW)
    decide(store, judgement, now=NOW)
    assert store.items.get(reverted).status is ItemStatus.REJECTED
    before = inbox_ids(services)

    model = jobs.train_model(services)

    e = model.evaluation
    assert e.labels == len(judgement)
    assert e.verdict is Verdict.ACTIVE, e
    assert e.auc_model is not None and e.auc_rules is not None and e.auc_model > e.auc_rules
    assert e.sources >= 3 and e.folds >= 3  # whole sources were held out
    assert not any(x.item_id == reverted and x.accepted for x in store.learning.labels())
    # the unreviewed inbox now carries the model's suggestions, and is ordered by them
    page = store.items.search(InboxQuery(order="relevance", per_page=200)).items
    assert page and all(i.suggested_by is SuggestedBy.MODEL for i in page)
    assert all(i.suggestion is not None for i in page)
    scores = [i.score for i in page]
    assert scores == sorted(scores, reverse=True)
    assert inbox_ids(services) != before
    # decided items are not rescored: the suggestion is for what staff have not seen
    decided = store.items.get(next(iter(judgement)))
    assert decided.suggested_by is SuggestedBy.RULES
    relevance = {s.output: s for s in learning.states(store)}[ModelOutput.RELEVANCE]
    assert relevance.active and relevance.problem is None


def test_training_again_after_staff_change_their_minds_follows_the_last_decision(
    services: Services,
) -> None:
    store = services.store
    judgement = staff_judgement(store)
    decide(store, judgement, now=NOW)
    first = jobs.train_model(services).evaluation
    flipped = [i for i, ok in judgement.items() if ok][:5]
    curate.reject(store, flipped, actor=ANNA, now=NOW)

    second = jobs.train_model(services).evaluation

    assert second.positives == first.positives - 5
    assert second.negatives == first.negatives + 5
    assert len(store.learning.history(ModelOutput.RELEVANCE)) == 2


def test_items_fetched_while_a_model_is_in_use_get_its_suggestion_at_once(
    services: Services, folder: Path
) -> None:
    store = services.store
    decide(store, staff_judgement(store), now=NOW)
    assert jobs.train_model(services).evaluation.active
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<link>https://ec.europa.eu/</link><description>t</description>"
        "<item><title>Call for proposals: Interregional Innovation Investments</title>"
        "<link>https://ec.europa.eu/news/i3-call</link><guid>i3-call</guid>"
        "<pubDate>Wed, 25 Nov 2026 07:00:00 GMT</pubDate>"
        "<description>Regions may apply until 5 March 2027.</description></item>"
        "</channel></rss>"
    )
    with FeedServer() as server:
        allow_server(services, server)
        server.put("/live.xml", feed.encode())
        sources = folder / "live-sources.yaml"
        sources.write_text(
            "sources:\n  - id: live\n    name: Live\n    institution: Europäische Kommission\n"
            f"    url: {server.url('/live.xml')}\n    language: en\n    kind: feed\n",
            encoding="utf-8",
        )
        report = jobs.fetch(services, sources_file=sources, source_ids=["live"])
    assert report.total("new") == 1
    (new,) = store.items.search(InboxQuery(source_id="live")).items
    assert new.suggested_by is SuggestedBy.MODEL and new.suggestion is not None
