"""Sending an edition through SendGrid: the CLI end to end against Prism, and bad input.

The end-to-end test runs `eudigest send ID` (pipeline.cli.main) with
EUDIGEST_MAIL_BACKEND=sendgrid and EUDIGEST_SENDGRID_HOST pointing at the recording
proxy in front of Prism, and checks every request that crossed the socket. The
failure tests run jobs.send with a SendGridMailer (recorded sleeps) against Prism
(`Prefer: code=…`) or a responder of our own that answers as SendGrid documents.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.deliver.send import SendStopped
from pipeline.deliver.sendgrid import SendGridMailer
from pipeline.model import DeliveryState, EditionState
from tests.deliver.conftest import Exchange, Peer, Reply, Respond, Scripted, Sleeps, at_ceiling
from tests.deliver.test_send import (
    BASE,
    HEADLINES,
    PROFILES,
    WANTED,
    add_subscriber,
    make_edition,
    three_profiles,
)
from tests.subscribers.conftest import environ, make_settings
from tests.web.conftest import NOW, Clock, make_services

KEY = "SG.e2e-test-key-never-logged"
# A fourth reader with the energy profile: shares a segment (and a request) with Anna.
SECOND_ENERGY = ("klima@landkreis-boeblingen.de", "Özlem Yılmaz", ("energy_climate",))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = make_services(settings, Clock())
    yield services
    services.close()


def use_sendgrid(services: Services, url: str, sleeps: Sleeps | None = None) -> SendGridMailer:
    mailer = SendGridMailer(
        KEY,
        host=url,
        timeout_s=30.0,  # Prism on a busy machine answers late; a timeout means unknown
        max_retries=2,
        backoff_s=1.0,
        sleep=sleeps if sleeps is not None else Sleeps(),
        jitter=at_ceiling,
        concurrency=1,  # one request at a time: which segment meets a failure is fixed
    )  # (requests in flight together: test_concurrent_send.py)
    services.mailer = mailer
    return mailer


def personalizations(exchanges: list[Exchange]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(request body, personalization) for every personalization that crossed."""
    return [(e.json(), p) for e in exchanges for p in e.json()["personalizations"]]


def sent_to(exchanges: list[Exchange], status: int = 202) -> Counter[str]:
    return Counter(
        p["to"][0]["email"]
        for e in exchanges
        if e.status == status
        for p in e.json()["personalizations"]
    )


def states(services: Services, edition_id: int) -> dict[str, DeliveryState]:
    return {
        services.store.subscribers.get(d.subscriber_id).email: d.state
        for d in services.store.deliveries.list(edition_id)
    }


def sendgrid_error(field: str | None, message: str) -> bytes:
    """A 400 body as SendGrid's Mail Send errors page shows it."""
    return json.dumps({"errors": [{"field": field, "message": message, "help": None}]}).encode()


# ------------------------------------------------------------------- end to end, CLI


def test_cli_send_through_sendgrid_end_to_end(
    services: Services,
    tmp_path: Path,
    peer: Peer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from pipeline.cli import main

    three_profiles(services)
    add_subscriber(services, *SECOND_ENERGY)
    add_subscriber(services, "unbestaetigt@gemeinde-weissach.de", "Paul Pending", confirmed=False)
    edition_id, _ = make_edition(services)
    env = environ(
        tmp_path,
        EUDIGEST_BASE_URL=BASE,
        EUDIGEST_MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY=KEY,
        EUDIGEST_SENDGRID_HOST=peer.url,
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)

    assert main(["send", str(edition_id), "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert (report["sent"], report["failed"], report["unknown"], report["skipped"]) == (4, 0, 0, 0)
    assert report["queued"] == 0 and report["editions"][0]["finished"] is True
    # Every request valid for SendGrid's spec; one per segment (3 segments, 4 readers).
    assert [e.status for e in peer.exchanges] == [202, 202, 202]
    for e in peer.exchanges:
        assert e.path == "/v3/mail/send"
        assert "sl-violations" not in e.response_headers, e.response_headers["sl-violations"]
        assert e.headers["authorization"] == f"Bearer {KEY}"
    # Each confirmed reader exactly once, the unconfirmed one never.
    wanted = {**WANTED, SECOND_ENERGY[0]: WANTED["energie@kommune-esslingen.de"]}
    assert sent_to(peer.exchanges) == Counter({a: 1 for a in wanted})
    ledger = {d.id: d for d in services.store.deliveries.list(edition_id)}
    names = [n for n, _ in PROFILES.values() if n] + [SECOND_ENERGY[1]]
    for body, p in personalizations(peer.exchanges):
        address = p["to"][0]["email"]
        html, text = body["content"][1]["value"], body["content"][0]["value"]
        for key, headline in HEADLINES.items():  # exactly their topics' items
            assert (headline in html) is (key in wanted[address]), (address, key)
            assert (headline in text) is (key in wanted[address]), (address, key)
        # Opaque ids only: no address, no name, nothing of either.
        args = p["custom_args"]
        assert set(args) == {"edition_id", "delivery_id"}
        assert args["edition_id"] == f"e{edition_id}"
        kept = json.dumps([args, body.get("categories")])
        assert "@" not in kept and address.split("@")[0] not in kept
        assert not any(part in kept for n in names for part in n.split())
        delivery = ledger[int(args["delivery_id"].removeprefix("d"))]
        assert services.store.subscribers.get(delivery.subscriber_id).email == address
        # Per-reader links and one-click unsubscribe travel as substitutions and headers.
        unsubscribe = p["substitutions"]["%%unsubscribe_url%%"]
        assert unsubscribe.startswith(f"{BASE}/abo/abmelden/")
        assert p["headers"]["List-Unsubscribe"].startswith(f"<{unsubscribe}>")
        assert p["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    greetings = {
        p["to"][0]["email"]: p["substitutions"]["%%greeting%%"]
        for _, p in personalizations(peer.exchanges)
    }
    assert greetings["energie@kommune-esslingen.de"] == "Guten Tag Anna Müller,"
    # Anna and Özlem share one request: the segment is rendered once.
    [shared] = [e for e in peer.exchanges if len(e.json()["personalizations"]) == 2]
    assert {p["to"][0]["email"] for p in shared.json()["personalizations"]} == {
        "energie@kommune-esslingen.de",
        SECOND_ENERGY[0],
    }
    assert set(states(services, edition_id).values()) == {DeliveryState.SENT}
    assert services.store.editions.get(edition_id).state is EditionState.SENT
    assert KEY not in caplog.text  # never logged

    # A second run sends nothing.
    assert main(["send", str(edition_id)]) == 2  # SENT: refused, says so
    assert main(["send-due", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sent"] == 0
    assert len(peer.exchanges) == 3


def test_cli_with_a_wrong_key_stops_and_leaves_everything_queued(
    services: Services,
    tmp_path: Path,
    peer: Peer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipeline.cli import main

    three_profiles(services)
    edition_id, _ = make_edition(services)
    env = environ(
        tmp_path,
        EUDIGEST_BASE_URL=BASE,
        EUDIGEST_MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY=KEY,
        EUDIGEST_SENDGRID_HOST=peer.url,
        EUDIGEST_SENDGRID_CONCURRENCY="1",  # the first refusal is the only request
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    peer.prefer("code=401")

    assert main(["send", str(edition_id)]) == 2

    err = capsys.readouterr().err
    assert "401" in err and "SENDGRID_API_KEY" in err and "3 still queued" in err
    assert KEY not in err
    assert len(peer.exchanges) == 1  # the first refusal stops the run
    assert set(states(services, edition_id).values()) == {DeliveryState.QUEUED}
    assert services.store.editions.get(edition_id).state is EditionState.HALTED
    assert "halted" in err and f"`eudigest send {edition_id}`" in err

    peer.prefer(None)  # the operator fixed the key
    assert main(["send-due", "--json"]) == 0  # a halted edition waits for a person
    assert json.loads(capsys.readouterr().out)["sent"] == 0
    assert main(["send", str(edition_id), "--json"]) == 0  # resumes it
    assert json.loads(capsys.readouterr().out)["sent"] == 3
    assert sent_to(peer.exchanges) == Counter({a: 1 for a in PROFILES})


# ------------------------------------------------------------------- bad input, jobs.send


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_fails_nobody(services: Services, peer: Peer, status: int) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    use_sendgrid(services, peer.url)
    peer.prefer(f"code={status}")
    with pytest.raises(SendStopped, match=f"SendGrid answered {status}"):
        jobs.send(services, edition_id)
    assert [e.status for e in peer.exchanges] == [status]
    counts = services.store.deliveries.counts(edition_id)
    assert counts["queued"] == 3 and counts["failed"] == 0 and counts["sending"] == 0


def test_a_400_naming_one_personalization_fails_only_that_one(
    services: Services, responder: Callable[[Respond], Scripted]
) -> None:
    addresses = [f"leser{k}@gemeinde{k}.example.org" for k in range(5)]
    for a in addresses:
        add_subscriber(services, a)  # all topics: one segment, one request
    edition_id, _ = make_edition(services)
    refused = addresses[3]

    def answer(ex: Exchange, n: int) -> tuple[int, dict[str, str], bytes]:
        emails = [p["to"][0]["email"] for p in ex.json()["personalizations"]]
        first_edition = (
            ex.json()["personalizations"][0]["custom_args"]["edition_id"] == f"e{edition_id}"
        )
        if refused in emails and first_edition:
            field = f"personalizations.{emails.index(refused)}.to.0.email"
            return 400, {}, sendgrid_error(field, "Does not contain a valid address.")
        return 202, {"X-Message-Id": f"msg{n}"}, b""

    server = responder(answer)
    use_sendgrid(services, server.url)

    report = jobs.send(services, edition_id)

    assert (report.sent, report.failed, report.finished) == (4, 1, True)
    assert [e.status for e in server.exchanges] == [400, 202]
    assert sent_to(server.exchanges) == Counter({a: 1 for a in addresses if a != refused})
    [row] = services.store.deliveries.list(edition_id, DeliveryState.FAILED)
    assert services.store.subscribers.get(row.subscriber_id).email == refused
    assert "Does not contain a valid address" in (row.error or "")
    # A send-time refusal never suppresses: only the Event Webhook's bounces do.
    assert refused in {s.email for s in services.store.subscribers.confirmed_for("weekly")}
    second = make_edition(services)[0]
    jobs.send(services, second)
    assert refused in sent_to(server.exchanges[2:])


def test_a_400_about_the_whole_request_fails_its_recipients(
    services: Services, responder: Callable[[Respond], Scripted]
) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    server = responder(
        lambda ex, n: (400, {}, sendgrid_error("from.email", "The from address does not match"))
    )
    use_sendgrid(services, server.url)
    report = jobs.send(services, edition_id)
    assert report.failed == 3 and report.sent == 0 and report.finished
    assert len(server.exchanges) == 3  # one per segment, no resend of the same request
    for row in services.store.deliveries.list(edition_id):
        assert "from.email: The from address does not match" in (row.error or "")


def test_413_splits_the_request(
    services: Services, responder: Callable[[Respond], Scripted]
) -> None:
    addresses = [f"leser{k}@gemeinde{k}.example.org" for k in range(5)]
    for a in addresses:
        add_subscriber(services, a)
    edition_id, _ = make_edition(services)
    server = responder(
        lambda ex, n: (413, {}, b"") if len(ex.json()["personalizations"]) > 2 else (202, {}, b"")
    )
    use_sendgrid(services, server.url)

    report = jobs.send(services, edition_id)

    assert report.sent == 5 and report.finished
    sizes = [(len(e.json()["personalizations"]), e.status) for e in server.exchanges]
    assert sizes == [(5, 413), (2, 202), (3, 413), (1, 202), (2, 202)]
    assert sent_to(server.exchanges) == Counter({a: 1 for a in addresses})


def test_413_for_a_single_reader_means_the_content_is_too_large(
    services: Services, peer: Peer
) -> None:
    addresses = [f"leser{k}@gemeinde{k}.example.org" for k in range(5)]
    for a in addresses:
        add_subscriber(services, a)
    edition_id, _ = make_edition(services)
    use_sendgrid(services, peer.url)
    peer.prefer("code=413")
    report = jobs.send(services, edition_id)
    assert report.failed == 5 and report.finished
    assert [len(e.json()["personalizations"]) for e in peer.exchanges] == [5, 2, 1]


def test_500_is_retried_then_left_queued_for_the_next_run(services: Services, peer: Peer) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    sleeps = Sleeps()
    use_sendgrid(services, peer.url, sleeps)
    peer.prefer("code=500")

    report = jobs.send(services, edition_id)

    assert [e.status for e in peer.exchanges] == [500, 500, 500]  # one segment, then stop
    assert sleeps == [1.0, 2.0]
    assert (report.failed, report.unknown, report.queued, report.finished) == (0, 0, 3, False)
    peer.prefer(None)
    again = jobs.send(services, edition_id)
    assert again.sent == 3 and again.finished
    assert sent_to(peer.exchanges) == Counter({a: 1 for a in PROFILES})


def test_429_honours_retry_after_and_stops_the_run(
    services: Services, scripted: Callable[[list[Reply]], Scripted]
) -> None:
    three_profiles(services)
    edition_id, _ = make_edition(services)
    server = scripted([(429, {"Retry-After": "5"})])
    sleeps = Sleeps()
    use_sendgrid(services, server.url, sleeps)
    report = jobs.send(services, edition_id)
    assert len(server.exchanges) == 3 and sleeps == [5.0, 5.0]  # no other segment tried
    assert report.queued == 3 and report.failed == 0 and not report.finished


def test_a_timeout_is_unknown_and_never_resent(
    services: Services, scripted: Callable[[list[Reply]], Scripted]
) -> None:
    add_subscriber(services, "leser@gemeinde.example.org")
    edition_id, _ = make_edition(services)

    def late(release: Any) -> tuple[int, dict[str, str]]:
        release.wait(60)  # released by the test once the client gave up
        return 202, {}

    server = scripted([late])
    services.mailer = SendGridMailer(KEY, host=server.url, timeout_s=0.3, sleep=Sleeps())
    report = jobs.send(services, edition_id)
    server.release.set()
    assert report.unknown == 1 and report.finished
    assert len(server.exchanges) == 1
    services.store.editions.transition(
        edition_id,
        from_states=(EditionState.SENT,),
        to_state=EditionState.SENDING,
        actor="test",
        now=NOW + dt.timedelta(minutes=1),
    )
    jobs.send(services, edition_id)
    assert len(server.exchanges) == 1  # staff decide; never resent by itself


def test_an_address_sendgrid_would_refuse_affects_nobody_else(
    services: Services, peer: Peer
) -> None:
    three_profiles(services)
    add_subscriber(services, "bernd@müller-gmbh.de")  # SendGrid takes IDNs only as punycode
    edition_id, _ = make_edition(services)
    use_sendgrid(services, peer.url)
    report = jobs.send(services, edition_id)
    assert (report.sent, report.failed, report.finished) == (3, 1, True)
    assert sent_to(peer.exchanges) == Counter({a: 1 for a in PROFILES})
    assert all("sl-violations" not in e.response_headers for e in peer.exchanges)
    assert states(services, edition_id)["bernd@müller-gmbh.de"] is DeliveryState.FAILED


def test_claims_keep_segments_whole_one_request_each(services: Services, peer: Peer) -> None:
    three_profiles(services)
    twins = {f"zwei.{a}": (f"{name} II".strip(), topics) for a, (name, topics) in PROFILES.items()}
    for address, (name, topics) in twins.items():
        add_subscriber(services, address, name, topics)  # three segments of two readers
    edition_id, _ = make_edition(services)
    use_sendgrid(services, peer.url)

    report = jobs.send(services, edition_id, batch_size=3)  # every claim ends mid-segment

    assert report.sent == 6 and report.finished
    # never a segment split over two requests below the limit of a request
    assert [len(e.json()["personalizations"]) for e in peer.exchanges] == [2, 2, 2]
    assert sent_to(peer.exchanges) == Counter({a: 1 for a in [*PROFILES, *twins]})
