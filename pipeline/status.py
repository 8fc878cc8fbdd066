"""What needs attention: the report behind `eudigest status` and the desk's status page.

    gather(store, schedule, now)  reads: latest run per job, heartbeats, source health,
                             editions due and who is sending them, delivery issues,
                             schema revision, learned models (in use, or refused)
    assess(inputs, now)      decides (pure): each job's last and next run, and the
                             problems, each with a check name, a subject and a message

`status` exits 1 when `report.problems` is not empty, so monitoring can call it.
Nothing here names a person: subscribers appear only as counts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from pipeline.deliver.lease import live
from pipeline.errors import ConfigError, EudigestError
from pipeline.model import (
    DeliveryState,
    EditionState,
    JobRun,
    Office,
    Sender,
    SenderOutcome,
    SourceHealth,
)
from pipeline.model.learning import ModelState, state_text
from pipeline.store import Store
from pipeline.store.stats import DeliveryIssue, EditionDue

FAILED_OUTCOMES = ("failed", "timeout", "interrupted", "missed")
SOURCE_FAILURES_ALERT = 3  # failures in a row before a source needs attention
EDITION_GRACE = dt.timedelta(minutes=15)  # a scheduled edition not sending by then is late
SENDING_STUCK_AFTER = dt.timedelta(hours=1)
JOB_GRACE = dt.timedelta(minutes=15)  # a fire time without a run after this is overdue


class ScheduledJob(Protocol):
    """What the status needs of a cron.yaml entry (pipeline.scheduler.cronfile.CronJob)."""

    @property
    def id(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def label_de(self) -> str: ...
    @property
    def schedule(self) -> str: ...
    def next_fire(self, after: dt.datetime) -> dt.datetime | None: ...


@dataclass(frozen=True, slots=True)
class Schedule:
    jobs: tuple[ScheduledJob, ...] = ()
    error: str | None = None  # cron.yaml could not be read: the message says where


def load_schedule(path: Path) -> Schedule:
    """The jobs of cron.yaml, or the reason they cannot be read (never raises)."""
    try:
        from pipeline.scheduler.cronfile import load_cron
    except ImportError as exc:  # pragma: no cover - the scheduler ships with the project
        return Schedule(error=f"the scheduler is not installed: {exc}")
    try:
        return Schedule(jobs=tuple(load_cron(path).jobs))
    except ConfigError as exc:
        return Schedule(error=str(exc))
    except OSError as exc:
        return Schedule(error=f"{path}: {exc.strerror or exc}")


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything the status reads, as plain values (so `assess` is a pure function)."""

    schedule: Schedule
    latest_runs: Mapping[str, JobRun]
    last_scheduled: Mapping[str, dt.datetime]  # newest scheduled (not manual) run per job
    heartbeats: Sequence[tuple[str, dt.datetime]]
    sources: Sequence[SourceHealth]
    editions_due: Sequence[EditionDue]
    delivery_issues: Sequence[DeliveryIssue]
    deliveries_by_state: Mapping[str, int]
    revision: str | None
    head: str
    last_senders: Mapping[int, Sender] = field(default_factory=dict)  # per sending edition
    sending_now: Mapping[int, str] = field(default_factory=dict)  # edition → live instance
    models: Sequence[ModelState] = ()  # learning from the desk, per output
    # correction mails of unknown outcome: (edition id, title, count)
    corrections_unknown: Sequence[tuple[int, str, int]] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    check: str  # job_failed, job_overdue, source_failing, edition_due, edition_interrupted,
    #             edition_stuck, edition_halted,
    #             deliveries_unknown, scheduler_missing, scheduler_stale, schedule_invalid,
    #             schema_outdated, database_unavailable, model_refused, office_incomplete,
    #             corrections_unknown
    subject: str  # job id, source id, edition id, instance or ""
    message: str  # English, for the CLI and logs
    message_de: str  # German, for the desk


@dataclass(frozen=True, slots=True)
class JobStatus:
    id: str
    description: str
    schedule: str
    last_run: JobRun | None
    next_run: dt.datetime | None
    in_schedule: bool = True  # False: runs are stored but cron.yaml no longer names it
    label_de: str = ""  # German, for the desk (cron.yaml's label_de)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    instance: str
    last_beat: dt.datetime
    age_s: float


@dataclass(frozen=True, slots=True)
class StatusReport:
    checked_at: dt.datetime
    jobs: tuple[JobStatus, ...]
    schedule_error: str | None
    heartbeats: tuple[Heartbeat, ...]
    heartbeat_max_age_s: int
    failing_sources: tuple[SourceHealth, ...]
    editions_due: tuple[EditionDue, ...]
    delivery_issues: tuple[DeliveryIssue, ...]
    deliveries_by_state: Mapping[str, int]
    revision: str | None
    head: str
    problems: tuple[Problem, ...] = field(default=())
    models: tuple[ModelState, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def newest_heartbeat_age_s(self) -> float | None:
        return min((h.age_s for h in self.heartbeats), default=None)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked_at": _iso(self.checked_at),
            "problems": [
                {"check": p.check, "subject": p.subject, "message": p.message}
                for p in self.problems
            ],
            "jobs": [_job_json(j) for j in self.jobs],
            "schedule_error": self.schedule_error,
            "scheduler": {
                "heartbeat_max_age_s": self.heartbeat_max_age_s,
                "newest_heartbeat_age_s": self.newest_heartbeat_age_s,
                "heartbeats": [
                    {"instance": h.instance, "last_beat": _iso(h.last_beat), "age_s": h.age_s}
                    for h in self.heartbeats
                ],
            },
            "sources_failing": [
                {
                    "id": h.source.id,
                    "name": h.source.name,
                    "failures": h.consecutive_failures,
                    "last_error": h.last_error,
                    "last_error_at": _iso(h.last_error_at),
                    "last_success": _iso(h.last_success),
                    "next_try": _iso(h.next_try),
                }
                for h in self.failing_sources
            ],
            "editions_due": [
                {
                    "id": e.id,
                    "newsletter": e.newsletter_id,
                    "title": e.title,
                    "state": e.state.value,
                    "scheduled_at": _iso(e.scheduled_at),
                    "halt_reason": e.halt_reason,  # German; set when the state is halted
                    "halted_at": _iso(e.halted_at),
                }
                for e in self.editions_due
            ],
            "deliveries": {
                "by_state": dict(self.deliveries_by_state),
                "issues": [
                    {
                        "edition_id": d.edition_id,
                        "title": d.title,
                        "state": d.state.value,
                        "count": d.count,
                    }
                    for d in self.delivery_issues
                ],
            },
            "schema": {
                "revision": self.revision,
                "head": self.head,
                "current": self.revision == self.head,
            },
            "learning": {
                m.output.value: {
                    "labels": m.labels,
                    "trained_at": _iso(m.trained_at),
                    "suggested_by": "model" if m.active else "rules",
                    "message": state_text(m, german=False),
                }
                for m in self.models
            },
        }


def gather(store: Store, schedule: Schedule, now: dt.datetime) -> Inputs:
    """Read what the status needs; raises StoreError when the database is unreachable."""
    latest = store.runs.latest_per_job()
    job_ids = {j.id for j in schedule.jobs} | set(latest)
    last_scheduled = {
        job: when for job in sorted(job_ids) if (when := store.runs.last_scheduled(job))
    }
    due = store.stats.editions_due(now)
    sending = [e.id for e in due if e.state is EditionState.SENDING]
    sending_now: dict[int, str] = {}
    for edition_id in sending:
        if at_work := live(store.senders.active(edition_id), now):
            sending_now[edition_id] = at_work[0].instance
    revision, head = store.revision(), store.head_revision()
    current = revision == head  # tables of later migrations are read only when there
    return Inputs(
        schedule=schedule,
        latest_runs=latest,
        last_scheduled=last_scheduled,
        heartbeats=store.runs.heartbeats(),
        sources=store.sources.health(),
        editions_due=due,
        delivery_issues=store.stats.delivery_issues(),
        deliveries_by_state=store.stats.deliveries_by_state(),
        revision=revision,
        head=head,
        last_senders=store.senders.latest(sending),
        sending_now=sending_now,
        models=_models(store) if current else [],
        corrections_unknown=store.corrections.unknown_per_edition() if current else [],
    )


def _models(store: Store) -> list[ModelState]:
    """Learned models per output (the caller checks the schema has their table, 0012)."""
    from pipeline.curate import learning  # stdlib checks only: scikit-learn is not loaded

    return learning.states(store)


def assess(inputs: Inputs, now: dt.datetime, *, heartbeat_max_age_s: int = 300) -> StatusReport:
    """The report: each job's last and next run, and what needs attention (pure)."""
    problems: list[Problem] = []
    if inputs.schedule.error:
        problems.append(
            Problem(
                "schedule_invalid",
                "",
                f"the schedule cannot be read: {inputs.schedule.error}",
                f"Der Zeitplan (cron.yaml) ist fehlerhaft: {inputs.schedule.error}",
            )
        )
    jobs = _jobs(inputs, now, problems)
    heartbeats = tuple(
        Heartbeat(instance, beat, max(0.0, (now - beat).total_seconds()))
        for instance, beat in inputs.heartbeats
    )
    _scheduler_problems(heartbeats, heartbeat_max_age_s, problems)
    failing = tuple(h for h in inputs.sources if h.source.enabled and h.consecutive_failures > 0)
    for h in failing:
        if h.consecutive_failures >= SOURCE_FAILURES_ALERT:
            problems.append(
                Problem(
                    "source_failing",
                    h.source.id,
                    f"source {h.source.id} failed {h.consecutive_failures} times in a row: "
                    f"{h.last_error or 'no error recorded'}",
                    f"Quelle „{h.source.name}“ ist {h.consecutive_failures}-mal in Folge "
                    "fehlgeschlagen",
                )
            )
    due = tuple(e for e in inputs.editions_due if _is_due(e, now))
    for e in due:
        if e.state is EditionState.HALTED:
            problems.append(_halted(e))
        elif e.state is EditionState.SCHEDULED and e.scheduled_at + EDITION_GRACE < now:  # type: ignore[operator]
            problems.append(
                Problem(
                    "edition_due",
                    str(e.id),
                    f"edition {e.id} was due at {_iso(e.scheduled_at)} and has not started sending",
                    f"Ausgabe „{e.title}“ war zum Versand fällig und wird noch nicht versandt",
                )
            )
        elif e.state is EditionState.SENDING and (
            stop := _interrupted(e, inputs.last_senders.get(e.id), inputs.sending_now, now)
        ):
            problems.append(stop)
        elif e.state is EditionState.SENDING and _stuck(e, now):
            since = e.planned_at or e.updated_at
            problems.append(
                Problem(
                    "edition_stuck",
                    str(e.id),
                    f"edition {e.id} has been sending since {_iso(since)}, "
                    f"{e.pending} deliveries pending",
                    f"Ausgabe „{e.title}“ hängt im Versand",
                )
            )
    for d in inputs.delivery_issues:
        if d.state is DeliveryState.UNKNOWN:
            problems.append(
                Problem(
                    "deliveries_unknown",
                    str(d.edition_id),
                    f"edition {d.edition_id}: {d.count} deliveries in an unknown state "
                    "(staff decide: count as sent or send again)",
                    f"Ausgabe „{d.title}“: {d.count} Zustellungen mit unbekanntem Ausgang",
                )
            )
    for edition_id, title, count in inputs.corrections_unknown:
        mails = "Korrekturmail" if count == 1 else "Korrekturmails"
        problems.append(
            Problem(
                "corrections_unknown",
                str(edition_id),
                f"edition {edition_id}: {count} correction mails in an unknown state "
                "(staff decide in the edition: count as sent or send again)",
                f"Ausgabe „{title}“: {count} {mails} mit unbekanntem Ausgang",
            )
        )
    if inputs.revision != inputs.head:
        problems.append(
            Problem(
                "schema_outdated",
                "",
                f"the database schema is at {inputs.revision or 'nothing'}, the code needs "
                f"{inputs.head}: run `eudigest init`",
                "Die Datenbank ist nicht auf dem Stand des Programms (eudigest init)",
            )
        )
    for m in inputs.models:
        if m.problem:
            problems.append(
                Problem("model_refused", m.output.value, m.problem, m.problem_de or m.problem)
            )
    return StatusReport(
        checked_at=now,
        jobs=jobs,
        schedule_error=inputs.schedule.error,
        heartbeats=heartbeats,
        heartbeat_max_age_s=heartbeat_max_age_s,
        failing_sources=failing,
        editions_due=due,
        delivery_issues=tuple(inputs.delivery_issues),
        deliveries_by_state=dict(inputs.deliveries_by_state),
        revision=inputs.revision,
        head=inputs.head,
        problems=tuple(problems),
        models=tuple(inputs.models),
    )


def collect(
    store: Store,
    cron_path: Path,
    now: dt.datetime,
    *,
    heartbeat_max_age_s: int = 300,
    office: Office | None = None,
) -> StatusReport:
    """gather + assess; a database that cannot be read is itself the problem reported.
    With `office`, its settings that are still a sample value or empty (the imprint
    placeholder of the shipped office.yaml) are problems too: every confirmation mail,
    digest footer and archive page shows them."""
    schedule = load_schedule(cron_path)
    try:
        inputs = gather(store, schedule, now)
    except EudigestError as exc:
        return _unreadable(store, schedule, now, heartbeat_max_age_s, exc)
    report = assess(inputs, now, heartbeat_max_age_s=heartbeat_max_age_s)
    if office is None:
        return report
    return replace(report, problems=report.problems + office_problems(office))


def office_problems(office: Office) -> tuple[Problem, ...]:
    """office.yaml settings still a sample value or empty, as the preflight finds them."""
    from pipeline.curate.preflight import office_findings

    return tuple(
        Problem(
            "office_incomplete",
            f.subject,
            f"office.yaml: {f.subject} is still a sample value or empty; every mail and "
            "the public archive show it (approval is refused until it is filled in)",
            f.message,
        )
        for f in office_findings(office)
    )


def _unreadable(
    store: Store, schedule: Schedule, now: dt.datetime, max_age_s: int, exc: EudigestError
) -> StatusReport:
    """The database could not be read: an old schema (tables missing) or no database."""
    head = store.head_revision()
    try:
        revision: str | None = store.revision()
    except EudigestError:
        revision, problem = (
            None,
            Problem(
                "database_unavailable",
                "",
                f"the database cannot be read: {exc}",
                "Die Datenbank ist nicht erreichbar",
            ),
        )
    else:
        problem = Problem(
            "schema_outdated" if revision != head else "database_unavailable",
            "",
            f"the database cannot be read (schema at {revision or 'nothing'}, the code needs "
            f"{head}: run `eudigest init`): {exc}",
            "Die Datenbank ist nicht auf dem Stand des Programms (eudigest init)"
            if revision != head
            else "Die Datenbank ist nicht lesbar",
        )
    return StatusReport(
        checked_at=now,
        jobs=(),
        schedule_error=schedule.error,
        heartbeats=(),
        heartbeat_max_age_s=max_age_s,
        failing_sources=(),
        editions_due=(),
        delivery_issues=(),
        deliveries_by_state={},
        revision=revision,
        head=head,
        problems=(problem,),
    )


# ---------------------------------------------------------------- source errors in German

# (pattern in the stored English error, German explanation) — first match wins. The raw
# error (pipeline.ingest.fetch.describe_error, parse errors) stays stored in English.
_SOURCE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), german)
    for pattern, german in (
        (
            r"refused to connect to",
            "Abruf verweigert: die Adresse liegt in einem geschützten Netzbereich "
            "(freigeben nur mit EUDIGEST_FETCH_ALLOW).",
        ),
        (r"timed out", "Zeitüberschreitung: die Quelle hat nicht rechtzeitig geantwortet."),
        (
            r"name or service not known|name resolution|resolving .* timed out",
            "Der Servername ließ sich nicht auflösen (DNS): Adresse geändert oder kein Netz?",
        ),
        (
            r"network is unreachable|no route to host",
            "Keine Netzverbindung zum Server der Quelle.",
        ),
        (r"connection refused", "Der Server der Quelle hat die Verbindung abgelehnt."),
        (r"\bTLS error", "Die verschlüsselte Verbindung ist fehlgeschlagen (Zertifikat/TLS)."),
        (
            r"anti-bot|challenge",
            "Die Quelle zeigt eine Anti-Bot-Prüfung statt ihres Inhalts: "
            "automatisch gerade nicht abrufbar.",
        ),
        (
            r"\bHTTP (404|410)\b",
            "Die Adresse gibt es nicht (mehr): den Link in sources.yaml prüfen.",
        ),
        (r"\bHTTP (401|403)\b", "Die Quelle verweigert den Zugriff."),
        (r"\bHTTP 429\b", "Zu viele Anfragen: die Quelle bremst den Abruf."),
        (r"\bHTTP 5\d\d\b", "Störung beim Server der Quelle; meist vorübergehend."),
        (
            r"connection (reset|closed)|closed the connection|without an answer",
            "Der Server hat die Verbindung abgebrochen.",
        ),
        (r"empty body|no content", "Die Quelle hat eine leere Antwort geschickt."),
        (
            r"not a feed|not an RSS|not JSON|invalid JSON|no title|could not parse|parse",
            "Die Antwort ließ sich nicht lesen: das Format der Quelle hat sich wohl geändert.",
        ),
        (r"\bHTTP \d{3}\b", "Die Quelle hat mit einem Fehler geantwortet."),
    )
)


def source_error_de(error: str | None) -> str:
    """A German explanation of a source's stored (English) error for the desk; the raw
    text is shown beside it, folded. "" for no error."""
    if not error:
        return ""
    for pattern, german in _SOURCE_ERRORS:
        if pattern.search(error):
            return german
    return "Abruf fehlgeschlagen."


# ---------------------------------------------------------------- helpers


def _jobs(inputs: Inputs, now: dt.datetime, problems: list[Problem]) -> tuple[JobStatus, ...]:
    out: list[JobStatus] = []
    for job in inputs.schedule.jobs:
        last = inputs.latest_runs.get(job.id)
        out.append(
            JobStatus(
                job.id,
                job.description,
                job.schedule,
                last,
                job.next_fire(now),
                label_de=job.label_de,
            )
        )
        if last is not None and last.outcome in FAILED_OUTCOMES:
            problems.append(
                Problem(
                    "job_failed",
                    job.id,
                    f"job {job.id}: last run {last.outcome}"
                    + (f": {last.detail}" if last.detail else ""),
                    f"Aufgabe {job.id}: letzter Lauf "
                    + OUTCOME_LABELS.get(last.outcome, last.outcome),
                )
            )
        scheduled = inputs.last_scheduled.get(job.id)
        expected = job.next_fire(scheduled) if scheduled is not None else None
        busy = last is not None and last.outcome == "running"  # a long run skips fires
        if expected is not None and expected + JOB_GRACE < now and not busy:
            problems.append(
                Problem(
                    "job_overdue",
                    job.id,
                    f"job {job.id} should have run at {_iso(expected)} and has no run since",
                    f"Aufgabe {job.id} hätte laufen sollen und ist nicht gelaufen",
                )
            )
    known = {j.id for j in inputs.schedule.jobs}
    for job_id, run in sorted(inputs.latest_runs.items()):
        if job_id not in known:
            out.append(JobStatus(job_id, "", "", run, None, in_schedule=False))
    return tuple(out)


def _scheduler_problems(
    heartbeats: Sequence[Heartbeat], max_age_s: int, problems: list[Problem]
) -> None:
    if max_age_s <= 0:
        return
    if not heartbeats:
        problems.append(
            Problem(
                "scheduler_missing",
                "",
                "no scheduler has ever reported (start `eudigest scheduler`)",
                "Es läuft kein Zeitplaner (eudigest scheduler)",
            )
        )
        return
    newest = min(heartbeats, key=lambda h: h.age_s)
    if newest.age_s > max_age_s:
        problems.append(
            Problem(
                "scheduler_stale",
                newest.instance,
                f"the newest scheduler heartbeat ({newest.instance}) is "
                f"{newest.age_s:.0f} s old (limit {max_age_s} s)",
                f"Der Zeitplaner hat sich seit {newest.age_s / 60:.0f} Minuten nicht gemeldet",
            )
        )


INTERRUPTED_DE = {
    SenderOutcome.STOPPED: "vorübergehende Störung beim Versand (SendGrid überlastet oder nicht "
    "erreichbar, oder der Ablageordner voll); der nächste Lauf setzt fort",
    SenderOutcome.HALTED: "SendGrid lehnt den API-Schlüssel ab; nach der Korrektur setzt der "
    "nächste Lauf fort",
    SenderOutcome.FAILED: "der Versandprozess ist mit einem Fehler beendet worden; der nächste "
    "Lauf setzt fort",
    SenderOutcome.LOST: "der Versandprozess ist abgebrochen; der nächste Lauf setzt fort",
}


def _interrupted(
    e: EditionDue, last: Sender | None, sending_now: Mapping[int, str], now: dt.datetime
) -> Problem | None:
    """An edition whose last sender ended without finishing it, with nobody sending it now:
    reported at once (not after an hour), with why and what happens next."""
    if last is None or e.id in sending_now or e.pending == 0:
        return None
    outcome = last.outcome
    if outcome is SenderOutcome.RUNNING and not last.running(now):
        outcome = SenderOutcome.LOST  # gone without a word: nobody has taken over yet
    if outcome not in INTERRUPTED_DE:
        return None
    when = last.ended_at or last.beat_at
    why = last.detail or (
        f"the sender {last.instance} stopped renewing its lease"
        if outcome is SenderOutcome.LOST
        else outcome.value
    )
    after = (
        "fix the configuration, then resume it in the desk or run `eudigest send ID`"
        if outcome is SenderOutcome.HALTED
        else "the next send-due continues"
    )
    waiting = f"{e.pending:,}".replace(",", ".")
    return Problem(
        "edition_interrupted",
        str(e.id),
        f"edition {e.id}: sending stopped at {_iso(when)} ({outcome.value}: {why}); "
        f"{e.pending} deliveries still queued; {after}",
        f"Versand unterbrochen: Ausgabe „{e.title}“ – {waiting} "
        f"{'Zustellung wartet' if e.pending == 1 else 'Zustellungen warten'}: "
        f"{INTERRUPTED_DE[outcome]}",
    )


def _halted(e: EditionDue) -> Problem:
    """An edition whose send stopped for a person to fix: its reason names what to change."""
    reason = e.halt_reason or "ohne angegebenen Grund"
    waiting = f"; {e.pending} deliveries still queued" if e.pending else "; nothing was sent yet"
    return Problem(
        "edition_halted",
        str(e.id),
        f"edition {e.id}: sending halted at {_iso(e.halted_at)}{waiting}; the reason (German): "
        f"{reason} Fix it, then resume it in the desk („Versand fortsetzen“) or run "
        f"`eudigest send {e.id}`",
        f"Versand angehalten: Ausgabe „{e.title}“ – {reason} Danach in der Ausgabe "
        "„Versand fortsetzen“ wählen.",
    )


def _stuck(e: EditionDue, now: dt.datetime) -> bool:
    """Sending for over an hour: no deliveries planned since it started sending, or
    some still pending an hour after they were planned (each send-due run resumes it,
    so only a lasting SendGrid or database problem, or no scheduler, leaves it there)."""
    if e.planned_at is None:
        return e.updated_at + SENDING_STUCK_AFTER < now
    return e.pending > 0 and e.planned_at + SENDING_STUCK_AFTER < now


def _is_due(e: EditionDue, now: dt.datetime) -> bool:
    if e.state in (EditionState.SENDING, EditionState.HALTED):
        return True
    return e.scheduled_at is not None and e.scheduled_at <= now


OUTCOME_LABELS = {
    "running": "läuft",
    "ok": "erfolgreich",
    "failed": "fehlgeschlagen",
    "timeout": "abgebrochen (Zeitlimit)",
    "interrupted": "unterbrochen",
    "missed": "verpasst",
    "skipped": "übersprungen (lief noch)",
}


def _job_json(j: JobStatus) -> dict[str, Any]:
    run = j.last_run
    return {
        "id": j.id,
        "description": j.description,
        "label_de": j.label_de,
        "schedule": j.schedule,
        "in_schedule": j.in_schedule,
        "next_run": _iso(j.next_run),
        "last_run": None
        if run is None
        else {
            "scheduled_for": _iso(run.scheduled_for),
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "outcome": run.outcome,
            "duration_s": run.duration_s,
            "instance": run.instance,
            "detail": run.detail,
        },
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None
