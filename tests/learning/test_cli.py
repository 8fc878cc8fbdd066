"""`eudigest model train | status [--json]` and `eudigest items --json` in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.bootstrap import Services
from pipeline.cli import main
from tests.learning.conftest import NOW
from tests.learning.corpus_desk import decide, staff_judgement
from tests.learning.test_refused_models import _cli_env

FIELDS = {"labels", "trained_at", "auc_model", "auc_rules", "active"}


def run(capsys: Any, *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(list(args))
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def test_status_before_any_training_says_the_rules_decide(
    services: Services, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _cli_env(folder, monkeypatch)

    code, status = run(capsys, "model", "status", "--json")

    assert code == 0
    assert set(status["outputs"]) == {"relevance", "doc_type", "topics"}
    for output in status["outputs"].values():
        assert output.keys() >= FIELDS
        assert output["active"] is False and output["trained_at"] is None
    assert status["outputs"]["relevance"]["message"] == "never trained: the rules decide"


def test_train_and_status_report_labels_figures_and_what_is_in_use(
    services: Services, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    judgement = staff_judgement(services.store)
    decide(services.store, judgement, now=NOW)
    _cli_env(folder, monkeypatch)

    code, trained = run(capsys, "model", "train", "--json")

    assert code == 0 and trained["trained"] == "relevance"
    relevance = trained["outputs"]["relevance"]
    assert relevance["labels"] == len(judgement) == relevance["trained_on"]
    assert relevance["active"] is True and relevance["suggested_by"] == "model"
    assert relevance["auc_model"] > relevance["auc_rules"]
    assert relevance["verdict"] == "active" and relevance["trained_at"]
    assert trained["outputs"]["doc_type"]["active"] is False
    code, status = run(capsys, "model", "status", "--json")
    assert code == 0 and status["outputs"] == trained["outputs"]
    code, listed = run(capsys, "items", "--json", "--status", "new", "--limit", "5")
    assert code == 0 and {i["suggested_by"] for i in listed} == {"model"}
    assert all(isinstance(i["suggestion"], float) for i in listed)


def test_train_with_too_few_decisions_says_so_in_english_and_exits_0(
    services: Services, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    decide(services.store, dict(list(staff_judgement(services.store).items())[:12]), now=NOW)
    _cli_env(folder, monkeypatch)
    capsys.readouterr()

    code = main(["model", "train"])

    out, _ = capsys.readouterr()
    assert code == 0
    assert "relevance: only 12 decisions (needed: 200): the rules decide" in out


def test_topic_decisions_are_counted_while_topics_stay_with_the_rules(
    services: Services, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from pipeline import curate
    from tests.learning.corpus_desk import ANNA

    ids = list(staff_judgement(services.store))[:3]
    topics = {t.id for t in services.taxonomy().topics}
    curate.set_topics(services.store, ids[:2], ["funding"], actor=ANNA, now=NOW, topic_ids=topics)
    curate.set_topics(services.store, ids[1:], [], actor=ANNA, now=NOW, topic_ids=topics)  # removed
    _cli_env(folder, monkeypatch)

    code, status = run(capsys, "model", "status", "--json")

    assert code == 0
    assert status["outputs"]["topics"]["labels"] == 3
    assert status["outputs"]["topics"]["active"] is False
    assert status["outputs"]["topics"]["message"] == (
        "not learned from the desk yet: the rules decide"
    )
