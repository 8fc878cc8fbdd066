"""One-click unsubscribe (RFC 8058) from the List-Unsubscribe header of a mail."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.model import Office, Subscriber, SubscriberStatus
from subscribers.addresses import hash_of
from subscribers.tokens import Links, Tokens
from subscribers.unsubscribe import list_unsubscribe_headers
from tests.subscribers.conftest import SECRET, Clock, Outbox, Visitor, make_settings, visible

BERND = "bernd.mueller@landratsamt-bb.de"


def _confirmed(visitor: Visitor, services: Services, outbox: Outbox) -> Subscriber:
    visitor.sign_up(BERND, newsletters=["weekly", "daily"])
    visitor.confirm(outbox.last(BERND).link("/abo/bestaetigen/"))
    found = services.store.subscribers.by_hash(hash_of(BERND))
    assert found is not None and found.status is SubscriberStatus.CONFIRMED
    return found


def _header_url(headers: dict[str, str]) -> str:
    match = re.fullmatch(r"<(https?://[^>]+)>, <mailto:[^>]+>", headers["List-Unsubscribe"])
    assert match, headers
    return match.group(1)


def test_the_headers_of_rfc_8058(
    visitor: Visitor, services: Services, outbox: Outbox, settings: Settings, office: Office
) -> None:
    bernd = _confirmed(visitor, services, outbox)
    links = Links(Tokens(SECRET), "https://newsletter.region-stuttgart.de")
    headers = list_unsubscribe_headers(settings, office, bernd, links=links, now=services.clock())
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = _header_url(headers)
    assert url.startswith("https://newsletter.region-stuttgart.de/abo/abmelden/")
    assert headers["List-Unsubscribe"].endswith(
        "<mailto:europabuero@region-stuttgart.de?subject=unsubscribe>"
    )


def test_headers_from_settings_need_key_and_public_address(
    tmp_path: object, office: Office, services: Services
) -> None:
    bernd = Subscriber(
        id=1, email=BERND, status=SubscriberStatus.CONFIRMED, created_at=services.clock()
    )
    folder = services.settings.data_dir.parent / "other"
    without_url = make_settings(folder)
    with pytest.raises(ConfigError, match="EUDIGEST_BASE_URL"):
        list_unsubscribe_headers(without_url, office, bernd)
    with_url = make_settings(folder, EUDIGEST_BASE_URL="https://newsletter.region-stuttgart.de")
    url = _header_url(list_unsubscribe_headers(with_url, office, bernd))
    assert url.startswith("https://newsletter.region-stuttgart.de/abo/abmelden/")


def test_get_asks_and_changes_nothing_post_unsubscribes_without_cookies_or_token(
    app: Flask, visitor: Visitor, services: Services, outbox: Outbox, settings: Settings,
    office: Office, clock: Clock,
) -> None:  # fmt: skip
    bernd = _confirmed(visitor, services, outbox)
    links = Links(Tokens(SECRET), "http://localhost")
    url = _header_url(list_unsubscribe_headers(settings, office, bernd, links=links, now=clock()))

    # A mail scanner opens the link: a question, nothing changes.
    scanner = app.test_client(use_cookies=False)
    page = scanner.get(url)
    assert page.status_code == 200
    assert "Möchten Sie bernd.mueller@landratsamt-bb.de von allen Newslettern abmelden?" in (
        visible(page.text)
    )
    store = services.store.subscribers
    assert [s.email for s in store.confirmed_for("weekly")] == [BERND]

    # The mail provider posts, as RFC 8058 says: no cookies, no CSRF token.
    clock.advance(minutes=3)
    provider = app.test_client(use_cookies=False)
    response = provider.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "Sie sind von allen Newslettern abgemeldet" in visible(response.text)
    assert "Set-Cookie" not in response.headers
    assert store.confirmed_for("weekly") == [] and store.confirmed_for("daily") == []
    after = store.get(bernd.id)
    assert after.status is SubscriberStatus.UNSUBSCRIBED and after.newsletters == ()

    # Posting again (providers retry) is fine and changes nothing more.
    again = provider.post(url, data="List-Unsubscribe=One-Click")
    assert again.status_code == 200
    assert store.get(bernd.id) == after


def test_the_confirm_page_button_unsubscribes_in_a_browser(
    visitor: Visitor, services: Services, outbox: Outbox, settings: Settings, office: Office
) -> None:
    bernd = _confirmed(visitor, services, outbox)
    links = Links(Tokens(SECRET), "http://localhost")
    url = links.unsubscribe(bernd, now=services.clock())
    page = visitor.get(url)
    assert 'name="csrf_token"' not in page.text  # the same address as the one-click POST
    response = visitor.client.post(url)
    assert response.status_code == 200
    assert services.store.subscribers.get(bernd.id).status is SubscriberStatus.UNSUBSCRIBED


def test_a_forged_or_revoked_unsubscribe_link_changes_nothing(
    app: Flask, visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    bernd = _confirmed(visitor, services, outbox)
    links = Links(Tokens(SECRET), "http://localhost")
    url = links.unsubscribe(bernd, now=services.clock())
    client = app.test_client(use_cookies=False)
    forged = client.post(url[:-4] + "AAAA", data="List-Unsubscribe=One-Click")
    assert forged.status_code == 400
    other_key = Links(Tokens("another-secret-0123456789abcdefghijklmn"), "http://localhost")
    assert client.post(other_key.unsubscribe(bernd, now=services.clock())).status_code == 400
    services.store.subscribers.bump_token_version(bernd.id)
    revoked = client.post(url)
    assert revoked.status_code == 410
    assert "neuerer verschickt" in visible(revoked.text)
    assert services.store.subscribers.get(bernd.id).status is SubscriberStatus.CONFIRMED


def test_only_the_one_click_address_is_exempt_from_csrf(app: Flask) -> None:
    csrf = app.extensions["csrf"]
    public = {v for v in csrf._exempt_views if v.startswith("pipeline.web.public.")}
    assert public == {"pipeline.web.public.one_click"}
    assert "public" not in csrf._exempt_blueprints
