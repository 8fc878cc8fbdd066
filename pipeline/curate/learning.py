"""Learning from the desk: the staff's decisions train a model that may join the rules.

    train(store, now)
      labels = store.learning.labels()          every accepted or rejected item (the
                                                 last decision counts); an accepted item
                                                 readers mostly answered "Nein" is a
                                                 negative (with_reader_labels, issue 17)
      gate: ≥ MIN_LABELS, ≥ MIN_PER_CLASS of each, ≥ MIN_SOURCES sources, else the
            rules stay and the verdict says why (no model is fitted)
      evaluate: GroupKFold by source (whole sources held out) → out-of-fold
            probabilities → AUC of the model, of the rules (items.relevance) and of the
            blend, on the same labels
      active = AUC(model) > AUC(rules)           per output, never silently
      fit on all labels → body (JSON: vocabulary, idf, coefficients; never pickle)
      store.learning.save(model)                 versioned, with the figures
      apply(store): active → score the inbox's unreviewed items, suggestion =
            (1 − w)·rules + w·model, suggested_by = model; otherwise → the rules
    apply(store)        score unreviewed items with the newest model, or fall back
    states(store)       per output: the newest training, whether a model is in use,
                        and why a stored model is refused (for `model status`, `status`)

The model: logistic regression over word uni- and bigrams (tf-idf, sublinear) of the
title and summary, plus tokens for the source, the institution, the document type and
the words of the link. scikit-learn is imported only inside the functions that fit or
load (the command line's start-up stays light); `check` needs only the standard library.

Relevance is learnt first. The desk gives no document-type labels (staff cannot change
an item's type) and topic confirmations replace the rules' topics on the item, so
those outputs stay with the rules for now (verdict `not_learned`).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from typing import TYPE_CHECKING, Any

from pipeline.config import VERSION
from pipeline.errors import EudigestError
from pipeline.model.feedback import FeedbackCounts
from pipeline.model.learning import (
    BLEND_WEIGHT,
    MIN_LABELS,
    MIN_PER_CLASS,
    MIN_SOURCES,
    MODEL_FORMAT,
    Evaluation,
    Label,
    LearnedModel,
    ModelOutput,
    ModelState,
    Verdict,
)
from pipeline.text import html_to_line

if TYPE_CHECKING:
    from pipeline.store import Store

__all__ = [
    "ModelRefused",
    "Scorer",
    "apply",
    "check",
    "document",
    "evaluate",
    "load",
    "states",
    "train",
    "with_reader_labels",
]

log = logging.getLogger("eudigest.learning")

MAX_TEXT = 20_000  # characters of title + summary read (a 1 MB summary is cut, not read)
MAX_FEATURES = 30_000  # vocabulary size bound (the JSON body stays a few MB at most)
MAX_FOLDS = 5
_NON_WORD = re.compile(r"\W+", re.UNICODE)
_URL_WORD = re.compile(r"[A-Za-z]{3,}")
VECTORIZER: dict[
    str, Any
] = {  # the fixed settings of the vectorizer (stored with the model, checked at load)
    "ngram_range": [1, 2],
    "min_df": 2,
    "max_df": 0.9,
    "sublinear_tf": True,
    "lowercase": True,
    "token_pattern": r"(?u)\b\w\w+\b",
    "max_features": MAX_FEATURES,
}
# liblinear's dual form: far faster while there are fewer decisions than words
CLASSIFIER = {
    "C": 4.0,
    "class_weight": "balanced",
    "max_iter": 2000,
    "solver": "liblinear",
    "dual": True,
}


class ModelRefused(EudigestError):
    """A stored model of another version, or one that does not load: the rules decide."""

    def __init__(self, message: str, message_de: str) -> None:
        super().__init__(message)
        self.message_de = message_de


# ---------------------------------------------------------------- features


def document(label: Label) -> str:
    """What the model reads of an item: its words, then tokens for where it comes from."""
    text = f"{label.title} {label.summary_html[:MAX_TEXT]}"[:MAX_TEXT]
    text = html_to_line(text)
    meta = [
        f"zzsrc_{_token(label.source_id)}",
        f"zzinst_{_token(label.institution)}",
        f"zzdoc_{_token(label.doc_type)}",
    ]
    if label.url:
        path = label.url.split("://", 1)[-1][:500]
        meta += [f"zzurl_{w.lower()}" for w in _URL_WORD.findall(path)[:30]]
    return f"{text} {' '.join(meta)}"


def _token(value: str) -> str:
    return _NON_WORD.sub("_", value.lower()).strip("_") or "none"


# ---------------------------------------------------------------- evaluating and training


def evaluate(labels: Sequence[Label]) -> Evaluation:
    """Cross-validated figures holding out whole sources; the gate's verdict when too few."""
    return _evaluate(labels)[0]


def _evaluate(labels: Sequence[Label]) -> tuple[Evaluation, Any]:
    """The evaluation, and (when there was one) the word counts of every label to reuse.

    The words are counted once for all labels (no label is read for that); per fold, the
    idf weights and the classifier are fitted on the training sources only, so a held-out
    source's words carry no weight its labels could have given them.
    """
    started = time.perf_counter()
    gate = _gate(labels)
    if gate.verdict is not Verdict.ACTIVE:
        return gate, None
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    counter, counts = _count([document(x) for x in labels])
    y = [1 if x.accepted else 0 for x in labels]
    groups = [x.source_id for x in labels]
    folds = min(MAX_FOLDS, gate.sources)
    predicted = [0.5] * len(labels)
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(counts, y, groups):
        train_y = [y[i] for i in train_idx]
        if len(set(train_y)) < 2:  # a fold that saw one kind only knows nothing
            continue
        tfidf, model = _fit(counts[train_idx], train_y)
        probabilities = model.predict_proba(tfidf.transform(counts[test_idx]))[:, 1]
        for i, p in zip(test_idx, probabilities, strict=True):
            predicted[i] = float(p)
    rules = [x.relevance for x in labels]
    blended = [_blend(r, p) for r, p in zip(rules, predicted, strict=True)]
    auc_model = float(roc_auc_score(y, predicted))
    auc_rules = float(roc_auc_score(y, rules))
    evaluation = replace(
        gate,
        folds=folds,
        auc_model=round(auc_model, 4),
        auc_rules=round(auc_rules, 4),
        auc_blended=round(float(roc_auc_score(y, blended)), 4),
        verdict=Verdict.ACTIVE if auc_model > auc_rules else Verdict.NOT_BETTER,
        seconds=round(time.perf_counter() - started, 3),
    )
    return evaluation, (counter, counts, y)


def _count(docs: Sequence[str]) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import CountVectorizer

    params: dict[str, Any] = {k: v for k, v in VECTORIZER.items() if k != "sublinear_tf"}
    params["ngram_range"] = tuple(params["ngram_range"])
    counter = CountVectorizer(**params)
    return counter, counter.fit_transform(docs)


def _fit(counts: Any, y: Sequence[int]) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    tfidf = TfidfTransformer(sublinear_tf=VECTORIZER["sublinear_tf"]).fit(counts)
    return tfidf, LogisticRegression(**CLASSIFIER).fit(tfidf.transform(counts), y)


def _gate(labels: Sequence[Label]) -> Evaluation:
    pos = sum(1 for x in labels if x.accepted)
    neg = len(labels) - pos
    n_sources = len({x.source_id for x in labels})
    e = Evaluation(
        ModelOutput.RELEVANCE, len(labels), positives=pos, negatives=neg, sources=n_sources
    )
    if not labels:
        verdict = Verdict.NO_LABELS
    elif len(labels) < MIN_LABELS:
        verdict = Verdict.TOO_FEW
    elif min(pos, neg) < MIN_PER_CLASS:
        verdict = Verdict.ONE_CLASS
    elif n_sources < MIN_SOURCES:
        verdict = Verdict.FEW_SOURCES
    else:
        verdict = Verdict.ACTIVE  # so far: enough to evaluate
    return replace(e, verdict=verdict)


def with_reader_labels(
    labels: Sequence[Label], answers: Mapping[int, Mapping[str, FeedbackCounts]]
) -> list[Label]:
    """Readers' "Hilfreich? Ja · Nein" as relevance labels (issue 17): an item the desk
    accepted that more readers called not useful than useful is learnt as not relevant.
    The answers are kept per organisation type (`answers[item][org_type]`); one model
    serves every type today, so their sum decides. Items without answers keep the desk's
    decision; "Ja" confirms an accepted item and never overrides a rejection."""
    found = []
    for label in labels:
        by_type = answers.get(label.item_id)
        if by_type and label.accepted:
            total = sum(by_type.values(), FeedbackCounts())
            if total.not_useful > total.useful:
                label = replace(label, accepted=False)
        found.append(label)
    return found


def train(store: Store, now: dt.datetime) -> LearnedModel:
    """Evaluate and (when it beats the rules) fit the relevance model; store it; apply it."""
    started = time.perf_counter()
    labels = with_reader_labels(store.learning.labels(), store.feedback.reader_labels())
    evaluation, counted = _evaluate(labels)
    body: dict[str, Any] = {}
    if evaluation.active:
        counter, counts, y = counted
        tfidf, classifier = _fit(counts, y)
        body = _body(counter.vocabulary_, tfidf.idf_, classifier)
    evaluation = replace(evaluation, seconds=round(time.perf_counter() - started, 3))
    model = store.learning.save(
        LearnedModel(
            id=0,
            output=ModelOutput.RELEVANCE,
            trained_at=now,
            format_version=MODEL_FORMAT,
            sklearn_version=sklearn_version(),
            eudigest_version=VERSION,
            evaluation=evaluation,
            body=body,
        )
    )
    log.info(
        "model trained",
        extra={
            "labels": evaluation.labels,
            "verdict": evaluation.verdict.value,
            "auc_model": evaluation.auc_model,
            "auc_rules": evaluation.auc_rules,
        },
    )
    apply(store)
    return model


# ---------------------------------------------------------------- applying


@dataclass(frozen=True, slots=True)
class Applied:
    scored: int  # unreviewed items given a blended score
    cleared: int  # items set back to the rules (when no model is in use)
    refused: ModelRefused | None = None  # a stored active model that could not be used


def apply(store: Store) -> Applied:
    """Score the unreviewed items with the newest relevance model, or go back to the rules."""
    newest = store.learning.latest(ModelOutput.RELEVANCE)
    if newest is None or not newest.evaluation.active:
        return Applied(0, store.learning.clear_suggestions())
    try:
        scorer = load(newest)
    except ModelRefused as exc:
        log.warning("learned model refused, the rules decide: %s", exc)
        return Applied(0, store.learning.clear_suggestions(), exc)
    items = store.learning.to_score()
    scores = scorer.scores(items) if items else []
    scored = store.learning.set_suggestions(
        ((x.item_id, round(_blend(x.relevance, p), 4)) for x, p in zip(items, scores, strict=True)),
        replace=True,
    )
    return Applied(scored, 0)


def _blend(rules: float, model: float) -> float:
    return (1 - BLEND_WEIGHT) * rules + BLEND_WEIGHT * model


# ---------------------------------------------------------------- the model as JSON


class Scorer:
    """A loaded model: the probability that the desk accepts an item."""

    def __init__(self, pipe: Any) -> None:
        self._pipe = pipe

    def scores(self, labels: Sequence[Label]) -> list[float]:
        return [float(p) for p in self._pipe.predict_proba([document(x) for x in labels])[:, 1]]


def _pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    params: dict[str, Any] = dict(VECTORIZER)
    params["ngram_range"] = tuple(params["ngram_range"])
    return Pipeline(
        [
            ("words", TfidfVectorizer(**params)),
            ("model", LogisticRegression(**CLASSIFIER)),
        ]
    )


def dump(pipe: Any) -> dict[str, Any]:
    """A fitted pipeline as plain JSON values: no code, nothing pickle could run."""
    words, model = pipe.named_steps["words"], pipe.named_steps["model"]
    return _body(words.vocabulary_, words.idf_, model)


def _body(vocabulary_: dict[str, int], idf: Any, model: Any) -> dict[str, Any]:
    vocabulary = sorted(vocabulary_.items(), key=lambda kv: kv[1])
    return {
        "kind": "tfidf+logistic",
        "vectorizer": dict(VECTORIZER),
        "terms": [t for t, _ in vocabulary],
        "idf": [round(float(v), 6) for v in idf],
        "coef": [round(float(v), 6) for v in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "classes": [int(c) for c in model.classes_],
    }


def sklearn_version() -> str:
    """The installed scikit-learn's version, read without importing it."""
    try:
        return metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        return "none"


def check(model: LearnedModel) -> ModelRefused | None:
    """Why a stored model cannot be used (versions, shape), or None; stdlib only."""
    if model.format_version != MODEL_FORMAT:
        return ModelRefused(
            f"the stored model has format {model.format_version}, this eudigest reads "
            f"format {MODEL_FORMAT}: the rules decide until `eudigest model train`",
            f"Das gelernte Modell hat ein anderes Format ({model.format_version} statt "
            f"{MODEL_FORMAT}): es gelten die Regeln bis zum nächsten Training",
        )
    installed = sklearn_version()
    if model.sklearn_version != installed:
        return ModelRefused(
            f"the stored model was made with scikit-learn {model.sklearn_version}, "
            f"{installed} is installed: the rules decide until `eudigest model train`",
            f"Das gelernte Modell stammt von scikit-learn {model.sklearn_version} "
            f"(installiert: {installed}): es gelten die Regeln bis zum nächsten Training",
        )
    problem = _shape_problem(model.body)
    if problem:
        return ModelRefused(
            f"the stored model does not load ({problem}): the rules decide until "
            "`eudigest model train`",
            f"Das gelernte Modell lässt sich nicht laden ({problem}): es gelten die Regeln "
            "bis zum nächsten Training",
        )
    return None


def _shape_problem(body: dict[str, Any]) -> str | None:
    if "broken" in body:
        return str(body["broken"])
    if body.get("kind") != "tfidf+logistic":
        return f"unknown kind {body.get('kind')!r}"
    if body.get("vectorizer") != VECTORIZER:
        return "other vectorizer settings"
    terms, idf, coef = body.get("terms"), body.get("idf"), body.get("coef")
    if not (isinstance(terms, list) and isinstance(idf, list) and isinstance(coef, list)):
        return "terms, idf or coef missing"
    if not terms or not len(terms) == len(idf) == len(coef):
        return f"{len(terms)} terms, {len(idf)} idf weights, {len(coef)} coefficients"
    if len(set(terms)) != len(terms) or not all(isinstance(t, str) for t in terms):
        return "the terms are not distinct words"
    numbers = [*idf, *coef, body.get("intercept")]
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in numbers):
        return "a weight is not a finite number"
    if body.get("classes") != [0, 1]:
        return "classes are not [0, 1]"
    return None


def load(model: LearnedModel) -> Scorer:
    """Rebuild the scikit-learn pipeline from the JSON body; ModelRefused when it cannot."""
    refused = check(model)
    if refused is not None:
        raise refused
    try:
        import numpy as np

        pipe = _pipeline()
        words, clf = pipe.named_steps["words"], pipe.named_steps["model"]
        body = model.body
        words.vocabulary_ = {t: i for i, t in enumerate(body["terms"])}
        words.idf_ = np.asarray(body["idf"], dtype=np.float64)
        clf.classes_ = np.asarray(body["classes"])
        clf.coef_ = np.asarray([body["coef"]], dtype=np.float64)
        clf.intercept_ = np.asarray([body["intercept"]], dtype=np.float64)
        clf.n_features_in_ = len(body["terms"])
        scorer = Scorer(pipe)
        scorer.scores([_PROBE])  # it must answer before anyone relies on it
    except (ValueError, TypeError, KeyError, AttributeError, ImportError) as exc:
        raise ModelRefused(
            f"the stored model does not load ({exc}): the rules decide",
            "Das gelernte Modell lässt sich nicht laden: es gelten die Regeln",
        ) from exc
    return scorer


_PROBE = Label(0, "probe", "probe", "probe", "", None, "other", 0.0, False)


# ---------------------------------------------------------------- status


def states(store: Store) -> list[ModelState]:
    """Per output: decisions now, the newest training, whether a model is in use and why a
    stored model is refused; reads no model body through scikit-learn."""
    pos, neg = store.learning.label_counts()
    decisions = {
        ModelOutput.RELEVANCE: pos + neg,
        ModelOutput.DOC_TYPE: 0,  # the desk has no decision on an item's type
        ModelOutput.TOPICS: store.learning.topic_decisions(),
    }
    found: list[ModelState] = []
    for output in ModelOutput:
        labels = decisions[output]
        newest = store.learning.latest(output)
        if newest is None:
            found.append(ModelState(output, None, None, False, labels=labels))
            continue
        refused = check(newest) if newest.evaluation.active else None
        found.append(
            ModelState(
                output,
                newest.evaluation,
                newest.trained_at,
                active=newest.evaluation.active and refused is None,
                problem=str(refused) if refused else None,
                problem_de=refused.message_de if refused else None,
                labels=labels,
            )
        )
    return found
