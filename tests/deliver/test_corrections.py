"""Corrections reach exactly the readers who got the item, exactly once (issue 14).

A sent edition (tests/deliver/test_send.py's three profiles: energy, funding, all
topics) has its items in different readers' digests; a correction of one item must
reach exactly those whose delivery contained it and was sent: as a short mail now
(the same claim → start → record ledger, killed and resumed in a child process, on
SQLite and PostgreSQL), or as a block "Korrektur" at the top of their next digest
(frozen at planning, failed deliveries carry it over, never twice).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from pipeline import jobs, status
from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.curate.corrections import CorrectionRequest, correct_item, resolve_unknown
from pipeline.errors import Forbidden, InvalidInput
from pipeline.model import (
    CorrectionDelivery,
    EditionState,
    NoticeState,
    Profile,
    Role,
    StaffUser,
)
from pipeline.web import create_app
from tests.conftest import _pg_store
from tests.deliver.test_send import (
    BASE,
    PROFILES,
    add_subscriber,
    make_edition,
    per_address,
    three_profiles,
)
from tests.subscribers.conftest import Outbox, environ, make_settings
from tests.web.conftest import NOW, Clock, make_services

ROOT = Path(__file__).resolve().parents[2]
EDITOR = StaffUser(id=1, name="anna", role=Role.EDITOR)
VIEWER = StaffUser(id=2, name="gast", role=Role.EDITOR, active=False)
GOT_CALL = {"foerderung@uni-stuttgart.de", "alles@ihk-stuttgart.de"}
GOT_HYDROGEN = {"energie@kommune-esslingen.de", "alles@ihk-stuttgart.de"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        (tmp_path / "var").mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{tmp_path / 'var' / 'eudigest.db'}"
        return
    for store in _pg_store():
        yield store.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=BASE, EUDIGEST_DATABASE_URL=database_url)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = make_services(settings, Clock())
    yield services
    services.close()


@pytest.fixture
def outbox(settings: Settings) -> Outbox:
    return Outbox(settings.data_dir / "outbox")


def sent_edition(services: Services) -> tuple[int, dict[str, int]]:
    edition_id, ids = make_edition(services)
    report = jobs.send(services, edition_id)
    assert report.finished and report.sent == 3
    return edition_id, ids


def later(services: Services, minutes: float = 60) -> None:
    clock = services.clock
    assert isinstance(clock, Clock)
    clock.advance(minutes=minutes)


def correction_mails(outbox: Outbox) -> Counter[str]:
    return Counter(m.to for m in outbox.all() if "Korrektur" in m.subject)


def correct(
    services: Services,
    edition_id: int,
    item_id: int,
    delivery: CorrectionDelivery = CorrectionDelivery.MAIL,
    **changes: object,
) -> int:
    request = CorrectionRequest(
        reason=str(changes.pop("reason", "Der Aufruf wurde falsch zusammengefasst.")),
        delivery=delivery,
        **changes,  # type: ignore[arg-type]
    )
    result = correct_item(
        services.store, edition_id, item_id, request, actor=EDITOR, now=services.clock()
    )
    return result.correction.id


# ---------------------------------------------------------------- mail now


def test_a_correction_mail_reaches_exactly_who_got_the_item_once(
    services: Services, outbox: Outbox
) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    later(services)
    cid = correct(services, edition_id, ids["call"], headline="Aufruf: Pilotprojekte Mobilität")

    [report] = jobs.send_corrections(services)
    again = jobs.send_corrections(services)

    assert (report.sent, report.failed, report.unknown, report.queued) == (2, 0, 0, 0)
    assert again == []
    assert correction_mails(outbox) == Counter({a: 1 for a in GOT_CALL})
    mail = outbox.last("foerderung@uni-stuttgart.de")
    assert "Aufruf: Pilotprojekte Mobilität" in mail.text
    assert "Guten Tag Jörg Weiß," in mail.text
    assert "Grund: Der Aufruf wurde falsch zusammengefasst." in mail.text
    assert "Korrigiert am 25. November 2026" in mail.text
    assert f"{BASE}/archiv/{edition_id}#meldung-{ids['call']}" in mail.text
    assert mail.message["List-Unsubscribe"].startswith(f"<{BASE}/")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "%%" not in mail.text + mail.html
    counts = services.store.corrections.counts(cid)
    assert counts[NoticeState.SENT.value] == 2


def test_readers_who_did_not_get_the_item_get_nothing(services: Services, outbox: Outbox) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    add_subscriber(services, "neu@stadt-ludwigsburg.de")  # confirmed after the send
    correct(services, edition_id, ids["cohesion"], withdrawn=True)

    jobs.send_corrections(services)

    assert correction_mails(outbox) == Counter({"alles@ihk-stuttgart.de": 1})


def test_a_failed_delivery_of_the_edition_gets_no_correction(
    services: Services, outbox: Outbox
) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    _set_delivery(services, edition_id, "alles@ihk-stuttgart.de", "failed")
    correct(services, edition_id, ids["call"], headline="Neu")

    jobs.send_corrections(services)

    assert correction_mails(outbox) == Counter({"foerderung@uni-stuttgart.de": 1})


def test_an_edition_sent_before_segments_were_recorded_is_proven_where_it_can_be(
    services: Services, outbox: Outbox
) -> None:
    """Editions planned before migration 0018 have no delivery_segments: the segments are
    computed again, and only those whose key hashes to the ledger's are trusted."""
    from pipeline.store.schema import delivery_segments

    three_profiles(services)
    edition_id, ids = sent_edition(services)
    with services.store.engine.begin() as conn:
        conn.execute(sa.delete(delivery_segments))  # as if planned before 0018
    moved = services.store.subscribers.by_hash(_hash("foerderung@uni-stuttgart.de"))
    assert moved is not None
    services.store.subscribers.update_profile(
        moved.id,
        Profile(name=moved.name, topics=("energy_climate",), newsletters=("weekly",)),
        now=services.clock(),
    )  # fmt: skip  (their key no longer matches: their delivery cannot be proven)
    request = CorrectionRequest(
        headline="Richtig", reason="Falscher Fonds.", delivery=CorrectionDelivery.MAIL
    )

    result = jobs.correct(services, edition_id, ids["call"], request, actor=EDITOR)
    jobs.send_corrections(services)

    assert result.unattributed == 1
    assert "Bei 1 Zustellung dieser Ausgabe ist nicht sicher bekannt" in result.message
    assert result.correction.receivers == 1
    assert correction_mails(outbox) == Counter({"alles@ihk-stuttgart.de": 1})


def test_a_reader_who_unsubscribed_since_is_skipped(services: Services, outbox: Outbox) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    cid = correct(services, edition_id, ids["call"], headline="Neu")
    gone = services.store.subscribers.by_hash(_hash("alles@ihk-stuttgart.de"))
    assert gone is not None
    services.store.subscribers.unsubscribe(gone.id, "weekly", now=services.clock())

    [report] = jobs.send_corrections(services)

    assert (report.sent, report.skipped) == (1, 1)
    assert correction_mails(outbox) == Counter({"foerderung@uni-stuttgart.de": 1})
    assert services.store.corrections.counts(cid)[NoticeState.SKIPPED.value] == 1


def test_send_due_sends_the_correction_mails(services: Services, outbox: Outbox) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    correct(services, edition_id, ids["hydrogen"], link="https://ec.europa.eu/richtig")

    assert jobs.send_due(services) == []
    jobs.send_due(services)

    assert correction_mails(outbox) == Counter({a: 1 for a in GOT_HYDROGEN})
    assert (
        "Richtiger Link: https://ec.europa.eu/richtig"
        in outbox.last("energie@kommune-esslingen.de").text
    )


# ---------------------------------------------------------------- kill -9, then resume


def crash(settings: Settings, tmp_path: Path, database_url: str, point: str, n: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EUDIGEST_")}
    env.update(environ(tmp_path, EUDIGEST_BASE_URL=BASE, EUDIGEST_DATABASE_URL=database_url))
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.deliver.crash_corrections", "1", point, str(n)],
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
        ("started", 1, 1),  # the first notice committed as sending, request never left
        ("mail", 3, 1),  # the third mail written, its outcome not recorded
        ("mail", 1, 1),  # the very first mail written, then killed
    ],
)
def test_a_killed_correction_sender_resumes_without_a_duplicate(
    services: Services,
    settings: Settings,
    outbox: Outbox,
    tmp_path: Path,
    database_url: str,
    point: str,
    n: int,
    unknown: int,
) -> None:
    readers = [f"leser{k}@kommune{k}.example.org" for k in range(7)]
    for address in readers:
        add_subscriber(services, address)  # all topics: everyone got every item
    add_subscriber(services, "energie@kommune-esslingen.de", "", ("energy_climate",))
    edition_id, ids = make_edition(services)
    assert jobs.send(services, edition_id).sent == 8
    cid = correct(services, edition_id, ids["call"], headline="Richtig: Pilotprojekte")

    crash(settings, tmp_path, database_url, point, n)
    before = correction_mails(outbox)
    [report] = jobs.send_corrections(services, batch_size=1)

    counts = correction_mails(outbox)
    assert max(counts.values()) == 1, counts  # nobody twice, ever
    assert set(counts) <= set(readers)  # the energy reader never got the call
    assert report.unknown == unknown
    assert report.sent == len(readers) - unknown
    assert report.queued == 0
    states = {n.subscriber_id: n.state for n in services.store.corrections.notices(cid)}
    for address in readers:
        sid = _subscriber_id(services, address)
        if counts[address] == 0:
            assert states[sid] is NoticeState.UNKNOWN, address  # never resent silently
    for address, got in before.items():
        assert got == 1 and counts[address] == 1
    assert jobs.send_corrections(services) == []  # unknown ones wait for staff


def test_the_command_line_mirrors_the_desk(
    services: Services, outbox: Outbox, tmp_path: Path, database_url: str
) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EUDIGEST_")}
    env.update(environ(tmp_path, EUDIGEST_BASE_URL=BASE, EUDIGEST_DATABASE_URL=database_url))
    eudigest = str(Path(sys.executable).with_name("eudigest"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [eudigest, *args], env=env, cwd=tmp_path, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip

    done = run(
        "edition", "correct", str(edition_id), "--item", str(ids["hydrogen"]),
        "--deadline", "2027-03-15=2027-03-22", "--reason", "Die Frist wurde verlängert.",
        "--delivery", "mail", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"receivers": 2' in done.stdout
    assert "2 Lesern geht sie als kurze Mail zu" in done.stderr
    refused = run("edition", "correct", str(edition_id), "--item", str(ids["call"]),
                  "--reason", "x")  # fmt: skip
    assert refused.returncode != 0 and "nichts geändert" in refused.stderr
    assert run("send-due").returncode == 0

    assert correction_mails(outbox) == Counter({a: 1 for a in GOT_HYDROGEN})
    text = outbox.last("energie@kommune-esslingen.de").text
    assert "Frist: 15. März 2027 → 22. März 2027" in text


def test_staff_queue_unknown_correction_mails_again(
    services: Services, settings: Settings, outbox: Outbox, tmp_path: Path, database_url: str
) -> None:
    """Killed after `start` committed, before the request: the notice is unknown; staff
    choose "Erneut senden" and the next run sends exactly it."""
    readers = [f"leser{k}@kommune{k}.example.org" for k in range(4)]
    for address in readers:
        add_subscriber(services, address)
    edition_id, ids = make_edition(services)
    jobs.send(services, edition_id)
    cid = correct(services, edition_id, ids["call"], headline="Richtig")
    crash(settings, tmp_path, database_url, "started", 2)
    [report] = jobs.send_corrections(services, batch_size=1)
    assert (report.sent, report.unknown) == (3, 1)
    # the status page and `eudigest status` say so until staff decide
    unknown = status.collect(services.store, settings.cron_path, NOW).problems
    assert [(p.check, p.subject) for p in unknown if p.check.startswith("corr")] == [
        ("corrections_unknown", str(edition_id))
    ]
    assert any("1 Korrekturmail mit unbekanntem Ausgang" in p.message_de for p in unknown)

    with pytest.raises(Forbidden):
        resolve_unknown(services.store, cid, resend=True, actor=VIEWER, now=NOW)
    assert resolve_unknown(services.store, cid, resend=True, actor=EDITOR, now=NOW) == 1
    [report] = jobs.send_corrections(services)

    assert (report.sent, report.unknown) == (4, 0)
    assert correction_mails(outbox) == Counter({a: 1 for a in readers})
    after = status.collect(services.store, settings.cron_path, NOW).problems
    assert all(p.check != "corrections_unknown" for p in after)
    actions = [e.action for e in services.store.editions.audit(edition_id)]
    assert "correction.resend" in actions


# ---------------------------------------------------------------- next edition


def second_edition(services: Services, item_ids: list[int], title: str = "KW 49") -> int:
    edition = services.store.editions.create(
        "weekly", title=title, intro="", sections=[("Neu", item_ids)], actor="anna",
        now=services.clock(),
    )  # fmt: skip
    services.store.editions.transition(
        edition.id,
        from_states=(EditionState.DRAFT,),
        to_state=EditionState.APPROVED,
        actor="berta",
        now=services.clock(),
    )
    return edition.id


def test_the_next_digest_carries_the_block_once_and_only_to_who_got_the_item(
    services: Services, outbox: Outbox
) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    later(services)
    correct(
        services,
        edition_id,
        ids["call"],
        CorrectionDelivery.NEXT,
        headline="Aufruf: Pilotprojekte für städtische Mobilität",
        reason="Die Überschrift nannte den falschen Fonds.",
    )
    assert jobs.send_corrections(services) == []  # nothing goes as a mail
    start = outbox.count()
    later(services, 60 * 24 * 7)
    second = second_edition(services, [ids["cohesion"]])

    report = jobs.send(services, second)

    mails = outbox.all()[start:]
    with_block = {m.to for m in mails if "KORREKTUR" in m.text}
    assert with_block == GOT_CALL
    # the funding reader had nothing in KW 49: the digest is the block alone
    assert {m.to for m in mails} == GOT_CALL
    assert report.sent == 2
    mail = outbox.last("alles@ihk-stuttgart.de")
    assert mail.text.index("KORREKTUR") < mail.text.index("Zukunft der Kohäsionspolitik")
    assert "Die Überschrift nannte den falschen Fonds." in mail.text
    assert "Korrigiert am 25. November 2026" in mail.text
    assert "Korrektur" in mail.html and "Aufruf: Pilotprojekte" in mail.html

    later(services, 60 * 24 * 7)
    third = second_edition(services, [ids["hydrogen"], ids["cohesion"]], title="KW 50")
    jobs.send(services, third)
    assert not [m for m in outbox.all()[start + 2 :] if "KORREKTUR" in m.text]  # never twice


def test_a_later_digest_with_the_item_shows_the_corrected_link_and_deadline(
    services: Services, outbox: Outbox
) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    correct(services, edition_id, ids["hydrogen"], link="https://ec.europa.eu/richtig",
            deadline_old="2027-03-15 deadline", deadline_new=dt.date(2027, 1, 4))  # fmt: skip
    second = second_edition(services, [ids["hydrogen"]])
    start = outbox.count()

    jobs.send(services, second)

    [mail] = [m for m in outbox.all()[start:] if m.to == "energie@kommune-esslingen.de"]
    assert "https://ec.europa.eu/richtig" in mail.text
    assert "4. Januar 2027" in mail.text and "15. März 2027" not in mail.text


def test_a_failed_digest_carries_the_block_over_to_the_one_after(
    services: Services, outbox: Outbox
) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    correct(services, edition_id, ids["call"], CorrectionDelivery.NEXT, headline="Neu")
    second = second_edition(services, [ids["cohesion"]])
    jobs.send(services, second)
    _set_delivery(services, second, "alles@ihk-stuttgart.de", "failed")
    start = outbox.count()

    third = second_edition(services, [ids["cohesion"]], title="KW 50")
    jobs.send(services, third)

    with_block = [m.to for m in outbox.all()[start:] if "KORREKTUR" in m.text]
    assert with_block == ["alles@ihk-stuttgart.de"]


def test_a_resumed_send_keeps_the_frozen_block(services: Services, outbox: Outbox) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    second = second_edition(services, [ids["cohesion"]])
    # frozen at planning: a correction made while KW 49 is being sent is for KW 50
    store = services.store
    assert store.corrections.notes_for(second, [1, 2, 3]) == {}
    store.deliveries.plan(second, [(3, "x")], now=services.clock())
    correct(services, edition_id, ids["call"], CorrectionDelivery.NEXT, headline="Neu")
    assert store.corrections.notes_for(second, [1, 2, 3]) == {}


# ---------------------------------------------------------------- archive and calendars


def client_of(services: Services, settings: Settings) -> FlaskClient:
    app = create_app(settings, services)
    app.config["TESTING"] = True
    return app.test_client()


def events_of(data: bytes) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}


def test_the_archive_page_shows_the_correction_with_its_date(
    services: Services, settings: Settings
) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    later(services, 60 * 24 * 11)  # 6 December 2026
    correct(
        services,
        edition_id,
        ids["call"],
        headline="Aufruf: Pilotprojekte für städtische Mobilität",
        link="https://cinea.ec.europa.eu/aufruf-richtig",
        reason="Die Überschrift nannte den falschen Fonds.",
    )
    correct(services, edition_id, ids["cohesion"], withdrawn=True, reason="Doppelt gemeldet.")
    client = client_of(services, settings)

    page = client.get(f"/archiv/{edition_id}", follow_redirects=True).get_data(as_text=True)

    assert "Korrigiert am <time" in page
    assert re.search(
        r"Korrigiert am <time[^>]*>6\. Dezember 2026</time>:</strong> Überschrift:", page
    )
    assert "Grund: Die Überschrift nannte den falschen Fonds." in page
    assert 'href="https://cinea.ec.europa.eu/aufruf-richtig"' in page
    assert "Zurückgezogen" in page and "Grund: Doppelt gemeldet." in page
    assert "Diese Ausgabe wurde nach dem Versand korrigiert" in page


def test_the_calendar_moves_a_corrected_deadline_and_cancels_a_withdrawn_item(
    services: Services, settings: Settings
) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    client = client_of(services, settings)
    host = "newsletter.region-stuttgart.example"
    uid = f"frist-{ids['hydrogen']}-20270315-deadline@{host}"
    cohesion = f"frist-{ids['cohesion']}-20270131-consultation_end@{host}"
    before = events_of(client.get("/fristen.ics").data)
    assert "SEQUENCE" not in before[uid] and "STATUS" not in before[cohesion]

    later(services)
    correct(services, edition_id, ids["hydrogen"], deadline_old="2027-03-15 deadline",
            deadline_new=dt.date(2027, 3, 22), reason="Die Frist wurde verlängert.")  # fmt: skip
    correct(services, edition_id, ids["cohesion"], withdrawn=True, reason="Doppelt gemeldet.")
    after = events_of(client.get("/fristen.ics").data)

    moved = after[uid]  # the same UID: clients update the event instead of adding one
    assert moved.decoded("DTSTART") == dt.date(2027, 3, 22)
    assert int(moved["SEQUENCE"]) == 1
    assert moved.decoded("DTSTAMP") > before[uid].decoded("DTSTAMP")
    assert "Montag, 22. März 2027" in str(moved["DESCRIPTION"])
    assert str(after[cohesion]["STATUS"]) == "CANCELLED"
    assert int(after[cohesion]["SEQUENCE"]) == 1
    assert str(after[cohesion]["SUMMARY"]).startswith("Zurückgezogen – ")
    assert set(after) == set(before)

    later(services)
    correct(services, edition_id, ids["hydrogen"], deadline_old="2027-03-22 deadline",
            deadline_new=dt.date(2027, 3, 29), reason="Noch einmal verlängert.")  # fmt: skip
    again = events_of(client.get("/fristen.ics").data)[uid]
    assert again.decoded("DTSTART") == dt.date(2027, 3, 29) and int(again["SEQUENCE"]) == 2


# ---------------------------------------------------------------- rules


def test_only_a_sent_edition_and_its_own_items_are_corrected(services: Services) -> None:
    three_profiles(services)
    draft, ids = make_edition(services, approve=False)
    with pytest.raises(InvalidInput, match="Nur eine versandte Ausgabe"):
        correct(services, draft, ids["call"], headline="Neu")
    edition_id, _ = sent_edition(services)
    with pytest.raises(InvalidInput, match="nichts geändert"):
        correct(services, edition_id, ids["call"])
    with pytest.raises(InvalidInput, match="Grund"):
        correct(services, edition_id, ids["call"], headline="Neu", reason="  ")
    with pytest.raises(InvalidInput, match="https://"):
        correct(services, edition_id, ids["call"], link="javascript:alert(1)")
    with pytest.raises(InvalidInput, match="Frist gibt es"):
        correct(services, edition_id, ids["call"], deadline_old="2027-03-15 deadline",
                deadline_new=dt.date(2027, 3, 22))  # fmt: skip
    viewer = StaffUser(id=2, name="gast", role=Role.EDITOR, active=False)
    with pytest.raises(Forbidden):
        correct_item(
            services.store, edition_id, ids["call"],
            CorrectionRequest(headline="x", reason="y"), actor=viewer, now=NOW,
        )  # fmt: skip
    correct(services, edition_id, ids["call"], withdrawn=True)
    with pytest.raises(InvalidInput, match="bereits zurückgezogen"):
        correct(services, edition_id, ids["call"], withdrawn=True)


def test_the_correction_is_audited_and_changes_the_annotation(services: Services) -> None:
    three_profiles(services)
    edition_id, ids = sent_edition(services)
    correct(services, edition_id, ids["call"], headline="Richtige Überschrift",
            comment="Neue **Einordnung**.")  # fmt: skip
    item = services.store.items.get(ids["call"])
    assert item.annotation is not None
    assert item.annotation.headline == "Richtige Überschrift"
    assert item.annotation.comment_md == "Neue **Einordnung**."
    actions = [(e.action, e.actor) for e in services.store.editions.audit(edition_id)]
    assert ("edition.corrected", "anna") in actions


# ---------------------------------------------------------------- helpers


def _hash(address: str) -> str:
    from subscribers.addresses import hash_of

    return hash_of(address)


def _subscriber_id(services: Services, address: str) -> int:
    found = services.store.subscribers.by_hash(_hash(address))
    assert found is not None
    return found.id


def _set_delivery(services: Services, edition_id: int, address: str, state: str) -> None:
    from pipeline.store.schema import deliveries

    sid = _subscriber_id(services, address)
    with services.store.engine.begin() as conn:
        conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.edition_id == edition_id, deliveries.c.subscriber_id == sid)
            .values(state=state)
        )


assert PROFILES  # the three profiles of test_send.py
assert per_address
