"""Issue 5's "done when", in one run through the operator's commands.

An edition is drafted in the store, then approved and scheduled with the CLI
(`edition approve`, `edition schedule --at`); `eudigest send-due` sends it through
SendGrid's published schema (Prism behind the recording proxy of tests/deliver); every
confirmed subscriber gets it once with exactly their topics; after that the edition is in
the public archive, its Atom feed and the deadline calendars, and `edition show` says
sent. The commands run on the test's clock: the edition is scheduled for an explicit
time an hour ahead, and goes out when the test has moved the clock past it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import feedparser
import icalendar
import pytest

from pipeline import bootstrap
from pipeline.bootstrap import Services
from pipeline.cli import main
from pipeline.compose.archive import slugify
from pipeline.config import Settings
from pipeline.web import create_app
from tests.deliver.conftest import Peer, _proxy, peer, prism_url  # noqa: F401 (fixtures)
from tests.deliver.test_send import BASE, HEADLINES, WANTED, add_subscriber, three_profiles
from tests.subscribers.conftest import environ, make_settings
from tests.web.conftest import Clock, make_services, seed_items

KEY = "SG.acceptance-key"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = make_services(settings, Clock())
    yield services
    services.close()


def cli_on_the_test_clock(services: Services, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The commands below run on the test's clock (injected where the CLI builds its
    services), not on the wall clock: the send time is an explicit one, and it comes
    when the test moves the clock, however long a command takes."""
    clock = services.clock
    assert isinstance(clock, Clock)
    real_build = bootstrap.build

    def build_on_the_clock(settings: Settings) -> Services:
        built = real_build(settings)
        built.clock = clock
        return built

    monkeypatch.setattr(bootstrap, "build", build_on_the_clock)
    return clock


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_an_approved_edition_reaches_each_reader_once_and_the_archive(
    services: Services,
    settings: Settings,
    tmp_path: Path,
    peer: Peer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    three_profiles(services)
    add_subscriber(services, "offen@gemeinde-weissach.de", "Paul Offen", confirmed=False)
    ids = seed_items(services.store).ids
    edition = services.store.editions.create(
        "weekly",
        title="EU-Wochenbrief KW 48",
        intro="Die Themen der Woche.",
        sections=[("Energie", [ids["hydrogen"]]), ("Förderung", [ids["call"], ids["cohesion"]])],
        actor="anna",
        now=services.clock(),
    )
    for key, value in environ(
        tmp_path,
        EUDIGEST_BASE_URL=BASE,
        EUDIGEST_MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY=KEY,
        EUDIGEST_SENDGRID_HOST=peer.url,
    ).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)

    clock = cli_on_the_test_clock(services, monkeypatch)
    assert run(capsys, "edition", "approve", str(edition.id))[0] == 0
    # Wednesday 25 November 2026, 09:30 in Brussels: an hour after the clock's 08:30 UTC
    assert run(capsys, "edition", "schedule", str(edition.id), "--at", "2026-11-25T10:30")[0] == 0
    assert json.loads(run(capsys, "send-due", "--json")[1])["sent"] == 0  # not due yet
    clock.advance(hours=1)
    code, out = run(capsys, "send-due", "--json")
    report = json.loads(out)

    assert code == 0
    assert (report["sent"], report["failed"], report["unknown"], report["skipped"]) == (3, 0, 0, 0)
    assert all("sl-violations" not in e.response_headers for e in peer.exchanges)
    received = Counter(
        p["to"][0]["email"] for e in peer.exchanges for p in e.json()["personalizations"]
    )
    assert received == Counter({address: 1 for address in WANTED})
    for e in peer.exchanges:
        html = e.json()["content"][1]["value"]
        readers = [p["to"][0]["email"] for p in e.json()["personalizations"]]
        for address in readers:
            for key, headline in HEADLINES.items():
                assert (headline in html) is (key in WANTED[address]), (address, key)
    # Nothing is due any more, and nobody gets a second mail.
    assert json.loads(run(capsys, "send-due", "--json")[1])["sent"] == 0
    code, out = run(capsys, "edition", "show", str(edition.id), "--json")
    shown = json.loads(out)
    assert shown["state"] == "sent"
    assert shown["deliveries"]["sent"] == 3

    # The public archive, its feed and the calendars now carry the edition.
    client = create_app(settings, services).test_client()
    index = client.get("/archiv/").get_data(as_text=True)
    assert "EU-Wochenbrief KW 48" in index
    page = client.get(f"/archiv/{edition.id}/{slugify(edition.title)}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert all(headline in body for headline in HEADLINES.values())
    assert not any(address in body for address in WANTED)  # nothing personal
    feed = feedparser.parse(client.get("/archiv/feed.atom").get_data())
    assert [entry.title for entry in feed.entries] == ["EU-Wochenbrief KW 48"]
    assert feed.entries[0].link.startswith(f"{BASE}/archiv/{edition.id}")
    calendar = icalendar.Calendar.from_ical(client.get("/fristen.ics").get_data())
    days = sorted(event.decoded("dtstart") for event in calendar.walk("VEVENT"))
    assert days == [dt.date(2027, 1, 31), dt.date(2027, 3, 15)]  # cohesion, hydrogen
    cohesion = icalendar.Calendar.from_ical(client.get("/fristen/cohesion.ics").get_data())
    assert [e.decoded("dtstart") for e in cohesion.walk("VEVENT")] == [dt.date(2027, 1, 31)]
