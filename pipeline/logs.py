"""Logging for every process (CLI, scheduler, gunicorn): JSON lines or text, no personal data.

`setup(log_format, level)` installs one handler on the root logger that writes to
whatever `sys.stderr` is at the time of writing. `auto` writes JSON lines (one
object per line: time, level, logger, message, process, and any `extra=` fields)
when stderr is not a terminal, readable text on a terminal.

Whatever a log line carries is passed through `redact()` first: an email address
anywhere in a message, an argument, an extra field or a traceback becomes
`[email]`, and the token of a subscriber link (`/abo/einstellungen/<token>`, also
`/abo/bestaetigen/` and `/abo/abmelden/`; the tokens of a feedback link `/feedback/…`;
or anywhere else in the shape of a signed token) becomes `[token]`: a token is the key
to a subscription. Code should log subscriber ids, never addresses or tokens; this is
the net under it. Every handler eudigest installs (the CLI's, the scheduler's, gunicorn's
via `gunicorn_config`) formats through it, and so do the loggers that propagate to the
root: werkzeug's access log of `eudigest serve`, Flask's and flask-wtf's.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
from typing import Any, TextIO

REDACTED_EMAIL = "[email]"
# Deliberately wide: better a redacted "a@b" in a log than an address.
EMAIL_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*", re.UNICODE)
REDACTED_TOKEN = "[token]"  # noqa: S105 (a placeholder, not a secret)
# The paths of tokens.CONFIRM_PATH, MANAGE_PATH and UNSUBSCRIBE_PATH (tests/subscribers/
# test_log_tokens.py checks that they agree), followed by the token: anything up to the
# next slash, query or space.
TOKEN_RE = re.compile(r"(/abo/(?:bestaetigen|einstellungen|abmelden)/)[^/\s?#\"'<>]+")
# Feedback links (subscribers.feedback): /feedback/<item token>/<reader token>[/danke]
FEEDBACK_RE = re.compile(r"(/feedback/)[^\s?#\"'<>]+")
# A signed token wherever else it turns up (a query, a Referer): payload.timestamp.signature
# in URL-safe base64, as subscribers.tokens makes them.
SIGNED_RE = re.compile(r"\.?[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,12}\.[A-Za-z0-9_-]{20,}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MARK = "_eudigest_handler"
# Libraries that log every request or every schema check at INFO (readyz reads the revision).
# APScheduler announces every job it adds and runs; the scheduler logs each run itself.
NOISY = ("httpx", "httpcore", "urllib3", "alembic", "apscheduler")


def redact(text: str) -> str:
    """The text with every email address replaced by [email], every link token by [token]."""
    if "@" in text:
        text = EMAIL_RE.sub(REDACTED_EMAIL, text)
    if "/abo/" in text:
        text = TOKEN_RE.sub(rf"\1{REDACTED_TOKEN}", text)
    if "/feedback/" in text:
        text = FEEDBACK_RE.sub(rf"\1{REDACTED_TOKEN}", text)
    if "." in text:
        text = SIGNED_RE.sub(REDACTED_TOKEN, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    return value


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line (python-json-logger); every string in it redacted.

    The library is imported when the first record is formatted, not when this module is
    or the handler installed: a run that logs nothing (a quiet fetch) never loads it."""

    def __init__(self) -> None:
        super().__init__()
        self._json: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        if self._json is None:
            self._json = _json_formatter()
        return self._json.format(record)


def _json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class Redacting(JsonFormatter):
        def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
            # the library's timestamp is a datetime; ISO 8601 in UTC is what log
            # shippers expect
            stamp = log_data.get("time")
            if isinstance(stamp, dt.datetime):
                log_data["time"] = stamp.astimezone(dt.UTC).isoformat(timespec="milliseconds")
            return {k: _redact_value(v) for k, v in log_data.items()}

    return Redacting(
        "%(levelname)s %(name)s %(message)s %(process)d",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
    )


class TextLogFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to the current sys.stderr (which tests and daemons may swap)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def use_json(log_format: str, stream: TextIO | None = None) -> bool:
    if log_format == "json":
        return True
    if log_format == "text":
        return False
    stream = stream or sys.stderr
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):
        return True


def default_level(stream: TextIO | None = None) -> str:
    """INFO for services (stderr to a journal or file), WARNING for a person at a terminal."""
    return "INFO" if use_json("auto", stream) else "WARNING"


def formatter(log_format: str) -> logging.Formatter:
    return JsonLogFormatter() if use_json(log_format) else TextLogFormatter()


def setup(log_format: str = "auto", level: str | None = None, *, verbose: bool = False) -> None:
    """Install (or replace) eudigest's handler on the root logger; others stay."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    handler = StderrHandler()
    setattr(handler, _MARK, True)
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel("DEBUG" if verbose else (level or default_level()))
    for noisy in NOISY:  # -v shows everything
        logging.getLogger(noisy).setLevel(logging.NOTSET if verbose else logging.WARNING)


def gunicorn_config(log_format: str = "auto", level: str | None = None) -> dict[str, Any]:
    """A logging.config dictionary for gunicorn's `logconfig_dict`: its own loggers and the
    app's write through the same formatter (gunicorn's access log is off: it would carry
    client addresses and the tokens in subscriber links)."""
    fmt = "json" if use_json(log_format) else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": "pipeline.logs.JsonLogFormatter"},
            "text": {"()": "pipeline.logs.TextLogFormatter"},
        },
        "handlers": {
            "stderr": {"class": "pipeline.logs.StderrHandler", "formatter": fmt},
        },
        "root": {"level": level or "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            **{name: {"level": "WARNING"} for name in NOISY},
        },
    }
