"""Settings from the environment: defaults, validation that names the variable, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Settings, load_dotenv_into
from pipeline.errors import ConfigError


def test_defaults_are_the_embedded_ones(tmp_path: Path) -> None:
    s = Settings.from_env({}, cwd=tmp_path)
    assert s.data_dir == tmp_path / "var"
    assert s.database_url == f"sqlite:///{tmp_path / 'var' / 'eudigest.db'}"
    assert (s.timezone, s.fetch_max_bytes, s.fetch_per_host) == ("Europe/Brussels", 20_000_000, 2)
    assert "eudigest/" in s.user_agent


def test_postgres_urls_get_the_shipped_driver(tmp_path: Path) -> None:
    s = Settings.from_env({"EUDIGEST_DATABASE_URL": "postgresql://u@db/x"}, cwd=tmp_path)
    assert s.database_url == "postgresql+psycopg://u@db/x"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EUDIGEST_FETCH_TIMEOUT", "soon", "EUDIGEST_FETCH_TIMEOUT: 'soon' is not a number"),
        ("EUDIGEST_FETCH_PER_HOST", "0", "EUDIGEST_FETCH_PER_HOST: 0 is outside 1..16"),
        ("EUDIGEST_TIMEZONE", "Europe/Stuttgart", "EUDIGEST_TIMEZONE: unknown time zone"),
        ("EUDIGEST_DATABASE_URL", "eudigest.db", "EUDIGEST_DATABASE_URL: 'eudigest.db' is not"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({name: value}, cwd=tmp_path)
    assert message in str(err.value)


def test_file_variant_is_read_for_secrets(tmp_path: Path) -> None:
    secret = tmp_path / "db-url"
    secret.write_text("postgresql://eudigest:s3cret@db/eudigest\n")
    s = Settings.from_env({"EUDIGEST_DATABASE_URL_FILE": str(secret)}, cwd=tmp_path)
    assert s.database_url == "postgresql+psycopg://eudigest:s3cret@db/eudigest"
    with pytest.raises(ConfigError, match="EUDIGEST_DATABASE_URL_FILE: cannot read"):
        Settings.from_env({"EUDIGEST_DATABASE_URL_FILE": str(tmp_path / "nope")}, cwd=tmp_path)


def test_dotenv_fills_in_but_never_overrides(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("EUDIGEST_TIMEZONE=Europe/Berlin\nEUDIGEST_FETCH_PER_HOST=4\n")
    environ = {"EUDIGEST_FETCH_PER_HOST": "3"}
    load_dotenv_into(environ, env_file)
    assert environ == {"EUDIGEST_FETCH_PER_HOST": "3", "EUDIGEST_TIMEZONE": "Europe/Berlin"}
    load_dotenv_into(environ, tmp_path / "missing.env")  # an absent .env is fine


@pytest.mark.parametrize(("cpus", "workers"), [(1, 0), (2, 0), (3, 1), (4, 2), (16, 3)])
def test_parsing_processes_by_default_leave_two_cpus(
    monkeypatch: pytest.MonkeyPatch, cpus: int, workers: int
) -> None:
    import os

    from pipeline.config import default_fetch_workers

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cpus)), raising=False)
    assert default_fetch_workers() == workers
