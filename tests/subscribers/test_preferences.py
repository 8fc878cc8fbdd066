"""The subscriber's own page, opened from the link in a mail: change, unsubscribe, GDPR."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from pipeline.bootstrap import Services
from pipeline.model import OrgType, Subscriber, SubscriberStatus, SuppressionReason
from subscribers.addresses import email_hash, hash_of
from tests.subscribers.conftest import Clock, Outbox, Visitor, new_visitor, visible
from tests.web.conftest import checked

BERND = "bernd.mueller@landratsamt-bb.de"


def _confirmed(visitor: Visitor, outbox: Outbox, **fields: object) -> str:
    """Sign up and confirm; returns the preference page's URL (where confirming leads)."""
    fields.setdefault("newsletters", ["weekly", "daily"])
    visitor.sign_up(BERND, **fields)
    response = visitor.confirm(outbox.last(BERND).link("/abo/bestaetigen/"))
    assert response.status_code == 303
    return response.headers["Location"]


def _get(services: Services) -> Subscriber:
    found = services.store.subscribers.by_hash(hash_of(BERND))
    assert found is not None
    return found


def test_change_topics_language_and_organisation(
    visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    prefs = _confirmed(visitor, outbox, topics=["funding"], name="Bernd Müller")
    page = visitor.get(prefs)
    assert checked(page.text, "topics") == {"funding"}
    assert checked(page.text, "newsletters") == {"weekly", "daily"}
    response = visitor.post_from(
        page,
        prefs,
        {
            "name": "Bernd Müller",
            "organisation": "Landratsamt Böblingen",
            "org_type": "landkreis",
            "language": "en",
            "newsletters": ["weekly"],
            "topics": ["mobility", "energy_climate"],
        },
    )
    assert response.status_code == 303
    after = visitor.get(prefs)
    assert "Ihre Einstellungen sind gespeichert." in visible(after.text)
    assert checked(after.text, "topics") == {"mobility", "energy_climate"}
    assert checked(after.text, "language") == {"en"}
    s = _get(services)
    assert (s.topics, s.newsletters, s.language, s.organisation, s.org_type) == (
        ("mobility", "energy_climate"),  # in taxonomy order
        ("weekly",),
        "en",
        "Landratsamt Böblingen",
        OrgType.LANDKREIS,
    )
    assert [x.email for x in services.store.subscribers.confirmed_for("daily")] == []


def test_bad_preferences_are_refused_and_nothing_changes(
    visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    prefs = _confirmed(visitor, outbox, topics=["funding"])
    before = _get(services)
    response = visitor.post_from(
        visitor.get(prefs), prefs, {"newsletters": ["weekly"], "topics": ["horoscope"]}
    )
    assert response.status_code == 400
    assert "Unbekanntes Thema „horoscope“" in visible(response.text)
    assert _get(services) == before


def test_unsubscribe_from_one_newsletter_then_from_all(
    visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    prefs = _confirmed(visitor, outbox)
    unsubscribe = prefs + "/abmelden"
    response = visitor.post_from(visitor.get(prefs), unsubscribe, {"newsletter": "daily"})
    assert response.status_code == 303
    assert "Sie sind vom EU-Tagesüberblick abgemeldet." in visible(visitor.get(prefs).text)
    store = services.store.subscribers
    assert [s.email for s in store.confirmed_for("weekly")] == [BERND]
    assert store.confirmed_for("daily") == []
    assert _get(services).status is SubscriberStatus.CONFIRMED

    response = visitor.post_from(visitor.get(prefs), unsubscribe, {"newsletter": "all"})
    assert response.status_code == 303
    page = visible(visitor.get(prefs).text)
    assert "Sie sind von allen Newslettern abgemeldet." in page
    assert "abgemeldet – Sie erhalten keinen Newsletter" in page
    assert store.confirmed_for("weekly") == []
    assert _get(services).status is SubscriberStatus.UNSUBSCRIBED


def test_choosing_no_newsletter_unsubscribes_and_choosing_one_again_resubscribes(
    visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    prefs = _confirmed(visitor, outbox)
    visitor.post_from(visitor.get(prefs), prefs, {"newsletters": [], "language": "de"})
    assert _get(services).status is SubscriberStatus.UNSUBSCRIBED
    assert "von allen abgemeldet" in visible(visitor.get(prefs).text)
    visitor.post_from(visitor.get(prefs), prefs, {"newsletters": ["daily"], "language": "de"})
    assert _get(services).status is SubscriberStatus.CONFIRMED
    assert [s.email for s in services.store.subscribers.confirmed_for("daily")] == [BERND]


def test_unsubscribing_from_a_newsletter_one_does_not_have_is_refused(
    visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    prefs = _confirmed(visitor, outbox, newsletters=["weekly"])
    response = visitor.post_from(visitor.get(prefs), prefs + "/abmelden", {"newsletter": "monthly"})
    assert response.status_code == 400
    assert "Diesen Newsletter gibt es nicht." in visible(response.text)
    assert _get(services).newsletters == ("weekly",)


def test_preference_changes_need_the_csrf_token(
    app: Flask, visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    prefs = _confirmed(visitor, outbox)
    before = _get(services)
    attacker = new_visitor(app, "203.0.113.66")
    for url, data in ((prefs, {"newsletters": []}), (prefs + "/abmelden", {"newsletter": "all"})):
        response = attacker.client.post(url, data=data)
        assert response.status_code == 400
        assert "Sicherheitsprüfung fehlgeschlagen" in visible(response.text)
    assert attacker.client.post(prefs + "/loeschen").status_code == 400
    assert _get(services) == before


def test_download_my_data(
    visitor: Visitor, services: Services, outbox: Outbox, clock: Clock
) -> None:
    prefs = _confirmed(
        visitor,
        outbox,
        name="Bernd Müller",
        organisation="Landratsamt Böblingen",
        org_type="landkreis",
        topics=["funding"],
    )
    response = visitor.post_from(visitor.get(prefs), prefs + "/daten")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="meine-newsletter-daten.json"'
    )
    data = json.loads(response.get_data(as_text=True))
    assert data["subscriber"]["email"] == BERND
    assert data["subscriber"]["name"] == "Bernd Müller"
    assert data["subscriber"]["organisation"] == "Landratsamt Böblingen"
    assert data["subscriber"]["organisation_type_label"] == "Landkreis"
    assert data["subscriber"]["status"] == "confirmed"
    assert data["consent"] == {
        "given_at": "2026-11-25T08:30:00+00:00",
        "text_version": "2026-11-v1",
        "confirmed_at": "2026-11-25T08:30:00+00:00",
    }
    assert data["subscriptions"] == [
        {"id": "daily", "name": "EU-Tagesüberblick"},
        {"id": "weekly", "name": "EU-Wochenbrief"},
    ]
    assert data["topics"] == [{"id": "funding", "label": "Förderprogramme"}]
    assert data["suppression"] is None
    assert data["export"]["controller"] == "Europabüro der Region Stuttgart"


def test_erase_me_asks_first_then_keeps_only_the_hash(
    visitor: Visitor, services: Services, outbox: Outbox, clock: Clock
) -> None:
    prefs = _confirmed(visitor, outbox, name="Bernd Müller")
    subscriber = _get(services)
    ask = visitor.get(prefs + "/loeschen")
    assert ask.status_code == 200
    assert "Ihre Daten löschen?" in visible(ask.text)
    assert _get(services) == subscriber  # asking changes nothing

    done = visitor.post_from(ask, prefs + "/loeschen")
    assert done.status_code == 200
    assert "Ihre Daten sind gelöscht." in visible(done.text)
    store = services.store.subscribers
    assert store.by_hash(hash_of(BERND)) is None
    assert store.suppression(email_hash(BERND)) is SuppressionReason.ERASED
    assert store.confirmed_for("weekly") == []
    exported = list(store.iter_all())
    assert exported == []
    # The old link leads nowhere now.
    gone = visitor.get(prefs)
    assert gone.status_code == 410
    assert "keine Anmeldung mehr" in visible(gone.text)

    # Signing up anew and confirming lifts the block.
    clock.advance(days=1)
    _confirmed(visitor, outbox)
    assert store.suppression(email_hash(BERND)) is None
    assert [s.email for s in store.confirmed_for("weekly")] == [BERND]


@pytest.mark.parametrize("status", ["confirmed", "unknown", "pending"])
def test_request_the_link_by_mail_answers_alike(
    app: Flask, services: Services, outbox: Outbox, status: str
) -> None:
    if status != "unknown":
        visitor = new_visitor(app)
        visitor.sign_up(BERND)
        if status == "confirmed":
            visitor.confirm(outbox.last(BERND).link("/abo/bestaetigen/"))
    sent_before = len(outbox.to(BERND))
    stranger = new_visitor(app, "198.51.100.20")
    response = stranger.submit("/abo/link", {"email": "Bernd.Mueller@Landratsamt-BB.de"})
    assert response.status_code == 200
    assert "Wenn diese Adresse bei uns eingetragen ist" in visible(response.text)
    mails = outbox.to(BERND)
    if status == "unknown":
        assert mails == []
        return
    assert len(mails) == sent_before + 1
    mail = mails[-1]
    if status == "pending":  # not confirmed yet: a new confirmation link instead
        assert mail.subject == "Bitte bestätigen Sie Ihre Anmeldung zum EU-Newsletter"
        return
    assert mail.subject == "Ihr Link zu den Newsletter-Einstellungen"
    page = stranger.get(mail.link("/abo/einstellungen/"))
    assert page.status_code == 200
    assert f"Adresse: {BERND}" in visible(page.text)


def test_request_link_with_a_bad_address(visitor: Visitor, outbox: Outbox) -> None:
    response = visitor.submit("/abo/link", {"email": "bernd@@x"})
    assert response.status_code == 400
    assert "gültige E-Mail-Adresse" in visible(response.text)
    assert outbox.count() == 0


def test_a_link_mailed_before_keyed_tags_still_opens_the_page_and_unsubscribes(
    app: Flask, visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    """Issue 14: links carried the plain SHA-256 of the address; the links mailed since carry
    a keyed tag, and the ones in mails already sent go on working (unsubscribing above all)."""
    from itsdangerous import URLSafeTimedSerializer

    from subscribers.tokens import legacy_address_tag

    _confirmed(visitor, outbox)
    s = _get(services)
    old = URLSafeTimedSerializer(app.secret_key, salt="eudigest.subscriber.manage").dumps(
        [s.id, s.token_version, legacy_address_tag(s)]
    )
    stranger = new_visitor(app, "203.0.113.8")
    assert stranger.get(f"/abo/einstellungen/{old}").status_code == 200
    assert stranger.client.post(f"/abo/abmelden/{old}").status_code == 200
    assert _get(services).status is SubscriberStatus.UNSUBSCRIBED
