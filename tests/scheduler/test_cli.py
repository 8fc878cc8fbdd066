"""`eudigest run`, `eudigest runs` and `eudigest scheduler` (refusing a bad cron.yaml)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.scheduler.conftest import ROOT, write_cron

Cli = Callable[..., tuple[int, str, str]]
PURGE = """\
jobs:
  - id: purge
    description: Retention
    job: pipeline.jobs:purge
    schedule: "30 3 * * *"
    timezone: Europe/Brussels
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    for name in ("EUDIGEST_DATABASE_URL", "EUDIGEST_CRON", "EUDIGEST_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EUDIGEST_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("EUDIGEST_CRON", str(write_cron(tmp_path, PURGE)))
    monkeypatch.setenv("EUDIGEST_LOG_FORMAT", "text")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_run_claims_the_due_run_once_and_runs_lists_it(cli: Cli) -> None:
    assert cli("init")[0] == 0
    code, out, _ = cli("run", "purge")
    assert code == 0 and ": ok (0)" in out, out
    code, out, _ = cli("run", "purge")
    assert code == 0 and "already ran: started" in out and "(ok)" in out, out
    assert "Nothing done; --force runs it again" in out
    code, out, _ = cli("run", "purge", "--force", "--json")
    forced = json.loads(out)
    assert code == 0 and forced["key"].startswith("manual:") and forced["run"]["outcome"] == "ok"
    code, out, _ = cli("runs", "--json")
    runs = json.loads(out)
    assert code == 0 and [r["outcome"] for r in runs] == ["ok", "ok"]
    assert set(runs[0]) >= {"job", "scheduled_for", "started_at", "finished_at", "outcome"}
    assert all(r["job"] == "purge" and ":" in r["instance"] for r in runs)
    code, out, _ = cli("runs", "--job", "purge")
    assert code == 0 and "Job runs" in out and "ok" in out
    code, _, err = cli("run", "fetch")
    assert code == 2 and "no job 'fetch' (jobs: purge)" in err


def test_the_scheduler_refuses_a_bad_cron_yaml_at_start(cli: Cli, tmp_path: Path) -> None:
    assert cli("init")[0] == 0
    bad = write_cron(tmp_path, PURGE.replace("30 3 * * *", "30 3 * * 1-5"), "bad.yaml")
    code, _, err = cli("scheduler", "--config", str(bad))
    assert code == 2
    assert "bad.yaml:5: jobs[0] (purge).schedule: weekday '1-5' uses numbers" in err


def test_the_scheduler_wants_a_current_schema(cli: Cli) -> None:
    code, _, err = cli("scheduler")
    assert code == 2 and "eudigest init" in err
