"""The import hands its confirmation mails to a mailer that takes requests in parallel
(SendGrid, `concurrency`) several batches at once, and records the answers in row order;
to any other mailer (the outbox) one batch after the other, as before."""

from __future__ import annotations

import threading

import pytest

from pipeline.bootstrap import Services
from pipeline.errors import DeliveryError
from pipeline.model import OutgoingEmail, SendResult
from subscribers import portability
from subscribers.tokens import Links
from tests.subscribers.conftest import NOW

ROWS = 230  # five batches of 50 for a mailer with concurrency


def csv_file() -> bytes:
    rows = [f"leser{n}@stadt-esslingen.de,Leser {n}" for n in range(ROWS)]
    return ("email,name\n" + "\n".join(rows) + "\n").encode()


class ParallelMailer:
    """Answers every mail but one; the third batch fails as a whole. The first four
    calls wait until all four are in flight (a barrier: they fail if they never are)."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()
        self._together = threading.Barrier(concurrency, timeout=30)

    def send(self, messages: list[OutgoingEmail]) -> list[SendResult]:
        with self._lock:
            self.calls.append([m.to for m in messages])
            call = len(self.calls)
        if call <= self.concurrency:
            self._together.wait()
        if any(m.to == "leser100@stadt-esslingen.de" for m in messages):
            raise DeliveryError("SendGrid antwortet nicht", permanent=False)
        return [
            SendResult(m.reference, ok=m.to != "leser7@stadt-esslingen.de", error="abgelehnt")
            for m in messages
        ]


def run(services: Services, mailer: object) -> portability.ImportReport:
    return portability.import_csv(
        services.store, mailer, services.office(), services.taxonomy(), csv_file(),  # type: ignore[arg-type]
        links=Links.from_settings(services.settings), tz=services.settings.tz, now=NOW,
    )  # fmt: skip


def test_a_parallel_mailer_gets_batches_at_once_and_the_report_keeps_row_order(
    services: Services,
) -> None:
    mailer = ParallelMailer(concurrency=4)
    report = run(services, mailer)
    assert [len(c) for c in mailer.calls] == [50] * 4 + [30]
    sent = sorted(to for call in mailer.calls for to in call)
    assert sent == sorted(f"leser{n}@stadt-esslingen.de" for n in range(ROWS))  # once each
    assert report.pending == ROWS and report.mailed == ROWS - 50 - 1
    lines = [p.line for p in report.problems]
    assert lines == [9, *range(102, 152)]  # row 7, then the failed batch (rows 100–149)
    assert "abgelehnt" in report.problems[0].reason
    assert "SendGrid antwortet nicht" in report.problems[1].reason


@pytest.mark.parametrize("concurrency", [None, 1])
def test_any_other_mailer_gets_one_batch_after_the_other(
    services: Services, concurrency: int | None
) -> None:
    class Outbox:
        def __init__(self) -> None:
            self.calls: list[int] = []
            self.threads: set[str] = set()

        def send(self, messages: list[OutgoingEmail]) -> list[SendResult]:
            self.calls.append(len(messages))
            self.threads.add(threading.current_thread().name)
            return [SendResult(m.reference, ok=True) for m in messages]

    mailer = Outbox()
    if concurrency is not None:
        mailer.concurrency = concurrency  # type: ignore[attr-defined]
    report = run(services, mailer)
    assert mailer.calls == [ROWS]  # one batch of up to 500
    assert mailer.threads == {threading.current_thread().name}
    assert report.mailed == ROWS and report.problems == []


def test_an_unexpected_error_reaches_the_caller_and_no_more_is_handed_over(
    services: Services,
) -> None:
    """Not a DeliveryError (a bug): it reaches the caller once its batch's answer is
    read; no batch is handed over after it (at most two per thread were ahead)."""

    class Broken:
        concurrency = 2

        def __init__(self) -> None:
            self.calls = 0
            self.lock = threading.Lock()

        def send(self, messages: list[OutgoingEmail]) -> list[SendResult]:
            with self.lock:
                self.calls += 1
                first = self.calls == 1
            if first:
                raise RuntimeError("kaputt")
            return [SendResult(m.reference, ok=True) for m in messages]

    mailer = Broken()
    with pytest.raises(RuntimeError, match="kaputt"):
        run(services, mailer)
    assert mailer.calls <= 4  # of 5 batches: at most two per thread were handed over
