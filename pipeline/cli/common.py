"""What the commands share: exit codes, the actor of command-line changes, argument types."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import TYPE_CHECKING

from pipeline.errors import InvalidInput
from pipeline.model import Role, StaffUser

if TYPE_CHECKING:
    from pipeline.cli.output import Console

EXIT_OK = 0
EXIT_ATTENTION = 1  # done, but failed/unknown deliveries, failed sources, problems
EXIT_USAGE = 2  # wrong usage or configuration
EXIT_STOPPED = 3  # a send stopped early; the rest is queued for the next run
EXIT_STORE = 4  # the database is unreachable
EXIT_CODES_HELP = """exit codes:
  0  done
  1  done, but something needs a person (failed or unknown deliveries, failed sources,
     problems found by status, a failed job run)
  2  wrong usage or configuration (a refused SendGrid key included)
  3  a send stopped early (429s, 5xx, SendGrid unreachable, outbox disk full); the rest
     is still queued and the next run continues
  4  the database is unreachable"""


def operator() -> StaffUser:
    """The actor for changes made from the command line, named in the audit trail."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return StaffUser(id=0, name=f"cli:{who}", role=Role.ADMIN)


def date_arg(text: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-25") from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def ask_password(prompt: str) -> str | None:
    """A password typed at the terminal (not echoed); None without a terminal. Tests
    replace this function (`pipeline.cli.common.ask_password`)."""
    if not sys.stdin.isatty():
        return None
    return getpass.getpass(prompt)


def read_password(err: Console, *, confirm: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat: ") != first:
        raise InvalidInput("the two passwords differ")
    return first
