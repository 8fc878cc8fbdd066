"""`eudigest model train | status`: learning from the desk's decisions (issue 12).

Both print, per output (relevance, doc_type, topics), the decisions, the last training,
the cross-validated AUC of the model and of the rules on the same labels, and whether a
model is in use. scikit-learn is imported by `train` only (through jobs → curate).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pipeline.cli.common import EXIT_ATTENTION, EXIT_OK
from pipeline.cli.output import iso, local_time

if TYPE_CHECKING:
    import datetime as dt

    from pipeline.bootstrap import Services
    from pipeline.cli.output import Console
    from pipeline.model.learning import ModelState


def cmd_model_train(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline import jobs
    from pipeline.curate import learning
    from pipeline.model.learning import verdict_text

    model = jobs.train_model(services)
    states = learning.states(services.store)
    e = model.evaluation
    if args.json:
        out.json({**_json(states), "trained": model.output.value, "seconds": e.seconds})
    else:
        out.print(
            f"{model.output.value}: {verdict_text(e, german=False)} ({e.seconds:.1f} s)",
            highlight=False,
        )
        _table(states, out, services.settings.tz, wide=getattr(args, "wide", False))
    return _exit(states, err)


def cmd_model_status(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from pipeline.curate import learning

    states = learning.states(services.store)
    if args.json:
        out.json(_json(states))
    else:
        _table(states, out, services.settings.tz, wide=getattr(args, "wide", False))
    return _exit(states, err)


def _exit(states: list[ModelState], err: Console) -> int:
    refused = [s for s in states if s.problem]
    for s in refused:
        err.print(f"[red]attention:[/] {s.output.value}: {s.problem}", highlight=False)
    return EXIT_ATTENTION if refused else EXIT_OK


def _json(states: list[ModelState]) -> dict[str, Any]:
    from pipeline.curate.learning import sklearn_version
    from pipeline.model.learning import MIN_LABELS, MODEL_FORMAT, state_text

    outputs: dict[str, Any] = {}
    for s in states:
        e = s.evaluation
        outputs[s.output.value] = {
            "labels": s.labels,
            "trained_at": iso(s.trained_at) if s.trained_at else None,
            "trained_on": e.labels if e else None,
            "accepted": e.positives if e else None,
            "rejected": e.negatives if e else None,
            "sources": e.sources if e else None,
            "folds": e.folds if e else None,
            "auc_model": e.auc_model if e else None,
            "auc_rules": e.auc_rules if e else None,
            "auc_blended": e.auc_blended if e else None,
            "active": s.active,
            "suggested_by": "model" if s.active else "rules",
            "verdict": e.verdict.value if e else None,
            "message": state_text(s, german=False),
            "problem": s.problem,
        }
    return {
        "outputs": outputs,
        "min_labels": MIN_LABELS,
        "model_format": MODEL_FORMAT,
        "sklearn_version": sklearn_version(),
    }


def _table(states: list[ModelState], out: Console, tz: dt.tzinfo, *, wide: bool = False) -> None:
    """One row per output, fitted to the terminal; then what each means, wrapped."""
    from pipeline.cli.output import Column, RankedTable
    from pipeline.model.learning import state_text

    table = RankedTable(
        "Learning",
        [
            Column("output"),
            Column("labels", rank=1),
            Column("trained", rank=2),
            Column("AUC model", rank=3),
            Column("AUC rules", rank=4),
            Column("in use"),
        ],
    )
    for s in states:
        e = s.evaluation
        table.add_row(
            s.output.value,
            str(s.labels),
            local_time(s.trained_at, tz) if s.trained_at else "never",
            f"{e.auc_model:.3f}" if e and e.auc_model is not None else "-",
            f"{e.auc_rules:.3f}" if e and e.auc_rules is not None else "-",
            "model" if s.active else "rules",
        )
    table.print(out, wide=wide)
    for s in states:
        out.print(
            f"{s.output.value}: {state_text(s, german=False)}",
            highlight=False,
            markup=False,
            soft_wrap=False,
        )
