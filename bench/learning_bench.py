"""Learning benchmark: `eudigest model train` on the desk's decisions, as a whole process.

    python bench/learning_bench.py [--decisions 5000] [--unreviewed 1000] [--seed 12]

Builds a SQLite store in a temporary folder: the whole corpus ingested from a loopback
server (as `eudigest fetch` does), then two cases, each timed as one `eudigest model
train --json` process (interpreter start, scikit-learn import, reading the labels,
cross-validation holding out whole sources, the final fit, storing the JSON model and
re-scoring the unreviewed inbox):

- corpus: the hand labels of tests/data/labels as the staff's decisions (high or
  medium: accepted; low: rejected), nothing synthetic;
- synthetic: --decisions decisions made from those labelled items (copies with 15 % of
  the words dropped, a few words of another item of the same kind added, the rules'
  score jittered, 5 % of the decisions flipped as staff disagree; about one in eight
  accepted, as at a real desk), kept in their items' sources so that holding out a
  source holds out every copy, plus --unreviewed unreviewed copies to re-score.

Figures: decisions, accepted, sources, folds, AUC of the model, of the rules and of the
blend (all cross-validated on the same labels), training seconds inside the command,
wall seconds and peak memory of the process, the size of the stored model, and the
time of `eudigest model status` (which must not import scikit-learn). The issue's aim:
training on 5,000 decisions under 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from pipeline.model import ItemStatus  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.store.schema import items, learned_models  # noqa: E402
from tests.learning.corpus_desk import ingest_corpus, label_judgement, settings_for  # noqa: E402

WORD = re.compile(r"\S+")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--decisions", type=int, default=5000)
    p.add_argument("--unreviewed", type=int, default=1000)
    p.add_argument("--seed", type=int, default=12)
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "corpus"
        started = time.perf_counter()
        db = ingest_corpus(base)
        print(f"corpus ingested in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        corpus = Path(tmp) / "case-corpus"
        synthetic = Path(tmp) / "case-synthetic"
        for case in (corpus, synthetic):
            (case / "var").mkdir(parents=True)
            (case / "var" / "eudigest.db").write_bytes(db.read_bytes())
            (case / "sources.yaml").write_bytes((base / "sources.yaml").read_bytes())
        with Store(f"sqlite:///{corpus / 'var' / 'eudigest.db'}") as store:
            judgement = label_judgement(store)
            _decide(store, judgement)
        rows.append(("corpus labels", *_train(corpus)))
        with Store(f"sqlite:///{synthetic / 'var' / 'eudigest.db'}") as store:
            judgement = label_judgement(store)
            _synthesise(store, judgement, args.decisions, args.unreviewed, args.seed)
        rows.append((f"synthetic {args.decisions:,}", *_train(synthetic)))
    _print(rows)
    return 0


def _decide(store: Store, judgement: dict[int, bool]) -> None:
    now = dt.datetime.now(dt.UTC)
    store.items.set_status([i for i, ok in judgement.items() if ok], ItemStatus.ACCEPTED, now=now)
    store.items.set_status(
        [i for i, ok in judgement.items() if not ok], ItemStatus.REJECTED, now=now
    )


def _synthesise(
    store: Store, judgement: dict[int, bool], decisions: int, unreviewed: int, seed: int
) -> None:
    rng = random.Random(seed)
    with store.engine.connect() as conn:
        base = {
            r.id: r for r in conn.execute(sa.select(items).where(items.c.id.in_(list(judgement))))
        }
    # in a stable order (item ids follow the order the fetch stored them in)
    stable = sorted(judgement, key=lambda i: (base[i].source_id, base[i].url or "", base[i].title))
    accepted = [i for i in stable if judgement[i]]
    rejected = [i for i in stable if not judgement[i]]
    rows: list[dict[str, Any]] = []
    for n in range(decisions + unreviewed):
        kind = accepted if rng.random() < 0.125 else rejected
        original = base[rng.choice(kind)]
        donor = base[rng.choice(kind)]
        ok = judgement[original.id] != (rng.random() < 0.05)  # staff disagree at times
        rows.append(
            {
                "source_id": original.source_id,
                "title": _vary(original.title, donor.title, rng),
                "url": f"{original.url or 'https://example.invalid/item'}#copy-{n}",
                "summary_html": _vary(original.summary_html[:4000], donor.title, rng),
                "language": original.language,
                "published": original.published,
                "fetched_at": original.fetched_at,
                "updated_at": original.updated_at,
                "doc_type": original.doc_type,
                "status": (
                    ItemStatus.NEW.value
                    if n >= decisions
                    else (ItemStatus.ACCEPTED if ok else ItemStatus.REJECTED).value
                ),
                "relevance": min(1.0, max(0.0, original.relevance + rng.uniform(-0.05, 0.05))),
                "family": None,
                "search_text": None,
            }
        )
    with store.engine.begin() as conn:
        conn.execute(sa.update(items).values(status=ItemStatus.NEW.value))
        conn.execute(sa.insert(items), rows)


def _vary(text: str, donor: str, rng: random.Random) -> str:
    words = [w for w in WORD.findall(text) if rng.random() > 0.15]
    extra = WORD.findall(donor)
    words += rng.sample(extra, k=min(len(extra), rng.randint(0, 3)))
    return " ".join(words) or text


def _train(folder: Path) -> tuple[Any, ...]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EUDIGEST_")}
    settings = settings_for(folder)
    env.update(
        EUDIGEST_DATA_DIR=str(settings.data_dir),
        EUDIGEST_TAXONOMY=str(settings.taxonomy_path),
        EUDIGEST_SOURCES=str(settings.sources_path),
        EUDIGEST_OFFICE=str(settings.office_path),
        EUDIGEST_LOG_LEVEL="WARNING",
    )
    eudigest = [sys.executable, "-c", "import sys; from pipeline.cli import main; sys.exit(main())"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [*eudigest, "model", "train", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(f"model train failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    started = time.perf_counter()
    status = subprocess.run(
        [*eudigest, "model", "status", "--json"], env=env, cwd=ROOT, capture_output=True,
        check=False,
    )  # fmt: skip
    status_s = time.perf_counter() - started
    assert status.returncode == 0, status.stderr
    with (
        Store(f"sqlite:///{settings.data_dir / 'eudigest.db'}") as store,
        store.engine.connect() as conn,
    ):
        size = conn.execute(sa.select(sa.func.length(learned_models.c.body))).scalar_one()
        scored = conn.execute(
            sa.select(sa.func.count()).where(items.c.suggested_by == "model")
        ).scalar_one()
    r = report["outputs"]["relevance"]
    return (
        r["trained_on"], r["accepted"], r["sources"], r["folds"], r["auc_model"],
        r["auc_rules"], r["auc_blended"], r["active"], report["seconds"], wall,
        max(peak, before) / 1024, size / 1e6, scored, status_s,
    )  # fmt: skip


def _print(rows: list[tuple[Any, ...]]) -> None:
    head = (
        "case", "decisions", "accepted", "sources", "folds", "AUC model", "AUC rules",
        "AUC blend", "in use", "train s", "process s", "peak MB", "model MB", "scored",
        "status s",
    )  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        cells = []
        for v in row:
            if isinstance(v, bool):
                cells.append("model" if v else "rules")
            elif isinstance(v, float):
                cells.append(f"{v:.3f}" if v < 1 else f"{v:.1f}")
            elif isinstance(v, int):
                cells.append(f"{v:,}")
            else:
                cells.append(str(v))
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
