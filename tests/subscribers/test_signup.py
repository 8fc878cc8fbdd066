"""Sign-up with double opt-in through the real pages, the real outbox and the links in it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask

from pipeline.bootstrap import Services
from pipeline.model import OrgType, SubscriberStatus, SuppressionReason
from pipeline.web import create_app
from subscribers.addresses import hash_of
from subscribers.signup import ADDRESS_LIMIT, CONSENT_VERSION, IP_LIMIT
from subscribers.tokens import Tokens
from tests.subscribers.conftest import (
    NOW,
    SECRET,
    Clock,
    Outbox,
    Visitor,
    make_settings,
    new_visitor,
    visible,
)

BERND = "bernd.mueller@landratsamt-bb.de"


def _subscriber(services: Services, address: str = BERND) -> Any:
    """The stored subscriber of an address, or None."""
    return services.store.subscribers.by_hash(hash_of(address))


def test_sign_up_mail_confirm_and_only_then_a_recipient(
    visitor: Visitor, services: Services, outbox: Outbox, clock: Clock
) -> None:
    response = visitor.sign_up(
        "Bernd.Mueller@Landratsamt-BB.de",
        name="Bernd Müller",
        organisation="Landratsamt Böblingen",
        org_type="landkreis",
        newsletters=["weekly", "daily"],
        topics=["funding", "mobility"],
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/abo/anmelden/danke"
    thanks = visible(visitor.get("/abo/anmelden/danke").text)
    assert "bitte bestätigen Sie Ihre Anmeldung" in thanks

    pending = _subscriber(services)
    assert pending is not None and pending.status is SubscriberStatus.PENDING
    assert (pending.name, pending.organisation, pending.org_type) == (
        "Bernd Müller",
        "Landratsamt Böblingen",
        OrgType.LANDKREIS,
    )
    assert services.store.subscribers.confirmed_for("weekly") == []

    mail = outbox.last(BERND)
    assert mail.subject == "Bitte bestätigen Sie Ihre Anmeldung zum EU-Newsletter"
    assert str(mail.message["From"]) == (
        "Europabüro der Region Stuttgart <europabuero@region-stuttgart.de>"
    )
    assert "Guten Tag Bernd Müller," in mail.text
    assert "Newsletter: EU-Wochenbrief, EU-Tagesüberblick" in mail.text
    assert "Themen: Förderprogramme, Mobilität" in mail.text
    assert "Rue Belliard 60, 1040 Brüssel" in mail.text  # the imprint
    assert "https://wrs.region-stuttgart.de/datenschutz" in mail.html
    link = mail.link("/abo/bestaetigen/")

    # Opening the link (what a mail scanner does) confirms nothing.
    clock.advance(hours=2)
    page = visitor.get(link)
    assert page.status_code == 200
    assert "Anmeldung bestätigen" in visible(page.text)
    assert _subscriber(services).status is SubscriberStatus.PENDING

    confirmed = visitor.post_from(page, link)
    assert confirmed.status_code == 303
    assert "/abo/einstellungen/" in confirmed.headers["Location"]
    prefs = visible(visitor.get(confirmed.headers["Location"]).text)
    assert "Vielen Dank! Ihre Anmeldung ist bestätigt." in prefs

    recipients = services.store.subscribers.confirmed_for("weekly")
    assert [s.email for s in recipients] == [BERND]
    assert [s.email for s in services.store.subscribers.confirmed_for("daily")] == [BERND]
    s = recipients[0]
    assert (s.consent_text, s.consent_at, s.confirmed_at) == (
        CONSENT_VERSION,
        NOW,
        NOW + dt.timedelta(hours=2),
    )


def test_the_confirm_link_clicked_again_changes_nothing_and_hands_out_no_link(
    app: Flask, visitor: Visitor, services: Services, outbox: Outbox, clock: Clock
) -> None:
    """Issue 14: a used confirm link handed out a fresh preference link for 7 days."""
    visitor.sign_up(BERND)
    link = outbox.last(BERND).link("/abo/bestaetigen/")
    page = visitor.get(link)
    assert visitor.post_from(page, link).status_code == 303
    first = _subscriber(services)
    clock.advance(days=1)
    for stranger in (visitor, new_visitor(app, "203.0.113.77")):
        again = stranger.get(link)
        assert again.status_code == 410
        text = visible(again.text)
        assert "Dieser Bestätigungslink wurde bereits verwendet." in text
        assert "/abo/einstellungen/" not in again.text
        assert 'href="/abo/link"' in again.text  # a new link by mail, to the address only
    pressed_again = visitor.post_from(page, link)  # the form of before, sent once more
    assert pressed_again.status_code == 410
    assert "/abo/einstellungen/" not in pressed_again.text
    assert "Location" not in pressed_again.headers
    assert _subscriber(services) == first


def test_a_second_sign_up_answers_alike_and_changes_nothing_until_confirmed(
    app: Flask, services: Services, outbox: Outbox, clock: Clock
) -> None:
    first = new_visitor(app)
    first.sign_up(BERND, topics=["funding"], org_type="landkreis", name="Bernd Müller")
    first.confirm(outbox.last(BERND).link("/abo/bestaetigen/"))
    before = _subscriber(services)
    assert before is not None and before.topics == ("funding",)
    clock.advance(days=30)

    # Someone (Bernd himself, or not) signs the same address up again with other choices;
    # a new address is signed up at the same time for comparison.
    again = new_visitor(app, "198.51.100.7").sign_up(
        "BERND.MUELLER@landratsamt-bb.de", topics=["energy_climate"], newsletters=["daily"],
        org_type="unternehmen", name="Mallory",
    )  # fmt: skip
    fresh = new_visitor(app, "198.51.100.8").sign_up(
        "anna.schmid@stadt-esslingen.de", topics=["energy_climate"], newsletters=["daily"],
        org_type="unternehmen", name="Mallory",
    )  # fmt: skip
    assert (again.status_code, again.headers["Location"]) == (
        fresh.status_code,
        fresh.headers["Location"],
    )
    assert again.get_data() == fresh.get_data()
    assert _subscriber(services) == before  # nothing changed yet

    mail = outbox.last(BERND)
    assert "Themen: Energie & Klima" in mail.text and "Newsletter: EU-Tagesüberblick" in mail.text
    clock.advance(minutes=5)
    assert (
        new_visitor(app, "203.0.113.5").confirm(mail.link("/abo/bestaetigen/")).status_code == 303
    )
    after = _subscriber(services)
    assert after is not None
    assert (after.topics, after.newsletters, after.org_type) == (
        ("energy_climate",),
        ("daily",),
        OrgType.UNTERNEHMEN,
    )
    assert after.name == "Bernd Müller"  # a name never travels in a link: kept as stored
    token = mail.link("/abo/bestaetigen/").rsplit("/", 1)[1]
    carried = Tokens(SECRET).read_confirm(token, now=clock()).profile
    assert carried is not None and (carried.name, carried.organisation) == ("", "")
    assert after.status is SubscriberStatus.CONFIRMED

    # Used once, the link cannot apply its choices again later.
    clock.advance(minutes=5)
    reused = new_visitor(app).get(mail.link("/abo/bestaetigen/"))
    assert reused.status_code == 410
    assert "bereits verwendet" in visible(reused.text)


def test_an_expired_confirm_link_is_refused_and_changes_nothing(
    visitor: Visitor, services: Services, outbox: Outbox, clock: Clock
) -> None:
    visitor.sign_up(BERND)
    link = outbox.last(BERND).link("/abo/bestaetigen/")
    page = visitor.get(link)
    clock.advance(days=7, minutes=1)
    for response in (visitor.get(link), visitor.post_from(page, link)):
        assert response.status_code == 410
        assert "abgelaufen (er gilt 7 Tage)" in visible(response.text)
    assert _subscriber(services).status is SubscriberStatus.PENDING


@pytest.mark.parametrize(
    "mangle",
    [
        lambda link: link[:-3] + "abc",
        lambda link: link.replace("/abo/bestaetigen/W", "/abo/bestaetigen/X"),
        lambda link: link.replace("/abo/bestaetigen/", "/abo/bestaetigen/x"),
    ],
)
def test_a_forged_confirm_link_is_refused(
    visitor: Visitor, services: Services, outbox: Outbox, mangle: object
) -> None:
    visitor.sign_up(BERND)
    link = mangle(outbox.last(BERND).link("/abo/bestaetigen/"))  # type: ignore[operator]
    response = visitor.get(link)
    assert response.status_code == 400
    assert "Dieser Link ist ungültig." in visible(response.text)
    assert _subscriber(services).status is SubscriberStatus.PENDING


def test_a_revoked_confirm_link_is_refused(
    visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    visitor.sign_up(BERND)
    link = outbox.last(BERND).link("/abo/bestaetigen/")
    page = visitor.get(link)
    services.store.subscribers.bump_token_version(_subscriber(services).id)
    response = visitor.post_from(page, link)
    assert response.status_code == 410
    assert "neuerer verschickt" in visible(response.text)
    assert _subscriber(services).status is SubscriberStatus.PENDING


def test_rate_limit_per_client_address(app: Flask, services: Services, outbox: Outbox) -> None:
    crowd = new_visitor(app, "192.0.2.50")
    for n in range(IP_LIMIT):
        assert crowd.sign_up(f"teilnehmer{n}@landratsamt-bb.de").status_code == 303
    refused = crowd.sign_up("noch.einer@landratsamt-bb.de")
    assert refused.status_code == 429
    assert "Von Ihrem Anschluss kamen in der letzten Stunde sehr viele Anmeldungen" in visible(
        refused.text
    )
    assert _subscriber(services, "noch.einer@landratsamt-bb.de") is None
    assert outbox.count() == IP_LIMIT
    # Another client is not affected.
    assert new_visitor(app, "192.0.2.51").sign_up("noch.einer@landratsamt-bb.de").status_code == 303


def test_rate_limit_per_address(
    app: Flask, services: Services, outbox: Outbox, clock: Clock
) -> None:
    for n in range(ADDRESS_LIMIT):
        assert new_visitor(app, f"192.0.2.{n + 1}").sign_up(BERND).status_code == 303
    refused = new_visitor(app, "192.0.2.99").sign_up(BERND)
    assert refused.status_code == 429
    assert "heute schon mehrere Bestätigungsmails" in visible(refused.text)
    assert len(outbox.to(BERND)) == ADDRESS_LIMIT
    clock.advance(days=1, minutes=1)
    assert new_visitor(app, "192.0.2.99").sign_up(BERND).status_code == 303
    assert len(outbox.to(BERND)) == ADDRESS_LIMIT + 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "bernd@landratsamt"}, "Bitte eine gültige E-Mail-Adresse angeben"),
        ({"email": "bernd@landratsamt-bb.de\r\nBcc: alle@example.org"}, "Steuerzeichen"),
        ({"email": "x" * 10_000 + "@landratsamt-bb.de"}, "zu lang"),
        ({"email": "müller@landratsamt-bb.de"}, "Umlaute"),
        ({"name": "B" * 10_000}, "Name: höchstens 200 Zeichen"),
        ({"organisation": "Ö" * 201}, "Organisation: höchstens 200 Zeichen"),
        ({"topics": ["funding", "astrology"]}, "Unbekanntes Thema „astrology“"),
        ({"newsletters": ["monthly"]}, "Unbekannter Newsletter „monthly“"),
        ({"newsletters": []}, "Bitte mindestens einen Newsletter wählen."),
        ({"org_type": "Geheimdienst"}, "Unbekannte Art der Organisation „geheimdienst“"),
        ({"language": "fr"}, "Bitte Deutsch oder Englisch wählen."),
    ],
)
def test_bad_input_gets_a_clear_error_and_nothing_is_stored(
    visitor: Visitor, services: Services, outbox: Outbox, fields: dict[str, object], message: str
) -> None:
    data: dict[str, object] = {"email": BERND, "newsletters": ["weekly"], **fields}
    response = visitor.submit("/abo/anmelden", data)
    assert response.status_code == 400
    text = visible(response.text)
    assert "Bitte prüfen Sie die markierten Angaben." in text
    assert message in text
    assert services.store.subscribers.counts()["pending"] == 0
    assert outbox.count() == 0


def test_the_form_keeps_what_was_typed_after_an_error(visitor: Visitor) -> None:
    response = visitor.submit(
        "/abo/anmelden",
        {
            "email": "bernd@",
            "name": "Bernd Müller",
            "topics": ["funding"],
            "newsletters": ["daily"],
        },
    )
    html = response.get_data(as_text=True)
    assert 'value="Bernd Müller"' in html
    assert 'value="funding" checked' in html and 'value="daily" checked' in html
    assert 'aria-invalid="true" aria-describedby="email-errors"' in html


def test_a_line_break_in_the_name_never_reaches_a_header(
    visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    visitor.sign_up(BERND, name="Bernd\r\nBcc: alle@example.org\r\n\r\nSpam")
    stored = _subscriber(services)
    assert stored is not None and stored.name == "Bernd Bcc: alle@example.org Spam"
    mail = outbox.last(BERND)
    assert mail.message["Bcc"] is None
    assert [str(v) for v in mail.message.get_all("To") or []] == [BERND]


def test_an_oversized_request_is_refused(visitor: Visitor, services: Services) -> None:
    response = visitor.submit("/abo/anmelden", {"email": BERND, "name": "x" * 2_000_000})
    assert response.status_code == 413
    assert _subscriber(services) is None


def test_a_sign_up_without_csrf_token_is_refused(visitor: Visitor, services: Services) -> None:
    response = visitor.client.post("/abo/anmelden", data={"email": BERND, "newsletters": "weekly"})
    assert response.status_code == 400
    assert _subscriber(services) is None


def test_an_erased_address_may_sign_up_anew_and_confirming_lifts_the_block(
    visitor: Visitor, services: Services, outbox: Outbox, clock: Clock
) -> None:
    visitor.sign_up(BERND)
    visitor.confirm(outbox.last(BERND).link("/abo/bestaetigen/"))
    old = _subscriber(services)
    assert old is not None
    services.store.subscribers.erase(old.id, now=clock())
    assert services.store.subscribers.suppression(hash_of(BERND)) is SuppressionReason.ERASED

    clock.advance(days=2)
    assert visitor.sign_up(BERND, newsletters=["daily"]).status_code == 303
    new = _subscriber(services)
    assert new is not None and new.status is SubscriberStatus.PENDING
    assert services.store.subscribers.suppression(hash_of(BERND)) is SuppressionReason.ERASED
    assert services.store.subscribers.confirmed_for("daily") == []

    visitor.confirm(outbox.last(BERND).link("/abo/bestaetigen/"))
    assert services.store.subscribers.suppression(hash_of(BERND)) is None
    assert [s.email for s in services.store.subscribers.confirmed_for("daily")] == [BERND]


def test_links_use_the_configured_public_address(services: Services, outbox: Outbox) -> None:
    services.settings = make_settings(
        services.settings.data_dir.parent,
        EUDIGEST_BASE_URL="https://newsletter.region-stuttgart.de",
    )
    app = create_app(services.settings, services)
    app.config["TESTING"] = True
    Visitor(app.test_client()).sign_up(BERND)
    link = outbox.last(BERND).link("/abo/bestaetigen/")
    assert link.startswith("https://newsletter.region-stuttgart.de/abo/bestaetigen/")
