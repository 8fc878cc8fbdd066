"""When `eudigest send` starts helper processes, and with what (deliver.processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Settings, default_send_processes
from pipeline.deliver import processes
from pipeline.deliver.processes import SPLIT_FROM, Helpers, helper_argv, processes_for


class Started:
    """A stand-in for Popen that records what would have been started (a real process
    that ends at once, so that the reaper threads see it end)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        self.calls.append({"argv": argv, **kw})
        return subprocess.Popen([sys.executable, "-c", "pass"])


def test_a_second_process_from_ten_thousand_deliveries() -> None:
    assert processes_for(SPLIT_FROM - 1, 4) == 1
    assert processes_for(SPLIT_FROM, 4) == 4
    assert processes_for(100_000, 1) == 1


def test_the_default_is_the_cpus_at_most_four(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(16)))
    assert default_send_processes() == 4
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0})
    assert default_send_processes() == 1
    env = {"EUDIGEST_DATA_DIR": "/tmp/x", "EUDIGEST_SEND_PROCESSES": "3"}
    assert Settings.from_env(env).send_processes == 3


def test_helpers_get_the_settings_environment_and_directory(tmp_path: Path) -> None:
    started = Started()
    env = {"EUDIGEST_DATA_DIR": str(tmp_path), "EUDIGEST_SECRET_KEY": "k" * 40}
    with Helpers(
        helper_argv(7), environ=env, cwd=tmp_path, forced=None, ceiling=3, popen=started
    ) as helpers:
        helpers.start(SPLIT_FROM)
        assert len(helpers.procs) == 2
    [call, _] = started.calls
    assert call["env"] == env and call["cwd"] == tmp_path
    assert call["argv"][1:] == ["-m", "pipeline.cli", "send", "7", "--processes", "1",
                                "--helper-of", str(processes.os.getpid())]  # fmt: skip
    assert all(p.returncode == 0 for p in helpers.procs)  # waited for at the end


@pytest.mark.parametrize(
    ("environ", "forced", "queued", "wanted"),
    [
        ({"EUDIGEST_DATA_DIR": "x"}, None, SPLIT_FROM - 1, 0),  # small: one process
        ({"EUDIGEST_DATA_DIR": "x"}, 2, 10, 1),  # --processes 2: whatever the size
        ({"EUDIGEST_DATA_DIR": "x"}, 2, 0, 0),  # nothing queued: nobody to help
        (None, 2, SPLIT_FROM, 0),  # settings made in code: a helper would not see them
    ],
)
def test_when_helpers_start(
    environ: dict[str, str] | None, forced: int | None, queued: int, wanted: int
) -> None:
    started = Started()
    with Helpers(["x"], environ=environ, cwd=None, forced=forced, ceiling=4, popen=started) as h:
        h.start(queued)
    assert len(started.calls) == wanted


def test_a_failing_send_stops_its_helpers() -> None:
    """The parent's send raises: the helpers get SIGTERM and are waited for."""
    procs: list[subprocess.Popen[bytes]] = []

    def popen(argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        procs.append(proc)
        return proc

    helpers = Helpers(["x"], environ={}, cwd=None, forced=2, ceiling=2, popen=popen)
    with pytest.raises(RuntimeError), helpers:
        helpers.start(SPLIT_FROM)
        raise RuntimeError("the database is gone")
    [proc] = procs
    assert proc.returncode == -15  # SIGTERM, not the 600 s


def test_a_send_that_could_not_start_helpers_does_not_count_its_audience() -> None:
    def may(environ: dict[str, str] | None, forced: int | None, ceiling: int) -> bool:
        return Helpers(["x"], environ=environ, cwd=None, forced=forced, ceiling=ceiling).may_start

    assert may({}, None, 2) and may({}, 2, 1)
    assert not may({}, None, 1)  # one CPU
    assert not may({}, 1, 4)  # --processes 1 (a helper itself)
    assert not may(None, 2, 4)  # settings made in code
