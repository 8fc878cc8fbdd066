"""Run `jobs.send` in a child process that kills itself (SIGKILL) at a chosen point.

    python -m tests.deliver.crash_sender EDITION_ID BATCH_SIZE POINT N

POINT: `mail` (after the N-th .eml is written), `start` (the N-th call of
deliveries.start_many, before it commits), `started` (right after the N-th start
committed, before the request), `plan` (inside the planning transaction, after its
N-th insert of ledger rows, before it commits). Settings come from the environment (EUDIGEST_*).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pipeline import jobs
from pipeline.bootstrap import build
from pipeline.config import Settings
from pipeline.deliver.outbox import OutboxMailer
from pipeline.model import OutgoingEmail, SendResult


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillingOutbox(OutboxMailer):
    def __init__(self, *args: Any, after: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.after = after
        self.written = 0

    def _write(self, message: OutgoingEmail) -> SendResult:
        result = super()._write(message)
        self.written += 1
        if self.written >= self.after:
            _die()
        return result


def main() -> None:
    edition_id, batch_size, point, n = (
        int(sys.argv[1]),
        int(sys.argv[2]),
        sys.argv[3],
        int(sys.argv[4]),
    )
    settings = Settings.from_env(os.environ)
    services = build(settings)
    outbox = settings.data_dir / "outbox"
    if point == "mail":
        services.mailer = KillingOutbox(outbox, after=n)
    elif point == "plan":
        import sqlalchemy as sa

        services.mailer = OutboxMailer(outbox)
        inserts = 0

        def after_insert(*args: Any) -> None:
            nonlocal inserts
            if str(args[2]).lstrip().upper().startswith("INSERT INTO DELIVERIES"):
                inserts += 1
                if inserts >= n:
                    _die()

        sa.event.listen(services.store.engine, "after_cursor_execute", after_insert)
    else:
        services.mailer = OutboxMailer(outbox)
        deliveries = services.store.deliveries
        real_start: Callable[..., set[int]] = deliveries.start_many
        calls = 0

        def start_many(
            groups: Sequence[tuple[Iterable[int], str]], *, now: Any, again: bool = False
        ) -> set[int]:
            nonlocal calls
            calls += 1
            if point == "start" and calls >= n:
                _die()
            moved = real_start(groups, now=now, again=again)
            if point == "started" and calls >= n:
                _die()
            return moved

        deliveries.start_many = start_many  # type: ignore[method-assign]
    jobs.send(services, edition_id, batch_size=batch_size)


if __name__ == "__main__":
    main()
