"""Ingest benchmark: `eudigest fetch` beside its peers, each as a whole process.

    pip install -e '.[bench]'          # lemon24/reader, the peer
    python bench/ingest_bench.py [--runs 5] [--corpus ../shared/corpus] [--json]

One loopback server (a process of its own, as a real site would be) serves the shared
corpus (28 files; gzip, ETag, Last-Modified). Three programs ingest it, each started as
a new process, so that interpreter start-up and imports are counted as a user waits
for them:

- eudigest: `eudigest fetch --sources-file …` into a SQLite store that `eudigest init`
  made (schema and sources, never fetched; init is not timed).
- scheduled: the same fetch as ops run it, the job `pipeline.jobs:fetch` through the
  scheduler's real ProcessExecutor: a run forked from the start-up server the scheduler
  started (ADR 0011; started before the rounds, not timed, as the scheduler starts once
  for weeks). Wall time from the request to the run's end; CPU time and max RSS as the
  run reports them (its own and its children's); tree PSS over the start-up server and
  the run (the stand-in scheduler is not counted, as cron is not for the others). Its
  "entries" are the new items of the job's result line.
- reader:   lemon24/reader's `update_feeds()` into a SQLite file to which the same URLs
  were added (`add_feed`, not timed). reader is the best-kept Python feed reader: one
  process, one feed after the other, parse with its own feedparser, store in SQLite.
- bare:     a sequential loop of httpx GETs and `feedparser.parse` (json.loads for the
  two API files), storing nothing but the validators in a JSON file: the floor.

Each round prepares a fresh store for every program, then runs them in turn, cold
(nothing fetched before) and then warm (the same command again: every source answers
304). Figures per run: wall time, CPU time (user + system, the process and the
children it waited for, from wait4), peak memory of the largest single process (max
RSS, as /usr/bin/time -v reports it) and the peak of the whole process tree (sum of
PSS, sampled every 10 ms from /proc: counts a worker pool fairly, shared pages once).
The table gives medians over the rounds; the ratios to reader are the medians of the
ratios of each round, so they hold when the shared machine's speed drifts.

`--child baseline|cold|warm` runs the older in-process scenarios (work only, no
start-up) and prints one JSON object: used for quick looks at one stage. `--child prepare`
times the per-body work alone (parse → normalize → classify of every body, no fetching,
no store) beside feedparser alone, in CPU seconds.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.corpus import ADAPTERS, CORPUS_FILES  # noqa: E402

PEERS = ("eudigest", "scheduled", "reader", "bare")
# The `eudigest` console script, run by this interpreter (PYTHONPATH may point at another tree).
EUDIGEST = "import sys; from pipeline.cli import main; sys.exit(main())"


# ---------------------------------------------------------------- peers (child processes)


def peer_reader(db: str, urls: list[str]) -> None:
    """`--peer reader-add DB URL…` adds the feeds; `--peer reader DB` updates them all."""
    from reader import make_reader

    r = make_reader(db)
    try:
        if urls:
            for url in urls:
                r.add_feed(url, exist_ok=True)
            return
        r.update_feeds()
        print(json.dumps({"entries": r.get_entry_counts().total}))
    finally:
        r.close()


def peer_bare(state: str, urls: list[str]) -> None:
    """One GET after the other (conditional when a validator is known), then parse."""
    import feedparser
    import httpx

    path = Path(state)
    validators: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    entries = not_modified = 0
    with httpx.Client(timeout=30) as client:
        for url in urls:
            headers = {}
            known = validators.get(url, {})
            if "etag" in known:
                headers["If-None-Match"] = known["etag"]
            if "last_modified" in known:
                headers["If-Modified-Since"] = known["last_modified"]
            response = client.get(url, headers=headers)
            if response.status_code == 304:
                not_modified += 1
                continue
            if url.endswith(".json"):
                data = json.loads(response.content)
                entries += len(data.get("results") or data.get("data") or [])
            else:
                parsed = feedparser.parse(
                    response.content,
                    response_headers={"content-type": response.headers.get("content-type", "")},
                )
                entries += len(parsed.entries)
            validators[url] = {
                k: v
                for k, v in (
                    ("etag", response.headers.get("etag")),
                    ("last_modified", response.headers.get("last-modified")),
                )
                if v
            }
    path.write_text(json.dumps(validators))
    print(json.dumps({"entries": entries, "not_modified": not_modified}))


def peer_scheduler() -> None:
    """`--peer scheduler`: stands in for `eudigest scheduler`. Starts the scheduler's
    start-up server (ProcessExecutor.start, as the scheduler does when it starts; not
    timed), prints its pid, then runs the job `pipeline.jobs:fetch` through the real
    ProcessExecutor for every line on stdin, answering with one JSON line each."""
    import datetime as dt
    import multiprocessing.forkserver
    from zoneinfo import ZoneInfo

    from pipeline.scheduler.cronfile import CronJob
    from pipeline.scheduler.runner import ProcessExecutor

    executor = ProcessExecutor(os.environ, cwd=Path.cwd())
    executor.start()
    server = multiprocessing.forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    print(json.dumps({"server": server}), flush=True)
    job = CronJob(
        id="fetch",
        description="the bench's fetch",
        job="pipeline.jobs:fetch",
        schedule="*/20 * * * *",
        timezone=ZoneInfo("Europe/Brussels"),
        timeout=900,
    )
    for n, _ in enumerate(sys.stdin):
        started = time.perf_counter()
        result = executor(job, f"bench-{n}", dt.datetime.now(dt.UTC), threading.Event())
        wall = time.perf_counter() - started
        answer = {"wall_s": wall, "cpu_s": result.cpu_s, "max_rss_mb": result.max_rss_mb}
        answer |= {"outcome": result.outcome, "detail": result.detail, "log": result.log[-2000:]}
        print(json.dumps(answer), flush=True)


# ---------------------------------------------------------------- measuring one process


@dataclass(frozen=True, slots=True)
class Run:
    wall_s: float
    cpu_s: float
    max_rss_mb: float  # the largest single process (the process or a waited-for child)
    tree_pss_mb: float  # the peak of the sum over the process and its descendants
    exit: int
    output: str


def _descendants(pid: int) -> list[int]:
    found, todo = [pid], [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                children = Path(f"/proc/{current}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for child in children:
                found.append(int(child))
                todo.append(int(child))
    return found


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


class PeakPss:
    """The peak of the summed PSS of `root` and its descendants, sampled every 10 ms from
    a thread while the `with` block runs; `.mb` afterwards."""

    def __init__(self, root: int) -> None:
        self.root, self.peak_kb = root, 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            total = sum(_pss_kb(p) for p in _descendants(self.root))
            self.peak_kb = max(self.peak_kb, total)

    @property
    def mb(self) -> float:
        return self.peak_kb / 1024

    def __enter__(self) -> PeakPss:
        self._sampler.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._sampler.join()


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run `cmd` to its end; wall, CPU and memory of it and its children."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    with PeakPss(proc.pid) as pss:
        assert proc.stdout is not None
        output = proc.stdout.read()  # until the process closes it (it ends)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,
        tree_pss_mb=pss.mb,
        exit=proc.returncode,
        output=output.decode("utf-8", "replace"),
    )


def measure_scheduled(host: subprocess.Popen[str], server: int) -> Run:
    """One run of the fetch job by the stand-in scheduler: wall and CPU as the run itself
    reports them, the tree's PSS sampled over the start-up server and the run forked
    from it (the scheduler is not counted, as cron is not for the others)."""
    assert host.stdin is not None and host.stdout is not None
    with PeakPss(server) as pss:
        host.stdin.write("run\n")
        host.stdin.flush()
        answer = json.loads(host.stdout.readline())
    ok = answer["outcome"] == "ok"
    return Run(
        wall_s=answer["wall_s"],
        cpu_s=answer["cpu_s"] or 0.0,
        max_rss_mb=answer["max_rss_mb"] or 0.0,
        tree_pss_mb=pss.mb,
        exit=0 if ok else 1,
        output=answer["detail"] if ok else answer["log"],
    )


# ---------------------------------------------------------------- the rounds


class Round:
    """Fresh stores for every peer; `command(peer)` is the same for cold and warm."""

    def __init__(
        self, tmp: Path, base_url: str, sources: Path, urls: list[str], before: Path | None
    ) -> None:
        self.tmp, self.sources, self.urls = tmp, sources, urls
        # Byte-code is cached as a deployment caches it (pip compiles what it installs,
        # reader included): a PYTHONDONTWRITEBYTECODE in the caller's environment would
        # make every eudigest process compile its own modules again (about 0.1 s).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env = {
            **env,
            "PYTHONWARNINGS": "ignore",
            "EUDIGEST_DATA_DIR": str(tmp / "eudigest"),
            "EUDIGEST_FETCH_ALLOW": urlsplit(base_url).netloc,
            "EUDIGEST_LOG_LEVEL": "WARNING",
        }
        (tmp / "eudigest").mkdir()
        (tmp / "before").mkdir()
        (tmp / "urls.txt").write_text("\n".join(urls), encoding="utf-8")
        eudigest = [sys.executable, "-c", EUDIGEST]
        self.commands = {
            "eudigest": [*eudigest, "fetch", "--json", "--sources-file", str(sources)],
            "reader": [sys.executable, __file__, "--peer", "reader", str(tmp / "reader.sqlite")],
            "bare": [
                *(sys.executable, __file__, "--peer", "bare"),
                *(str(tmp / "bare.json"), str(tmp / "urls.txt")),
            ],
        }
        self.envs = {"before": {**self.env, "EUDIGEST_DATA_DIR": str(tmp / "before")}}
        if before is not None:  # the same command on another source tree (before/after)
            self.envs["before"]["PYTHONPATH"] = str(before)
            self.commands["before"] = self.commands["eudigest"]
        # The scheduled fetch: its own store, sources.yaml configured as ops configure it.
        (tmp / "scheduled").mkdir()
        self.envs["scheduled"] = {
            **self.env,
            "EUDIGEST_DATA_DIR": str(tmp / "scheduled"),
            "EUDIGEST_SOURCES": str(sources),
        }
        for env in (self.env, self.envs["before"], self.envs["scheduled"]):
            subprocess.run([*eudigest, "init"], env=env, cwd=tmp, check=True, capture_output=True)
        self.host: subprocess.Popen[str] | None = None
        self.server = 0
        subprocess.run(
            [sys.executable, __file__, "--peer", "reader-add", str(tmp / "reader.sqlite"), *urls],
            env=self.env,
            cwd=tmp,
            check=True,
            capture_output=True,
        )

    def close(self) -> None:
        if self.host is not None:
            assert self.host.stdin is not None
            self.host.stdin.close()  # the stand-in scheduler ends; its start-up server with it
            self.host.wait(timeout=60)

    def run(self, peer: str) -> Run:
        if peer == "scheduled":
            if self.host is None:
                # -c, not this script: multiprocessing runs the main script again in every
                # run it forks (as it runs the three lines of `eudigest` for the scheduler)
                host = f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); "
                host += "import ingest_bench; ingest_bench.peer_scheduler()"
                self.host = subprocess.Popen(
                    [sys.executable, "-c", host],
                    env=self.envs["scheduled"],
                    cwd=self.tmp,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                assert self.host.stdout is not None
                self.server = int(json.loads(self.host.stdout.readline())["server"])
            run = measure_scheduled(self.host, self.server)
        else:
            run = measure(self.commands[peer], self.envs.get(peer, self.env), self.tmp)
        if run.exit not in (0,):
            raise SystemExit(f"{peer} exited {run.exit}:\n{run.output[-2000:]}")
        return run


def entries_of(peer: str, run: Run) -> int:
    """Entries the program read (eudigest: from its JSON report; the scheduled fetch: the
    new items of its one-line result, "28 sources fetched, 0 failed, 1154 new items")."""
    if peer == "scheduled":
        return int(run.output.split(" new items")[0].rsplit(" ", 1)[-1] or 0)
    lines = [ln for ln in run.output.splitlines() if ln.startswith(("{", "["))]
    if not lines:
        return 0
    if peer in ("eudigest", "before"):
        text = run.output[run.output.index("[") :]
        return sum(int(r.get("entries") or 0) for r in json.loads(text))
    return int(json.loads(lines[-1]).get("entries", 0))


def compare(
    corpus: Path, runs: int, peers: tuple[str, ...], before: Path | None = None
) -> dict[str, dict[str, object]]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--corpus", str(corpus)],
        stdout=subprocess.PIPE,
        text=True,
    )
    results: dict[str, dict[str, list[Run]]] = {p: {"cold": [], "warm": []} for p in peers}
    entries: dict[str, int] = {}
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        from tests.support.corpus import sources_yaml

        urls = [f"{base_url}/{path}" for path in CORPUS_FILES]
        for i in range(runs + 1):  # the first round warms the machine's caches: not counted
            tmp = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
            try:
                sources = tmp / "sources.yaml"
                sources.write_text(sources_yaml(base_url), encoding="utf-8")
                rnd = Round(tmp, base_url, sources, urls, before)
                try:
                    for phase in ("cold", "warm"):
                        for peer in peers:
                            run = rnd.run(peer)
                            if i:
                                results[peer][phase].append(run)
                            if phase == "cold":
                                entries[peer] = entries_of(peer, run)
                finally:
                    rnd.close()
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            print(f"round {i}/{runs} done", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=10)
    table: dict[str, dict[str, object]] = {}
    for peer in peers:
        for phase in ("cold", "warm"):
            rs = results[peer][phase]
            row: dict[str, object] = {
                "peer": peer,
                "phase": phase,
                "runs": len(rs),
                "entries": entries.get(peer, 0) if phase == "cold" else 0,
                "wall_s": statistics.median(r.wall_s for r in rs),
                "cpu_s": statistics.median(r.cpu_s for r in rs),
                "max_rss_mb": statistics.median(r.max_rss_mb for r in rs),
                "tree_pss_mb": statistics.median(r.tree_pss_mb for r in rs),
                "wall_min_s": min(r.wall_s for r in rs),
                "wall_max_s": max(r.wall_s for r in rs),
            }
            if "reader" in peers:
                ref = results["reader"][phase]
                for key in ("wall_s", "cpu_s", "max_rss_mb", "tree_pss_mb"):
                    row[f"{key}_vs_reader"] = statistics.median(
                        getattr(a, key) / getattr(b, key) for a, b in zip(rs, ref, strict=True)
                    )
            table[f"{peer} {phase}"] = row
    return table


def print_table(table: dict[str, dict[str, object]], corpus: Path, runs: int) -> None:
    size = sum((corpus / p).stat().st_size for p in CORPUS_FILES)
    print(
        f"corpus: {len(CORPUS_FILES)} files, {size / 1e6:.2f} MB, loopback; "
        f"whole processes, median of {runs} rounds (peers in turn)"
    )
    print(
        f"{'program':<15} {'entries':>7} {'wall s':>7} {'(min–max)':>13} {'cpu s':>6} "
        f"{'max RSS MB':>10} {'tree PSS MB':>11} {'wall×':>6} {'cpu×':>5} {'RSS×':>5} {'PSS×':>5}"
    )
    for name, r in table.items():
        ratios = "".join(
            f" {r[k]:>5.2f}" if k in r else "     -"
            for k in (
                "wall_s_vs_reader",
                "cpu_s_vs_reader",
                "max_rss_mb_vs_reader",
                "tree_pss_mb_vs_reader",
            )
        )
        spread = f"{r['wall_min_s']:.2f}–{r['wall_max_s']:.2f}"
        print(
            f"{name:<15} {int(r['entries']) or '':>7} {r['wall_s']:>7.3f} {spread:>13} "  # type: ignore[call-overload]
            f"{r['cpu_s']:>6.2f} {r['max_rss_mb']:>10.1f} {r['tree_pss_mb']:>11.1f}{ratios}"
        )
    print("ratios (×) are against reader in the same phase: the median of the ratios per round")


# ---------------------------------------------------------------- in-process scenarios


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


def scenario_prepare(corpus: Path, rounds: int = 3) -> dict[str, float]:
    """The per-body work alone: parse → normalize → classify of every corpus body in this
    process (no fetching, no store), as `eudigest fetch` prepares them without workers;
    beside it feedparser alone with the same options (the floor of the feeds' share).
    CPU seconds, the best of `rounds` after one round that loads and compiles."""
    import datetime as dt
    import io
    from zoneinfo import ZoneInfo

    import feedparser

    from pipeline.catalog import load_sources, load_taxonomy
    from pipeline.ingest.adapters import ADAPTER_NAMES
    from pipeline.ingest.prepare import Preparer
    from pipeline.model import FetchResult, FetchStatus
    from tests.support.corpus import sources_yaml
    from tests.support.feedserver import CONTENT_TYPES

    base_url = "http://127.0.0.1:8000"
    taxonomy = load_taxonomy(ROOT / "taxonomy.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sources.yaml"
        path.write_text(sources_yaml(base_url), encoding="utf-8")
        sources = load_sources(path, topic_ids=taxonomy.topic_ids(), adapter_names=ADAPTER_NAMES)
    by_url = {s.url: s for s in sources}
    bodies = []
    for name in CORPUS_FILES:
        source = by_url[f"{base_url}/{name}"]
        ctype = CONTENT_TYPES[Path(name).suffix]
        body = (corpus / name).read_bytes()
        bodies.append((source, FetchResult(source.id, FetchStatus.OK, source.url, body, ctype)))
    now = dt.datetime(2026, 8, 1, 12, 0, tzinfo=dt.UTC)
    tz = ZoneInfo("Europe/Brussels")

    def prepare_all() -> int:
        with Preparer(taxonomy, tz, 0) as preparer:
            return sum(len(preparer.here(s, r, now)) for s, r in bodies)

    def feedparser_all() -> int:
        return sum(
            len(
                feedparser.parse(
                    io.BytesIO(r.body),
                    response_headers={"content-type": r.content_type or ""},
                    sanitize_html=False,
                    resolve_relative_uris=False,
                ).entries
            )
            for s, r in bodies
            if s.kind.value == "feed"
        )

    def best_cpu(fn: Callable[[], int]) -> float:
        fn()
        times = []
        for _ in range(rounds):
            started = time.process_time()
            fn()
            times.append(time.process_time() - started)
        return min(times)

    entries = prepare_all()
    prepare_s, feedparser_s = best_cpu(prepare_all), best_cpu(feedparser_all)
    return {
        "entries": entries,
        "prepare_cpu_s": prepare_s,
        "feedparser_cpu_s": feedparser_s,
        "beyond_feedparser_cpu_s": prepare_s - feedparser_s,
        "max_rss_mb": _max_rss_mb(),
    }


def serve(corpus: Path) -> None:
    """Child process: serve the corpus, print the base URL, run until killed."""
    import signal

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="counted rounds (one more warms up)")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--only", default=",".join(PEERS), help="peers, comma-separated")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument(
        "--before",
        type=Path,
        metavar="TREE",
        help="also run eudigest from this source tree (peer 'before'; e.g. a `git worktree` "
        "of the previous release)",
    )
    ap.add_argument(
        "--child", choices=["baseline", "cold", "warm", "prepare"], help=argparse.SUPPRESS
    )
    ap.add_argument(
        "--peer", choices=["reader", "reader-add", "bare", "scheduler"], help=argparse.SUPPRESS
    )
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.corpus)
        return
    if args.peer == "scheduler":
        peer_scheduler()
        return
    if args.peer:
        store, urls = args.rest[0], args.rest[1:]
        if args.peer == "bare":
            peer_bare(store, Path(urls[0]).read_text().split())
        else:
            peer_reader(store, urls)
        return
    if args.child:
        fn = {
            "baseline": lambda: scenario_baseline(args.corpus),
            "cold": lambda: scenario_ingest(args.corpus, warm=False),
            "warm": lambda: scenario_ingest(args.corpus, warm=True),
            "prepare": lambda: scenario_prepare(args.corpus),
        }[args.child]
        print(json.dumps(fn()))
        return
    peers = tuple(p for p in args.only.split(",") if p)
    if "reader" in peers and importlib.util.find_spec("reader") is None:
        print("reader is not installed (pip install -e '.[bench]'): left out", file=sys.stderr)
        peers = tuple(p for p in peers if p != "reader")
    if args.before is not None and "before" not in peers:
        peers = ("before", *peers)
    table = compare(args.corpus, args.runs, peers, args.before)
    if args.json:
        print(json.dumps(list(table.values()), indent=1))
    else:
        print_table(table, args.corpus, args.runs)


if __name__ == "__main__":
    main()
