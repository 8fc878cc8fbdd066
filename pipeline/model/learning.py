"""Learning from the desk: labels, learned models, their evaluation, and who suggested.

    Label            one item the desk decided (accepted or rejected: the last decision)
    Evaluation       cross-validated figures of one output beside the rules', and the verdict
    LearnedModel     one trained model as the store keeps it (JSON body, never pickle)
    SuggestedBy      whether an item's suggested order comes from the rules or the model
    ModelOutput      what a model predicts: relevance (then doc type, topics)
    Verdict          why a model is active or not; worded in German and English below

The model's body is plain JSON (vocabulary, idf weights, coefficients), rebuilt into a
scikit-learn pipeline at load; `MODEL_FORMAT` is the version of that layout. A model of
another format, another scikit-learn or that does not load is refused: the rules decide.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MODEL_FORMAT = 1  # the layout of LearnedModel.body; a change makes old models refused
MIN_LABELS = 200  # decisions needed before a model may become active
MIN_PER_CLASS = 20  # and at least this many of each kind (accepted, rejected)
MIN_SOURCES = 3  # cross-validation holds out whole sources: at least this many
BLEND_WEIGHT = 0.5  # suggestion = (1 - w) × rules' relevance + w × model probability


class SuggestedBy(StrEnum):
    RULES = "rules"
    MODEL = "model"


SUGGESTED_BY_LABELS: dict[SuggestedBy, str] = {
    SuggestedBy.RULES: "Vorschlag: Regeln",
    SuggestedBy.MODEL: "Vorschlag: gelernt",
}


class ModelOutput(StrEnum):
    RELEVANCE = "relevance"
    DOC_TYPE = "doc_type"
    TOPICS = "topics"


OUTPUT_LABELS: dict[ModelOutput, str] = {
    ModelOutput.RELEVANCE: "Relevanz",
    ModelOutput.DOC_TYPE: "Dokumenttyp",
    ModelOutput.TOPICS: "Themen",
}


class Verdict(StrEnum):
    ACTIVE = "active"  # beats the rules in cross-validation: blended in
    NO_LABELS = "no_labels"  # nothing decided yet (cold start)
    TOO_FEW = "too_few"  # fewer decisions than MIN_LABELS
    ONE_CLASS = "one_class"  # only accepted or only rejected items (or too few of one)
    FEW_SOURCES = "few_sources"  # too few sources to hold whole sources out
    NOT_BETTER = "not_better"  # trained, but not better than the rules
    NOT_LEARNED = "not_learned"  # the desk gives no labels for this output yet


def verdict_text(e: Evaluation, *, german: bool) -> str:
    """The verdict of an evaluation in a sentence, for staff (German) or operators."""
    n, pos, neg = e.labels, e.positives, e.negatives
    auc = (
        (f"{e.auc_model:.2f}", f"{e.auc_rules:.2f}")
        if e.auc_model is not None and e.auc_rules is not None
        else ("–", "–")
    )
    if german:
        auc = (auc[0].replace(".", ","), auc[1].replace(".", ","))
        texts = {
            Verdict.ACTIVE: f"gelernt aus {n} Entscheidungen; besser als die Regeln "
            f"(AUC {auc[0]} statt {auc[1]}), wird mit ihnen verrechnet",
            Verdict.NO_LABELS: "noch keine Entscheidungen am Desk: es gelten die Regeln",
            Verdict.TOO_FEW: f"erst {n} Entscheidungen (nötig: {MIN_LABELS}): es gelten die Regeln",
            Verdict.ONE_CLASS: f"{pos} übernommen, {neg} abgelehnt: zu wenige einer Art "
            f"(nötig: je {MIN_PER_CLASS}); es gelten die Regeln",
            Verdict.FEW_SOURCES: f"Entscheidungen aus nur {e.sources} Quellen (nötig: "
            f"{MIN_SOURCES}); es gelten die Regeln",
            Verdict.NOT_BETTER: f"nicht besser als die Regeln (AUC {auc[0]} gegen "
            f"{auc[1]}): es gelten die Regeln",
            Verdict.NOT_LEARNED: "wird am Desk noch nicht gelernt: es gelten die Regeln",
        }
    else:
        texts = {
            Verdict.ACTIVE: f"learned from {n} decisions; beats the rules (AUC {auc[0]} "
            f"vs {auc[1]}); blended with them",
            Verdict.NO_LABELS: "no decisions at the desk yet: the rules decide",
            Verdict.TOO_FEW: f"only {n} decisions (needed: {MIN_LABELS}): the rules decide",
            Verdict.ONE_CLASS: f"{pos} accepted, {neg} rejected: too few of one kind "
            f"(needed: {MIN_PER_CLASS} each); the rules decide",
            Verdict.FEW_SOURCES: f"decisions from only {e.sources} sources (needed: "
            f"{MIN_SOURCES}); the rules decide",
            Verdict.NOT_BETTER: f"not better than the rules (AUC {auc[0]} vs {auc[1]}): "
            "the rules decide",
            Verdict.NOT_LEARNED: "not learned from the desk yet: the rules decide",
        }
    return texts[e.verdict]


@dataclass(frozen=True, slots=True)
class Label:
    """An item the desk decided, with what the model reads of it."""

    item_id: int
    source_id: str
    institution: str
    title: str
    summary_html: str
    url: str | None
    doc_type: str
    relevance: float  # the rules' score
    accepted: bool  # the last decision: accepted (True) or rejected (False)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Cross-validated figures of one output (whole sources held out), beside the rules'."""

    output: ModelOutput
    labels: int
    positives: int = 0
    negatives: int = 0
    sources: int = 0
    folds: int = 0
    auc_model: float | None = None  # the model alone
    auc_rules: float | None = None  # the rules alone, on the same labels
    auc_blended: float | None = None  # what the desk would order by
    verdict: Verdict = Verdict.NO_LABELS
    seconds: float = 0.0

    @property
    def active(self) -> bool:
        return self.verdict is Verdict.ACTIVE


@dataclass(frozen=True, slots=True)
class LearnedModel:
    """One trained model of one output, as stored (migration 0012); newest counts."""

    id: int
    output: ModelOutput
    trained_at: dt.datetime
    format_version: int
    sklearn_version: str
    eudigest_version: str
    evaluation: Evaluation
    body: dict[str, Any] = field(default_factory=dict)  # empty when not active


@dataclass(frozen=True, slots=True)
class ModelState:
    """What `model status` and the status page say about one output."""

    output: ModelOutput
    evaluation: Evaluation | None  # None: never trained
    trained_at: dt.datetime | None
    active: bool  # a model is in use for this output right now
    problem: str | None = None  # why a stored active model is refused (English)
    problem_de: str | None = None
    labels: int = 0  # the desk's decisions now (the evaluation counts those it trained on)


def state_text(state: ModelState, *, german: bool) -> str:
    """What a model state means, in a sentence: its refusal, its verdict, or why none."""
    if state.problem:
        return (state.problem_de or state.problem) if german else state.problem
    if state.evaluation is not None:
        return verdict_text(state.evaluation, german=german)
    if state.output is not ModelOutput.RELEVANCE:
        return verdict_text(Evaluation(state.output, 0, verdict=Verdict.NOT_LEARNED), german=german)
    if german:
        return "noch nie gelernt: es gelten die Regeln"
    return "never trained: the rules decide"
