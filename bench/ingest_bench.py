"""Ingest benchmark: the whole corpus from a loopback server, against bare feedparser.

    python bench/ingest_bench.py [--repeat 3] [--corpus ../shared/corpus]

Scenarios, each run in a fresh subprocess so peak memory (max RSS) is its own:
- baseline: feedparser.parse() on every feed file's bytes, json.loads() on the API
  files; no network, no store. This is the floor the issue compares against.
- cold:     `eudigest fetch` logic on an empty SQLite store: loopback HTTP (gzip),
  parse, normalise, classify, dedupe, store.
- warm:     the same again right after a cold run: every source answers 304.
Figures are medians over --repeat runs. Wall time only counts the work named,
not interpreter start-up or schema creation. The loopback server runs in a process
of its own, as a real site would, so its work is not charged to the ingest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.corpus import ADAPTERS, CORPUS_FILES  # noqa: E402


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scenario_baseline(corpus: Path) -> dict[str, float]:
    import feedparser

    bodies = [(p, (corpus / p).read_bytes()) for p in CORPUS_FILES]
    started = time.perf_counter()
    entries = 0
    for path, body in bodies:
        if path in ADAPTERS:
            data = json.loads(body)
            entries += len(data.get("results") or data.get("data") or [])
        else:
            entries += len(feedparser.parse(body).entries)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "entries": entries, "max_rss_mb": _max_rss_mb()}


def serve(corpus: Path) -> None:
    """Child process: serve the corpus, print the base URL, run until killed."""
    import signal
    import threading

    from tests.support.feedserver import FeedServer

    with FeedServer(corpus) as server:
        print(server.base_url, flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()


def scenario_ingest(corpus: Path, warm: bool) -> dict[str, float]:
    from pipeline import jobs
    from pipeline.bootstrap import build
    from pipeline.config import Settings
    from tests.support.corpus import sources_yaml

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--corpus", str(corpus)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            sources = Path(tmp) / "sources.yaml"
            sources.write_text(sources_yaml(base_url), encoding="utf-8")
            environ = {"EUDIGEST_DATA_DIR": tmp, "EUDIGEST_FETCH_ALLOW": urlsplit(base_url).netloc}
            services = build(Settings.from_env(environ, cwd=Path(tmp)))
            try:
                jobs.init(services)
                if warm:
                    jobs.fetch(services, sources_file=sources)
                started = time.perf_counter()
                report = jobs.fetch(services, sources_file=sources)
                wall = time.perf_counter() - started
            finally:
                services.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    failed = [r.source_id for r in report.failed]
    if failed:
        raise SystemExit(f"sources failed: {failed}")
    return {
        "wall_s": wall,
        "entries": report.total("entries"),
        "new": report.total("new"),
        "not_modified": sum(r.status == "not_modified" for r in report.sources),
        "max_rss_mb": _max_rss_mb(),
    }


def run_child(name: str, corpus: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, "--corpus", str(corpus)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--child", choices=["baseline", "cold", "warm"])
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.corpus)
        return
    if args.child:
        fn = {
            "baseline": lambda: scenario_baseline(args.corpus),
            "cold": lambda: scenario_ingest(args.corpus, warm=False),
            "warm": lambda: scenario_ingest(args.corpus, warm=True),
        }[args.child]
        print(json.dumps(fn()))
        return

    size = sum((args.corpus / p).stat().st_size for p in CORPUS_FILES)
    print(f"corpus: {len(CORPUS_FILES)} files, {size / 1e6:.2f} MB; median of {args.repeat} runs")
    rows = {}
    for name in ("baseline", "cold", "warm"):
        runs = [run_child(name, args.corpus) for _ in range(args.repeat)]
        rows[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    base = rows["baseline"]["wall_s"]
    print(
        f"{'scenario':<10} {'wall s':>8} {'entries':>8} {'entries/s':>10} "
        f"{'peak MB':>8} {'× baseline':>11}"
    )
    for name, r in rows.items():
        rate = r["entries"] / r["wall_s"] if r["entries"] else 0.0
        print(
            f"{name:<10} {r['wall_s']:>8.3f} {int(r['entries']):>8} {rate:>10.0f} "
            f"{r['max_rss_mb']:>8.1f} {r['wall_s'] / base:>10.2f}×"
        )
    print(
        f"cold: {int(rows['cold']['new'])} new items; "
        f"warm: {int(rows['warm']['not_modified'])} of {len(CORPUS_FILES)} sources answered 304"
    )


if __name__ == "__main__":
    main()
