"""Settings from the environment: the only module that reads os.environ.

`Settings.from_env(environ)` validates every value and names the variable in
its error. A variable `NAME_FILE` is read instead of `NAME` when set (for
secrets mounted as files). An optional `.env` in the working directory is
loaded first by `load_dotenv_into()`; real environment variables win.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.errors import ConfigError

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"
DEFAULT_USER_AGENT = (
    f"eudigest/{VERSION} (EU policy digest of a regional office in Brussels; "
    "+https://github.com/eudigest/eudigest)"
)

# Every variable eudigest reads, with its default and meaning. docs/env-vars.md
# and the README are checked against this list by tests/unit/test_docs.py.
VARIABLES: dict[str, str] = {
    "EUDIGEST_DATA_DIR": "Directory for the SQLite file, outbox and logs. Default ./var",
    "EUDIGEST_DATABASE_URL": "SQLAlchemy URL; default sqlite:///$EUDIGEST_DATA_DIR/eudigest.db",
    "EUDIGEST_SOURCES": "Path of sources.yaml. Default ./sources.yaml",
    "EUDIGEST_TAXONOMY": "Path of taxonomy.yaml. Default ./taxonomy.yaml",
    "EUDIGEST_OFFICE": "Path of office.yaml (name, newsletters, desk rules). Default ./office.yaml",
    "EUDIGEST_SECRET_KEY": "Signs sessions and tokens (32+ characters); required in production",
    "EUDIGEST_BASE_URL": "Public https address of the installation, for absolute links",
    "EUDIGEST_SENDGRID_WEBHOOK_KEY": "Public key of the signed SendGrid Event Webhook (base64)",
    "EUDIGEST_TIMEZONE": "Zone for times a feed gives without one. Default Europe/Brussels",
    "EUDIGEST_USER_AGENT": "User-Agent for fetching. Default names eudigest and its version",
    "EUDIGEST_FETCH_CONCURRENCY": "Sources fetched at once. Default 8",
    "EUDIGEST_FETCH_PER_HOST": "Requests at once to one host. Default 2",
    "EUDIGEST_FETCH_TIMEOUT": "Seconds before a fetch gives up (connect, read). Default 30",
    "EUDIGEST_FETCH_MAX_BYTES": "Size cap of one body after decompression. Default 20000000",
    "EUDIGEST_FETCH_MAX_REDIRECTS": "Redirects followed per fetch. Default 5",
    "EUDIGEST_BACKOFF_MAX_MINUTES": "Longest backoff of a failing source. Default 360",
}


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    sources_path: Path
    taxonomy_path: Path
    office_path: Path = PROJECT_ROOT / "office.yaml"
    secret_key: str | None = None
    base_url: str | None = None
    sendgrid_webhook_key: str | None = None
    timezone: str = "Europe/Brussels"
    user_agent: str = DEFAULT_USER_AGENT
    fetch_concurrency: int = 8
    fetch_per_host: int = 2
    fetch_timeout_s: float = 30.0
    fetch_max_bytes: int = 20_000_000
    fetch_max_redirects: int = 5
    backoff_max_minutes: int = 360

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, cwd: Path | None = None) -> Settings:
        cwd = cwd or Path.cwd()
        env = _Env(environ)
        data_dir = Path(env.get("EUDIGEST_DATA_DIR", "var"))
        if not data_dir.is_absolute():
            data_dir = cwd / data_dir
        database_url = env.get("EUDIGEST_DATABASE_URL", "") or (
            f"sqlite:///{data_dir / 'eudigest.db'}"
        )
        if "://" not in database_url:
            raise ConfigError(
                f"EUDIGEST_DATABASE_URL: {database_url!r} is not a database URL "
                "(expected e.g. postgresql+psycopg://user@host/db or sqlite:///path)"
            )
        timezone = env.get("EUDIGEST_TIMEZONE", "Europe/Brussels")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"EUDIGEST_TIMEZONE: unknown time zone {timezone!r}") from None
        return cls(
            data_dir=data_dir,
            database_url=_normalise_db_url(database_url),
            sources_path=env.path("EUDIGEST_SOURCES", PROJECT_ROOT / "sources.yaml", cwd),
            taxonomy_path=env.path("EUDIGEST_TAXONOMY", PROJECT_ROOT / "taxonomy.yaml", cwd),
            office_path=env.path("EUDIGEST_OFFICE", PROJECT_ROOT / "office.yaml", cwd),
            secret_key=_secret_key(env.get("EUDIGEST_SECRET_KEY", "")),
            base_url=_base_url(env.get("EUDIGEST_BASE_URL", "")),
            sendgrid_webhook_key=env.get("EUDIGEST_SENDGRID_WEBHOOK_KEY", "") or None,
            timezone=timezone,
            user_agent=env.get("EUDIGEST_USER_AGENT", DEFAULT_USER_AGENT),
            fetch_concurrency=env.number("EUDIGEST_FETCH_CONCURRENCY", 8, int, 1, 64),
            fetch_per_host=env.number("EUDIGEST_FETCH_PER_HOST", 2, int, 1, 16),
            fetch_timeout_s=env.number("EUDIGEST_FETCH_TIMEOUT", 30.0, float, 0.1, 600),
            fetch_max_bytes=env.number(
                "EUDIGEST_FETCH_MAX_BYTES", 20_000_000, int, 1024, 1_000_000_000
            ),
            fetch_max_redirects=env.number("EUDIGEST_FETCH_MAX_REDIRECTS", 5, int, 0, 20),
            backoff_max_minutes=env.number("EUDIGEST_BACKOFF_MAX_MINUTES", 360, int, 1, 10080),
        )


def _secret_key(value: str) -> str | None:
    if not value:
        return None
    if len(value) < 32:
        raise ConfigError(
            "EUDIGEST_SECRET_KEY: use at least 32 random characters "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return value


def _base_url(value: str) -> str | None:
    if not value:
        return None
    if not value.startswith(("https://", "http://")) or " " in value:
        raise ConfigError(f"EUDIGEST_BASE_URL: {value!r} is not an http(s) address")
    return value.rstrip("/")


def _normalise_db_url(url: str) -> str:
    """Let operators write postgresql:// and get the psycopg 3 driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class _Env:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str, default: str) -> str:
        file_name = self._environ.get(f"{name}_FILE")
        if file_name:
            try:
                return Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE: cannot read {file_name}: {exc}") from None
        value = self._environ.get(name)
        return default if value is None or value.strip() == "" else value.strip()

    def path(self, name: str, default: Path, cwd: Path) -> Path:
        raw = self._environ.get(name, "").strip()
        if not raw:
            return default
        path = Path(raw)
        return path if path.is_absolute() else cwd / path

    def number(
        self,
        name: str,
        default: T,
        kind: Callable[[str], T],
        low: float,
        high: float,
    ) -> T:
        raw = self._environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = kind(raw)
        except ValueError:
            raise ConfigError(f"{name}: {raw!r} is not a number") from None
        if not low <= float(value) <= high:  # type: ignore[arg-type]
            raise ConfigError(f"{name}: {raw} is outside {low:g}..{high:g}")
        return value


def load_dotenv_into(environ: dict[str, str] | os._Environ[str], path: Path) -> None:
    """Read KEY=VALUE lines of an optional .env file; variables already set win."""
    if not path.is_file():
        return
    from dotenv import dotenv_values

    for key, value in dotenv_values(path).items():
        if value is not None and key not in environ:
            environ[key] = value
