"""Jobs only tests may schedule (cron validation allows this module when a test asks).

Each writes one line "<job> <key> <pid>" to the file named by $EUDIGEST_TEST_TICKS, so a
test can count how often a fire time really ran.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pipeline.scheduler.child import current


def _mark(what: str) -> None:
    info = current()
    key = info.key if info else "-"
    job = info.job_id if info else "-"
    path = Path(os.environ["EUDIGEST_TEST_TICKS"])
    with path.open("a", encoding="utf-8") as f:  # O_APPEND: one short line is one write
        f.write(f"{job} {key} {os.getpid()} {what}\n")


def tick() -> str:
    _mark("tick")
    return "ticked"


def boom() -> None:
    _mark("boom")
    raise RuntimeError("the job broke on purpose")


def hang() -> None:
    _mark("hang")
    time.sleep(3600)


def slow() -> str:
    """Runs until the test releases it (creates the file $EUDIGEST_TEST_RELEASE), so that a
    SIGTERM surely arrives while it runs, however long the child took to start."""
    _mark("slow")
    release = Path(os.environ["EUDIGEST_TEST_RELEASE"])
    deadline = time.monotonic() + 120
    while not release.exists():  # waits for the test's condition, not for a moment
        if time.monotonic() > deadline:
            raise TimeoutError(f"never released: {release}")
        time.sleep(0.05)
    _mark("slow-done")
    return "slow done"


def misconfigured() -> None:
    """Fails the way a wrong setting fails: retrying minutes later cannot help."""
    from pipeline.errors import ConfigError

    _mark("misconfigured")
    raise ConfigError("SENDGRID_API_KEY: refused by the backend")


def where() -> str:
    """What a run finds at its start: whether the scheduler's start-up server had imported
    the jobs' code (this module imports none of it), its directory and environment."""
    import sys

    _mark("where")
    preloaded = "pipeline.jobs" in sys.modules and "pipeline.ingest.parse" in sys.modules
    return f"preloaded={preloaded} cwd={os.getcwd()} mark={os.environ.get('EUDIGEST_TEST_MARK')}"


def hang_with_child() -> None:
    """Starts a process of its own that would run for an hour, then hangs."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    _mark(f"child={child.pid}")
    time.sleep(3600)
