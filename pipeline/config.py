"""Settings from the environment: the only module that reads os.environ.

`Settings.from_env(environ)` validates every value and names the variable in
its error. A variable `NAME_FILE` is read instead of `NAME` when set (for
secrets mounted as files). An optional `.env` in the working directory is
loaded first by `load_dotenv_into()`; real environment variables win.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.model.editions import SendBlocker

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
    "EUDIGEST_CRON": "Path of cron.yaml (the schedule of the scheduler). Default ./cron.yaml",
    "EUDIGEST_SECRET_KEY": "Signs sessions and tokens (32+ characters); required in production",
    "EUDIGEST_BASE_URL": "Public https address of the installation, for every link in a mail",
    "EUDIGEST_SENDGRID_WEBHOOK_KEY": "Public key of the signed SendGrid Event Webhook (base64)",
    "EUDIGEST_TIMEZONE": "Zone for times a feed gives without one. Default Europe/Brussels",
    "EUDIGEST_USER_AGENT": "User-Agent for fetching. Default names eudigest and its version",
    "EUDIGEST_FETCH_CONCURRENCY": "Sources fetched at once. Default 8",
    "EUDIGEST_FETCH_PER_HOST": "Requests at once to one host. Default 2",
    "EUDIGEST_FETCH_TIMEOUT": "Seconds before a fetch gives up (connect, read). Default 30",
    "EUDIGEST_FETCH_MAX_BYTES": "Size cap of one body after decompression. Default 20000000",
    "EUDIGEST_FETCH_MAX_REDIRECTS": "Redirects followed per fetch. Default 5",
    "EUDIGEST_FETCH_WORKERS": "Processes that parse, sanitise and classify fetched feeds while "
    "others download; 0 does it in the fetching process. Default: 0 on up to 2 CPUs, else "
    "the CPUs less 2, at most 3",
    "EUDIGEST_FETCH_ALLOW": "Hosts, host:port pairs or CIDR ranges the fetcher may reach "
    "although loopback or private (comma-separated). Default empty",
    "EUDIGEST_BACKOFF_MAX_MINUTES": "Longest backoff of a failing source. Default 360",
    "EUDIGEST_MAIL_BACKEND": "outbox (files, the default) or sendgrid (v3 Mail Send)",
    "EUDIGEST_OUTBOX_DIR": "Directory of the outbox backend. Default $EUDIGEST_DATA_DIR/outbox",
    "SENDGRID_API_KEY": "SendGrid API key (Mail Send permission); required for sendgrid",
    "EUDIGEST_SENDGRID_REGION": "global (api.sendgrid.com, default) or eu (api.eu.sendgrid.com)",
    "EUDIGEST_SENDGRID_HOST": "Overrides the SendGrid API address (tests point it at a peer)",
    "EUDIGEST_SENDGRID_CONCURRENCY": "Mail Send requests one sender keeps in flight (default 32)",
    "EUDIGEST_SEND_PROCESSES": "Sender processes `eudigest send` uses from 10,000 deliveries "
    "(one below). Default: the CPUs, at most 4",
    "EUDIGEST_LOG_FORMAT": "json, text or auto (default: JSON when stderr is not a terminal)",
    "EUDIGEST_LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR. Default INFO (WARNING on a terminal)",
    "EUDIGEST_METRICS_TOKEN": "Bearer token that /metrics requires when set (16+ characters)",
    "EUDIGEST_API_TOKEN": "A staff member's personal API token (desk, Mein Konto): "
    "`eudigest edition approve ID --as NAME` approves as that account without its password",
    "EUDIGEST_HEARTBEAT_MAX_AGE": "Seconds a scheduler heartbeat stays fresh for /readyz and "
    "status; 0 switches the check off. Default 300",
}
MAIL_BACKENDS = ("outbox", "sendgrid")
SENDGRID_HOSTS = {"global": "https://api.sendgrid.com", "eu": "https://api.eu.sendgrid.com"}


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    sources_path: Path
    taxonomy_path: Path
    office_path: Path = PROJECT_ROOT / "office.yaml"
    cron_path: Path = PROJECT_ROOT / "cron.yaml"
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
    fetch_workers: int = 0  # from_env: default_fetch_workers()
    fetch_allow: tuple[FetchAllow, ...] = ()
    backoff_max_minutes: int = 360
    mail_backend: str = "outbox"
    outbox_dir: Path | None = None  # None: <data_dir>/outbox
    sendgrid_api_key: str | None = field(default=None, repr=False)  # never logged
    sendgrid_region: str = "global"
    sendgrid_host: str = SENDGRID_HOSTS["global"]  # from the region unless overridden
    sendgrid_concurrency: int = 32  # requests in flight per sender (issue 16)
    send_processes: int = 1  # from_env: deliver.processes.default_send_processes()
    send_lease_s: int = 60  # a sender that has not renewed its lease for this long is gone
    log_format: str = "auto"  # json | text | auto (JSON when stderr is not a terminal)
    log_level: str | None = None  # None: INFO, or WARNING on a terminal
    metrics_token: str | None = field(default=None, repr=False)
    heartbeat_max_age_s: int = 300  # 0: no heartbeat check
    api_token: str | None = field(default=None, repr=False)  # never logged
    # What from_env read, and where: a process this one starts for the same work (a
    # sender's helpers, deliver.processes) is given the same. None: made in code.
    environ: Mapping[str, str] | None = field(default=None, repr=False, compare=False)
    cwd: Path | None = None

    @property
    def outbox_path(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def unset_for_mail_links(self) -> tuple[str, ...]:
        """The variables a mailed subscriber link needs and that are not set: links come
        only from EUDIGEST_BASE_URL and are signed with EUDIGEST_SECRET_KEY."""
        needed = (("EUDIGEST_BASE_URL", self.base_url), ("EUDIGEST_SECRET_KEY", self.secret_key))
        return tuple(name for name, value in needed if not value)

    def send_blockers(self) -> tuple[SendBlocker, ...]:
        """What stops every digest from going out until a person changes a variable."""
        from pipeline.model.editions import send_blockers

        return send_blockers(
            base_url=self.base_url,
            secret_key=self.secret_key,
            mail_backend=self.mail_backend,
            sendgrid_api_key=self.sendgrid_api_key,
        )

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
        mail = _mail_settings(env, cwd)
        return cls(
            data_dir=data_dir,
            database_url=_normalise_db_url(database_url),
            sources_path=env.path("EUDIGEST_SOURCES", PROJECT_ROOT / "sources.yaml", cwd),
            taxonomy_path=env.path("EUDIGEST_TAXONOMY", PROJECT_ROOT / "taxonomy.yaml", cwd),
            office_path=env.path("EUDIGEST_OFFICE", PROJECT_ROOT / "office.yaml", cwd),
            cron_path=env.path("EUDIGEST_CRON", PROJECT_ROOT / "cron.yaml", cwd),
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
            fetch_workers=env.number("EUDIGEST_FETCH_WORKERS", default_fetch_workers(), int, 0, 32),
            fetch_allow=fetch_allow_list(env.get("EUDIGEST_FETCH_ALLOW", "")),
            backoff_max_minutes=env.number("EUDIGEST_BACKOFF_MAX_MINUTES", 360, int, 1, 10080),
            **mail,
            **_ops_settings(env),
            environ=dict(environ),
            cwd=cwd,
        )


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")


def _cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def default_fetch_workers() -> int:
    """Parsing processes when EUDIGEST_FETCH_WORKERS is not set: none on up to 2 CPUs,
    otherwise the CPUs less two (one for the fetching process, one for the database and
    the desk beside it), at most 3. Measured on 2 shared CPUs: workers cut a cold fetch's
    wall time by 5-12 % when a core was idle and not at all when it was not, each adding
    30-40 MB to the process tree."""
    cpus = _cpus()
    return 0 if cpus <= 2 else min(cpus - 2, 3)


def default_send_processes() -> int:
    """Sender processes of a large send when EUDIGEST_SEND_PROCESSES is not set: the
    CPUs, at most 4 (deliver.processes: a sender is bound by one core's CPU)."""
    return max(1, min(_cpus(), 4))


@dataclass(frozen=True, slots=True)
class FetchAllow:
    """One entry of EUDIGEST_FETCH_ALLOW: a host name or an address range, maybe one port.

    `host` matches the name in the URL (any address it resolves to); `network` matches
    the address the name resolves to. `port` None: any port.
    """

    text: str
    host: str | None = None
    network: IPNetwork | None = None
    port: int | None = None

    def allows(
        self, host: str, port: int, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return self.host == host.lower().rstrip(".")
        assert self.network is not None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.version == self.network.version and address in self.network


def parse_fetch_allow(entry: str) -> FetchAllow:
    """'10.0.0.0/8', 'intranet.example', 'localhost:8080', '[::1]:8080' → FetchAllow.

    Raises ValueError with a readable reason for anything else.
    """
    text = entry.strip()
    low = text.lower()
    if not low:
        raise ValueError("an empty entry")
    if "/" in low:
        try:
            return FetchAllow(text, network=ipaddress.ip_network(low, strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not a CIDR range") from None
    port: int | None = None
    host = low
    if low.startswith("["):  # [v6]:port or [v6]
        close = low.find("]")
        rest = low[close + 1 :] if close > 0 else "?"
        if close < 0 or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r} is not a host, host:port or CIDR range")
        host, port_text = low[1:close], rest[1:]
        port = _port(port_text, text) if rest else None
    elif low.count(":") == 1:
        host, port_text = low.split(":")
        port = _port(port_text, text)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_NAME.fullmatch(host.rstrip(".")):
            raise ValueError(f"{text!r} is not a host, host:port or CIDR range") from None
        return FetchAllow(text, host=host.rstrip("."), port=port)
    return FetchAllow(text, network=ipaddress.ip_network(address), port=port)


def _port(value: str, text: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(f"{text!r} has no port between 1 and 65535")
    return int(value)


def fetch_allow_list(value: str) -> tuple[FetchAllow, ...]:
    """The entries of EUDIGEST_FETCH_ALLOW (comma-separated); ConfigError names the variable."""
    entries = [part for part in value.split(",") if part.strip()]
    try:
        return tuple(parse_fetch_allow(part) for part in entries)
    except ValueError as exc:
        raise ConfigError(f"EUDIGEST_FETCH_ALLOW: {exc}") from None


LOG_FORMATS = ("auto", "json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _ops_settings(env: _Env) -> dict[str, Any]:
    """Logging, /metrics and readiness settings; a wrong value names its variable."""
    log_format = env.get("EUDIGEST_LOG_FORMAT", "auto").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(
            f"EUDIGEST_LOG_FORMAT: {log_format!r} is not one of {', '.join(LOG_FORMATS)}"
        )
    log_level = env.get("EUDIGEST_LOG_LEVEL", "").upper() or None
    if log_level is not None and log_level not in LOG_LEVELS:
        raise ConfigError(
            f"EUDIGEST_LOG_LEVEL: {log_level!r} is not one of {', '.join(LOG_LEVELS)}"
        )
    token = env.get("EUDIGEST_METRICS_TOKEN", "") or None
    if token is not None and (len(token) < 16 or any(c.isspace() for c in token)):
        raise ConfigError("EUDIGEST_METRICS_TOKEN: use at least 16 characters without spaces")
    return {
        "log_format": log_format,
        "log_level": log_level,
        "metrics_token": token,
        "heartbeat_max_age_s": env.number("EUDIGEST_HEARTBEAT_MAX_AGE", 300, int, 0, 86400),
        "api_token": env.get("EUDIGEST_API_TOKEN", "") or None,
    }


def _mail_settings(env: _Env, cwd: Path) -> dict[str, Any]:
    """The mail backend and its settings; a wrong value names its variable."""
    backend = env.get("EUDIGEST_MAIL_BACKEND", "outbox").lower()
    if backend not in MAIL_BACKENDS:
        raise ConfigError(
            f"EUDIGEST_MAIL_BACKEND: {backend!r} is not one of {', '.join(MAIL_BACKENDS)}"
        )
    region = env.get("EUDIGEST_SENDGRID_REGION", "global").lower()
    if region not in SENDGRID_HOSTS:
        raise ConfigError(
            f"EUDIGEST_SENDGRID_REGION: {region!r} is not one of {', '.join(SENDGRID_HOSTS)}"
        )
    host = env.get("EUDIGEST_SENDGRID_HOST", "") or SENDGRID_HOSTS[region]
    if not host.startswith(("https://", "http://")) or any(c.isspace() for c in host):
        raise ConfigError(f"EUDIGEST_SENDGRID_HOST: {host!r} is not an http(s) address")
    api_key = env.get("SENDGRID_API_KEY", "") or None
    if api_key is not None and (any(c.isspace() for c in api_key) or not api_key.isascii()):
        # the value itself is never repeated: it may be a real key pasted with a line break
        raise ConfigError("SENDGRID_API_KEY: contains spaces, line breaks or non-ASCII characters")
    if backend == "sendgrid" and api_key is None:
        raise ConfigError(
            "SENDGRID_API_KEY: required when EUDIGEST_MAIL_BACKEND=sendgrid "
            "(or SENDGRID_API_KEY_FILE with the path of a file holding it)"
        )
    outbox_raw = env.get("EUDIGEST_OUTBOX_DIR", "")
    outbox_dir = None
    if outbox_raw:
        outbox_dir = Path(outbox_raw)
        if not outbox_dir.is_absolute():
            outbox_dir = cwd / outbox_dir
    return {
        "mail_backend": backend,
        "outbox_dir": outbox_dir,
        "sendgrid_api_key": api_key,
        "sendgrid_region": region,
        "sendgrid_host": host.rstrip("/"),
        "sendgrid_concurrency": env.number("EUDIGEST_SENDGRID_CONCURRENCY", 32, int, 1, 256),
        "send_lease_s": env.number("EUDIGEST_SEND_LEASE_SECONDS", 60, int, 2, 3600),
        "send_processes": env.number(
            "EUDIGEST_SEND_PROCESSES", default_send_processes(), int, 1, 16
        ),
    }


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
