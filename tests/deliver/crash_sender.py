"""Run `jobs.send` in a child process that kills itself (SIGKILL) at a chosen point.

    python -m tests.deliver.crash_sender EDITION_ID BATCH_SIZE POINT N

POINT: `mail` (after the N-th .eml is written), `start` (the N-th call of
deliveries.start_many, before it commits), `started` (right after the N-th start
committed, before the request), `plan` (inside the planning transaction, after its
N-th insert of ledger rows, before it commits), `claimed` (right after the N-th claim
committed), `record` (the N-th record_many, with the answers in hand, before it
writes), `recorded` (right after the N-th record committed). Settings come from the
environment (EUDIGEST_*): with EUDIGEST_MAIL_BACKEND=sendgrid the requests go to that
peer, `EUDIGEST_SENDGRID_CONCURRENCY` at a time (the kill meets requests in flight);
otherwise to an outbox, one at a time.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
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
    elif settings.mail_backend != "sendgrid":
        services.mailer = OutboxMailer(outbox)
    if point == "plan":
        import sqlalchemy as sa

        inserts = 0

        def after_insert(*args: Any) -> None:
            nonlocal inserts
            if str(args[2]).lstrip().upper().startswith("INSERT INTO DELIVERIES"):
                inserts += 1
                if inserts >= n:
                    _die()

        sa.event.listen(services.store.engine, "after_cursor_execute", after_insert)
    elif point != "mail":  # a step of the ledger: killed before it (start, record) or after
        deliveries = services.store.deliveries
        name = {"start": "start_many", "started": "start_many", "claimed": "claim"}.get(
            point, "record_many"
        )
        real: Callable[..., Any] = getattr(deliveries, name)
        calls = 0

        def dying(*args: Any, **kw: Any) -> Any:
            nonlocal calls
            calls += 1
            if point in ("start", "record") and calls >= n:
                _die()
            result = real(*args, **kw)
            if calls >= n:
                _die()
            return result

        setattr(deliveries, name, dying)
    jobs.send(services, edition_id, batch_size=batch_size)


if __name__ == "__main__":
    main()
