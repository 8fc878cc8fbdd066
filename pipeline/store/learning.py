"""Learning from the desk: the labels the desk's decisions make, learned models, suggestions.

    labels()                      items the desk accepted or rejected (their current status:
                                  a reverted decision counts as its last one)
    save(model)                   one training, newest last; old ones beyond KEEP pruned
    latest() / latest(output)     the newest training per output
    to_score(limit)               unreviewed inbox items, as labels to score
    set_suggestions(scores)       the blended score of items, suggested_by = model
    clear_suggestions()           back to the rules: every item suggested_by = rules

Each method is one transaction (store rules); the model itself is JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, insert, select, update

from pipeline.model import OWN_SOURCE_ID, ItemStatus
from pipeline.model.learning import (
    Evaluation,
    Label,
    LearnedModel,
    ModelOutput,
    SuggestedBy,
    Verdict,
)
from pipeline.store.base import wrap_errors
from pipeline.store.item_rows import chunks
from pipeline.store.schema import audit_log, items, learned_models, sources

KEEP = 20  # trainings kept per output (the newest counts; older ones are history)
DECIDED = (ItemStatus.ACCEPTED.value, ItemStatus.REJECTED.value)


class LearningStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def labels(self) -> list[Label]:
        """Every item the desk decided (accepted or rejected), own items left out."""
        return self._labels(items.c.status.in_(DECIDED))

    def to_score(self) -> list[Label]:
        """Unreviewed inbox items (status new), in the shape the model reads."""
        return self._labels(items.c.status == ItemStatus.NEW.value)

    def label_counts(self) -> tuple[int, int]:
        """(accepted, rejected) decisions, without reading the items."""
        with wrap_errors("counting labels"), self._engine.connect() as conn:
            rows = conn.execute(
                select(items.c.status, func.count())
                .where(items.c.status.in_(DECIDED), items.c.source_id != OWN_SOURCE_ID)
                .group_by(items.c.status)
            ).all()
        counts = {r[0]: int(r[1]) for r in rows}
        return counts.get(ItemStatus.ACCEPTED.value, 0), counts.get(ItemStatus.REJECTED.value, 0)

    def topic_decisions(self) -> int:
        """Items whose topics staff confirmed, changed or removed (kept for topic learning)."""
        with wrap_errors("counting topic decisions"), self._engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count(func.distinct(audit_log.c.item_id)))
                    .select_from(audit_log.join(items, items.c.id == audit_log.c.item_id))
                    .where(
                        audit_log.c.action == "topics",
                        items.c.status != ItemStatus.DELETED.value,
                        items.c.source_id != OWN_SOURCE_ID,
                    )
                ).scalar_one()
            )

    def save(self, model: LearnedModel) -> LearnedModel:
        e = model.evaluation
        with wrap_errors("saving a learned model"), self._engine.begin() as conn:
            new_id = conn.execute(
                insert(learned_models)
                .values(
                    output=model.output.value,
                    trained_at=model.trained_at,
                    format_version=model.format_version,
                    sklearn_version=model.sklearn_version,
                    eudigest_version=model.eudigest_version,
                    labels=e.labels,
                    positives=e.positives,
                    negatives=e.negatives,
                    sources=e.sources,
                    folds=e.folds,
                    auc_model=e.auc_model,
                    auc_rules=e.auc_rules,
                    auc_blended=e.auc_blended,
                    verdict=e.verdict.value,
                    seconds=e.seconds,
                    active=e.active,
                    body=json.dumps(model.body, separators=(",", ":")),
                )
                .returning(learned_models.c.id)
            ).scalar_one()
            old = (
                select(learned_models.c.id)
                .where(learned_models.c.output == model.output.value)
                .order_by(learned_models.c.id.desc())
                .offset(KEEP)
            )
            stale = list(conn.execute(old).scalars())
            if stale:
                conn.execute(delete(learned_models).where(learned_models.c.id.in_(stale)))
        return LearnedModel(
            id=int(new_id),
            output=model.output,
            trained_at=model.trained_at,
            format_version=model.format_version,
            sklearn_version=model.sklearn_version,
            eudigest_version=model.eudigest_version,
            evaluation=e,
            body=model.body,
        )

    def latest(self, output: ModelOutput, *, with_body: bool = True) -> LearnedModel | None:
        """The newest training of `output`; a body that is not JSON reads as {"broken": …}."""
        newest = select(func.max(learned_models.c.id)).where(
            learned_models.c.output == output.value
        )
        with wrap_errors("reading learned models"), self._engine.connect() as conn:
            row = conn.execute(
                select(*_columns(with_body)).where(learned_models.c.id == newest.scalar_subquery())
            ).first()
        return None if row is None else _model(row, with_body=with_body)

    def active(self, output: ModelOutput) -> bool:
        """Whether the newest training of `output` beat the rules (its body is not read)."""
        newest = self.latest(output, with_body=False)
        return newest is not None and newest.evaluation.active

    def history(self, output: ModelOutput, limit: int = KEEP) -> list[LearnedModel]:
        with wrap_errors("reading learned models"), self._engine.connect() as conn:
            rows = conn.execute(
                select(*_columns(False))
                .where(learned_models.c.output == output.value)
                .order_by(learned_models.c.id.desc())
                .limit(limit)
            ).all()
        return [_model(r, with_body=False) for r in rows]

    def set_suggestions(self, scores: Iterable[tuple[int, float]], *, replace: bool = False) -> int:
        """Items' blended scores, suggested by the model; returns how many were set.

        With `replace`, every other item goes back to the rules in the same transaction
        (the desk never sees a half-scored inbox)."""
        rows = [{"item": i, "score": s} for i, s in scores]
        stmt = (
            update(items)
            .where(items.c.id == bindparam("item"))
            .values(suggestion=bindparam("score"), suggested_by=SuggestedBy.MODEL.value)
        )
        with wrap_errors("storing suggestions"), self._engine.begin() as conn:
            if replace:
                conn.execute(_clear())
            for chunk in chunks(rows):
                conn.execute(stmt, chunk)
        return len(rows)

    def clear_suggestions(self) -> int:
        """Back to the rules: no item keeps a model's score."""
        with wrap_errors("clearing suggestions"), self._engine.begin() as conn:
            return int(conn.execute(_clear()).rowcount)

    def _labels(self, where: Any) -> list[Label]:
        stmt = (
            select(
                items.c.id,
                items.c.source_id,
                sources.c.institution,
                items.c.title,
                items.c.summary_html,
                items.c.url,
                items.c.doc_type,
                items.c.relevance,
                items.c.status,
            )
            .join(sources, sources.c.id == items.c.source_id)
            .where(where, items.c.source_id != OWN_SOURCE_ID)
            .order_by(items.c.id)
        )
        with wrap_errors("reading labels"), self._engine.connect() as conn:
            return [
                Label(
                    item_id=r.id,
                    source_id=r.source_id,
                    institution=r.institution,
                    title=r.title,
                    summary_html=r.summary_html or "",
                    url=r.url,
                    doc_type=r.doc_type,
                    relevance=float(r.relevance),
                    accepted=r.status == ItemStatus.ACCEPTED.value,
                )
                for r in conn.execute(stmt)
            ]


def _clear() -> Any:
    return (
        update(items)
        .where(items.c.suggested_by != SuggestedBy.RULES.value)
        .values(suggestion=None, suggested_by=SuggestedBy.RULES.value)
    )


def _columns(with_body: bool) -> list[Any]:
    return [c for c in learned_models.c if with_body or c.name != "body"]


def _model(row: Any, *, with_body: bool) -> LearnedModel:
    body: dict[str, Any] = {}
    if with_body:
        try:
            loaded = json.loads(row.body)
            body = loaded if isinstance(loaded, dict) else {"broken": "not a JSON object"}
        except ValueError as exc:
            body = {"broken": f"not JSON: {exc}"}
    return LearnedModel(
        id=row.id,
        output=ModelOutput(row.output),
        trained_at=row.trained_at,
        format_version=row.format_version,
        sklearn_version=row.sklearn_version,
        eudigest_version=row.eudigest_version,
        evaluation=Evaluation(
            output=ModelOutput(row.output),
            labels=row.labels,
            positives=row.positives,
            negatives=row.negatives,
            sources=row.sources,
            folds=row.folds,
            auc_model=row.auc_model,
            auc_rules=row.auc_rules,
            auc_blended=row.auc_blended,
            verdict=_verdict(row.verdict),
            seconds=row.seconds,
        ),
        body=body,
    )


def _verdict(value: str) -> Verdict:
    try:
        return Verdict(value)
    except ValueError:  # written by a newer version: not something this code may use
        return Verdict.NOT_LEARNED
