"""One job run in a child process, so that a hanging job can be killed at its timeout.

    python -m pipeline.scheduler.child MODULE:FUNCTION --job-id ID --key KEY --scheduled-for ISO

The scheduler does not start it that way: it forks `run_forked` from its start-up server
(runner.ProcessExecutor, ADR 0011), which has imported the jobs' code already. The
command above is the same run by hand.

Settings come from the environment (EUDIGEST_*), as for every eudigest command. A
function with a parameter gets the services (`jobs.send_due(services)`); one without
(test jobs) is called bare. The last line on stdout is `RESULT {"detail": "…"}`; a job
that raises prints its traceback on stderr and exits 1. `current()` tells a job which
run it is part of.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

EXIT_NO_RETRY = 3  # failed, and retrying is pointless (configuration, a refused key)
RESULT_PREFIX = "RESULT "


@dataclass(frozen=True, slots=True)
class RunInfo:
    job_id: str
    key: str
    scheduled_for: dt.datetime


_CURRENT: RunInfo | None = None


def current() -> RunInfo | None:
    """The run this process executes (None outside a scheduled child)."""
    return _CURRENT


def summary(result: Any) -> str:
    """A one-line description of what a job returned ("3 sources fetched, 12 new items")."""
    if result is None:
        return "done"
    if isinstance(result, bool | int | float | str):
        return str(result)[:300]
    if hasattr(result, "succeeded") and hasattr(result, "total"):  # an IngestReport
        line = (
            f"{len(result.succeeded)} sources fetched, {len(result.failed)} failed, "
            f"{result.total('new')} new items"
        )
        waiting = sorted(r.source_id for r in getattr(result, "waiting", []))
        if waiting:
            shown = ", ".join(waiting[:5]) + (
                f" and {len(waiting) - 5} more" if waiting[5:] else ""
            )
            line += f"; {len(waiting)} waiting in backoff ({shown})"
        return line
    if isinstance(result, list | tuple) and not result:
        return "nothing to do"
    if isinstance(result, list | tuple):
        sent = sum(int(getattr(r, "sent", 0)) for r in result)
        if result and all(hasattr(r, "sent") for r in result):  # SendReports
            elsewhere = [r for r in result if getattr(r, "elsewhere", None)]
            line = f"editions sent: {len(result) - len(elsewhere)}, mails: {sent}"
            if elsewhere:
                line += "; being sent by another process: " + ", ".join(
                    f"edition {r.edition_id} ({r.elsewhere})" for r in elsewhere
                )
            return line
        return f"{len(result)} done"
    if hasattr(result, "id"):
        return f"{type(result).__name__} {result.id}"
    return type(result).__name__


def _retry_is_futile(exc: BaseException) -> bool:
    """Errors a retry minutes later cannot fix: wrong configuration, a refused API key."""
    from pipeline.deliver.send import SendStopped
    from pipeline.errors import ConfigError

    return isinstance(exc, ConfigError | SendStopped)


def main(argv: Sequence[str] | None = None) -> int:
    global _CURRENT
    p = argparse.ArgumentParser(prog="pipeline.scheduler.child")
    p.add_argument("function", metavar="MODULE:FUNCTION")
    p.add_argument("--job-id", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--scheduled-for", required=True, type=dt.datetime.fromisoformat)
    args = p.parse_args(argv)
    _CURRENT = RunInfo(args.job_id, args.key, args.scheduled_for)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    from pipeline.logs import NOISY

    for noisy in NOISY:  # a line per request is not the run's story (as on the command line)
        logging.getLogger(noisy).setLevel(logging.WARNING)
    module_name, _, name = args.function.partition(":")
    fn: Any = getattr(importlib.import_module(module_name), name)
    services: Any = None
    try:
        if inspect.signature(fn).parameters:
            from pipeline.bootstrap import build
            from pipeline.config import Settings

            services = build(Settings.from_env(os.environ))
            result = fn(services)
        else:
            result = fn()
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        return EXIT_NO_RETRY if _retry_is_futile(exc) else 1
    finally:
        if services is not None:
            services.close()
    sys.stdout.write(RESULT_PREFIX + json.dumps({"detail": summary(result)}) + "\n")
    sys.stdout.flush()
    return 0


def run_forked(argv: list[str], environ: dict[str, str], cwd: str, folder: str) -> None:
    """`main(argv)` in a process forked from the scheduler's start-up server: first its
    own session, the run's environment and directory, stdout and stderr into files of
    `folder`; at the end, what it used (CPU, peak memory) into `folder`/usage."""
    import resource

    os.setsid()  # a process group of its own: a timeout kills what it started too
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, name in ((1, "stdout"), (2, "stderr")):
        opened = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    used = {
        "cpu_s": round(sum(u.ru_utime + u.ru_stime for u in (own, children)), 3),
        "max_rss_mb": round(max(own.ru_maxrss, children.ru_maxrss) / 1024, 1),
    }
    with open(os.path.join(folder, "usage"), "w", encoding="utf-8") as f:
        json.dump(used, f)
    sys.exit(code)


if __name__ == "__main__":
    # Run main() of the imported module, not of __main__, so that `current()` of the
    # module jobs import is the one that is set.
    from pipeline.scheduler.child import main as _main

    sys.exit(_main())
