"""Quality benchmark: how well the pipeline judges items, on the hand-labelled corpus.

    python bench/quality_bench.py [--baseline-ref REF] [--json] [--smoke]

The labels are tests/data/labels/ (docs/labelling.md: topics, document type, relevance
for a German region, deadlines, references of real items of ../shared/corpus). Each
method ingests the whole corpus from a loopback server into a SQLite store of its own,
in a process of its own, and is scored on the labelled items:

- previous: the rules at --baseline-ref (default: the commit before issue 12), run from
  a `git archive` of that commit, in the same run;
- rules:    the rules of this checkout;
- model:    (once a learned model exists) the rules blended with the model, trained on the
  labels of every other source and scored on the held-out source, source by source
  (leave-one-source-out), so a figure says how the method does on a feed it has not seen.

Figures: topics micro P/R/F1 (and per topic), document-type accuracy and confusion,
deadline P/R (application, consultation and registration deadlines, by date), relevance
AUC (high or medium above low) and precision@20, the share of items whose relevance is
exactly 0, reference recall. `--smoke` (CI) runs the current rules only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE_REF = "3c70b12"  # main before issue 12 changed any rule
DEADLINE_KINDS = {"call_closing", "consultation_end", "deadline"}  # not event, not opening
AIMS = {
    "topics F1": 0.85,
    "doc type accuracy": 0.90,
    "deadline precision": 0.95,
    "deadline recall": 0.90,
    "relevance AUC": 0.85,
    "references recall": 0.95,
}


# ---------------------------------------------------------------- a child: ingest and dump


def child_dump(out: Path) -> None:
    """Ingest the corpus with the `pipeline` on sys.path and write one record per item."""
    from pipeline import jobs
    from pipeline.bootstrap import build
    from pipeline.config import Settings
    from tests.support.corpus import sources_yaml
    from tests.support.feedserver import FeedServer
    from tests.support.labels import key_of

    corpus = ROOT.parent / "shared" / "corpus"
    with tempfile.TemporaryDirectory() as tmp, FeedServer(corpus) as server:
        folder = Path(tmp)
        sources = folder / "sources.yaml"
        sources.write_text(sources_yaml(server.base_url), encoding="utf-8")
        settings = Settings.from_env(
            {
                "EUDIGEST_DATA_DIR": str(folder / "var"),
                "EUDIGEST_SOURCES": str(sources),
                # the method's own taxonomy (run_method sets the cwd to its code)
                "EUDIGEST_TAXONOMY": str(Path.cwd() / "taxonomy.yaml"),
                "EUDIGEST_LOG_LEVEL": "WARNING",
                "EUDIGEST_FETCH_ALLOW": server.fetch_allow,
            },
            cwd=folder,
        )
        services = build(settings)
        try:
            jobs.init(services)
            jobs.fetch(services)
            from pipeline.store.items import ItemQuery

            items = services.store.items.list(ItemQuery(limit=10_000))
        finally:
            services.close()
    records = []
    for i in items:
        records.append(
            {
                "key": key_of(i.url, i.source_id, i.title),
                "source": i.source_id,
                "topics": sorted(t.topic_id for t in i.topics),
                "doc_type": i.doc_type.value,
                "deadlines": [[d.date.isoformat(), d.kind.value] for d in i.deadlines],
                "references": list(i.references),
                "relevance": i.relevance,
                # what a model learnt from the desk reads (pipeline/curate/learning.py)
                "title": i.title,
                "summary_html": i.summary_html,
                "url": i.url,
            }
        )
    out.write_text(json.dumps(records), encoding="utf-8")


def run_method(code_dir: Path | None, out: Path) -> list[dict[str, Any]]:
    """Run child_dump in a process whose `pipeline` comes from `code_dir` (None: here)."""
    env = dict(os.environ)
    paths = [str(code_dir)] if code_dir else []
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(ROOT)])
    cwd = code_dir or ROOT
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(out)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed ({code_dir or 'this checkout'}):\n{proc.stderr[-3000:]}")
    records: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
    return records


def previous_code(ref: str, into: Path) -> Path:
    """The pipeline, its YAML files and templates at `ref`, unpacked into `into`."""
    archive = into / "previous.tar"
    with archive.open("wb") as f:
        subprocess.run(
            ["git", "archive", ref, "pipeline", "subscribers", "templates", "taxonomy.yaml"],
            cwd=ROOT,
            stdout=f,
            check=True,
        )
    code = into / "previous"
    code.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(code, filter="data")
    return code


# ---------------------------------------------------------------- scores


def scores(records: Sequence[dict[str, Any]], labels: Sequence[Any]) -> dict[str, Any]:
    by_key = {r["key"]: r for r in records}
    found = [(label, by_key[label.key]) for label in labels if label.key in by_key]
    out: dict[str, Any] = {"labelled": len(labels), "scored": len(found)}
    # topics
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for label, r in found:
        gold, pred = set(label.topics), set(r["topics"])
        for t in pred & gold:
            tp[t] += 1
        for t in pred - gold:
            fp[t] += 1
        for t in gold - pred:
            fn[t] += 1
    out["topics"] = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    out["per_topic"] = {t: _prf(tp[t], fp[t], fn[t]) for t in sorted(set(tp) | set(fp) | set(fn))}
    # document types
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for label, r in found:
        confusion[label.doc_type][r["doc_type"]] += 1
    right = sum(c[g] for g, c in confusion.items())
    out["doc_type_accuracy"] = right / len(found) if found else 0.0
    out["confusion"] = {g: dict(c) for g, c in sorted(confusion.items())}
    # deadlines, by date, among deadline kinds
    d_tp = d_fp = d_fn = 0
    for label, r in found:
        gold_days = {d.date for d in label.deadlines if d.kind in DEADLINE_KINDS}
        pred_days = {d for d, kind in r["deadlines"] if kind in DEADLINE_KINDS}
        d_tp += len(gold_days & pred_days)
        d_fp += len(pred_days - gold_days)
        d_fn += len(gold_days - pred_days)
    out["deadlines"] = _prf(d_tp, d_fp, d_fn)
    # relevance
    graded = [(r["relevance"], label.relevance in ("high", "medium")) for label, r in found]
    out["relevance_auc"] = _auc(graded)
    top = sorted(graded, key=lambda g: -g[0])[:20]
    out["precision_at_20"] = sum(1 for _, good in top if good) / len(top) if top else 0.0
    out["relevance_zero"] = sum(1 for r in records if r["relevance"] == 0) / max(1, len(records))
    # references
    gold_refs = [(_ref(x), r) for label, r in found for x in label.references]
    hits = sum(1 for ref, r in gold_refs if ref in {_ref(y) for y in r["references"]})
    out["references_recall"] = hits / len(gold_refs) if gold_refs else 1.0
    return out


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "support": tp + fn}


def _auc(graded: Iterable[tuple[float, bool]]) -> float:
    """Chance that a good item scores above a poor one (ties count half)."""
    pairs = list(graded)
    good = [s for s, g in pairs if g]
    poor = [s for s, g in pairs if not g]
    if not good or not poor:
        return 0.0
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in good for b in poor)
    return wins / (len(good) * len(poor))


def _ref(text: str) -> str:
    return " ".join(text.upper().replace("(", " (").split()).replace(" (", "(")


def by_source(records: Sequence[dict[str, Any]], labels: Sequence[Any]) -> dict[str, Any]:
    """The figures of each labelled source alone, and their mean over sources (each source
    counts once, however many items it has: how the rules do on one feed)."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for label in labels:
        groups[label.source_file].append(label)
    per = {name: scores(records, group) for name, group in sorted(groups.items())}
    with_topics = [s["topics"]["f1"] for s in per.values() if s["topics"]["support"]]
    aucs = [s["relevance_auc"] for s in per.values() if s["relevance_auc"] > 0]
    return {
        "sources": {n: _brief(s) for n, s in per.items()},
        "mean_topics_f1": sum(with_topics) / len(with_topics) if with_topics else 0.0,
        "mean_doc_type_accuracy": sum(s["doc_type_accuracy"] for s in per.values()) / len(per),
        "mean_relevance_auc": sum(aucs) / len(aucs) if aucs else 0.0,
    }


def _brief(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "items": s["scored"],
        "topics_f1": s["topics"]["f1"],
        "topics_support": s["topics"]["support"],
        "doc_type_accuracy": s["doc_type_accuracy"],
        "relevance_auc": s["relevance_auc"],
    }


def learnt(records: Sequence[dict[str, Any]], labels: Sequence[Any]) -> dict[str, Any]:
    """Relevance learnt from the labels as if they were the desk's decisions (high or
    medium: accepted), by pipeline/curate/learning.py, cross-validated with whole sources
    held out, beside the rules on the same folds."""
    from pipeline.curate import learning
    from pipeline.model.learning import Label as Decision

    by_key = {r["key"]: r for r in records}
    decisions = [
        Decision(
            item_id=n,
            source_id=r["source"],
            institution="",
            title=r["title"],
            summary_html=r["summary_html"],
            url=r["url"],
            doc_type=r["doc_type"],
            relevance=r["relevance"],
            accepted=label.relevance in ("high", "medium"),
        )
        for n, label in enumerate(labels)
        if (r := by_key.get(label.key)) is not None
    ]
    e = learning.evaluate(decisions)
    return {
        "auc_model": e.auc_model,
        "auc_rules": e.auc_rules,
        "auc_blended": e.auc_blended,
        "folds": e.folds,
        "verdict": e.verdict.value,
    }


# ---------------------------------------------------------------- report


def report(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    rows = [
        ("topics F1", lambda s: s["topics"]["f1"]),
        ("topics precision", lambda s: s["topics"]["precision"]),
        ("topics recall", lambda s: s["topics"]["recall"]),
        ("doc type accuracy", lambda s: s["doc_type_accuracy"]),
        ("deadline precision", lambda s: s["deadlines"]["precision"]),
        ("deadline recall", lambda s: s["deadlines"]["recall"]),
        ("relevance AUC", lambda s: s["relevance_auc"]),
        ("precision@20", lambda s: s["precision_at_20"]),
        ("relevance exactly 0", lambda s: s["relevance_zero"]),
        ("references recall", lambda s: s["references_recall"]),
    ]
    first = next(iter(results.values()))
    lines = [
        f"labelled items: {first['labelled']}, found in the ingested corpus: {first['scored']}",
        f"{'figure':<24}" + "".join(f"{n:>12}" for n in names) + f"{'aim':>8}",
    ]
    for label, get in rows:
        aim = AIMS.get(label)
        cells = "".join(f"{get(results[n]):>12.2f}" for n in names)
        lines.append(f"{label:<24}{cells}{(f'{aim:>8.2f}' if aim else ''):>8}")
    last = results[names[-1]]
    lines.append("")
    lines.append(f"per topic ({names[-1]}): precision / recall / F1 (support)")
    for topic, prf in last["per_topic"].items():
        lines.append(
            f"  {topic:<16} {prf['precision']:.2f} / {prf['recall']:.2f} / {prf['f1']:.2f}"
            f" ({prf['support']})"
        )
    model = last.get("model")
    if model and model["auc_model"] is not None:
        lines.append("")
        lines.append(
            f"relevance learnt from the labels as desk decisions ({model['folds']} folds, whole"
            " sources held out):"
        )
        lines.append(
            f"  AUC model {model['auc_model']:.2f} · rules {model['auc_rules']:.2f} on the same"
            f" folds · blended {model['auc_blended']:.2f} → {model['verdict']}"
        )
    src = last.get("by_source")
    if src:
        lines.append("")
        lines.append(
            f"per source ({names[-1]}): items, topics F1 (support), doc type accuracy, AUC"
        )
        for name, s in src["sources"].items():
            auc = f"{s['relevance_auc']:.2f}" if s["relevance_auc"] else "  – "
            f1 = f"{s['topics_f1']:.2f} ({s['topics_support']})" if s["topics_support"] else "–"
            lines.append(
                f"  {name:<42} {s['items']:>4}  {f1:<12} {s['doc_type_accuracy']:.2f}  {auc}"
            )
        lines.append(
            f"  mean over sources: topics F1 {src['mean_topics_f1']:.2f}, doc type accuracy"
            f" {src['mean_doc_type_accuracy']:.2f}, AUC {src['mean_relevance_auc']:.2f}"
        )
    lines.append("")
    lines.append(f"document types ({names[-1]}): labelled → predicted")
    for gold, row in last["confusion"].items():
        cells = ", ".join(f"{p} {n}" for p, n in sorted(row.items(), key=lambda x: -x[1]))
        lines.append(f"  {gold:<22} {cells}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline-ref", default=BASELINE_REF)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="the current rules only (CI)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_dump(args.child)
        return 0
    sys.path.insert(0, str(ROOT))
    from tests.support.labels import load_labels

    labels = load_labels()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.smoke:
            code = previous_code(args.baseline_ref, folder)
            results["previous"] = scores(run_method(code, folder / "previous.json"), labels)
        records = run_method(None, folder / "rules.json")
        results["rules"] = scores(records, labels)
    results["rules"]["by_source"] = by_source(records, labels)
    results["rules"]["model"] = learnt(records, labels)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
