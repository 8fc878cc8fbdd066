"""Helpers of the scheduler tests: cron files, a hand-moved clock, a recording executor."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.scheduler.cronfile import CronFile, CronJob, load_cron
from pipeline.scheduler.runner import ExecResult

ROOT = Path(__file__).resolve().parents[2]
TEST_MODULES = ("pipeline.jobs", "tests.scheduler.testjobs")
BRUSSELS = "Europe/Brussels"


def write_cron(folder: Path, text: str, name: str = "cron.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def cron_of(folder: Path, text: str, *, seconds: bool = False) -> CronFile:
    return load_cron(write_cron(folder, text), allowed_modules=TEST_MODULES, allow_seconds=seconds)


def one_job(
    schedule: str,
    *,
    job: str = "tests.scheduler.testjobs:tick",
    id: str = "tick",
    extra: str = "",
) -> str:
    return (
        "jobs:\n"
        f"  - id: {id}\n"
        f"    job: {job}\n"
        f'    schedule: "{schedule}"\n'
        f"    timezone: {BRUSSELS}\n" + "".join(f"    {line}\n" for line in extra.splitlines())
    )


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, now: dt.datetime) -> None:
        self.now = now


@dataclass
class Recorder:
    """An executor that records what it was asked to run and answers from a script."""

    answers: list[ExecResult] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    during: Callable[[], None] | None = None

    def __call__(
        self, job: CronJob, key: str, scheduled_for: dt.datetime, stop: threading.Event
    ) -> ExecResult:
        with self.lock:
            self.calls.append((job.id, key))
            n = len(self.calls)
        if self.during is not None:
            self.during()
        if self.answers:
            return self.answers[min(n - 1, len(self.answers) - 1)]
        return ExecResult("ok", "done")

    def keys(self) -> Counter[str]:
        return Counter(k for _, k in self.calls)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


def child_environ(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a child process (a job run, a scheduler): the test's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EUDIGEST_")}
    env.update(
        EUDIGEST_DATA_DIR=str(tmp_path / "var"),
        EUDIGEST_DATABASE_URL=database_url,
        EUDIGEST_TAXONOMY=str(ROOT / "taxonomy.yaml"),
        EUDIGEST_TEST_TICKS=str(tmp_path / "ticks.txt"),
        EUDIGEST_TEST_RELEASE=str(tmp_path / "release"),  # testjobs.slow ends when it exists
        EUDIGEST_LOG_FORMAT="text",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def ticks(tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "ticks.txt"
    if not path.exists():
        return []
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line]
