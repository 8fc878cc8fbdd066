"""A sender's lease: who this process is, whether another sender is gone, and the renewal.

    this_process()      ProcessRef(host, pid, key); key = boot id / pid namespace / start
                        time of the process, read from /proc (empty where there is none)
    live(senders, now)  the senders at work: within their lease, process not known dead
    known_dead(ref)     True only when `ref` names a process of this kernel and this pid
                        namespace that has ended (its pid is gone, a zombie, or now belongs
                        to a process started at another time). Anything else, another host
                        or a container with the same host name included, is left to the
                        lease: an unknown process is never declared dead.
    Renewal             a daemon thread renewing the sender's lease every `every` seconds
                        while the sender works; `lost` is set when the store says the
                        sender is no longer running (another sender found it gone)

A sender is gone when its lease has run out or its process is known dead; only then may
another sender take its delivery rows back (ADR 0004).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from pipeline.errors import StoreError
from pipeline.model import ProcessRef, Sender

log = logging.getLogger("eudigest.deliver")

PROC = Path("/proc")


def this_process() -> ProcessRef:
    pid = os.getpid()
    return ProcessRef(host=socket.gethostname(), pid=pid, key=_process_key(pid))


def live(senders: Iterable[Sender], now: dt.datetime) -> list[Sender]:
    """The senders at work: running within their lease, their process not known dead."""
    return [s for s in senders if s.running(now) and not known_dead(s.process)]


def known_dead(ref: ProcessRef, *, proc: Path = PROC) -> bool:
    """Whether the process `ref` has certainly ended (see the module docstring)."""
    if not ref.key or ref.host != socket.gethostname():
        return False
    boot, _, rest = ref.key.partition("/")
    namespace, _, started = rest.rpartition("/")
    here = _process_key(os.getpid(), proc=proc)
    if not here:
        return False
    here_boot, _, here_rest = here.partition("/")
    here_namespace = here_rest.rpartition("/")[0]
    if (boot, namespace) != (here_boot, here_namespace):
        return False  # another kernel or another pid namespace: this pid says nothing
    stat = _stat(ref.pid, proc=proc)
    if stat is None:
        return True  # no such pid on this kernel and namespace
    state, start = stat
    return state in ("Z", "X") or start != started


def _process_key(pid: int, *, proc: Path = PROC) -> str:
    try:
        boot = (proc / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink(proc / "self/ns/pid")
    except OSError:
        return ""
    stat = _stat(pid, proc=proc)
    if stat is None:
        return ""
    return f"{boot}/{namespace}/{stat[1]}"


def _stat(pid: int, *, proc: Path = PROC) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a pid, or None when there is no such pid."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return ("?", "?")  # there, but unreadable: not known dead
    # "pid (comm) state ppid …": comm may hold spaces and parentheses; fields after it
    fields = text[text.rfind(")") + 2 :].split()
    if len(fields) < 20:
        return ("?", "?")
    return fields[0], fields[19]  # state; starttime is field 22 of the line


class Renewal:
    """Renews a lease on a daemon thread while the `with` block runs.

    `renew()` returns False when the lease is lost for good; a store error is logged
    and tried again at the next beat (the sender's own work meets the same outage)."""

    def __init__(
        self,
        renew: Callable[[], bool],
        *,
        every: float,
        name: str = "lease",
    ) -> None:
        self._renew = renew
        self.every = every
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Renewal:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not self._renew():
                    log.warning("%s: no longer ours (found gone by another)", self._thread.name)
                    self.lost.set()
                    return
            except StoreError as exc:
                log.warning("%s: not renewed: %s", self._thread.name, exc)


def lease_until(now: dt.datetime, seconds: float) -> dt.datetime:
    return now + dt.timedelta(seconds=seconds)
