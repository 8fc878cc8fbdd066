"""/healthz, /readyz, /metrics (no login, no CSRF) and the desk's status page."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from pipeline import logs
from pipeline.bootstrap import build
from pipeline.store import Store
from pipeline.web import create_app
from tests.integration.test_status import ADDRESS, seed_healthy, seed_trouble, write_cron
from tests.web.conftest import NOW, Clock, Desk, make_settings, seed_items, visible

TOKEN = "metrics-token-0123456789"


def _app(tmp_path: Path, clock: Clock, template_db: Path, **env: str) -> tuple[Flask, Store]:
    from tests.web.conftest import services_from_template

    settings = make_settings(tmp_path, EUDIGEST_CRON=str(write_cron(tmp_path)), **env)
    services = services_from_template(settings, clock, template_db)
    app = create_app(settings, services)
    app.config["TESTING"] = True
    return app, services.store


@pytest.fixture
def ops_app(tmp_path: Path, clock: Clock, template_db: Path) -> tuple[Flask, Store]:
    return _app(tmp_path, clock, template_db)


# ---------------------------------------------------------------- health and readiness


def test_healthz_and_readyz_answer_without_login(ops_app: tuple[Flask, Store]) -> None:
    app, store = ops_app
    seed_healthy(store)  # a heartbeat 30 s before NOW
    client = app.test_client()
    r = client.get("/healthz")
    assert (r.status_code, r.json) == (200, {"status": "ok"})
    r = client.get("/readyz")
    assert r.status_code == 200, r.json
    assert r.json["status"] == "ok"
    assert {name: c["ok"] for name, c in r.json["checks"].items()} == {
        "database": True,
        "migrations": True,
        "scheduler": True,
    }
    assert r.headers["Cache-Control"] == "no-store"


def test_readyz_503_when_the_heartbeat_is_stale_or_missing(
    ops_app: tuple[Flask, Store], clock: Clock
) -> None:
    app, store = ops_app
    client = app.test_client()
    r = client.get("/readyz")  # no scheduler has ever reported
    assert r.status_code == 503
    assert r.json["checks"]["scheduler"] == {"ok": False, "detail": "no scheduler has reported"}
    assert r.json["checks"]["database"]["ok"] and r.json["checks"]["migrations"]["ok"]
    store.runs.beat("host-a:1", now=NOW - dt.timedelta(seconds=60))
    assert client.get("/readyz").status_code == 200
    clock.advance(seconds=300)  # 360 s since the beat; the limit is 300
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json["status"] == "unavailable"
    assert r.json["checks"]["scheduler"]["ok"] is False
    assert r.json["checks"]["scheduler"]["age_s"] == 360


def test_heartbeat_check_can_be_switched_off(
    tmp_path: Path, clock: Clock, template_db: Path
) -> None:
    app, _ = _app(tmp_path, clock, template_db, EUDIGEST_HEARTBEAT_MAX_AGE="0")
    r = app.test_client().get("/readyz")
    assert r.status_code == 200 and r.json["checks"]["scheduler"]["ok"] is True


def test_readyz_503_when_the_schema_is_old(ops_app: tuple[Flask, Store]) -> None:
    app, store = ops_app
    store.downgrade("-1")
    r = app.test_client().get("/readyz")
    assert r.status_code == 503
    migrations = r.json["checks"]["migrations"]
    assert migrations["ok"] is False and "eudigest init" in migrations["detail"]
    assert r.json["checks"]["database"]["ok"] is True


def test_without_a_database_healthz_lives_readyz_and_metrics_say_so(
    tmp_path: Path, clock: Clock
) -> None:
    settings = make_settings(
        tmp_path,
        EUDIGEST_DATABASE_URL="postgresql://postgres@127.0.0.1:1/nothing",
        EUDIGEST_TAXONOMY=str(Path(__file__).resolve().parents[2] / "taxonomy.yaml"),
    )
    services = build(settings)
    services.clock = clock
    app = create_app(settings, services)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json["checks"]["database"] == {"ok": False, "detail": "unreachable"}
    assert "127.0.0.1" not in r.get_data(as_text=True)  # no internals to the public
    r = client.get("/metrics")
    assert r.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(r.get_data(as_text=True))}
    assert [s.value for s in families["eudigest_database_up"].samples] == [0.0]
    services.close()


# ---------------------------------------------------------------- metrics


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_are_read_from_the_database(ops_app: tuple[Flask, Store]) -> None:
    app, store = ops_app
    seed_healthy(store)
    seed_trouble(store)
    seed_items(store)
    r = app.test_client().get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    body = r.get_data(as_text=True)
    assert "@" not in body and ADDRESS not in body
    names = {f.name for f in text_string_to_metric_families(body)}
    assert names >= {
        "eudigest_database_up",
        "eudigest_items",
        "eudigest_source_consecutive_failures",
        "eudigest_source_last_success_timestamp_seconds",
        "eudigest_deliveries",
        "eudigest_editions",
        "eudigest_subscribers",
        "eudigest_job_runs",
        "eudigest_job_duration_seconds",
        "eudigest_job_last_outcome",
        "eudigest_job_last_duration_seconds",
        "eudigest_scheduler_heartbeat_age_seconds",
        "eudigest_schema_current",
    }
    s = _samples(body)
    assert s[("eudigest_database_up", ())] == 1
    assert s[("eudigest_source_consecutive_failures", (("source", "bad-feed"),))] == 3
    assert s[("eudigest_source_consecutive_failures", (("source", "ok-feed"),))] == 0
    assert s[("eudigest_deliveries", (("state", "sent"),))] == 1
    assert s[("eudigest_deliveries", (("state", "failed"),))] == 1
    assert s[("eudigest_deliveries", (("state", "unknown"),))] == 1
    assert s[("eudigest_deliveries", (("state", "queued"),))] == 1
    assert s[("eudigest_editions", (("state", "scheduled"),))] == 1
    assert s[("eudigest_editions", (("state", "sending"),))] == 1
    assert s[("eudigest_subscribers", (("status", "confirmed"),))] == 1
    assert s[("eudigest_job_runs", (("job", "fetch"), ("outcome", "ok")))] == 1
    assert s[("eudigest_job_runs", (("job", "purge"), ("outcome", "failed")))] == 1
    assert s[("eudigest_job_duration_seconds_count", (("job", "fetch"),))] == 1
    assert s[("eudigest_job_duration_seconds_sum", (("job", "fetch"),))] == pytest.approx(4.5)
    assert s[("eudigest_job_last_outcome", (("job", "purge"), ("outcome", "failed")))] == 1
    assert s[("eudigest_job_last_duration_seconds", (("job", "fetch"),))] == pytest.approx(4.5)
    assert s[("eudigest_scheduler_heartbeat_age_seconds", (("instance", "host-a:123"),))] == 30
    assert s[("eudigest_schema_current", ())] == 1
    assert s[("eudigest_items", (("source", "ec-de"),))] == 2
    assert s[("eudigest_items", (("source", "ep-en"),))] == 1
    assert s[("eudigest_items", (("source", "bad-feed"),))] == 0
    assert "EU-Wochenbrief" not in body  # edition titles are not metrics


def test_metrics_token(tmp_path: Path, clock: Clock, template_db: Path) -> None:
    app, _ = _app(tmp_path, clock, template_db, EUDIGEST_METRICS_TOKEN=TOKEN)
    client = app.test_client()
    r = client.get("/metrics")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and "eudigest_database_up 1.0" in r.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # only /metrics is protected


# ---------------------------------------------------------------- the desk's status page


def test_status_page_shows_jobs_problems_editions_and_deliveries(
    tmp_path: Path, clock: Clock, template_db: Path
) -> None:
    app, store = _app(tmp_path, clock, template_db)
    seed_healthy(store)
    seed_trouble(store)
    desk = Desk(app.test_client())
    assert desk.login("anna").status_code == 303
    text = visible(desk.text("/desk/status"))
    assert (
        "fetch Fetch the sources whose interval has passed */15 * * * * 25.11.2026, 09:30 "
        "erfolgreich 12 new items 4,5 s 25.11.2026, 09:45" in text
    )
    assert (
        "purge 30 4 * * * 25.11.2026, 04:30 fehlgeschlagen StoreError: database unavailable "
        "1,0 s 26.11.2026, 04:30" in text
    )
    assert "Aufgabe purge: letzter Lauf fehlgeschlagen" in text
    assert "Quelle „Kaputte Quelle“ ist 3-mal in Folge fehlgeschlagen" in text
    assert "Ausgabe „EU-Wochenbrief 48/2026“ war zum Versand fällig" in text
    assert "Ausgabe „EU-Tagesüberblick 25.11.“ hängt im Versand" in text
    assert "Ausgabe „EU-Tagesüberblick 25.11.“: 1 Zustellungen mit unbekanntem Ausgang" in text
    assert "EU-Tagesüberblick 25.11. Ausgang unbekannt 1" in text
    assert "EU-Tagesüberblick 25.11. fehlgeschlagen 1" in text
    assert "host-a:123 – zuletzt gemeldet 25.11.2026, 09:29" in text
    assert "Alles in Ordnung" not in text
    assert ADDRESS not in text


def test_status_page_all_fine(tmp_path: Path, clock: Clock, template_db: Path) -> None:
    app, store = _app(tmp_path, clock, template_db)
    seed_healthy(store)
    desk = Desk(app.test_client())
    assert desk.login("anna").status_code == 303
    assert "Handlungsbedarf Alles in Ordnung." in visible(desk.text("/desk/status"))


# ---------------------------------------------------------------- logs


def test_json_log_lines_parse_and_carry_no_addresses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.setup("json", "INFO")
    try:
        log = logging.getLogger("eudigest.test")
        log.info("mail for %s queued", ADDRESS, extra={"recipient": ADDRESS, "edition": 42})
        try:
            raise ValueError(f"bad address {ADDRESS}")
        except ValueError:
            log.exception("sending to Bernd <%s> failed", ADDRESS)
        log.warning("Übernahme von %d Meldungen", 3)
        lines = capsys.readouterr().err.strip().splitlines()
    finally:
        logs.setup("text", "WARNING")
    records = [json.loads(line) for line in lines]
    assert len(records) == 3
    first, second, third = records
    assert first["message"] == "mail for [email] queued"
    assert first["recipient"] == "[email]" and first["edition"] == 42
    assert first["level"] == "INFO" and first["logger"] == "eudigest.test"
    assert dt.datetime.fromisoformat(first["time"]).tzinfo is not None
    assert "ValueError: bad address [email]" in second["exc_info"]
    assert third["message"] == "Übernahme von 3 Meldungen"  # not \\u-escaped
    assert "@" not in "\n".join(lines)


def test_text_logs_are_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("text", "INFO")
    try:
        logging.getLogger("eudigest.test").info("to %s", ADDRESS)
        err = capsys.readouterr().err
    finally:
        logs.setup("text", "WARNING")
    assert "INFO eudigest.test: to [email]" in err and "@" not in err


def test_log_settings_are_validated(tmp_path: Path) -> None:
    from pipeline.config import Settings
    from pipeline.errors import ConfigError

    for name, value in (
        ("EUDIGEST_LOG_FORMAT", "xml"),
        ("EUDIGEST_LOG_LEVEL", "LOUD"),
        ("EUDIGEST_METRICS_TOKEN", "short"),
        ("EUDIGEST_HEARTBEAT_MAX_AGE", "-1"),
    ):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value}, cwd=tmp_path)
    s = Settings.from_env(
        {"EUDIGEST_LOG_LEVEL": "debug", "EUDIGEST_LOG_FORMAT": "JSON"}, cwd=tmp_path
    )
    assert (s.log_level, s.log_format, s.heartbeat_max_age_s) == ("DEBUG", "json", 300)


# ---------------------------------------------------------------- deploy/gunicorn.conf.py


def test_gunicorn_with_the_shipped_config_serves_the_ops_endpoints(tmp_path: Path) -> None:
    """The production path: gunicorn, two workers, JSON logs on stderr, a real SQLite store."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    root = Path(__file__).resolve().parents[2]
    db = tmp_path / "var" / "eudigest.db"
    with Store(f"sqlite:///{db}") as store:
        store.upgrade()
        store.runs.beat("host-a:1", now=dt.datetime.now(dt.UTC))
    # gunicorn serves on a socket this test has bound and passes on (fd://): no free port
    # is looked up and released for another process to take first
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "EUDIGEST_DATA_DIR": str(tmp_path / "var"),
        "EUDIGEST_DATABASE_URL": f"sqlite:///{db}",
        "EUDIGEST_SECRET_KEY": "gunicorn-test-secret-key-0123456789abcdef",
        "EUDIGEST_BASE_URL": "https://eu.test",
        "EUDIGEST_LOG_FORMAT": "auto",  # stderr is a pipe: JSON
        "WEB_CONCURRENCY": "2",
    }
    log_file = tmp_path / "gunicorn.log"
    with log_file.open("w") as log_out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                str(root / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"fd://{listener.fileno()}",
            ],
            cwd=tmp_path,
            env=env,
            stdout=log_out,
            stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
        )
        listener.close()  # gunicorn holds it now
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60  # start-up wait, not a performance limit
            while True:
                assert proc.poll() is None, log_file.read_text()
                try:
                    with urllib.request.urlopen(f"{base}/healthz") as r:
                        assert r.status == 200
                        break
                except urllib.error.URLError:
                    assert time.monotonic() < deadline, log_file.read_text()
                    time.sleep(0.1)
            with urllib.request.urlopen(f"{base}/readyz") as r:
                assert json.load(r)["status"] == "ok"
            with urllib.request.urlopen(f"{base}/metrics") as r:
                assert "eudigest_database_up 1.0" in r.read().decode()
        finally:
            proc.terminate()
            proc.wait(timeout=120)
    lines = [line for line in log_file.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is a JSON object
    assert any(
        r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records
    )
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
