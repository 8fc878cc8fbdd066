"""`eudigest status`: the report over the real store (SQLite and PostgreSQL) and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline import status
from pipeline.catalog import load_office
from pipeline.cli import main
from pipeline.model import (
    DeliveryState,
    EditionState,
    NewSubscriber,
    Outcome,
    ProcessRef,
    Profile,
    Sender,
    SenderOutcome,
    Source,
    SourceKind,
)
from pipeline.store import Store
from pipeline.store.stats import EditionDue
from tests.support.office import ROOT, office_yaml

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)  # 09:30 in Brussels
BRUSSELS = ZoneInfo("Europe/Brussels")
ADDRESS = "bernd.beispiel@example.org"
CRON_YAML = """\
jobs:
  - id: fetch
    description: Fetch the sources whose interval has passed
    job: pipeline.jobs:fetch_due
    schedule: "*/15 * * * *"
    timezone: Europe/Brussels
  - id: purge
    job: pipeline.jobs:purge
    schedule: "30 4 * * *"
    timezone: Europe/Brussels
"""
OK_FEED = Source("ok-feed", "Gute Quelle", "European Commission", "https://x.test/a", "de",
                 SourceKind.FEED)  # fmt: skip
BAD_FEED = Source("bad-feed", "Kaputte Quelle", "European Parliament", "https://x.test/b", "en",
                  SourceKind.FEED)  # fmt: skip


def write_cron(folder: Path) -> Path:
    path = folder / "cron.yaml"
    path.write_text(CRON_YAML, encoding="utf-8")
    return path


@dataclass
class Seeded:
    due_edition: int
    sending_edition: int


def last_purge(now: dt.datetime) -> dt.datetime:
    """The newest 04:30 in Brussels at or before `now` (when purge last fired)."""
    local = now.astimezone(BRUSSELS)
    fire = local.replace(hour=4, minute=30, second=0, microsecond=0)
    if fire > local:
        fire -= dt.timedelta(days=1)
    return fire.astimezone(dt.UTC)


def seed_healthy(store: Store, now: dt.datetime = NOW) -> None:
    """Sources registered, both jobs ran fine on time, a fresh heartbeat."""
    store.sources.register([OK_FEED, BAD_FEED], now=now - dt.timedelta(days=1))
    _run(store, "fetch", now, "ok", "12 new items", 4.5)
    _run(store, "purge", last_purge(now), "ok", "0 deleted", 0.2)
    store.runs.beat("host-a:123", now=now - dt.timedelta(seconds=30))


def seed_trouble(store: Store, now: dt.datetime = NOW) -> Seeded:
    """On top of a healthy store: a failing source, a failed job, a late edition, an
    edition stuck in sending with a sent, a failed and an unknown delivery, a subscriber."""
    for n in range(3):
        store.sources.record_failure(
            BAD_FEED.id,
            now=now - dt.timedelta(hours=3 - n),
            error="HTTP 503 Service Unavailable",
            next_try=now + dt.timedelta(hours=1),
        )
    _run(store, "purge", last_purge(now), "failed",
         "StoreError: database unavailable", 1.0, key_suffix="-b")  # fmt: skip
    sub = store.subscribers.add(
        NewSubscriber(ADDRESS, "c" * 64, Profile(newsletters=("weekly",)), "v1", consent_at=now),
        now=now,
    )
    due = store.editions.create(
        "weekly", title="EU-Wochenbrief 48/2026", intro="", sections=[("A", [])],
        actor="anna", now=now - dt.timedelta(days=1),
    )  # fmt: skip
    for to_state, values in (
        (EditionState.APPROVED, {}),
        (EditionState.SCHEDULED, {"scheduled_at": now - dt.timedelta(hours=1)}),
    ):
        store.editions.transition(
            due.id, from_states=list(EditionState), to_state=to_state, actor="anna",
            now=now - dt.timedelta(hours=2), **values,
        )  # fmt: skip
    sending = store.editions.create(
        "daily", title="EU-Tagesüberblick 25.11.", intro="", sections=[("A", [])],
        actor="anna", now=now - dt.timedelta(days=1),
    )  # fmt: skip
    store.editions.transition(
        sending.id, from_states=list(EditionState), to_state=EditionState.SENDING,
        actor="anna", now=now - dt.timedelta(hours=3), scheduled_at=now - dt.timedelta(hours=3),
    )  # fmt: skip
    # planned two hours ago, one still queued since (SendGrid answered 503 ever since)
    then = now - dt.timedelta(hours=2)
    store.deliveries.plan(sending.id, [(sub.id, "s"), (90001, "s"), (90002, "s"), (90003, "s")],
                          now=then)  # fmt: skip
    held = store.deliveries.claim(sending.id, "s", limit=3, token="t", now=then)
    store.deliveries.start([d.id for d in held], token="t", now=then)
    store.deliveries.record(
        [
            Outcome(held[0].id, DeliveryState.SENT, message_id="m1"),
            Outcome(held[1].id, DeliveryState.FAILED, error="HTTP 400: invalid address"),
            Outcome(held[2].id, DeliveryState.UNKNOWN, error="timeout"),
        ],
        token="t",
        now=then,
    )
    return Seeded(due.id, sending.id)


def _run(
    store: Store,
    job: str,
    scheduled_for: dt.datetime,
    outcome: str,
    detail: str,
    seconds: float,
    key_suffix: str = "",
) -> None:
    key = scheduled_for.isoformat() + key_suffix
    claimed = store.runs.claim(
        job,
        key,
        scheduled_for,
        instance="host-a:123",
        now=scheduled_for,
        lease_until=scheduled_for + dt.timedelta(minutes=30),
    )
    assert claimed is not None and claimed.outcome == "running"
    store.runs.finish(
        claimed.id, outcome, detail, now=scheduled_for + dt.timedelta(seconds=seconds)
    )


# ---------------------------------------------------------------- the report


def test_healthy_store_needs_no_attention(store: Store, tmp_path: Path) -> None:
    seed_healthy(store)
    report = status.collect(store, write_cron(tmp_path), NOW, heartbeat_max_age_s=300)
    assert report.problems == (), report.problems
    assert report.ok
    jobs = {j.id: j for j in report.jobs}
    assert set(jobs) == {"fetch", "purge"}
    fetch = jobs["fetch"]
    assert fetch.last_run is not None and fetch.last_run.outcome == "ok"
    assert fetch.last_run.duration_s == pytest.approx(4.5)
    assert fetch.last_run.detail == "12 new items"
    assert fetch.next_run == NOW + dt.timedelta(minutes=15)
    assert jobs["purge"].next_run == dt.datetime(2026, 11, 26, 3, 30, tzinfo=dt.UTC)
    assert report.newest_heartbeat_age_s == pytest.approx(30)
    assert report.revision == report.head


def test_trouble_is_named_check_by_check(store: Store, tmp_path: Path) -> None:
    seed_healthy(store)
    seeded = seed_trouble(store)
    report = status.collect(store, write_cron(tmp_path), NOW, heartbeat_max_age_s=300)
    found = {(p.check, p.subject) for p in report.problems}
    assert found == {
        ("source_failing", "bad-feed"),
        ("job_failed", "purge"),
        ("edition_due", str(seeded.due_edition)),
        ("edition_stuck", str(seeded.sending_edition)),
        ("deliveries_unknown", str(seeded.sending_edition)),
    }
    assert [h.source.id for h in report.failing_sources] == ["bad-feed"]
    assert {e.id for e in report.editions_due} == {seeded.due_edition, seeded.sending_edition}
    issues = {(d.edition_id, d.state.value, d.count) for d in report.delivery_issues}
    assert issues == {(seeded.sending_edition, "failed", 1), (seeded.sending_edition, "unknown", 1)}
    assert report.deliveries_by_state["sent"] == 1
    assert report.deliveries_by_state["queued"] == 1
    assert ADDRESS not in json.dumps(report.as_json())


def test_stale_or_missing_heartbeat_and_overdue_jobs(store: Store, tmp_path: Path) -> None:
    seed_healthy(store)
    cron = write_cron(tmp_path)
    later = NOW + dt.timedelta(hours=2)  # the scheduler stopped two hours ago
    report = status.collect(store, cron, later, heartbeat_max_age_s=300)
    found = {(p.check, p.subject) for p in report.problems}
    assert found == {("scheduler_stale", "host-a:123"), ("job_overdue", "fetch")}
    # the check can be switched off (no scheduler on purpose); the overdue job stays
    report = status.collect(store, cron, later, heartbeat_max_age_s=0)
    assert {p.check for p in report.problems} == {"job_overdue"}


def test_no_scheduler_ever_and_a_broken_cron_file(store: Store, tmp_path: Path) -> None:
    broken = tmp_path / "cron.yaml"
    broken.write_text("jobs:\n  - id: x\n    job: os:system\n", encoding="utf-8")
    report = status.collect(store, broken, NOW, heartbeat_max_age_s=300)
    checks = {p.check: p for p in report.problems}
    assert set(checks) == {"scheduler_missing", "schedule_invalid"}
    assert "cron.yaml:3" in checks["schedule_invalid"].message


def test_outdated_schema_is_named(store: Store, tmp_path: Path) -> None:
    store.downgrade("-1")
    report = status.collect(store, write_cron(tmp_path), NOW, heartbeat_max_age_s=0)
    assert {p.check for p in report.problems} >= {"schema_outdated"}


def test_a_sending_edition_is_stuck_only_when_it_makes_no_progress() -> None:
    def due(**kw: object) -> EditionDue:
        values: dict[str, object] = {
            "id": 7, "newsletter_id": "weekly", "title": "T", "state": EditionState.SENDING,
            "scheduled_at": NOW - dt.timedelta(hours=5),
            "updated_at": NOW - dt.timedelta(minutes=5),
        }  # fmt: skip
        values.update(kw)
        return EditionDue(**values)  # type: ignore[arg-type]

    def checks(e: EditionDue) -> set[str]:
        inputs = status.Inputs(
            schedule=status.Schedule(), latest_runs={}, last_scheduled={}, heartbeats=[],
            sources=[], editions_due=[e], delivery_issues=[], deliveries_by_state={},
            revision="h", head="h",
        )  # fmt: skip
        return {p.check for p in status.assess(inputs, NOW, heartbeat_max_age_s=0).problems}

    hour = dt.timedelta(hours=1, minutes=1)
    assert checks(due(planned_at=NOW - hour, pending=3)) == {"edition_stuck"}
    assert checks(due(planned_at=NOW - dt.timedelta(minutes=20), pending=3)) == set()
    assert checks(due(planned_at=NOW - hour, pending=0)) == set()  # last rows being recorded
    assert checks(due(planned_at=None, updated_at=NOW - hour)) == {"edition_stuck"}
    scheduled = due(state=EditionState.SCHEDULED, scheduled_at=NOW - dt.timedelta(minutes=10))
    assert checks(scheduled) == set()  # within the grace: send-due runs every 5 minutes
    late = due(state=EditionState.SCHEDULED, scheduled_at=NOW - dt.timedelta(minutes=20))
    assert checks(late) == {"edition_due"}


def test_an_interrupted_send_is_reported_at_once_with_why_and_what_next() -> None:
    """Issue 10: a send that stopped early said nothing for an hour."""
    edition = EditionDue(
        id=7, newsletter_id="weekly", title="EU-Wochenbrief KW 48", state=EditionState.SENDING,
        scheduled_at=NOW - dt.timedelta(minutes=3), updated_at=NOW - dt.timedelta(minutes=3),
        planned_at=NOW - dt.timedelta(minutes=3), pending=2990,
    )  # fmt: skip
    process = ProcessRef("host-a", 4242, "")

    def sender(outcome: SenderOutcome, **kw: object) -> Sender:
        values: dict[str, object] = {
            "id": 3,
            "edition_id": 7,
            "process": process,
            "started_at": NOW - dt.timedelta(minutes=3),
            "beat_at": NOW - dt.timedelta(minutes=2),
            "lease_until": NOW + dt.timedelta(seconds=30),
            "outcome": outcome,
            "ended_at": NOW - dt.timedelta(minutes=2),
            "detail": "SendGrid answered 503",
            "queued": 2990,
        }
        values.update(kw)
        return Sender(**values)  # type: ignore[arg-type]

    def problems(last: Sender | None, now_sending: dict[int, str]) -> list[status.Problem]:
        inputs = status.Inputs(
            schedule=status.Schedule(), latest_runs={}, last_scheduled={}, heartbeats=[],
            sources=[], editions_due=[edition], delivery_issues=[], deliveries_by_state={},
            revision="h", head="h", last_senders={7: last} if last else {},
            sending_now=now_sending,
        )  # fmt: skip
        return list(status.assess(inputs, NOW, heartbeat_max_age_s=0).problems)

    [stopped] = problems(sender(SenderOutcome.STOPPED), {})
    assert stopped.check == "edition_interrupted" and stopped.subject == "7"
    assert "SendGrid answered 503" in stopped.message and "2990 deliveries still queued" in (
        stopped.message
    )
    assert stopped.message.endswith("the next send-due continues")
    assert stopped.message_de == (
        "Versand unterbrochen: Ausgabe „EU-Wochenbrief KW 48“ – 2.990 Zustellungen warten: "
        "vorübergehende Störung beim Versand (SendGrid überlastet oder nicht erreichbar, oder "
        "der Ablageordner voll); der nächste Lauf setzt fort"
    )
    [halted] = problems(sender(SenderOutcome.HALTED, detail="SendGrid answered 401"), {})
    assert "fix the configuration" in halted.message and "API-Schlüssel" in halted.message_de
    # a sender that went silent (killed) and nobody took over yet
    silent = sender(
        SenderOutcome.RUNNING, ended_at=None, detail=None, lease_until=NOW - dt.timedelta(seconds=5)
    )
    [lost] = problems(silent, {})
    assert "stopped renewing its lease" in lost.message and "abgebrochen" in lost.message_de
    # somebody is at it now, or it finished: nothing to report
    assert problems(sender(SenderOutcome.STOPPED), {7: "host-b:1"}) == []
    assert problems(sender(SenderOutcome.RUNNING, ended_at=None), {}) == []
    assert problems(None, {}) == []  # never tried: "stuck" after an hour, as before


# ---------------------------------------------------------------- the command


def _cli(monkeypatch: pytest.MonkeyPatch, store: Store, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EUDIGEST_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("EUDIGEST_DATABASE_URL", store.url)
    monkeypatch.setenv("EUDIGEST_CRON", str(write_cron(tmp_path)))
    monkeypatch.setenv("EUDIGEST_LOG_FORMAT", "json")
    office = tmp_path / "office.yaml"  # filled in: the shipped imprint is a placeholder
    office.write_text(office_yaml(four_eyes=True), encoding="utf-8")
    monkeypatch.setenv("EUDIGEST_OFFICE", str(office))


def test_status_command_json_shape_and_exit_code(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli(monkeypatch, store, tmp_path)
    seed_healthy(store, dt.datetime.now(dt.UTC))  # the command runs on the wall clock
    assert main(["status", "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["ok"] is True and data["problems"] == []
    assert set(data) == {
        "ok", "checked_at", "problems", "jobs", "schedule_error", "scheduler",
        "sources_failing", "editions_due", "deliveries", "schema", "learning",
    }  # fmt: skip
    fetch = next(j for j in data["jobs"] if j["id"] == "fetch")
    assert fetch["last_run"]["outcome"] == "ok" and fetch["last_run"]["duration_s"] == 4.5
    assert dt.datetime.fromisoformat(fetch["next_run"]) > dt.datetime.now(dt.UTC)
    assert data["schema"]["current"] is True
    assert data["scheduler"]["heartbeats"][0]["instance"] == "host-a:123"

    seed_trouble(store, dt.datetime.now(dt.UTC))
    assert main(["status", "--json"]) == 1
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["ok"] is False
    assert {p["check"] for p in data["problems"]} == {
        "source_failing", "job_failed", "edition_due", "edition_stuck", "deliveries_unknown",
    }  # fmt: skip
    assert "attention: source_failing: source bad-feed failed 3 times in a row" in err
    assert ADDRESS not in out + err
    # the table form says the same
    assert main(["status"]) == 1
    out, err = capsys.readouterr()
    assert "5 need attention" in out and "bad-feed" in out


def test_status_command_when_the_database_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EUDIGEST_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("EUDIGEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("EUDIGEST_CRON", str(write_cron(tmp_path)))
    assert main(["status", "--json"]) == 1
    out, err = capsys.readouterr()
    assert [p["check"] for p in json.loads(out)["problems"]] == ["database_unavailable"]
    assert "attention: database_unavailable" in err


def test_the_shipped_imprint_placeholder_needs_attention(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fresh office.yaml's imprint is a placeholder that every confirmation mail, digest
    footer and archive page would show: the status says so before any approval does."""
    _cli(monkeypatch, store, tmp_path)
    monkeypatch.setenv("EUDIGEST_OFFICE", str(ROOT / "office.yaml"))  # as shipped
    seed_healthy(store, dt.datetime.now(dt.UTC))
    assert main(["status", "--json"]) == 1
    out, err = capsys.readouterr()
    problems = json.loads(out)["problems"]
    assert [(p["check"], p["subject"]) for p in problems] == [
        ("office_incomplete", "office.imprint")
    ]
    assert "still a sample value" in problems[0]["message"]
    assert "attention: office_incomplete: office.yaml: office.imprint" in err
    (problem,) = status.office_problems(load_office(ROOT / "office.yaml"))
    assert "hier eintragen" in problem.message_de  # what the desk's status page shows
