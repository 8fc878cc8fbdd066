"""Issue 6's "done when": the shipped cron.yaml runs the pipeline, on SQLite and PostgreSQL.

An operator's day, through the real console script: `eudigest init`, a fetch and the
weekly draft run by hand under the scheduler's claim rules (`eudigest run`), staff
decisions through the CLI, then `eudigest scheduler` with the shipped cron.yaml as a
process of its own. Its start-up catch-up runs `send-due`, which sends the edition
(scheduled yesterday for a time that has passed since) through the outbox; SIGTERM
stops it cleanly; `eudigest run send-due` by hand afterwards does nothing twice; `runs`
and `status` tell what happened; its logs are JSON lines without addresses. Feeds come
from a loopback server; the clock is real, except for the scheduling command, which runs
on yesterday's (`schedule_yesterday`).
"""

from __future__ import annotations

import csv
import datetime as dt
import email
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest

from pipeline import bootstrap
from pipeline.bootstrap import Services
from pipeline.cli import main
from pipeline.config import Settings
from pipeline.model import EditionState
from pipeline.store import Store
from tests.conftest import _pg_store
from tests.integration.test_cli_editions import TITLES, rss, sources_file
from tests.support.feedserver import FeedServer
from tests.support.office import office_yaml

EUDIGEST = str(Path(sys.executable).with_name("eudigest"))
READERS = {
    "alles@ihk-stuttgart.de": "",  # no topics chosen: everything
    "energie@kommune-esslingen.de": "energy_climate",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'eudigest.db'}"
        return
    for store in _pg_store():
        yield store.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[dict[str, str]]:
    with FeedServer() as server:
        entries = [(f"sched-{k}", f"{TITLES[k % len(TITLES)]} (Nr. {k})") for k in range(6)]
        server.put("/feed.xml", rss(entries))
        environ = {k: v for k, v in os.environ.items() if not k.startswith("EUDIGEST_")}
        office = tmp_path / "office.yaml"  # the shipped one, filled in; one operator approves
        office.write_text(office_yaml(four_eyes=False), encoding="utf-8")
        environ.update(
            EUDIGEST_OFFICE=str(office),
            EUDIGEST_DATA_DIR=str(tmp_path / "var"),
            EUDIGEST_DATABASE_URL=database_url,
            EUDIGEST_SOURCES=str(sources_file(tmp_path, server.url("/feed.xml"))),
            EUDIGEST_SECRET_KEY="acceptance-" + "k" * 40,
            EUDIGEST_BASE_URL="https://newsletter.example",
            EUDIGEST_LOG_FORMAT="json",
            EUDIGEST_FETCH_TIMEOUT="5",
            EUDIGEST_FETCH_ALLOW=server.fetch_allow,  # this server only
        )
        yield environ


def eudigest(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EUDIGEST, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def schedule_yesterday(
    env: dict[str, str], cwd: Path, edition_id: int, monkeypatch: pytest.MonkeyPatch
) -> dt.datetime:
    """`eudigest edition schedule ID --at …` as the operator typed it yesterday, for a send
    time that has passed since (an hour ago), while the scheduler was not running.

    The command runs in this process on yesterday's clock (injected where the CLI builds
    its services), so the send time is ahead of it however long the command takes to
    start; the scheduler started afterwards runs on the real clock, for which the edition
    is due. Nothing waits for a moment to pass."""
    send_at = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    yesterday = send_at - dt.timedelta(days=1)
    real_build = bootstrap.build

    def build_yesterday(settings: Settings) -> Services:
        services = real_build(settings)
        services.clock = lambda: yesterday
        return services

    with monkeypatch.context() as m:
        for key in [k for k in os.environ if k.startswith("EUDIGEST_")]:
            m.delenv(key)
        for key, value in env.items():
            if key.startswith("EUDIGEST_") and key != "EUDIGEST_LOG_FORMAT":
                m.setenv(key, value)
        m.chdir(cwd)
        m.setattr(bootstrap, "build", build_yesterday)
        code = main(["edition", "schedule", str(edition_id), "--at", send_at.isoformat()])
    assert code == 0
    return send_at


def ok(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = eudigest(env, cwd, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def digests(outbox: Path) -> Counter[str]:
    """Digest mails per recipient address in the outbox."""
    found: Counter[str] = Counter()
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if "List-Unsubscribe" in message:  # confirmation mails have none
            found[str(message["To"])] += 1
    return found


def test_the_shipped_schedule_sends_a_scheduled_edition_once(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(env, tmp_path, "init")
    fetched = json.loads(ok(env, tmp_path, "run", "fetch-workday", "--json"))
    assert fetched["run"]["outcome"] == "ok", fetched
    items = json.loads(ok(env, tmp_path, "items", "--json"))
    assert len(items) == 6
    ok(env, tmp_path, "items", "accept", *[str(i["id"]) for i in items])
    people = tmp_path / "people.csv"
    with people.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["email", "newsletters", "topics", "consent_at"])
        for address, topics in READERS.items():
            writer.writerow([address, "weekly", topics, "2026-01-15"])
    ok(env, tmp_path, "subscribers", "import", str(people))
    drafted = json.loads(ok(env, tmp_path, "run", "draft-weekly", "--json"))
    assert drafted["run"]["outcome"] == "ok", drafted
    [edition] = json.loads(ok(env, tmp_path, "edition", "list", "--json"))
    assert edition["state"] == "draft" and len(edition["items"]) == 6
    ok(env, tmp_path, "edition", "approve", str(edition["id"]))
    send_at = schedule_yesterday(env, tmp_path, edition["id"], monkeypatch)
    [scheduled] = json.loads(ok(env, tmp_path, "edition", "list", "--json"))
    assert scheduled["state"] == "scheduled"
    assert dt.datetime.fromisoformat(scheduled["scheduled_at"]) == send_at

    log = tmp_path / "scheduler.log"
    with log.open("w", encoding="utf-8") as sink:
        scheduler = subprocess.Popen(
            [EUDIGEST, "scheduler"], env=env, cwd=tmp_path, stdout=sink, stderr=sink, text=True
        )
        store = Store(env["EUDIGEST_DATABASE_URL"])
        try:
            deadline = time.monotonic() + 300  # for a hang: a busy machine takes minutes
            while store.editions.get(edition["id"]).state is not EditionState.SENT:
                assert scheduler.poll() is None, log.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
                time.sleep(0.3)
        finally:
            scheduler.send_signal(signal.SIGTERM)
            scheduler.wait(timeout=120)
            store.close()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert scheduler.returncode == 0, lines[-20:]

    outbox = tmp_path / "var" / "outbox"
    assert digests(outbox) == Counter({address: 1 for address in READERS})
    # By hand, the same fire time does nothing twice.
    again = json.loads(ok(env, tmp_path, "run", "send-due", "--json"))
    assert again["run"] is None or again["run"]["detail"] == "nothing to do", again
    assert digests(outbox) == Counter({address: 1 for address in READERS})

    runs = json.loads(ok(env, tmp_path, "runs", "--json"))
    sends = [r for r in runs if r["job"] == "send-due" and r["outcome"] == "ok"]
    assert sends and sends[-1]["instance"].endswith(f":{scheduler.pid}")
    status = eudigest(env, tmp_path, "status", "--json")
    report = json.loads(status.stdout)
    jobs = {j["id"]: j for j in report["jobs"]}
    assert jobs["send-due"]["last_run"]["outcome"] == "ok"
    assert {j["id"] for j in report["jobs"]} >= {"fetch-workday", "draft-weekly", "purge"}
    assert status.returncode == (0 if report["ok"] else 1)

    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) == len(lines), "every log line is one JSON object"
    assert any("send-due" in r["message"] for r in records)
    assert not any(address in line for line in lines for address in READERS)
