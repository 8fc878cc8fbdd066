"""An edition's audience is planned once; a resend keeps it and the first send time.

The sender runs in-process over the outbox on SQLite and on PostgreSQL (the `store`
fixture). A crash is a mailer that raises in the middle of a send, after the ledger
committed the batch as sending, as a killed process would leave it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import curate, jobs
from pipeline.bootstrap import Services
from pipeline.catalog import load_taxonomy
from pipeline.config import Settings
from pipeline.curate import deliveries as decide
from pipeline.deliver.outbox import OutboxMailer
from pipeline.deliver.send import NotSendable
from pipeline.errors import InvalidTransition
from pipeline.model import Batch, EditionState, RecipientResult, Role, StaffUser
from pipeline.store import Store
from tests.deliver.test_send import (
    BASE,
    PROFILES,
    add_subscriber,
    make_edition,
    per_address,
    three_profiles,
)
from tests.subscribers.conftest import Outbox, environ, make_settings
from tests.web.conftest import EC_DE, EP_EN, NOW, Clock, make_services

NEWCOMER = "neu@landkreis-esslingen.de"
UNSURE = "foerderung@uni-stuttgart.de"  # the mailer leaves this one unknown
ANNA = StaffUser(1, "anna", Role.EDITOR)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)


@pytest.fixture
def services(settings: Settings, store: Store) -> Iterator[Services]:
    """The app's services on the `store` fixture's database (SQLite, PostgreSQL)."""
    services = make_services(settings, Clock())
    services.store.close()
    services.store = store
    store.topics.sync(load_taxonomy(settings.taxonomy_path))
    store.sources.register([EC_DE, EP_EN], now=NOW)
    yield services


@pytest.fixture
def outbox(settings: Settings) -> Outbox:
    return Outbox(settings.data_dir / "outbox")


class UnsureMailer(OutboxMailer):
    """The outbox, except that UNSURE times out after its request left (unknown)."""

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        kept = tuple(r for r in batch.recipients if r.email != UNSURE)
        results = {r.email: r for r in super().send_batch(replace(batch, recipients=kept))}
        timeout = RecipientResult(UNSURE, ok=False, unknown=True, error="timeout after send")
        return [results.get(r.email, timeout) for r in batch.recipients]


class CrashingMailer(OutboxMailer):
    """The outbox until its `crash_at`-th request, which dies (as a killed sender would)."""

    def __init__(self, directory: Path, crash_at: int) -> None:
        super().__init__(directory)
        self.crash_at, self.calls = crash_at, 0

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        self.calls += 1
        if self.calls == self.crash_at:
            raise RuntimeError("the sender died mid-request")
        return super().send_batch(batch)


def clock_of(services: Services) -> Clock:
    assert isinstance(services.clock, Clock)
    return services.clock


def sent_with_one_unknown(services: Services, outbox: Outbox) -> int:
    """An edition sent to the three profiles: two delivered, UNSURE unknown."""
    three_profiles(services)
    edition_id, _ = make_edition(services)
    services.mailer = UnsureMailer(outbox.directory)
    report = jobs.send(services, edition_id)
    services.mailer = OutboxMailer(outbox.directory)
    assert (report.sent, report.unknown, report.finished) == (2, 1, True)
    return edition_id


def ledger_addresses(services: Services, edition_id: int) -> set[str]:
    store = services.store
    return {store.subscribers.get(d.subscriber_id).email for d in store.deliveries.list(edition_id)}


# ---------------------------------------------------------------- the audience is planned once


def test_a_resend_sends_the_requeued_rows_only_never_to_newcomers(
    services: Services, outbox: Outbox
) -> None:
    edition_id = sent_with_one_unknown(services, outbox)
    clock_of(services).advance(hours=2)
    add_subscriber(services, NEWCOMER)  # confirmed after the edition went out
    done = decide.resolve_unknown(
        services.store, edition_id, delivery_ids=None, resend=True, actor=ANNA,
        now=services.clock(),
    )  # fmt: skip
    assert done.resumed
    before = per_address(outbox)

    [report] = jobs.send_due(services)

    assert per_address(outbox) - before == Counter({UNSURE: 1})
    assert NEWCOMER not in per_address(outbox)
    assert NEWCOMER not in ledger_addresses(services, edition_id)
    assert (report.sent, report.unknown, report.queued, report.finished) == (3, 0, 0, True)
    assert jobs.send_due(services) == []


def test_a_resume_after_a_crash_keeps_the_first_audience(
    services: Services, outbox: Outbox
) -> None:
    three_profiles(services)  # three profiles: three segments, one request each
    edition_id, _ = make_edition(services)
    services.mailer = CrashingMailer(outbox.directory, crash_at=2)
    with pytest.raises(RuntimeError, match="died"):
        jobs.send(services, edition_id)
    assert services.store.editions.get(edition_id).state is EditionState.SENDING
    assert services.store.deliveries.planned(edition_id)
    add_subscriber(services, NEWCOMER)  # confirmed while the send was interrupted
    services.mailer = OutboxMailer(outbox.directory)

    report = jobs.send(services, edition_id)

    assert NEWCOMER not in per_address(outbox)
    assert NEWCOMER not in ledger_addresses(services, edition_id)
    assert ledger_addresses(services, edition_id) == set(PROFILES)
    assert (report.sent, report.unknown, report.finished) == (2, 1, True)  # the one in flight
    assert max(per_address(outbox).values()) == 1


def test_the_next_edition_reaches_the_newcomer(services: Services, outbox: Outbox) -> None:
    sent_with_one_unknown(services, outbox)
    add_subscriber(services, NEWCOMER)
    second, _ = make_edition(services)
    report = jobs.send(services, second)
    assert report.sent == 4 and per_address(outbox)[NEWCOMER] == 1


# ---------------------------------------------------------------- sent_at is the first send's


def test_a_resend_keeps_the_first_send_time_and_is_in_the_audit_trail(
    services: Services, outbox: Outbox
) -> None:
    edition_id = sent_with_one_unknown(services, outbox)
    first = services.store.editions.get(edition_id).sent_at
    assert first == NOW
    clock_of(services).advance(days=1)
    decide.resolve_unknown(
        services.store, edition_id, delivery_ids=None, resend=True, actor=ANNA,
        now=services.clock(),
    )  # fmt: skip

    jobs.send_due(services)

    edition = services.store.editions.get(edition_id)
    assert edition.state is EditionState.SENT
    assert edition.sent_at == first
    latest = services.store.editions.audit(edition_id)[0]
    assert (latest.actor, latest.action) == ("sender", "edition.sent")
    assert latest.at == NOW + dt.timedelta(days=1)
    assert "Erneuter Versand abgeschlossen" in latest.detail
    firsts = [e for e in services.store.editions.audit(edition_id) if e.action == "edition.sent"]
    assert [e.detail for e in firsts][-1] == ""  # the first send's entry says nothing more


# ---------------------------------------------------------------- only approved editions go


def _draft_by(services: Services, how: str) -> int:
    edition_id, _ = make_edition(services, approve=how != "draft")
    store, now = services.store, services.clock()
    if how == "reopened":
        curate.reopen(store, edition_id, actor=ANNA, now=now)
    elif how == "unscheduled":
        curate.schedule(store, edition_id, send_at=now + dt.timedelta(hours=1), actor=ANNA, now=now)
        curate.unschedule(store, edition_id, actor=ANNA, now=now)
    assert store.editions.get(edition_id).state is EditionState.DRAFT
    return edition_id


@pytest.mark.parametrize("how", ["draft", "reopened", "unscheduled"])
def test_a_draft_is_refused_with_a_clear_message(
    services: Services, outbox: Outbox, how: str
) -> None:
    three_profiles(services)
    edition_id = _draft_by(services, how)
    with pytest.raises(NotSendable) as refused:
        jobs.send(services, edition_id)
    message = str(refused.value)
    assert message.startswith(f"edition {edition_id} is a draft")
    assert "approve it" in message and "nothing was sent" in message
    assert isinstance(refused.value, InvalidTransition)
    assert outbox.count() == 0
    assert services.store.deliveries.counts(edition_id)["queued"] == 0
    assert not services.store.deliveries.planned(edition_id)
    assert services.store.editions.get(edition_id).state is EditionState.DRAFT


def test_a_sent_edition_is_refused_with_a_clear_message(services: Services, outbox: Outbox) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    jobs.send(services, edition_id)
    with pytest.raises(NotSendable, match=f"edition {edition_id} was sent already"):
        jobs.send(services, edition_id)
    assert outbox.count() == 3


def test_send_due_skips_an_edition_stopped_after_it_was_listed(
    services: Services, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_profiles(services)
    store, now = services.store, services.clock()
    stopped, _ = make_edition(services)
    going, _ = make_edition(services)
    for edition_id in (stopped, going):
        curate.schedule(
            store, edition_id, send_at=now + dt.timedelta(minutes=5), actor=ANNA, now=now
        )
    clock_of(services).advance(minutes=10)
    listed = store.editions.list

    def list_then_stop(*args: object, **kwargs: object) -> object:
        found = listed(*args, **kwargs)  # type: ignore[arg-type]
        curate.unschedule(store, stopped, actor=ANNA, now=services.clock())  # staff, just now
        return found

    monkeypatch.setattr(store.editions, "list", list_then_stop)

    reports = jobs.send_due(services)

    assert [r.edition_id for r in reports] == [going]
    assert store.editions.get(stopped).state is EditionState.DRAFT
    assert store.deliveries.counts(stopped)["queued"] == 0
    assert outbox.count() == 3


def test_cli_refuses_a_draft_with_exit_2(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipeline.cli import main

    services = make_services(settings, Clock())  # the CLI's own database: the SQLite file
    try:
        three_profiles(services)
        edition_id = _draft_by(services, "reopened")
        for key, value in environ(tmp_path, EUDIGEST_BASE_URL=BASE).items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(tmp_path)

        assert main(["send", str(edition_id)]) == 2

        err = capsys.readouterr().err
        assert f"edition {edition_id} is a draft" in err and "nothing was sent" in err
        assert services.store.deliveries.counts(edition_id)["queued"] == 0
    finally:
        services.close()


def test_a_sender_that_fails_says_why_without_an_address(
    services: Services, outbox: Outbox
) -> None:
    """The reason a send ended is shown by `status` and the desk: never an address."""

    class Failing(OutboxMailer):
        def send_batch(self, batch: Batch) -> list[RecipientResult]:
            raise RuntimeError(f"the backend broke while sending to {batch.recipients[0].email}")

    three_profiles(services)
    edition_id, _ = make_edition(services)
    services.mailer = Failing(outbox.directory)
    with pytest.raises(RuntimeError):
        jobs.send(services, edition_id)
    [sender] = services.store.senders.list(edition_id)
    assert sender.outcome.value == "failed"
    assert sender.detail == "RuntimeError: the backend broke while sending to [email]"
    services.mailer = OutboxMailer(outbox.directory)
    report = jobs.send(services, edition_id)  # the failed sender's rows: recovered
    assert report.finished and report.sent + report.unknown == 3
