"""Run `jobs.send_corrections` in a child process that kills itself (SIGKILL) at a point.

    python -m tests.deliver.crash_corrections BATCH_SIZE POINT N

POINT: `mail` (after the N-th .eml is written, before its outcome is recorded),
`started` (right after the N-th start committed, before the request). Settings come
from the environment (EUDIGEST_*), the database included (SQLite or PostgreSQL).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from pipeline import jobs
from pipeline.bootstrap import build
from pipeline.config import Settings
from pipeline.deliver.outbox import OutboxMailer
from tests.deliver.crash_sender import KillingOutbox, _die


def main() -> None:
    batch_size, point, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    settings = Settings.from_env(os.environ)
    services = build(settings)
    outbox = settings.data_dir / "outbox"
    if point == "mail":
        services.mailer = KillingOutbox(outbox, after=n)
    else:
        services.mailer = OutboxMailer(outbox)
        store = services.store.corrections
        real_start: Callable[..., set[int]] = store.start
        calls = 0

        def start(ids: Iterable[int], *, token: str, now: Any) -> set[int]:
            nonlocal calls
            calls += 1
            moved = real_start(ids, token=token, now=now)
            if calls >= n:
                _die()
            return moved

        store.start = start  # type: ignore[method-assign]
    jobs.send_corrections(services, batch_size=batch_size)


if __name__ == "__main__":
    main()
