"""Start-up benchmark: what every `eudigest` process pays before it does its work.

    python bench/startup_bench.py [--repeat 5] [--eudigest .venv/bin/eudigest]

Each command runs as a whole process, as an operator or the scheduler starts it, on a
SQLite store holding the corpus (loaded once, offline, with tests/support/load_corpus),
its output piped (JSON, as a script reads it). Wall time is measured around the
process; peak memory is the process's own maximum RSS (os.wait4). Medians of
--repeat runs, after one warm-up run each (the page cache holds the files). Beside
them, in the same run: `python -c "import feedparser"`, the floor of any Python tool
that reads feeds. Aims of issue 11: `--help` under 3× that floor and under 60 MB,
`items --json --limit 1` under 0.35 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = [
    ["--help"],
    ["sources", "--json"],
    ["items", "--json", "--limit", "1"],
]


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one whole process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def measure(cmd: list[str], env: dict[str, str], repeat: int) -> tuple[float, float, float]:
    run(cmd, env)  # warm-up
    walls, peaks = zip(*(run(cmd, env) for _ in range(repeat)), strict=True)
    return statistics.median(walls), min(walls), statistics.median(peaks)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--eudigest", default=str(Path(sys.executable).with_name("eudigest")))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EUDIGEST_", "SENDGRID_"))}
        env.update(EUDIGEST_DATA_DIR=str(Path(tmp) / "var"), EUDIGEST_LOG_LEVEL="WARNING")
        subprocess.run(
            [sys.executable, "-m", "tests.support.load_corpus"],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)},
            check=True,
            capture_output=True,
        )
        floor = measure([sys.executable, "-c", "import feedparser"], env, args.repeat)
        rows = [("python -c 'import feedparser'", floor)]
        for command in COMMANDS:
            rows.append(
                (
                    "eudigest " + " ".join(command),
                    measure([args.eudigest, *command], env, args.repeat),
                )
            )
    print(f"whole processes, median of {args.repeat} (min), peak RSS; store: SQLite, the corpus")
    print(f"{'command':<36} {'wall s':>7} {'min s':>7} {'× floor':>8} {'peak MB':>8}")
    for name, (median, low, peak) in rows:
        print(f"{name:<36} {median:>7.3f} {low:>7.3f} {median / floor[0]:>7.1f}× {peak:>8.1f}")


if __name__ == "__main__":
    main()
