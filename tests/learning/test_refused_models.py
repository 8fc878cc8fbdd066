"""A stored model that does not load, or comes from another version, is refused: the rules
decide again, and `eudigest status`, `eudigest model status` and the status page say so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.cli import main
from pipeline.curate import learning
from pipeline.model.learning import ModelOutput, SuggestedBy
from pipeline.status import collect
from pipeline.store.items_desk import InboxQuery
from pipeline.store.schema import learned_models
from tests.learning.conftest import NOW
from tests.learning.corpus_desk import decide, staff_judgement


@pytest.fixture
def trained(services: Services) -> Services:
    decide(services.store, staff_judgement(services.store), now=NOW)
    assert jobs.train_model(services).evaluation.active
    return services


def tamper(services: Services, **values: Any) -> None:
    with services.store.engine.begin() as conn:
        conn.execute(sa.update(learned_models).values(**values))


def suggested_by(services: Services) -> set[SuggestedBy]:
    page = services.store.items.search(InboxQuery(order="relevance", per_page=200))
    return {i.suggested_by for i in page.items}


@pytest.mark.parametrize(
    ("values", "english", "german"),
    [
        (
            {"sklearn_version": "0.24.2"},
            "made with scikit-learn 0.24.2",
            "Das gelernte Modell stammt von scikit-learn 0.24.2",
        ),
        ({"format_version": 99}, "has format 99", "anderes Format (99 statt 1)"),
        ({"body": "{not json"}, "does not load (not JSON", "lässt sich nicht laden"),
        (
            {"body": json.dumps({"kind": "tfidf+logistic", "terms": ["a"], "coef": []})},
            "does not load",
            "lässt sich nicht laden",
        ),
    ],
    ids=["other-sklearn", "other-format", "not-json", "wrong-shape"],
)
def test_a_model_that_cannot_be_used_is_refused_and_the_rules_decide(
    trained: Services, values: dict[str, Any], english: str, german: str
) -> None:
    assert suggested_by(trained) == {SuggestedBy.MODEL}
    tamper(trained, **values)

    applied = learning.apply(trained.store)

    assert applied.refused is not None and english in str(applied.refused)
    assert suggested_by(trained) == {SuggestedBy.RULES}
    state = {s.output: s for s in learning.states(trained.store)}[ModelOutput.RELEVANCE]
    assert not state.active and state.problem_de and german in state.problem_de
    report = collect(trained.store, trained.settings.cron_path, NOW)
    refused = [p for p in report.problems if p.check == "model_refused"]
    assert len(refused) == 1 and german in refused[0].message_de
    assert report.as_json()["learning"]["relevance"]["suggested_by"] == "rules"


def test_a_refused_model_is_replaced_by_the_next_training(trained: Services) -> None:
    tamper(trained, sklearn_version="0.24.2")
    assert learning.apply(trained.store).refused is not None

    jobs.train_model(trained)

    assert suggested_by(trained) == {SuggestedBy.MODEL}
    assert all(s.problem is None for s in learning.states(trained.store))


def test_model_status_exits_1_and_names_the_refusal(
    trained: Services, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    tamper(trained, format_version=99)
    _cli_env(folder, monkeypatch)
    capsys.readouterr()

    code = main(["model", "status", "--json"])

    out, err = capsys.readouterr()
    assert code == 1
    relevance = json.loads(out)["outputs"]["relevance"]
    assert relevance["active"] is False and "format 99" in relevance["problem"]
    assert "attention:" in err and "format 99" in err
    code = main(["status", "--json"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "model_refused" in {p["check"] for p in json.loads(out)["problems"]}


def _cli_env(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.learning.corpus_desk import settings_for

    settings = settings_for(folder)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("EUDIGEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("EUDIGEST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("EUDIGEST_TAXONOMY", str(settings.taxonomy_path))
    monkeypatch.setenv("EUDIGEST_SOURCES", str(settings.sources_path))
    monkeypatch.setenv("EUDIGEST_CRON", str(settings.cron_path))
    monkeypatch.setenv("EUDIGEST_OFFICE", str(settings.office_path))
