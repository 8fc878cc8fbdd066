"""The model is stored as JSON (never pickle) and rebuilt to the same answers; what it
reads of an item is bounded, whatever the item holds."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pipeline.curate import learning
from pipeline.curate.learning import ModelRefused, document
from pipeline.model.learning import MODEL_FORMAT, Evaluation, Label, LearnedModel, ModelOutput

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)


def label(n: int, title: str, accepted: bool, summary: str = "", source: str = "ec") -> Label:
    return Label(
        item_id=n, source_id=source, institution="European Commission", title=title,
        summary_html=summary, url=f"https://ec.europa.eu/info/funding/{n}", doc_type="other",
        relevance=0.1, accepted=accepted,
    )  # fmt: skip


TRAINING = [
    label(1, "Call for proposals for regions: hydrogen valleys", True),
    label(2, "Förderaufruf für Kommunen: Wasserstoff im Nahverkehr", True),
    label(3, "Call for proposals: interregional innovation investments", True),
    label(4, "Speech by the President at the summit dinner", False),
    label(5, "Commissioner meets the Minister of Finland", False),
    label(6, "Daily news: statement on the elections abroad", False),
]


def stored(body: dict[str, object]) -> LearnedModel:
    return LearnedModel(
        id=1, output=ModelOutput.RELEVANCE, trained_at=NOW, format_version=MODEL_FORMAT,
        sklearn_version=learning.sklearn_version(), eudigest_version="0.1.0",
        evaluation=Evaluation(ModelOutput.RELEVANCE, 6), body=body,
    )  # fmt: skip


def fitted() -> object:
    pipe = learning._pipeline()
    pipe.set_params(words__min_df=1)
    pipe.fit([document(x) for x in TRAINING], [int(x.accepted) for x in TRAINING])
    return pipe


def test_a_model_rebuilt_from_its_json_answers_like_the_fitted_one() -> None:
    pipe = fitted()
    body = learning.dump(pipe)
    text = json.dumps(body)  # plain JSON values only: json.dumps refuses anything else

    scorer = learning.load(stored(json.loads(text)))

    probe = [label(9, "Call for proposals: hydrogen for regions", False), TRAINING[4]]
    expected = pipe.predict_proba([document(x) for x in probe])[:, 1]  # type: ignore[attr-defined]
    assert scorer.scores(probe) == pytest.approx(list(expected), abs=1e-5)
    assert scorer.scores(probe)[0] > scorer.scores(probe)[1]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "pickle"},
        {"broken": "not JSON"},
        {**{"kind": "tfidf+logistic"}, "vectorizer": {"ngram_range": [1, 5]}},
    ],
)
def test_a_body_of_another_shape_is_refused_before_anything_is_built(
    body: dict[str, object],
) -> None:
    with pytest.raises(ModelRefused) as refused:
        learning.load(stored(body))
    assert "does not load" in str(refused.value)
    assert "lässt sich nicht laden" in refused.value.message_de


def test_non_finite_or_mismatched_weights_are_refused() -> None:
    body = learning.dump(fitted())
    body["coef"] = [float("nan")] * len(body["coef"])
    assert learning.check(stored(body)) is not None
    body = learning.dump(fitted())
    body["idf"] = body["idf"][:-1]
    assert learning.check(stored(body)) is not None


def test_what_the_model_reads_is_bounded_and_never_fails_on_odd_items() -> None:
    only_title = label(1, "Kommission genehmigt Beihilfe", False)
    french = label(2, "La Commission lance un appel à propositions pour les régions", True)
    huge = label(3, "Big", False, summary="<p>" + "Förderung " * 120_000 + "</p>")
    no_url = Label(4, "ecb-press-en", "ECB", "Rates", "", None, "press_release", 0.0, False)

    docs = [document(x) for x in (only_title, french, huge, no_url)]

    assert docs[0].startswith("Kommission genehmigt Beihilfe")
    assert "appel à propositions" in docs[1] and "zzsrc_ec" in docs[1]
    assert len(docs[2]) < learning.MAX_TEXT + 500
    assert "zzinst_ecb" in docs[3] and "zzurl_" not in docs[3]
    scorer = learning.load(stored(learning.dump(fitted())))
    assert all(0.0 <= p <= 1.0 for p in scorer.scores([only_title, french, huge, no_url]))
