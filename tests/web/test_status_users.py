"""The status page and staff accounts (admin only)."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from pipeline import curate
from pipeline.model import EditionState, ProcessRef, Role, SenderOutcome, StaffUser
from pipeline.store import Store
from tests.web.conftest import NOW, Clock, Desk, Seeded, visible


def test_status_shows_source_health_counts_and_editions(
    anna: Desk, items: Seeded, store: Store, staff: dict[str, StaffUser], clock: Clock
) -> None:
    store.sources.record_failure(
        "ep-en", now=NOW, error="HTTP 503 Service Unavailable", next_try=NOW + dt.timedelta(hours=2)
    )
    store.sources.record_success("ec-de", now=NOW, next_try=NOW, etag=None, last_modified=None)
    curate.create_edition(
        store,
        anna.client.application.extensions["eudigest"].office,
        "weekly",
        title="EU-Wochenbrief 48/2026",
        intro="",
        actor=staff["anna"],
        now=clock(),
    )
    html = anna.text("/desk/status")
    title = html[html.index("<title>") : html.index("</title>")]
    assert title.startswith("<title>Status – ") and "<" not in title[len("<title>") :]
    assert html.count("Lernen am Desk") == 1  # once, in the page, never in its title
    text = visible(html)
    assert "HTTP 503 Service Unavailable" in text
    assert (  # German first, the raw English error folded beside it
        "EP press releases European Parliament – Störung beim Server der Quelle; meist "
        "vorübergehend. 25.11.2026, 09:30 Technische Meldung HTTP 503 Service Unavailable "
        "1 25.11.2026, 11:30" in text
    )
    assert "Presseraum EU-Kommission European Commission 25.11.2026, 09:30 – 0" in text
    assert "Neue Meldungen pro Tag (14 Tage)" in text
    # jobs by their German label (cron.yaml's label_de), the id beside it
    assert "Quellen abrufen: werktags tagsüber alle 20 Minuten fetch-workday" in text
    assert "Fetch the sources every 20 minutes" not in text
    assert "25.11.2026 3" in text  # three items fetched today
    counts = html[
        html.index('id="chart-items"') : html.index("</figure>", html.index('id="chart-items"'))
    ]
    assert "12.11.2026 0" in visible(counts) and "11.11.2026" not in counts  # 14 days
    assert "EU-Wochenbrief 48/2026 EU-Wochenbrief Entwurf" in text


def test_users_page_is_admin_only(anna: Desk, admin: Desk, store: Store) -> None:
    bernd = store.users.by_name("bernd")
    assert bernd is not None
    for response in (
        anna.get("/desk/users"),
        anna.post("/desk/users", data={"name": "eve", "role": "admin", "password": "x" * 12}),
        anna.post(f"/desk/users/{bernd.id}/active", data={"active": "0"}),
    ):
        assert response.status_code == 403
        assert "Nur für die Administration." in visible(response.text)
    assert store.users.by_name("eve") is None and store.users.get(bernd.id).active
    assert "Konten" not in visible(anna.text("/desk/")).split("Abmelden")[0]
    html = admin.text("/desk/users")
    text = visible(html)
    assert "anna Redaktion aktiv" in text and "admin Administration aktiv" in text
    assert "Konten" in visible(admin.text("/desk/"))


def test_admin_adds_a_user_who_can_log_in(admin: Desk, app: Flask, store: Store) -> None:
    response = admin.post(
        "/desk/users", data={"name": "claudia", "role": "editor", "password": "Sehr-geheim-2026"}
    )
    assert response.status_code == 303
    user = store.users.by_name("claudia")
    assert user is not None and user.role is Role.EDITOR and user.active
    assert user.password_hash.startswith("$argon2id$")
    assert "Konto „claudia“ angelegt." in visible(admin.text("/desk/users"))
    assert Desk(app.test_client()).login("claudia", "Sehr-geheim-2026").status_code == 303


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "anna", "role": "editor", "password": "Sehr-geheim-2026"}, "gibt es schon"),
        ({"name": "neu", "role": "editor", "password": "kurz"}, "Mindestens 12 Zeichen."),
        ({"name": "Hans Wurst", "role": "editor", "password": "Sehr-geheim-2026"}, "Benutzernamen"),
        ({"name": "neu", "role": "king", "password": "Sehr-geheim-2026"}, "Keine gültige Auswahl."),
    ],
)
def test_bad_new_user_is_refused(
    admin: Desk, store: Store, data: dict[str, str], message: str
) -> None:
    before = len(store.users.list())
    response = admin.post("/desk/users", data=data)
    assert response.status_code == 400
    assert message in visible(response.text)
    assert len(store.users.list()) == before


def test_admin_deactivates_and_reactivates(admin: Desk, bernd: Desk, store: Store) -> None:
    user = store.users.by_name("bernd")
    assert user is not None
    response = admin.post(f"/desk/users/{user.id}/active", data={"active": "0"})
    assert response.status_code == 303
    assert not store.users.get(user.id).active
    assert bernd.client.get("/desk/").status_code == 302  # the session ended
    assert "bernd Redaktion deaktiviert" in visible(admin.text("/desk/users"))
    admin.post(f"/desk/users/{user.id}/active", data={"active": "1"})
    assert store.users.get(user.id).active


def test_admin_cannot_deactivate_themselves(admin: Desk, store: Store) -> None:
    me = store.users.by_name("admin")
    assert me is not None
    response = admin.post(f"/desk/users/{me.id}/active", data={"active": "0"})
    assert response.status_code == 400
    assert store.users.get(me.id).active


def test_status_shows_a_stopped_send_at_once(
    anna: Desk, items: Seeded, store: Store, staff: dict[str, StaffUser], clock: Clock
) -> None:
    """Issue 10: "Versand unterbrochen" as soon as a send stopped early, not an hour later."""
    edition = store.editions.create(
        "weekly", title="EU-Wochenbrief 48/2026", intro="", sections=[("A", [])], actor="a", now=NOW
    )
    for before, after in [
        (EditionState.DRAFT, EditionState.APPROVED),
        (EditionState.APPROVED, EditionState.SENDING),
    ]:
        store.editions.transition(
            edition.id, from_states=(before,), to_state=after, actor="t", now=NOW
        )
    store.deliveries.plan(edition.id, [(n, "s") for n in range(1, 1201)], now=NOW)
    sender = store.senders.join(
        edition.id, ProcessRef("host-a", 7, ""), now=NOW, lease_until=NOW + dt.timedelta(minutes=1)
    )
    store.senders.end(
        sender.id, SenderOutcome.STOPPED, now=NOW, detail="SendGrid answered 429", queued=1200
    )
    text = visible(anna.text("/desk/status"))
    assert (
        "Versand unterbrochen: Ausgabe „EU-Wochenbrief 48/2026“ – 1.200 Zustellungen warten: "
        "vorübergehende Störung beim Versand" in text
    )
    assert "der nächste Lauf setzt fort" in text


def test_admin_sees_a_throttled_name_and_lifts_it(
    app: Flask, anna: Desk, admin: Desk, store: Store
) -> None:
    stranger = Desk(app.test_client())
    stranger.client.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    for _ in range(5):
        stranger.login("bernd", "falsch-falsch-falsch")
    assert stranger.login("bernd").status_code == 429  # the right password, still blocked
    text = visible(admin.text("/desk/users"))
    assert "Anmeldung gesperrt bis 25.11.2026, 09:31" in text
    assert text.count("Anmeldung gesperrt") == 1  # bernd only
    bernd = store.users.by_name("bernd")
    assert bernd is not None
    refused = anna.post(f"/desk/users/{bernd.id}/sperre")
    assert refused.status_code == 403
    response = admin.post(f"/desk/users/{bernd.id}/sperre")
    assert response.status_code == 303
    text = visible(admin.text("/desk/users"))
    assert "Anmeldesperre für „bernd“ aufgehoben." in text
    assert "Anmeldung gesperrt" not in text
    assert stranger.login("bernd").status_code == 303
