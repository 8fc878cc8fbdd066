"""The quality benchmark runs in CI as a smoke run: it ingests the corpus from a loopback
server in a process of its own and scores every labelled item. No figure is asserted
against an aim here (the README carries the figures); the run must work and cover the
labels, so a change that breaks the bench or loses labelled items fails CI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quality_bench_smoke_scores_every_labelled_item() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "quality_bench.py"), "--smoke", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout)
    rules = results["rules"]
    assert rules["labelled"] >= 250
    assert rules["scored"] == rules["labelled"], "labelled items the ingest no longer finds"
    for figure in ("doc_type_accuracy", "relevance_auc", "references_recall"):
        assert 0.0 <= rules[figure] <= 1.0
    assert 0.0 <= rules["topics"]["f1"] <= 1.0
