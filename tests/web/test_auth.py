"""Login, logout, lockout, sessions, the login wall around /desk/, headers and cookies."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask

from pipeline.store import Store
from pipeline.web import create_app
from tests.web.conftest import PASSWORD, Clock, Desk, csrf_token, make_services, make_settings

# Every desk URL, with the method it answers to (ids need not exist: the wall comes first).
DESK_URLS = [
    ("GET", "/desk/"),
    ("GET", "/desk/subscribers/"),
    ("GET", "/desk/subscribers/export.csv"),
    ("GET", "/desk/subscribers/1/daten.json"),
    ("GET", "/desk/subscribers/1/loeschen"),
    ("POST", "/desk/subscribers/1/loeschen"),
    ("GET", "/desk/?q=Wasserstoff&status=all"),
    ("POST", "/desk/items/bulk"),
    ("POST", "/desk/items/undo"),
    ("POST", "/desk/items/1/triage"),
    ("POST", "/desk/items/1/edition"),
    ("POST", "/desk/items/1/later"),
    ("POST", "/desk/ansichten"),
    ("GET", "/desk/ansichten/1"),
    ("POST", "/desk/ansichten/1/rename"),
    ("POST", "/desk/ansichten/1/delete"),
    ("GET", "/desk/items/1"),
    ("POST", "/desk/items/1/annotation"),
    ("POST", "/desk/items/1/status"),
    ("POST", "/desk/items/1/topics"),
    ("POST", "/desk/items/1/eligibility"),
    ("GET", "/desk/items/new"),
    ("POST", "/desk/items/new"),
    ("GET", "/desk/status"),
    ("GET", "/desk/users"),
    ("POST", "/desk/users"),
    ("POST", "/desk/users/1/active"),
    ("GET", "/desk/password"),
    ("POST", "/desk/password"),
    ("GET", "/desk/editions/"),
    ("POST", "/desk/editions/"),
    ("POST", "/desk/editions/propose"),
    ("GET", "/desk/editions/1"),
    ("POST", "/desk/editions/1/meta"),
    ("POST", "/desk/editions/1/items"),
    ("POST", "/desk/editions/1/items/2/move"),
    ("POST", "/desk/editions/1/items/2/remove"),
    ("POST", "/desk/editions/1/sections"),
    ("POST", "/desk/editions/1/rueckmeldungen/1/loeschen"),
    ("POST", "/desk/editions/1/sections/1/rename"),
    ("POST", "/desk/editions/1/sections/1/move"),
    ("POST", "/desk/editions/1/sections/1/remove"),
    ("POST", "/desk/editions/1/approve"),
    ("POST", "/desk/editions/1/request-review"),
    ("POST", "/desk/editions/1/acknowledge"),
    ("GET", "/desk/editions/1/korrektur/1"),
    ("POST", "/desk/editions/1/korrektur/1"),
    ("POST", "/desk/editions/1/korrekturen/1/ungeklaert"),
    ("POST", "/desk/editions/1/reopen"),
    ("POST", "/desk/editions/1/schedule"),
    ("POST", "/desk/editions/1/unschedule"),
    ("POST", "/desk/editions/1/send-now"),
    ("POST", "/desk/editions/1/resume"),
    ("GET", "/desk/editions/1/preview?org_type=kommune"),
    ("GET", "/desk/editions/1/preview/mail.html?org_type=kommune"),
    ("GET", "/desk/editions/1/preview/mail.txt"),
    ("POST", "/desk/editions/1/preview/test"),
    ("POST", "/desk/editions/1/deliveries/resolve"),
    ("GET", "/desk/konto"),
    ("POST", "/desk/konto"),
    ("POST", "/desk/konto/tokens"),
    ("POST", "/desk/konto/tokens/1/revoke"),
    ("POST", "/desk/users/1/email"),
    ("POST", "/desk/users/1/sperre"),
    ("GET", "/desk/verfahren/"),
    ("GET", "/desk/verfahren/2025/0260(COD)"),
    ("POST", "/desk/verfahren/2025/0260(COD)/folgen"),
    ("POST", "/desk/verfahren/2025/0260(COD)/einordnung"),
    ("POST", "/desk/verfahren/2025/0260(COD)/meldungen"),
    ("POST", "/desk/verfahren/2025/0260(COD)/meldungen/1/entfernen"),
]


def test_every_desk_url_is_listed(app: Flask) -> None:
    adapter = app.url_map.bind("localhost")
    covered = {adapter.match(url.split("?")[0], method=method)[0] for method, url in DESK_URLS}
    desk = {r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/desk")}
    assert desk <= covered, f"desk URLs without an anonymous test: {desk - covered}"


@pytest.mark.parametrize(("method", "url"), DESK_URLS)
def test_anonymous_requests_go_to_the_login_page(anon: Desk, method: str, url: str) -> None:
    if method == "GET":
        response = anon.client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    else:
        # A POST without a session fails the CSRF check first (400) or goes to login:
        # either way nothing is done and nothing is shown.
        token = csrf_token(anon.client.get("/login").get_data(as_text=True))
        response = anon.client.post(url, data={"csrf_token": token})
        assert response.status_code == 302
        assert response.headers["Location"] == "/login"


def test_login_page_carries_a_csrf_token_and_is_german(anon: Desk) -> None:
    html = anon.text("/login")
    assert '<html lang="de">' in html
    assert csrf_token(html)
    assert "Anmeldung Redaktion" in html and "Passwort" in html


def test_login_goes_to_the_page_asked_for(anon: Desk) -> None:
    first = anon.client.get("/desk/status")
    assert first.headers["Location"] == "/login?next=/desk/status"
    assert "Bitte melden Sie sich an." in anon.text(first.headers["Location"])
    response = anon.login("anna", next="/desk/status")
    assert response.status_code == 303
    assert response.headers["Location"] == "/desk/status"
    assert "Status" in anon.text("/desk/status")


@pytest.mark.parametrize(
    "target", ["https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)"]
)
def test_login_never_redirects_off_site(anon: Desk, target: str) -> None:
    response = anon.login("anna", next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/desk/"


def test_login_with_wrong_password_or_unknown_name_says_the_same(anon: Desk) -> None:
    wrong = anon.login("anna", "falsches-Passwort-123")
    unknown = anon.login("niemand", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Anmeldung fehlgeschlagen" in response.get_data(as_text=True)
    assert anon.client.get("/desk/").status_code == 302


def from_address(app: Flask, address: str) -> Desk:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Desk(client)


def test_failures_throttle_the_client_not_the_account(app: Flask, clock: Clock) -> None:
    stranger = from_address(app, "203.0.113.66")
    for _ in range(4):
        assert "Anmeldung fehlgeschlagen" in stranger.login("anna", "falsch-falsch-falsch").text
    fifth = stranger.login("anna", "falsch-falsch-falsch")
    throttled = "Zu viele Fehlversuche – bitte in einigen Minuten erneut versuchen"
    assert fifth.status_code == 429 and throttled in fifth.text
    right = stranger.login("anna", PASSWORD)  # the throttled client does not get in
    assert right.status_code == 429 and throttled in right.text
    # anna, from another client, still logs in: nobody can lock her out
    anna = from_address(app, "198.51.100.20")
    assert anna.login("anna", PASSWORD).status_code == 303
    clock.advance(minutes=1, seconds=1)
    assert stranger.login("anna", PASSWORD).status_code == 303


def test_unknown_and_known_names_get_the_same_answers(app: Flask) -> None:
    """No response tells an anonymous client whether a staff name exists."""
    answers: dict[str, list[tuple[int, str]]] = {}
    for name, address in (("anna", "203.0.113.1"), ("niemand", "203.0.113.2")):
        desk = from_address(app, address)
        seen = []
        for _ in range(7):
            response = desk.login(name, "falsch-falsch-falsch")
            message = "Zu viele" if "Zu viele" in response.text else "fehlgeschlagen"
            seen.append((response.status_code, message))
        answers[name] = seen
    assert answers["anna"] == answers["niemand"]
    assert (429, "Zu viele") in answers["anna"]


def test_inactive_user_cannot_log_in(anon: Desk, store: Store) -> None:
    user = store.users.by_name("bernd")
    assert user is not None
    store.users.set_active(user.id, False)
    response = anon.login("bernd", PASSWORD)
    assert response.status_code == 200 and "Anmeldung fehlgeschlagen" in response.text


def test_deactivating_ends_a_running_session(bernd: Desk, store: Store) -> None:
    assert bernd.client.get("/desk/").status_code == 200
    user = store.users.by_name("bernd")
    assert user is not None
    store.users.set_active(user.id, False)
    assert bernd.client.get("/desk/").status_code == 302


def test_logout_needs_post_with_csrf_and_ends_the_session(anna: Desk) -> None:
    assert anna.client.get("/logout").status_code == 405
    assert anna.client.post("/logout").status_code == 400  # no token
    assert anna.client.get("/desk/").status_code == 200
    response = anna.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert anna.client.get("/desk/").status_code == 302


def copy_session(app: Flask, desk: Desk) -> Desk:
    """Another client holding a copy of the desk's session cookie (as a thief would)."""
    cookie = desk.client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(cookie.key, cookie.value)
    return Desk(thief)


def test_a_session_cookie_copied_before_logout_is_dead_after_it(app: Flask, anna: Desk) -> None:
    thief = copy_session(app, anna)
    assert thief.client.get("/desk/").status_code == 200
    assert anna.post("/logout").status_code == 303
    assert thief.client.get("/desk/").status_code == 302  # checked on the server, not the cookie
    assert anna.login("anna").status_code == 303  # a new login works
    assert thief.client.get("/desk/").status_code == 302


def test_a_password_change_ends_the_other_sessions(app: Flask, anna: Desk) -> None:
    elsewhere = Desk(app.test_client())
    assert elsewhere.login("anna").status_code == 303
    thief = copy_session(app, anna)
    ok = anna.post(
        "/desk/password",
        data={"current": PASSWORD, "new": "Neues-Passwort-2026", "repeat": "Neues-Passwort-2026"},
    )
    assert ok.status_code == 303
    assert anna.client.get("/desk/").status_code == 200  # this session goes on
    assert elsewhere.client.get("/desk/").status_code == 302
    assert thief.client.get("/desk/").status_code == 302


def test_logged_in_user_at_login_page_goes_to_the_inbox(anna: Desk) -> None:
    response = anna.client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/desk/"


def test_password_change_keeps_the_session_and_the_new_one_works(app: Flask, anna: Desk) -> None:
    page = anna.text("/desk/password")
    assert "Passwort ändern" in page
    wrong = anna.post(
        "/desk/password",
        data={
            "current": "nicht-das-alte-1",
            "new": "Neues-Passwort-2026",
            "repeat": "Neues-Passwort-2026",
        },
    )
    assert wrong.status_code == 400 and "Das bisherige Passwort stimmt nicht." in wrong.text
    short = anna.post("/desk/password", data={"current": PASSWORD, "new": "kurz", "repeat": "kurz"})
    assert short.status_code == 400 and "Mindestens 12 Zeichen." in short.text
    ok = anna.post(
        "/desk/password",
        data={"current": PASSWORD, "new": "Neues-Passwort-2026", "repeat": "Neues-Passwort-2026"},
    )
    assert ok.status_code == 303
    assert anna.client.get("/desk/").status_code == 200
    other = Desk(app.test_client())
    assert other.login("anna", PASSWORD).status_code == 200
    assert other.login("anna", "Neues-Passwort-2026").status_code == 303


def test_security_headers_on_every_page(anon: Desk, anna: Desk) -> None:
    for response in (anon.client.get("/"), anon.client.get("/login"), anna.client.get("/desk/")):
        h = response.headers
        assert "default-src 'self'" in h["Content-Security-Policy"]
        assert "script-src 'self'" in h["Content-Security-Policy"]
        assert "'unsafe-inline'" not in h["Content-Security-Policy"]
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script(anna: Desk) -> None:
    html = anna.text("/desk/")
    assert "<script>" not in html and "onclick" not in html.lower()
    assert '<script src="/static/desk.js" defer></script>' in html
    for name in ("desk.js", "desk.css"):
        with anna.client.get(f"/static/{name}") as response:
            assert response.status_code == 200


def test_session_cookie_is_httponly_and_lax(anon: Desk) -> None:
    response = anon.login("anna")
    cookie = response.headers["Set-Cookie"]
    assert "eudigest_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" in cookie  # the desk's base URL is https


def test_session_cookie_is_not_secure_on_plain_http(tmp_path: Path, clock: Clock) -> None:
    settings = make_settings(tmp_path, EUDIGEST_BASE_URL="http://localhost:8000")
    services = make_services(settings, clock)
    try:
        assert create_app(settings, services).config["SESSION_COOKIE_SECURE"] is False
    finally:
        services.close()


def test_session_cookie_is_secure_behind_https(tmp_path: Path, clock: Clock) -> None:
    settings = make_settings(tmp_path, EUDIGEST_BASE_URL="https://eu.region-stuttgart.de")
    services = make_services(settings, clock)
    try:
        app = create_app(settings, services)
        assert app.config["SESSION_COOKIE_SECURE"] is True
    finally:
        services.close()


def test_without_secret_key_a_random_one_is_used_and_logged(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, EUDIGEST_SECRET_KEY="")
    assert settings.secret_key is None
    services = make_services(settings, clock)
    try:
        with caplog.at_level(logging.WARNING, logger="eudigest.web"):
            first = create_app(settings, services)
            second = create_app(settings, services)
        assert first.secret_key and len(str(first.secret_key)) >= 32
        assert first.secret_key != second.secret_key
        assert "EUDIGEST_SECRET_KEY is not set" in caplog.text
    finally:
        services.close()


def test_public_start_page_is_german_and_leads_to_the_sign_up(anon: Desk) -> None:
    html = anon.text("/")
    assert '<html lang="de">' in html
    assert "EU-Wochenbrief" in html and 'href="/abo/anmelden"' in html


def test_unknown_page_is_a_german_404(anna: Desk) -> None:
    response = anna.client.get("/desk/gibt-es-nicht")
    assert response.status_code == 404 and "Diese Seite gibt es nicht." in response.text
