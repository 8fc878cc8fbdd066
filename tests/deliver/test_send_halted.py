"""A send that cannot go on says so: the edition is halted with a German reason naming
what to change, shows under "Handlungsbedarf", and resumes after the fix, exactly once.

Two ways a send stops for a person to fix: a setting that makes every mail impossible
(EUDIGEST_BASE_URL on http://, no EUDIGEST_SECRET_KEY) stops it before anything is
planned; SendGrid refusing the key (401) stops it midway, after some segments went out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline import jobs, status
from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.curate.deliveries import resume_halted
from pipeline.deliver.send import SendBlocked, SendDueStopped, SendStopped
from pipeline.deliver.sendgrid import SendGridMailer
from pipeline.errors import InvalidInput
from pipeline.model import DeliveryState, EditionState, Role, StaffUser
from tests.deliver.conftest import Exchange, Respond, Scripted
from tests.deliver.test_send import PROFILES, make_edition, per_address, three_profiles
from tests.subscribers.conftest import Outbox, environ, make_settings
from tests.web.conftest import NOW, Clock, make_services

HTTP_BASE = "http://newsletter.region-stuttgart.example"
HTTPS_BASE = "https://newsletter.region-stuttgart.example"
KEY = "SG.halted-test-key-never-shown.abcdef"
ANNA = StaffUser(id=1, name="anna", role=Role.EDITOR)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=HTTP_BASE)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = make_services(settings, Clock())
    yield services
    services.close()


@pytest.fixture
def outbox(settings: Settings) -> Outbox:
    return Outbox(settings.data_dir / "outbox")


def scheduled(services: Services) -> int:
    """An approved edition for the three profiles, scheduled for an hour ago."""
    three_profiles(services)
    edition_id, _ = make_edition(services)
    services.store.editions.transition(
        edition_id,
        from_states=(EditionState.APPROVED,),
        to_state=EditionState.SCHEDULED,
        actor="anna",
        now=NOW - dt.timedelta(hours=2),
        scheduled_at=NOW - dt.timedelta(hours=1),
    )
    return edition_id


def actions(services: Services, edition_id: int) -> list[str]:
    return [a.action for a in services.store.editions.audit(edition_id)]


def test_an_http_base_url_halts_the_send_visibly_and_it_resumes_after_the_fix(
    services: Services, outbox: Outbox
) -> None:
    edition_id = scheduled(services)

    with pytest.raises(SendDueStopped) as stopped:
        jobs.send_due(services)

    assert isinstance(stopped.value.__cause__, SendBlocked)
    assert "EUDIGEST_BASE_URL must start with https://" in str(stopped.value)
    halted = services.store.editions.get(edition_id)
    assert halted.state is EditionState.HALTED  # never "Wird versandt" with nobody told
    assert halted.halt_reason is not None
    assert "EUDIGEST_BASE_URL muss mit https:// beginnen" in halted.halt_reason
    assert services.store.deliveries.counts(edition_id)["queued"] == 0  # nothing planned
    assert outbox.count() == 0

    # The scheduler's next runs leave it alone: no retry, no second history entry.
    assert jobs.send_due(services) == []
    assert jobs.send_due(services) == []
    assert actions(services, edition_id).count("edition.halted") == 1
    assert "edition.sending" not in actions(services, edition_id)

    # Handlungsbedarf: the status names the edition and what to change.
    report = status.collect(services.store, services.settings.cron_path, NOW)
    [problem] = [p for p in report.problems if p.check == "edition_halted"]
    assert problem.subject == str(edition_id)
    assert problem.message_de.startswith("Versand angehalten: Ausgabe „KW 48“")
    assert "EUDIGEST_BASE_URL" in problem.message_de and "EUDIGEST_BASE_URL" in problem.message

    # Resuming while the setting is still wrong changes nothing and says why.
    with pytest.raises(InvalidInput, match="EUDIGEST_BASE_URL muss mit https://"):
        resume_halted(
            services.store,
            edition_id,
            blockers=services.settings.send_blockers(),
            actor=ANNA,
            now=NOW,
        )
    assert services.store.editions.get(edition_id).state is EditionState.HALTED

    # The operator fixes the setting; staff press "Versand fortsetzen"; send-due sends.
    fixed = services.derive(settings=dataclasses.replace(services.settings, base_url=HTTPS_BASE))
    resumed = resume_halted(
        fixed.store, edition_id, blockers=fixed.settings.send_blockers(), actor=ANNA, now=NOW
    )
    assert resumed.state is EditionState.SENDING and resumed.halt_reason is None
    [report_sent] = jobs.send_due(fixed)
    assert report_sent.finished and report_sent.sent == 3
    assert per_address(outbox) == Counter({address: 1 for address in PROFILES})
    assert all(HTTPS_BASE in m.text and HTTP_BASE + "/" not in m.text for m in outbox.all())
    trail = actions(services, edition_id)
    assert trail.count("edition.sending") == 0  # resumed, not begun again
    assert trail[:3] == ["edition.sent", "edition.resumed", "edition.halted"]  # newest first
    assert jobs.send_due(fixed) == []


def test_no_secret_key_halts_the_send_naming_the_variable(
    services: Services, outbox: Outbox
) -> None:
    edition_id = scheduled(services)
    broken = services.derive(
        settings=dataclasses.replace(services.settings, base_url=HTTPS_BASE, secret_key=None)
    )

    with pytest.raises(SendBlocked, match="EUDIGEST_SECRET_KEY is not set") as stopped:
        jobs.send(broken, edition_id)

    assert "`eudigest send" in str(stopped.value)
    halted = services.store.editions.get(edition_id)
    assert halted.state is EditionState.HALTED
    assert halted.halt_reason is not None and "EUDIGEST_SECRET_KEY" in halted.halt_reason
    assert outbox.count() == 0


def test_cli_send_with_an_http_base_url_exits_2_naming_the_variable(
    services: Services,
    outbox: Outbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipeline.cli import main

    edition_id = scheduled(services)
    for key, value in environ(tmp_path, EUDIGEST_BASE_URL=HTTP_BASE).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)

    assert main(["send", str(edition_id)]) == 2

    err = capsys.readouterr().err
    assert "EUDIGEST_BASE_URL must start with https://" in err
    assert "halted" in err and "List-Unsubscribe-Post needs" not in err
    assert services.store.editions.get(edition_id).state is EditionState.HALTED
    assert outbox.count() == 0

    assert main(["edition", "show", str(edition_id)]) == 0
    assert "EUDIGEST_BASE_URL muss mit https:// beginnen" in capsys.readouterr().out

    assert main(["status"]) == 1  # Handlungsbedarf, for monitoring too
    captured = capsys.readouterr()
    assert f"edition {edition_id} halted: KW 48: EUDIGEST_BASE_URL muss" in captured.out
    [line] = [x for x in captured.err.splitlines() if "edition_halted" in x]
    assert f"edition {edition_id}: sending halted" in line and "EUDIGEST_BASE_URL" in line
    assert main(["status", "--json"]) == 1
    [due] = json.loads(capsys.readouterr().out)["editions_due"]
    assert due["state"] == "halted" and "EUDIGEST_BASE_URL" in due["halt_reason"]


def accepting_first(n_accepted: int) -> Respond:
    """202 for the first `n_accepted` requests, then 401 (the key was revoked meanwhile)."""

    def answer(ex: Exchange, n: int) -> tuple[int, dict[str, str], bytes]:
        if n < n_accepted:
            return 202, {"X-Message-Id": f"m{n}"}, b""
        body = {"errors": [{"message": "The provided authorization grant is invalid"}]}
        return 401, {}, json.dumps(body).encode()

    return answer


def accepted_addresses(*servers: Scripted) -> Counter[str]:
    """Every address SendGrid accepted (202) a message for, over all servers."""
    found: Counter[str] = Counter()
    for server in servers:
        for ex in server.exchanges:
            if ex.status == 202:
                for p in ex.json()["personalizations"]:
                    found.update(to["email"] for to in p["to"])
    return found


def test_a_key_refused_midway_halts_and_the_resumed_send_mails_nobody_twice(
    tmp_path: Path, responder: Callable[[Respond], Scripted]
) -> None:
    settings = make_settings(tmp_path, EUDIGEST_BASE_URL=HTTPS_BASE)
    services = make_services(settings, Clock())
    try:
        edition_id = scheduled(services)
        first = responder(accepting_first(2))  # two of the three segments go, then 401
        services.mailer = SendGridMailer(
            KEY, host=first.url, timeout_s=30.0, sleep=lambda s: 0, concurrency=1
        )

        with pytest.raises(SendStopped):
            jobs.send(services, edition_id)

        halted = services.store.editions.get(edition_id)
        assert halted.state is EditionState.HALTED
        assert halted.halt_reason is not None and "SENDGRID_API_KEY" in halted.halt_reason
        assert KEY not in halted.halt_reason
        counts = services.store.deliveries.counts(edition_id)
        assert (counts["sent"], counts["queued"]) == (2, 1)
        assert jobs.send_due(services) == []  # halted: waits for a person

        # The key is fixed, staff resume, the scheduler runs (twice: the second does nothing).
        second = responder(accepting_first(10**6))
        services.mailer = SendGridMailer(
            KEY, host=second.url, timeout_s=30.0, sleep=lambda s: 0, concurrency=1
        )
        resume_halted(services.store, edition_id, blockers=(), actor=ANNA, now=NOW)
        [report] = jobs.send_due(services)
        assert jobs.send_due(services) == []

        assert report.finished and report.sent == 3
        assert accepted_addresses(first, second) == Counter({a: 1 for a in PROFILES})
        assert len(second.exchanges) == 1  # only the segment that had not gone
        assert {d.state for d in services.store.deliveries.list(edition_id)} == {DeliveryState.SENT}
    finally:
        services.close()


def test_every_retry_of_a_sending_edition_is_not_a_new_start_in_the_history(
    services: Services,
) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    for _ in range(3):  # what each send-due run does with an interrupted send
        services.store.editions.transition(
            edition_id,
            from_states=(EditionState.APPROVED, EditionState.SENDING),
            to_state=EditionState.SENDING,
            actor="sender",
            now=NOW,
        )
    assert actions(services, edition_id).count("edition.sending") == 1
