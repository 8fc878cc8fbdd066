"""More sender processes for one edition on this machine (issue 16, docs/deploy.md §12).

One sender is one Python process, and a large send is bound by its CPU: signing each
reader's links, building and encoding the requests, the ledger's statements all hold
the interpreter's lock, so a second core helps only a second process. The ledger lets
several senders share an edition (claims, ADR 0004), so `eudigest send` starts more of
itself first thing, so that each reads the audience beside the others:

    send ID ─ expected ≥ SPLIT_FROM (queued deliveries, or before the plan the confirmed
              subscribers; or --processes N) ─▶ start N-1 helpers
                `python -m pipeline.cli send ID --processes 1 --helper-of PID`
            ─ plan, claim, send, record (as before) ─ nothing queued: wait for the
              helpers' rows (woken when a helper ends, not only every poll) ─ wait for
              the processes ─▶ report
    helper  ─ ends with its parent (Linux: PR_SET_PDEATHSIG → SIGTERM) ─ plan (once per
              edition, whoever is first) ─ claim, send, record ─ nothing queued: end
              (the parent reports)

A helper is an ordinary sender: killed, its claimed rows go back to the queue and its
in-flight rows become unknown, as for any sender found gone (the parent, its parent
process, sees it dead at once). The parent failing (an error, Ctrl-C) stops the helpers
(SIGTERM) before it ends, and a parent killed outright takes its helpers with it, so a
stopped `eudigest send` never leaves senders running behind the operator's back.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

# From this many deliveries a second process pays for its start (its imports, about
# 0.5 s, and its own reading of the audience): 10,000 readers took 8.0 s with two
# processes against 11.6 s with one (bench/deliver_bench.py --sizes 10000, a busy machine).
SPLIT_FROM = 10_000
PR_SET_PDEATHSIG = 1  # linux/prctl.h
END_WAIT_S = 60.0  # how long the parent waits for a helper that is finishing


def processes_for(expected: int, ceiling: int) -> int:
    """Sender processes for a send of `expected` deliveries under EUDIGEST_SEND_PROCESSES."""
    return 1 if expected < SPLIT_FROM else max(1, ceiling)


def helper_argv(edition_id: int) -> list[str]:
    """The command line of a helper of this process for `edition_id`."""
    return [sys.executable, "-m", "pipeline.cli", "send", str(edition_id), "--processes", "1",
            "--helper-of", str(os.getpid())]  # fmt: skip


def follow_parent(parent: int) -> bool:
    """Make this process end (SIGTERM) when its parent does; False when the parent is
    gone already (or this process is not its child). Linux only: elsewhere the helper
    runs on and finishes its rows, which is safe, only not what the operator asked."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    return os.getppid() == parent


class Helpers:
    """The helper processes of one send: started as it starts, waited for (or stopped,
    when the send fails) when it ends. A context manager."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        environ: Mapping[str, str] | None,
        cwd: Path | None,
        forced: int | None,
        ceiling: int,
        popen: Callable[..., subprocess.Popen[bytes]] = subprocess.Popen,
    ) -> None:
        self.argv = list(argv)
        self.environ = environ  # the settings' own: None (made in code) starts no helper
        self.cwd = cwd
        self.forced = forced  # --processes N: exactly N, whatever the size
        self.ceiling = ceiling  # EUDIGEST_SEND_PROCESSES: from SPLIT_FROM deliveries
        self.popen = popen
        self.procs: list[subprocess.Popen[bytes]] = []
        self._ended = 0
        self._seen = 0
        self._changed = threading.Condition()

    @property
    def may_start(self) -> bool:
        """Whether this send could start any helper (else its size need not be asked)."""
        wanted = self.forced if self.forced is not None else self.ceiling
        return wanted > 1 and self.environ is not None

    def start(self, expected: int) -> None:
        """Start the helpers this send needs (`expected`: how many deliveries it has ahead)."""
        wanted = self.forced if self.forced is not None else processes_for(expected, self.ceiling)
        if wanted <= 1 or expected == 0:
            return
        if self.environ is None:
            log.info("settings not read from the environment: one sender process")
            return
        for _ in range(wanted - 1):
            proc = self.popen(
                self.argv,
                env=dict(self.environ),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
            self.procs.append(proc)
            threading.Thread(target=self._reap, args=(proc,), daemon=True).start()
        log.info(
            "about %d deliveries ahead: %d more sender processes started (pids %s)",
            expected,
            len(self.procs),
            ", ".join(str(p.pid) for p in self.procs),
        )

    def _reap(self, proc: subprocess.Popen[bytes]) -> None:
        proc.wait()
        with self._changed:
            self._ended += 1
            self._changed.notify_all()

    def idle(self, seconds: float) -> None:
        """Wait up to `seconds` while other senders hold rows: a helper ending (its rows
        settled, or it died and its rows are to be taken back) ends the wait at once."""
        with self._changed:
            self._changed.wait_for(lambda: self._ended > self._seen, timeout=seconds)
            self._seen = self._ended

    def __enter__(self) -> Helpers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is not None:  # the send failed: nothing more leaves from here
            for proc in self.procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                code = proc.wait(timeout=END_WAIT_S)
            except subprocess.TimeoutExpired:
                log.warning("sender process %d did not end; stopping it", proc.pid)
                proc.kill()
                code = proc.wait()
            if code != 0 and kind is None:
                log.warning("sender process %d ended with exit code %d", proc.pid, code)
