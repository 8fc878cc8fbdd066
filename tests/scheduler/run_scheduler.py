"""A scheduler process for tests: test jobs allowed, six-field (seconds) schedules allowed.

    python -m tests.scheduler.run_scheduler CRON_PATH [--grace S] [--heartbeat S]

Otherwise it is `eudigest scheduler`: settings from the environment, SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

from pipeline import logs
from pipeline.config import Settings
from pipeline.scheduler.cronfile import load_cron
from pipeline.scheduler.runner import ProcessExecutor, Runner
from pipeline.scheduler.service import serve
from pipeline.store import Store
from tests.scheduler.conftest import TEST_MODULES


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("cron", type=Path)
    p.add_argument("--grace", type=float, default=20.0)
    p.add_argument("--heartbeat", type=float, default=1.0)
    args = p.parse_args()
    logs.setup("text", "INFO")
    settings = Settings.from_env(os.environ)
    store = Store(settings.database_url)
    cron = load_cron(args.cron, allowed_modules=TEST_MODULES, allow_seconds=True)
    runner = Runner(store, cron, ProcessExecutor(os.environ, stop_grace_s=args.grace))

    def stop(_signum: int, _frame: Any) -> None:
        runner.stop.set()

    signal.signal(signal.SIGTERM, stop)
    serve(runner, heartbeat_s=args.heartbeat)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
