"""A refused SendGrid key during `send-due`: stop every edition, and say clearly what happened.

Three editions are due. A SendGrid stand-in on loopback accepts the first edition's
request and answers the second's with 401, as SendGrid does when the key is revoked.
Proven for `jobs.send_due`, for `eudigest send-due` (exit 2, the first edition's counts
still printed) and for the scheduler's child process (the run fails with one line
naming the editions, and no key).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.curate.deliveries import resume_halted
from pipeline.deliver.send import SendDueStopped, SendStopped
from pipeline.deliver.sendgrid import SendGridMailer
from pipeline.model import DeliveryState, EditionState, Role, StaffUser
from pipeline.scheduler.cronfile import load_cron
from pipeline.scheduler.runner import ProcessExecutor
from tests.deliver.conftest import Exchange, Respond, Scripted
from tests.deliver.test_send import BASE, make_edition, three_profiles
from tests.subscribers.conftest import environ, make_settings
from tests.web.conftest import NOW, Clock, make_services

ROOT = Path(__file__).resolve().parents[2]
KEY = "SG.revoked-test-key-never-shown.abcdef"
LONG_AGO = NOW - dt.timedelta(days=1)
ANNA = StaffUser(id=1, name="anna", role=Role.EDITOR)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = make_services(settings, Clock())
    yield services
    services.close()


def three_due(services: Services) -> list[int]:
    """Three scheduled editions whose time has come (ids in ascending order)."""
    three_profiles(services)
    ids = []
    for _ in range(3):
        edition_id, _ = make_edition(services)
        services.store.editions.transition(
            edition_id,
            from_states=(EditionState.APPROVED,),
            to_state=EditionState.SCHEDULED,
            actor="anna",
            now=LONG_AGO,
            scheduled_at=LONG_AGO,
        )
        ids.append(edition_id)
    return ids


def refusing_from(second: int) -> Respond:
    """202 for editions before `second`, then 401 (the key was revoked meanwhile)."""

    def answer(ex: Exchange, n: int) -> tuple[int, dict[str, str], bytes]:
        edition = int(ex.json()["personalizations"][0]["custom_args"]["edition_id"][1:])
        if edition < second:
            return 202, {"X-Message-Id": f"m{n}"}, b""
        body = {"errors": [{"field": None, "message": "The provided authorization grant is "
                            "invalid, expired, or revoked", "help": None}]}  # fmt: skip
        return 401, {}, json.dumps(body).encode()

    return answer


def assert_outcome(services: Services, ids: list[int], server: Scripted) -> None:
    first, second, third = ids
    store = services.store
    assert store.editions.get(first).state is EditionState.SENT
    assert store.deliveries.counts(first)["sent"] == 3
    halted = store.editions.get(second)  # visible, with what to fix; staff resume it
    assert halted.state is EditionState.HALTED
    assert halted.halt_reason is not None and "SENDGRID_API_KEY" in halted.halt_reason
    assert "API-Schlüssel" in halted.halt_reason and KEY not in halted.halt_reason
    assert {d.state for d in store.deliveries.list(second)} == {DeliveryState.QUEUED}
    assert store.editions.get(third).state is EditionState.HALTED  # never tried, but told
    assert store.deliveries.counts(third)["queued"] == 0
    statuses = [e.status for e in server.exchanges]
    # one request per segment, then the refusal: the second edition's three segments go
    # out together (EUDIGEST_SENDGRID_CONCURRENCY), so up to all three meet the 401; no
    # request leaves after the sender has seen one
    assert statuses[:3] == [202, 202, 202] and set(statuses[3:]) == {401}, statuses
    assert 1 <= len(statuses[3:]) <= 3, statuses


def assert_one_clear_line(text: str, ids: list[int]) -> None:
    first, second, third = ids
    assert "\n" not in text.strip()
    assert f"send-due stopped at edition {second}: SendGrid answered 401" in text
    assert "SENDGRID_API_KEY" in text
    assert f"edition {second}: sent so far 0, 3 still queued, none marked failed" in text
    assert f"finished before it: edition {first} (sent 3, failed 0, unknown 0)" in text
    assert f"not tried: edition {third} (halted too)" in text
    assert "resume the halted editions from the desk" in text
    assert KEY not in text and "revoked-test-key" not in text


def test_send_due_stops_all_editions_and_keeps_what_went_before(
    services: Services, responder: Callable[[Respond], Scripted]
) -> None:
    ids = three_due(services)
    server = responder(refusing_from(ids[1]))
    services.mailer = SendGridMailer(KEY, host=server.url, timeout_s=30.0, sleep=lambda s: None)

    with pytest.raises(SendDueStopped) as stopped:
        jobs.send_due(services)

    assert isinstance(stopped.value, SendStopped)  # what `eudigest send` callers catch
    assert [r.edition_id for r in stopped.value.reports] == [ids[0]]
    assert stopped.value.reports[0].finished and stopped.value.reports[0].sent == 3
    assert (stopped.value.edition_id, stopped.value.untried) == (ids[1], [ids[2]])
    assert_one_clear_line(str(stopped.value), ids)
    assert_outcome(services, ids, server)

    # Halted editions wait for a person: the next run leaves them alone (no retry storm).
    assert jobs.send_due(services) == []
    # The operator fixes the key, staff resume both: the next run finishes them.
    server2 = responder(refusing_from(10**6))
    services.mailer = SendGridMailer(KEY, host=server2.url, timeout_s=30.0, sleep=lambda s: None)
    for edition_id in ids[1:]:
        resume_halted(services.store, edition_id, blockers=(), actor=ANNA, now=NOW)
    reports = jobs.send_due(services)
    assert [(r.edition_id, r.sent, r.finished) for r in reports] == [
        (ids[1], 3, True),
        (ids[2], 3, True),
    ]


def sendgrid_env(tmp_path: Path, url: str) -> dict[str, str]:
    return environ(
        tmp_path,
        EUDIGEST_BASE_URL=BASE,
        EUDIGEST_MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY=KEY,
        EUDIGEST_SENDGRID_HOST=url,
    )


def test_cli_send_due_prints_what_finished_then_exits_2(
    services: Services,
    tmp_path: Path,
    responder: Callable[[Respond], Scripted],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipeline.cli import main

    ids = three_due(services)
    server = responder(refusing_from(ids[1]))
    for key, value in sendgrid_env(tmp_path, server.url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)

    assert main(["send-due", "--json"]) == 2

    captured = capsys.readouterr()
    report = json.loads(captured.out)  # the edition that went out is not hidden
    assert [e["edition"] for e in report["editions"]] == [ids[0]]
    assert report["sent"] == 3 and report["editions"][0]["finished"] is True
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("error: send-due stopped at edition")
    assert_one_clear_line(last, ids)
    assert KEY not in captured.err
    assert_outcome(services, ids, server)


def test_the_scheduled_run_fails_with_one_clear_line(
    services: Services, tmp_path: Path, responder: Callable[[Respond], Scripted]
) -> None:
    ids = three_due(services)
    server = responder(refusing_from(ids[1]))
    job = load_cron(ROOT / "cron.yaml").get("send-due")
    assert job is not None
    env = {**os.environ, **sendgrid_env(tmp_path, server.url), "PYTHONPATH": str(ROOT)}
    env.pop("EUDIGEST_DATABASE_URL", None)

    result = ProcessExecutor(env)(job, "k", NOW, threading.Event())

    assert result.outcome == "failed"
    assert result.detail.startswith("pipeline.deliver.send.SendDueStopped: send-due stopped")
    assert_one_clear_line(result.detail, ids)
    assert len(result.detail) <= 500  # the runner keeps 500 characters: all of it fits
    assert KEY not in result.log
    assert_outcome(services, ids, server)
