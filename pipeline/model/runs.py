"""Job runs: one fire time of a cron.yaml job, claimed by one scheduler instance (ADR 0005)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

OUTCOMES = ("running", "ok", "failed", "timeout", "interrupted", "missed", "skipped")


@dataclass(frozen=True, slots=True)
class JobRun:
    id: int
    job: str  # cron.yaml job id
    scheduled_for: dt.datetime  # UTC-aware fire time the run belongs to
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    outcome: str  # "running" | "ok" | "failed" | "timeout" | "interrupted" | "missed" | "skipped"
    instance: str  # "host:pid"
    detail: str | None  # error summary or a one-line result ("12 new items")
    key: str = ""  # the claim key: local wall-clock time in the job's zone, or "manual:…"
    attempts: int = 0

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
