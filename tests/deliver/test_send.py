"""The sender over a real SQLite store and the outbox: each subscriber exactly once.

Crash tests run the sender in a child process that SIGKILLs itself at several
points (tests/deliver/crash_sender.py), then send again in-process and count the
.eml files per address.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.deliver.outbox import OutboxMailer
from pipeline.errors import InvalidTransition
from pipeline.model import (
    Batch,
    DeliveryState,
    EditionState,
    NewSubscriber,
    Profile,
    RecipientResult,
    SuppressionReason,
)
from subscribers.addresses import hash_of
from tests.subscribers.conftest import Outbox, environ, make_settings
from tests.web.conftest import NOW, Clock, make_services, seed_items

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://newsletter.region-stuttgart.example"

# Three profiles: energy only, funding only, everything (no topics chosen).
PROFILES = {
    "energie@kommune-esslingen.de": ("Anna Müller", ("energy_climate",)),
    "foerderung@uni-stuttgart.de": ("Jörg Weiß", ("funding",)),
    "alles@ihk-stuttgart.de": ("", ()),
}
HEADLINES = {
    "hydrogen": "Wasserstoffprojekte",
    "call": "urban mobility pilots",
    "cohesion": "Zukunft der Kohäsionspolitik",
}
WANTED = {
    "energie@kommune-esslingen.de": {"hydrogen"},
    "foerderung@uni-stuttgart.de": {"call"},
    "alles@ihk-stuttgart.de": {"hydrogen", "call", "cohesion"},
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = make_services(settings, Clock())
    yield services
    services.close()


@pytest.fixture
def outbox(settings: Settings) -> Outbox:
    return Outbox(settings.data_dir / "outbox")


def add_subscriber(
    services: Services,
    email: str,
    name: str = "",
    topics: tuple[str, ...] = (),
    *,
    confirmed: bool = True,
) -> int:
    profile = Profile(name=name, topics=topics, newsletters=("weekly",))
    new = NewSubscriber(
        email=email,
        email_hash=hash_of(email),
        profile=profile,
        consent_text="v1",
        consent_at=NOW if confirmed else None,
    )
    return services.store.subscribers.add(new, now=NOW).id


def make_edition(services: Services, *, approve: bool = True) -> tuple[int, dict[str, int]]:
    ids = seed_items(services.store).ids
    edition = services.store.editions.create(
        "weekly",
        title="KW 48",
        intro="Die Themen der Woche.",
        sections=[("Energie", [ids["hydrogen"]]), ("Förderung", [ids["call"], ids["cohesion"]])],
        actor="anna",
        now=NOW,
    )
    if approve:
        services.store.editions.transition(
            edition.id,
            from_states=(EditionState.DRAFT,),
            to_state=EditionState.APPROVED,
            actor="berta",
            now=NOW,
        )
    return edition.id, ids


def three_profiles(services: Services) -> None:
    for address, (name, topics) in PROFILES.items():
        add_subscriber(services, address, name, topics)


def per_address(outbox: Outbox) -> Counter[str]:
    return Counter(m.to for m in outbox.all())


def test_each_confirmed_subscriber_gets_exactly_their_items_once(
    services: Services, outbox: Outbox
) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)

    report = jobs.send(services, edition_id)

    assert (report.sent, report.failed, report.unknown, report.skipped) == (3, 0, 0, 0)
    assert report.finished
    assert per_address(outbox) == Counter({a: 1 for a in PROFILES})
    for address, wanted in WANTED.items():
        mail = outbox.last(address)
        for key, headline in HEADLINES.items():
            assert (headline in mail.text) is (key in wanted), (address, key)
            assert (headline in mail.html) is (key in wanted), (address, key)
        assert "%%" not in mail.text + mail.html + mail.subject
        unsubscribe = mail.link("/abo/abmelden/")
        assert mail.link("/abo/einstellungen/").startswith(f"{BASE}/abo/einstellungen/")
        assert mail.message["List-Unsubscribe"].startswith(f"<{unsubscribe}>")
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Guten Tag Anna Müller," in outbox.last("energie@kommune-esslingen.de").text
    assert "Guten Tag," in outbox.last("alles@ihk-stuttgart.de").text
    edition = services.store.editions.get(edition_id)
    assert edition.state is EditionState.SENT
    assert edition.sent_at is not None


def test_sending_again_sends_nothing(services: Services, outbox: Outbox) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    jobs.send(services, edition_id)
    with pytest.raises(InvalidTransition):
        jobs.send(services, edition_id)  # SENT: refused, nothing leaves
    assert outbox.count() == 3


def test_resuming_a_sending_edition_sends_nobody_twice(services: Services, outbox: Outbox) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    jobs.send(services, edition_id)
    # as if a second scheduler saw it still SENDING: rows are all sent, nothing is resent
    services.store.editions.transition(
        edition_id,
        from_states=(EditionState.SENT,),
        to_state=EditionState.SENDING,
        actor="test",
        now=NOW,
    )
    report = jobs.send(services, edition_id)
    assert report.sent == 3 and report.finished
    assert per_address(outbox) == Counter({a: 1 for a in PROFILES})


def test_pending_unsubscribed_and_suppressed_subscribers_get_nothing(
    services: Services, outbox: Outbox
) -> None:
    three_profiles(services)
    add_subscriber(services, "pending@example.org", confirmed=False)
    gone = add_subscriber(services, "weg@example.org")
    services.store.subscribers.unsubscribe(gone, None, now=NOW)
    add_subscriber(services, "bounce@example.org")
    services.store.subscribers.suppress(
        hash_of("bounce@example.org"), SuppressionReason.BOUNCE, now=NOW
    )
    assert {s.email for s in services.store.subscribers.confirmed_for("weekly")} == set(PROFILES)
    edition_id, _ = make_edition(services)

    report = jobs.send(services, edition_id)

    assert report.sent == 3
    assert set(per_address(outbox)) == set(PROFILES)


def test_a_subscriber_who_leaves_mid_send_is_skipped(services: Services, outbox: Outbox) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    # planned by a first run that stopped before claiming; then a reader unsubscribed
    readers = services.store.subscribers.confirmed_for("weekly")
    services.store.deliveries.plan(edition_id, [(s.id, "de-old") for s in readers], now=NOW)
    leaver = readers[0]
    services.store.subscribers.unsubscribe(leaver.id, None, now=NOW)

    report = jobs.send(services, edition_id)

    assert report.skipped == 1 and report.sent == 2
    assert leaver.email not in per_address(outbox)


def test_a_draft_cannot_be_sent(services: Services, outbox: Outbox) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services, approve=False)
    with pytest.raises(InvalidTransition):
        jobs.send(services, edition_id)
    assert outbox.count() == 0
    assert services.store.deliveries.counts(edition_id)["queued"] == 0


def test_send_due_sends_scheduled_editions_whose_time_has_come(
    services: Services, outbox: Outbox
) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    clock = services.clock
    assert isinstance(clock, Clock)
    services.store.editions.transition(
        edition_id,
        from_states=(EditionState.APPROVED,),
        to_state=EditionState.SCHEDULED,
        actor="anna",
        now=NOW,
        scheduled_at=NOW + dt.timedelta(hours=1),
    )
    assert jobs.send_due(services) == []
    assert outbox.count() == 0
    clock.advance(minutes=61)
    [report] = jobs.send_due(services)
    assert report.sent == 3 and report.edition_id == edition_id
    assert jobs.send_due(services) == []


# ---------------------------------------------------------------- kill -9


def many_subscribers(services: Services, n: int) -> list[str]:
    addresses = [f"leser{k:02d}@kommune{k:02d}.example.org" for k in range(n)]
    for a in addresses:
        add_subscriber(services, a)  # all topics: one segment
    return addresses


def crash(
    settings: Settings,
    tmp_path: Path,
    edition_id: int,
    batch: int,
    point: str,
    n: int,
    *,
    env: dict[str, str] | None = None,
) -> None:
    """tests.deliver.crash_sender in a child process, which must end by SIGKILL; `env`:
    its environment (default: this test's settings, mail to the outbox)."""
    env = {**(env or {**os.environ, **environ(tmp_path, EUDIGEST_BASE_URL=BASE)})}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.deliver.crash_sender",
            str(edition_id),
            str(batch),
            point,
            str(n),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]


@pytest.mark.parametrize(
    ("point", "n", "unknown"),
    [
        ("plan", 1, 0),  # killed inside the planning transaction: the next run plans whole
        ("start", 1, 0),  # killed before the first batch went to sending: nothing left
        ("start", 3, 0),  # two batches done, the third claimed: it goes back to the queue
        ("started", 2, 2),  # batch 2 committed as sending, request never left: unknown
        ("mail", 3, 2),  # batch 2 half written when killed: both rows unknown
        ("mail", 1, 2),  # the very first message written, then killed
    ],
)
def test_killed_sender_resumes_without_a_duplicate(
    services: Services,
    settings: Settings,
    outbox: Outbox,
    tmp_path: Path,
    point: str,
    n: int,
    unknown: int,
) -> None:
    addresses = many_subscribers(services, 7)
    edition_id, _ = make_edition(services)

    crash(settings, tmp_path, edition_id, 2, point, n)
    before = per_address(outbox)
    assert services.store.editions.get(edition_id).state is EditionState.SENDING
    if point == "plan":  # nothing of the plan was committed, nor the mark
        assert not services.store.deliveries.planned(edition_id)
        assert sum(services.store.deliveries.counts(edition_id).values()) == 0

    report = jobs.send(services, edition_id, batch_size=2)

    counts = per_address(outbox)
    assert max(counts.values()) == 1, counts  # nobody twice, ever
    assert report.unknown == unknown
    assert report.sent == len(addresses) - unknown
    assert report.finished
    rows = {
        services.store.subscribers.get(d.subscriber_id).email: d.state
        for d in services.store.deliveries.list(edition_id)
    }
    for address in addresses:
        if rows[address] is DeliveryState.SENT and address not in before:
            assert counts[address] == 1  # sent by the resumed run
        if counts[address] == 0:
            assert rows[address] is DeliveryState.UNKNOWN, address  # never resent silently
    for address, got in before.items():
        assert got == 1 and counts[address] == 1  # what left before the kill is not repeated
    assert sum(1 for s in rows.values() if s is DeliveryState.UNKNOWN) == unknown

    # A third run sends nothing; staff decide about the unknown rows.
    assert outbox.count() == sum(counts.values())
    if unknown:
        resent = services.store.deliveries.resolve_unknown(edition_id, resend=True, now=NOW)
        assert resent == unknown
        services.store.editions.transition(
            edition_id,
            from_states=(EditionState.SENT,),
            to_state=EditionState.SENDING,
            actor="staff",
            now=NOW,
        )
        jobs.send(services, edition_id, batch_size=2)
        final = per_address(outbox)
        assert set(final) == set(addresses)
        # the half-written batch's first message was delivered before the kill: the staff
        # chose to resend, so that one person gets it twice; the others exactly once
        assert sum(final.values()) == len(addresses) + (1 if point == "mail" else 0)


def test_cli_send_prints_the_counts_as_json(
    services: Services,
    outbox: Outbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from pipeline.cli import main

    three_profiles(services)
    edition_id, _ = make_edition(services)
    for key, value in environ(tmp_path, EUDIGEST_BASE_URL=BASE).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)

    assert main(["send", str(edition_id), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["sent"], data["failed"], data["unknown"], data["skipped"]) == (3, 0, 0, 0)
    assert data["editions"][0]["edition"] == edition_id
    assert main(["send-due", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sent"] == 0
    assert outbox.count() == 3


class RefusingOutbox(OutboxMailer):
    """The outbox, except that one address is refused (permanently or for now)."""

    def __init__(self, directory: Path, refused: str, *, permanent: bool) -> None:
        super().__init__(directory)
        self.refused, self.permanent = refused, permanent

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        kept = tuple(r for r in batch.recipients if r.email != self.refused)
        results = {r.email: r for r in super().send_batch(replace(batch, recipients=kept))}
        refusal = RecipientResult(
            self.refused, ok=False, error="400 bad address", permanent=self.permanent
        )
        return [results.get(r.email, refusal) for r in batch.recipients]


@pytest.mark.parametrize("permanent", [True, False])
def test_a_refused_address_affects_nobody_else(
    services: Services, settings: Settings, outbox: Outbox, permanent: bool
) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    refused = "foerderung@uni-stuttgart.de"
    services.mailer = RefusingOutbox(outbox.directory, refused, permanent=permanent)

    report = jobs.send(services, edition_id)

    if permanent:
        assert report.sent == 2
        assert set(per_address(outbox)) == set(PROFILES) - {refused}
        assert report.failed == 1 and report.finished
        [row] = services.store.deliveries.list(edition_id, DeliveryState.FAILED)
        assert row.error == "400 bad address"
        # a send-time refusal never suppresses: the address stays a recipient
        assert refused in {s.email for s in services.store.subscribers.confirmed_for("weekly")}
    else:  # transient: the run stops there (the backend is in trouble); nothing is lost
        assert report.failed == 0 and not report.finished
        assert report.sent + report.queued == 3 and report.queued >= 1
        assert refused not in per_address(outbox)
        services.mailer = OutboxMailer(outbox.directory)
        again = jobs.send(services, edition_id)
        assert again.sent == 3 and again.finished
        assert per_address(outbox) == Counter({a: 1 for a in PROFILES})
