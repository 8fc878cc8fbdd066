"""cron.yaml: the schedule ops edit, validated with file:line:field errors.

    jobs:
      - id: send-due
        description: Send every edition whose time has come
        job: pipeline.jobs:send_due      # module:function; the function takes the services
        schedule: "*/5 * * * *"          # minute hour day month weekday (names: mon-fri)
        timezone: Europe/Brussels        # required, IANA name
        misfire_grace_time: 300          # seconds; also the catch-up window after a restart
        coalesce: true
        timeout: 1800                    # seconds; the run's child process is killed after it
        retry: {limit: 2, backoff: 60}   # tries after a failure, seconds between them (doubling)
        overlap: false                   # true: a run may start while an earlier one still runs

Weekday numbers are refused: APScheduler 3 counts 0 as Monday, crontab as Sunday.
Fire times are computed by APScheduler's CronTrigger; `run_key` turns one into the
claim key of the run: the local wall-clock time in the job's zone, so the repeated
autumn hour (02:30 CEST, then 02:30 CET) is one run.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from yaml.nodes import MappingNode, Node

from pipeline.catalog import ID_RE, _check_unknown, _Doc, _mapping, _sequence, _string, _typed
from pipeline.errors import ConfigError

JOB_FIELDS = frozenset(
    {
        "id",
        "description",
        "label_de",
        "job",
        "schedule",
        "timezone",
        "misfire_grace_time",
        "coalesce",
        "retry",
        "timeout",
        "overlap",
    }
)
RETRY_FIELDS = frozenset({"limit", "backoff"})
ALLOWED_MODULES: tuple[str, ...] = ("pipeline.jobs",)
DEFAULT_GRACE_S = 600
DEFAULT_TIMEOUT_S = 1800
CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_SEARCH_WINDOWS = (
    dt.timedelta(minutes=2),
    dt.timedelta(hours=2),
    dt.timedelta(days=2),
    dt.timedelta(days=9),
    dt.timedelta(days=40),
    dt.timedelta(days=400),
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    limit: int = 0  # further tries after a failed one
    backoff_s: int = 60  # wait before the first retry; doubles for each further one

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1, 2, …)."""
        return float(self.backoff_s * 2 ** (retry - 1))


@dataclass(frozen=True, slots=True)
class CronJob:
    id: str
    description: str
    job: str  # "module:function"
    schedule: str
    timezone: ZoneInfo
    misfire_grace_time: int = DEFAULT_GRACE_S
    coalesce: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: int = DEFAULT_TIMEOUT_S
    overlap: bool = False  # a run may start while an earlier run of this job still runs
    line: int = 0
    trigger: CronTrigger = field(default=None, compare=False, repr=False)
    label_de: str = ""  # what the job does, in German, for the desk's status page

    def next_fire(self, after: dt.datetime) -> dt.datetime | None:
        """The first fire time strictly after `after`, UTC-aware."""
        nxt = self.trigger.get_next_fire_time(None, after + dt.timedelta(microseconds=1))
        return None if nxt is None else nxt.astimezone(dt.UTC)

    def fires(
        self, after: dt.datetime, until: dt.datetime, limit: int = 100_000
    ) -> list[dt.datetime]:
        """Fire times in (after, until], oldest first (the repeated autumn hour twice)."""
        out: list[dt.datetime] = []
        t = self.next_fire(after)
        while t is not None and t <= until and len(out) < limit:
            out.append(t)
            t = self.next_fire(t)
        return out

    def previous_fire(self, at: dt.datetime) -> dt.datetime | None:
        """The newest fire time at or before `at` (None if there is none within a year)."""
        for window in _SEARCH_WINDOWS:
            found = self.fires(at - window, at)
            if found:
                return found[-1]
        return None

    def run_key(self, scheduled_for: dt.datetime) -> str:
        """The claim key: the scheduled local wall-clock time in the job's zone."""
        local = scheduled_for.astimezone(self.timezone).replace(tzinfo=None)
        return local.isoformat(timespec="seconds")

    def function(self) -> Callable[..., Any]:
        return resolve(self.job)


@dataclass(frozen=True, slots=True)
class CronFile:
    path: Path
    jobs: list[CronJob]

    def get(self, job_id: str) -> CronJob | None:
        return next((j for j in self.jobs if j.id == job_id), None)

    def __iter__(self) -> Iterator[CronJob]:
        return iter(self.jobs)


def resolve(spec: str) -> Callable[..., Any]:
    """Import "module:function" and return the function."""
    module_name, _, name = spec.partition(":")
    module = importlib.import_module(module_name)
    fn = getattr(module, name)
    if not callable(fn):
        raise TypeError(f"{spec} is not callable")
    return fn  # type: ignore[no-any-return]


def load_cron(
    path: Path,
    *,
    allowed_modules: Collection[str] = ALLOWED_MODULES,
    allow_seconds: bool = False,
) -> CronFile:
    """Read and check cron.yaml; a mistake raises ConfigError naming file:line:field.

    `allowed_modules` are the modules a job may name (tests add their own); with
    `allow_seconds` (tests only) a schedule may have a sixth, leading field: the second.
    """
    doc = _Doc(path)
    if not isinstance(doc.root, MappingNode):
        raise doc.error(doc.root, "jobs", "the file must be a mapping with a top-level key jobs")
    _check_unknown(doc, _mapping(doc, doc.root, "cron.yaml"), {"jobs"}, "cron.yaml")
    jobs: list[CronJob] = []
    for i, node in enumerate(_sequence(doc, doc.top("jobs"), "jobs")):
        jobs.append(_job(doc, node, i, allowed_modules, allow_seconds, jobs))
    if not jobs:
        raise doc.error(doc.top("jobs"), "jobs", "the list is empty")
    return CronFile(path=path, jobs=jobs)


def _job(
    doc: _Doc,
    node: Node,
    i: int,
    allowed_modules: Collection[str],
    allow_seconds: bool,
    seen: list[CronJob],
) -> CronJob:
    at = f"jobs[{i}]"
    f = _mapping(doc, node, at)
    jid = _string(doc, f.get("id"), f"{at}.id")
    at = f"jobs[{i}] ({jid})"
    _check_unknown(doc, f, JOB_FIELDS, at)
    if not ID_RE.match(jid):
        raise doc.error(f["id"], f"{at}.id", "use lower-case letters, digits, - and _")
    if any(j.id == jid for j in seen):
        raise doc.error(f["id"], f"{at}.id", "duplicate id")
    if "job" not in f:
        raise doc.error(node, f"{at}.job", "is required (module:function)")
    spec = _string(doc, f["job"], f"{at}.job")
    _check_function(doc, f["job"], f"{at}.job", spec, allowed_modules)
    if "timezone" not in f:
        raise doc.error(node, f"{at}.timezone", "is required (an IANA name like Europe/Brussels)")
    tz_name = _string(doc, f["timezone"], f"{at}.timezone")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise doc.error(f["timezone"], f"{at}.timezone", f"unknown time zone {tz_name!r}") from None
    if "schedule" not in f:
        raise doc.error(node, f"{at}.schedule", "is required (a crontab expression)")
    schedule = _string(doc, f["schedule"], f"{at}.schedule")
    trigger = _trigger(doc, f["schedule"], f"{at}.schedule", schedule, tz, allow_seconds)
    grace = _number(doc, f.get("misfire_grace_time"), f"{at}.misfire_grace_time", DEFAULT_GRACE_S)
    timeout = _number(doc, f.get("timeout"), f"{at}.timeout", DEFAULT_TIMEOUT_S, high=86_400)
    retry = RetryPolicy()
    if "retry" in f:
        r = _mapping(doc, f["retry"], f"{at}.retry")
        _check_unknown(doc, r, RETRY_FIELDS, f"{at}.retry")
        limit = _number(doc, r.get("limit"), f"{at}.retry.limit", 0, low=0, high=10)
        backoff = _number(doc, r.get("backoff"), f"{at}.retry.backoff", 60, low=0, high=3600)
        retry = RetryPolicy(limit=limit, backoff_s=backoff)
    return CronJob(
        id=jid,
        description=_string(doc, f.get("description"), f"{at}.description", required=False),
        job=spec,
        schedule=schedule,
        timezone=tz,
        misfire_grace_time=grace,
        coalesce=_typed(doc, f.get("coalesce"), f"{at}.coalesce", bool, True),
        retry=retry,
        timeout=timeout,
        overlap=_typed(doc, f.get("overlap"), f"{at}.overlap", bool, False),
        line=node.start_mark.line + 1,
        trigger=trigger,
        label_de=_string(doc, f.get("label_de"), f"{at}.label_de", required=False),
    )


def _number(
    doc: _Doc, node: Node | None, field: str, default: int, *, low: int = 1, high: int = 604_800
) -> int:
    value = int(_typed(doc, node, field, int, default))
    if not low <= value <= high:
        raise doc.error(node, field, f"must be {low}..{high}")
    return value


def _check_function(
    doc: _Doc, node: Node, field: str, spec: str, allowed_modules: Collection[str]
) -> None:
    module, sep, name = spec.partition(":")
    if not sep or not module or not name.isidentifier():
        raise doc.error(
            node, field, f"{spec!r} is not module:function (e.g. pipeline.jobs:fetch_due)"
        )
    if module not in allowed_modules:
        raise doc.error(
            node, field, f"unknown job {spec!r}: jobs live in {', '.join(sorted(allowed_modules))}"
        )
    try:
        resolve(spec)
    except (ImportError, AttributeError, TypeError):
        raise doc.error(node, field, f"unknown job {spec!r}: no such function") from None


def _trigger(
    doc: _Doc, node: Node, field: str, expr: str, tz: ZoneInfo, allow_seconds: bool
) -> CronTrigger:
    parts = expr.split()
    names: tuple[str, ...] = ("second", *CRON_FIELDS)
    if allow_seconds and len(parts) == 6:
        pass
    elif len(parts) != 5:
        raise doc.error(
            node,
            field,
            f"{expr!r} has {len(parts)} fields; 5 are needed: minute hour day month weekday",
        )
    else:
        parts = ["0", *parts]
    weekday = parts[-1]
    if any(c.isdigit() for c in weekday):
        raise doc.error(
            node,
            field,
            f"weekday {weekday!r} uses numbers; write names (mon-fri, sat, sun): "
            "APScheduler 3 counts 0 as Monday, crontab as Sunday",
        )
    try:
        return CronTrigger(timezone=tz, **dict(zip(names, parts, strict=True)))
    except ValueError as exc:
        raise doc.error(node, field, f"{expr!r} is not a valid crontab expression: {exc}") from None


def check_job_id(cron: CronFile, job_id: str) -> CronJob:
    job = cron.get(job_id)
    if job is None:
        known = ", ".join(j.id for j in cron.jobs)
        raise ConfigError(f"{cron.path.name}: no job {job_id!r} (jobs: {known})")
    return job
