"""The mail backend is chosen by configuration (EUDIGEST_MAIL_BACKEND and friends)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.bootstrap import build_mailer
from pipeline.config import Settings
from pipeline.deliver.outbox import OutboxMailer
from pipeline.deliver.sendgrid import SendGridMailer
from pipeline.errors import ConfigError

KEY = "SG.config-test-key"


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"EUDIGEST_DATA_DIR": str(tmp_path / "var"), **env}, cwd=tmp_path)


def test_the_outbox_is_the_default(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert s.mail_backend == "outbox"
    mailer = build_mailer(s)
    assert isinstance(mailer, OutboxMailer)
    assert mailer.directory == tmp_path / "var" / "outbox"


def test_the_outbox_directory_can_be_moved(tmp_path: Path) -> None:
    mailer = build_mailer(settings(tmp_path, EUDIGEST_OUTBOX_DIR="mails"))
    assert isinstance(mailer, OutboxMailer) and mailer.directory == tmp_path / "mails"


@pytest.mark.parametrize(
    ("env", "host"),
    [
        ({}, "https://api.sendgrid.com"),
        ({"EUDIGEST_SENDGRID_REGION": "eu"}, "https://api.eu.sendgrid.com"),
        ({"EUDIGEST_SENDGRID_REGION": "EU"}, "https://api.eu.sendgrid.com"),
        (
            {"EUDIGEST_SENDGRID_REGION": "eu", "EUDIGEST_SENDGRID_HOST": "http://127.0.0.1:4010/"},
            "http://127.0.0.1:4010",
        ),
    ],
)
def test_sendgrid_host_by_region_or_override(
    tmp_path: Path, env: dict[str, str], host: str
) -> None:
    s = settings(tmp_path, EUDIGEST_MAIL_BACKEND="sendgrid", SENDGRID_API_KEY=KEY, **env)
    mailer = build_mailer(s)
    assert isinstance(mailer, SendGridMailer)
    assert mailer.host == host


def test_the_key_may_come_from_a_file_and_is_never_shown(tmp_path: Path) -> None:
    secret = tmp_path / "sendgrid.key"
    secret.write_text(KEY + "\n", encoding="utf-8")
    s = settings(tmp_path, EUDIGEST_MAIL_BACKEND="sendgrid", SENDGRID_API_KEY_FILE=str(secret))
    assert s.sendgrid_api_key == KEY
    assert KEY not in repr(s)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"EUDIGEST_MAIL_BACKEND": "smtp"}, "EUDIGEST_MAIL_BACKEND"),
        ({"EUDIGEST_MAIL_BACKEND": "sendgrid"}, "SENDGRID_API_KEY"),
        ({"EUDIGEST_MAIL_BACKEND": "sendgrid", "SENDGRID_API_KEY": "  "}, "SENDGRID_API_KEY"),
        ({"SENDGRID_API_KEY": "SG.a b"}, "SENDGRID_API_KEY"),
        ({"SENDGRID_API_KEY_FILE": "/nonexistent/key"}, "SENDGRID_API_KEY_FILE"),
        ({"EUDIGEST_SENDGRID_REGION": "us"}, "EUDIGEST_SENDGRID_REGION"),
        ({"EUDIGEST_SENDGRID_HOST": "api.sendgrid.com"}, "EUDIGEST_SENDGRID_HOST"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings(tmp_path, **env)
    assert str(info.value).startswith(f"{variable}:")
    assert "SG.a b" not in str(info.value)  # a key is never repeated in a message


def test_cli_refuses_sendgrid_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EUDIGEST_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("EUDIGEST_MAIL_BACKEND", "sendgrid")
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    monkeypatch.delenv("SENDGRID_API_KEY_FILE", raising=False)
    assert main(["send-due"]) == 2
    assert "SENDGRID_API_KEY: required" in capsys.readouterr().err
