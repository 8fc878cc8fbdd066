"""The preflight checker (pure): every blocking and every warning case on a fixture office."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from pipeline.config import Settings
from pipeline.curate import preflight
from pipeline.model import (
    Acknowledgement,
    Branding,
    Deadline,
    DeadlineKind,
    Edition,
    EditionSection,
    EditionState,
    Finding,
    Item,
    ItemStatus,
    LinkStatus,
    Newsletter,
    Office,
    PreflightCode,
    Priority,
    Reach,
)
from tests.compose.data import make_item

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
SHIPPED_PLACEHOLDER = "(Anschrift, Vertretungsberechtigte und Registergericht hier eintragen)"
OFFICE = Office(
    name="Europabüro der Region Stuttgart",
    newsletters=(Newsletter("weekly", "EU-Wochenbrief"),),
    sender_email="europabuero@region-stuttgart.de",
    privacy_url="https://wrs.region-stuttgart.de/datenschutz",
    imprint="Wirtschaftsförderung Region Stuttgart GmbH\nFriedrichstraße 10, 70174 Stuttgart",
)
SENDING = Settings(
    Path("/nonexistent"),
    "sqlite://",
    Path("sources.yaml"),
    Path("taxonomy.yaml"),
    secret_key="x" * 40,
    base_url="https://eudigest.region-stuttgart.de",
    mail_backend="sendgrid",
    sendgrid_api_key="SG.test",
)
OUTBOX = dataclasses.replace(SENDING, mail_backend="outbox", sendgrid_api_key=None)

A = make_item(1, "Wasserstoff-Förderung für Kommunen")
B = make_item(2, "Konsultation zur Kohäsionspolitik")


def edition(*sections: tuple[str, tuple[int, ...]], title: str = "EU-Wochenbrief 48") -> Edition:
    return Edition(
        id=7,
        newsletter_id="weekly",
        title=title,
        intro="Liebe Leserinnen und Leser,",
        state=EditionState.DRAFT,
        created_at=NOW,
        created_by="anna",
        sections=tuple(EditionSection(n + 1, t, n, ids) for n, (t, ids) in enumerate(sections)),
    )


GOOD = edition(("Im Fokus", (1,)), ("Förderung", (2,)))
ITEMS = {1: A, 2: B}


def codes(findings: tuple[Finding, ...] | list[Finding]) -> list[str]:
    return [f.code.value for f in findings]


def test_a_ready_edition_has_nothing_but_its_reach() -> None:
    found = preflight.check(
        GOOD, ITEMS, OFFICE, SENDING, today=TODAY, links={}, reach=Reach(1234, 312, 56)
    )
    assert found.blocking == () and not found.blocked
    assert [(f.code.value, f.message) for f in found.warnings] == [
        ("reach", "1.234 Leser, 312 Varianten; 56 bekommen nichts.")
    ]
    assert preflight.blocking_findings(GOOD, ITEMS, OFFICE, SENDING) == []


def test_the_shipped_imprint_placeholder_blocks() -> None:
    from pipeline.catalog import load_office

    shipped = load_office(ROOT / "office.yaml")
    assert SHIPPED_PLACEHOLDER in shipped.imprint  # what a fresh checkout ships
    found = preflight.check(GOOD, ITEMS, shipped, SENDING, today=TODAY)
    (imprint,) = found.blocking
    assert (imprint.code.value, imprint.subject) == ("office_placeholder", "office.imprint")
    assert SHIPPED_PLACEHOLDER in imprint.message and "office.yaml" in imprint.message


def test_every_office_setting_a_mail_needs_is_checked() -> None:
    office = dataclasses.replace(
        OFFICE,
        imprint="",
        privacy_url="",
        sender_email="newsletter@example.org",  # the code's default
        reply_to="TODO",
        branding=Branding(logo_url="https://example.com/logo.png"),
    )
    found = preflight.office_findings(office)
    assert all(f.blocking for f in found)
    assert [(f.code.value, f.subject) for f in found] == [
        ("office_placeholder", "office.sender_email"),
        ("office_placeholder", "office.reply_to"),
        ("office_empty", "office.imprint"),
        ("office_empty", "office.privacy_url"),
        ("office_placeholder", "branding.logo_url"),
    ]
    assert "das Impressum (office.imprint) fehlt" in found[2].message


def test_mail_settings_block_only_when_mails_go_out() -> None:
    plain = dataclasses.replace(SENDING, base_url="http://eudigest.example.net")
    assert codes(preflight.setup_findings(plain)) == ["base_url_not_https"]
    bare = dataclasses.replace(SENDING, base_url=None, secret_key=None, sendgrid_api_key=None)
    found = preflight.setup_findings(bare)
    assert codes(found) == ["base_url_missing", "secret_key_missing", "sendgrid_key_missing"]
    assert all(f.blocking for f in found)
    assert "EUDIGEST_BASE_URL" in found[0].message and "EUDIGEST_SECRET_KEY" in found[1].message
    # the outbox writes files nobody receives: the same findings, as warnings
    outbox = dataclasses.replace(OUTBOX, base_url=None, secret_key=None)
    found = preflight.check(GOOD, ITEMS, OFFICE, outbox, today=TODAY)
    assert found.blocking == ()
    assert codes(found.warnings) == ["base_url_missing", "secret_key_missing"]
    assert "Postausgang" in found.warnings[0].message


def test_an_empty_edition_and_empty_sections_block() -> None:
    empty = edition(("Im Fokus", ()), ("Termine", ()))
    assert codes(preflight.check(empty, {}, OFFICE, SENDING, today=TODAY).blocking) == [
        "edition_empty"
    ]
    gone = dataclasses.replace(B, status=ItemStatus.DELETED)
    half = edition(("Im Fokus", (1,)), ("Termine", ()), ("Förderung", (2,)), ("Alt", (99,)))
    found = preflight.check(half, {1: A, 2: gone}, OFFICE, SENDING, today=TODAY).blocking
    assert [(f.code.value, f.subject) for f in found] == [
        ("section_empty", "2"),
        ("section_empty", "3"),
        ("section_empty", "4"),
    ]
    assert "Der Abschnitt „Termine“ ist leer" in found[0].message
    assert "nur gelöschte oder abgelehnte" in found[1].message


def test_every_warning() -> None:
    past = make_item(
        3, "Aufruf Horizont Europa",
        deadlines=(Deadline(dt.date(2026, 11, 20), DeadlineKind.CALL_CLOSING, "Einreichfrist"),),
    )  # fmt: skip
    running = make_item(
        4, "Aufruf LIFE",
        deadlines=(
            Deadline(dt.date(2026, 11, 1), DeadlineKind.CALL_OPENING),
            Deadline(dt.date(2026, 12, 20), DeadlineKind.CALL_CLOSING),
        ),
    )  # fmt: skip
    english = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32024R1689"
    action = make_item(5, "Frist für Kommunen", priority=Priority.ACTION, comment="  ")
    commented = make_item(6, "Netzwerktreffen", comment=f"Der Text: {english}.")
    items: dict[int, Item] = {i.id: i for i in (A, past, running, action, commented)}
    long_title = (
        "EU-Wochenbrief 48/2026: Wasserstoff, Kohäsion, Digitales und alles andere auch noch"
    )
    assert len(long_title) > 78
    e = edition(("Im Fokus", (1, 3, 4)), ("Weitere", (5, 6)), title=long_title)
    earlier = dataclasses.replace(
        GOOD, id=3, title="EU-Wochenbrief 46", state=EditionState.SENT,
        sent_at=dt.datetime(2026, 11, 11, 7, 0, tzinfo=dt.UTC),
    )  # fmt: skip
    broken = A.url or ""
    found = preflight.check(
        e,
        items,
        OFFICE,
        SENDING,
        today=TODAY,
        sent_before={1: earlier},
        links={broken: LinkStatus(broken, False, "HTTP 404")},
        reach=Reach(2, 1, 1),
    )
    assert found.blocking == ()
    by_code = {f.code.value: f for f in found.warnings}
    assert list(by_code) == [
        "deadline_passed", "link_failed", "sent_before", "english_link",
        "action_without_comment", "subject_too_long", "reach",
    ]  # fmt: skip
    assert len(found.warnings) == 7  # one each: the running call's deadline is ahead
    assert by_code["deadline_passed"].message == (
        "„Aufruf Horizont Europa“: Einreichfrist am 20.11.2026 ist schon vorbei."
    )
    assert by_code["link_failed"].message == f"Der Link {broken} funktioniert nicht (HTTP 404)."
    assert by_code["sent_before"].message == (
        "„Wasserstoff-Förderung für Kommunen“ ging schon mit der Ausgabe „EU-Wochenbrief 46“ "
        "vom 11.11.2026 hinaus."
    )
    assert by_code["english_link"].subject == english
    assert "/DE/TXT/" in by_code["english_link"].message
    assert by_code["action_without_comment"].subject == "5"
    assert "78" in by_code["subject_too_long"].message
    assert by_code["reach"].message == "2 Leser, 1 Variante; 1 bekommt nichts."
    assert not any(f.blocking for f in found.warnings)


def test_an_acknowledged_warning_moves_aside_and_blocking_ones_cannot_be() -> None:
    found = preflight.check(GOOD, ITEMS, OFFICE, SENDING, today=TODAY, reach=Reach(0, 0, 0))
    (reach,) = found.warnings
    assert reach.message == "Kein bestätigter Leser: Die Ausgabe ginge an niemanden."
    seen = Acknowledgement(7, reach.key, "bernd", NOW)
    again = preflight.check(
        GOOD, ITEMS, OFFICE, SENDING, today=TODAY, reach=Reach(0, 0, 0), acknowledged=[seen]
    )
    assert again.warnings == () and again.acknowledged == ((reach, seen),)
    # the figure changed: the acknowledgement was for another one
    changed = preflight.check(
        GOOD, ITEMS, OFFICE, SENDING, today=TODAY, reach=Reach(5, 1, 0), acknowledged=[seen]
    )
    assert codes(changed.warnings) == ["reach"] and changed.acknowledged == ()
    assert changed.as_json()["warnings"] == [
        {"code": "reach", "message": "5 Leser, 1 Variante; alle bekommen Meldungen.",
         "subject": "5/1/0"},
    ]  # fmt: skip


def test_the_links_of_an_edition() -> None:
    german = make_item(
        8, "AI Act", language="en",
        url="https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32024R1689",
        comment="Mehr: https://example.eu/a, und https://example.eu/b.",
    )  # fmt: skip
    e = dataclasses.replace(edition(("Im Fokus", (8,))), intro="Siehe https://example.eu/a")
    assert preflight.edition_links(e, {8: german}) == [
        "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32024R1689",
        "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32024R1689",
        "https://example.eu/a",
        "https://example.eu/b",
    ]


def test_a_long_subject_is_named_by_its_hash_in_the_key() -> None:
    long_url = "https://ec.europa.eu/" + "a" * 700
    finding = Finding(PreflightCode.LINK_FAILED, "m", long_url)
    assert finding.key.startswith("link_failed:sha256:") and len(finding.key) < 100
    assert Finding(PreflightCode.REACH, "m", "1/1/0").key == "reach:1/1/0"
