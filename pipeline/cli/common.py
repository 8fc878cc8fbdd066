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
EXIT_INTERRUPTED = 130  # Ctrl-C, or Ctrl-D at a prompt: nothing was changed by the prompt
EXIT_CODES_HELP = """exit codes:
  0  done
  1  done, but something needs a person (failed or unknown deliveries, failed sources,
     problems found by status, a failed job run)
  2  wrong usage or configuration (a refused SendGrid key included)
  3  a send stopped early (429s, 5xx, SendGrid unreachable, outbox disk full); the rest
     is still queued and the next run continues
  4  the database is unreachable
  130  interrupted (Ctrl-C, or Ctrl-D at a password prompt)"""


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


def prompt_hidden(prompt: str) -> str:
    """Read a line at the terminal without echo. Ctrl-D (EOFError) is turned into
    KeyboardInterrupt, which `main` ends with exit 130 and no traceback. Tests replace
    this function (`pipeline.cli.common.prompt_hidden`)."""
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise KeyboardInterrupt from None


def ask_password(prompt: str) -> str | None:
    """A password typed at the terminal (not echoed); None without a terminal. Tests
    replace this function (`pipeline.cli.common.ask_password`)."""
    if not sys.stdin.isatty():
        return None
    return prompt_hidden(prompt)


def read_password(err: Console, *, confirm: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = prompt_hidden("Password: ")
    if confirm and prompt_hidden("Repeat: ") != first:
        raise InvalidInput("the two passwords differ")
    return first
