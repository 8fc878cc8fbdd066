"""Signed links: made and read back; forged, expired, revoked and foreign tokens refused."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from itsdangerous import URLSafeTimedSerializer

from pipeline.errors import ConfigError
from pipeline.model import OrgType, Profile, Subscriber, SubscriberStatus
from subscribers.tokens import (
    Links,
    TokenInvalid,
    TokenProblem,
    Tokens,
    legacy_address_tag,
)

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
SECRET = "unit-test-secret-0123456789abcdefghijklmno"
BERND = Subscriber(
    id=7,
    email="bernd.mueller@landratsamt-bb.de",
    status=SubscriberStatus.PENDING,
    created_at=NOW,
)
PROFILE = Profile(
    name="Bernd Müller",
    organisation="Landratsamt Böblingen",
    org_type=OrgType.LANDKREIS,
    language="de",
    topics=("funding", "mobility"),
    newsletters=("weekly",),
)


def test_a_confirm_token_carries_id_version_and_the_requested_profile() -> None:
    tokens = Tokens(SECRET)
    claim = tokens.read_confirm(tokens.confirm_token(BERND, now=NOW, profile=PROFILE), now=NOW)
    assert (claim.subscriber_id, claim.token_version, claim.confirmed_mark) == (7, 1, 0)
    assert claim.profile == PROFILE
    plain = tokens.read_confirm(tokens.confirm_token(BERND, now=NOW), now=NOW)
    assert plain.profile is None
    Tokens(SECRET).check_claim(claim, BERND)


def test_a_confirm_token_lasts_seven_days() -> None:
    tokens = Tokens(SECRET)
    token = tokens.confirm_token(BERND, now=NOW)
    tokens.read_confirm(token, now=NOW + dt.timedelta(days=7))
    with pytest.raises(TokenInvalid) as info:
        tokens.read_confirm(token, now=NOW + dt.timedelta(days=7, seconds=1))
    assert info.value.problem is TokenProblem.EXPIRED
    assert "abgelaufen" in str(info.value)


def test_a_manage_token_does_not_expire_but_is_revoked_by_a_new_version() -> None:
    tokens = Tokens(SECRET)
    token = tokens.manage_token(BERND, now=NOW)
    claim = tokens.read_manage(token, now=NOW + dt.timedelta(days=3 * 365))
    Tokens(SECRET).check_claim(claim, BERND)
    newer = Subscriber(
        id=7, email=BERND.email, status=BERND.status, created_at=NOW, token_version=2
    )
    with pytest.raises(TokenInvalid) as info:
        Tokens(SECRET).check_claim(claim, newer)
    assert info.value.problem is TokenProblem.REVOKED


def test_a_token_of_a_reused_id_does_not_open_another_subscriber() -> None:
    tokens = Tokens(SECRET)
    claim = tokens.read_manage(tokens.manage_token(BERND, now=NOW), now=NOW)
    someone_else = Subscriber(
        id=7, email="anna@stadt-esslingen.de", status=BERND.status, created_at=NOW
    )
    with pytest.raises(TokenInvalid) as info:
        Tokens(SECRET).check_claim(claim, someone_else)
    assert info.value.problem is TokenProblem.GONE


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: "x" + t,  # payload changed
        lambda t: t.split(".")[0],  # no signature
        lambda t: "",
        lambda t: "a" * 5000,
        lambda t: "not-a-token",
    ],
)
def test_forged_tokens_are_refused(mangle: object) -> None:
    tokens = Tokens(SECRET)
    token = tokens.manage_token(BERND, now=NOW)
    with pytest.raises(TokenInvalid) as info:
        tokens.read_manage(mangle(token), now=NOW)  # type: ignore[operator]
    assert info.value.problem is TokenProblem.FORGED
    assert "ungültig" in str(info.value)


def test_a_token_of_one_purpose_or_key_is_worthless_for_another() -> None:
    tokens = Tokens(SECRET)
    with pytest.raises(TokenInvalid):
        tokens.read_confirm(tokens.manage_token(BERND, now=NOW), now=NOW)
    with pytest.raises(TokenInvalid):
        tokens.read_manage(tokens.confirm_token(BERND, now=NOW), now=NOW)
    other = Tokens("another-secret-0123456789abcdefghijklmnopq")
    with pytest.raises(TokenInvalid):
        other.read_manage(tokens.manage_token(BERND, now=NOW), now=NOW)


def test_links_are_absolute_and_need_key_and_address() -> None:
    links = Links(Tokens(SECRET), "https://newsletter.region-stuttgart.de/")
    assert links.confirm(BERND, now=NOW).startswith(
        "https://newsletter.region-stuttgart.de/abo/bestaetigen/"
    )
    assert links.unsubscribe(BERND, now=NOW).startswith(
        "https://newsletter.region-stuttgart.de/abo/abmelden/"
    )
    with pytest.raises(ConfigError, match="EUDIGEST_SECRET_KEY"):
        Tokens(None)
    with pytest.raises(ConfigError, match="EUDIGEST_BASE_URL"):
        Links(Tokens(SECRET), None)


def test_both_links_of_a_mail_share_one_signed_token_that_opens_the_subscriber() -> None:
    links = Links(Tokens(SECRET), "https://newsletter.region-stuttgart.de")
    manage, unsubscribe = links.manage_and_unsubscribe(BERND, now=NOW)
    assert manage == links.manage(BERND, now=NOW)
    assert unsubscribe == links.unsubscribe(BERND, now=NOW)
    token = manage.rsplit("/", 1)[1]
    assert unsubscribe.endswith("/abo/abmelden/" + token)
    claim = links.tokens.read_manage(token, now=NOW)
    assert (claim.subscriber_id, claim.token_version) == (BERND.id, BERND.token_version)


def test_the_keyed_hash_of_an_ip_address_depends_on_the_secret() -> None:
    a, b = Tokens(SECRET), Tokens("another-secret-0123456789abcdefghijklmnopq")
    assert a.keyed_hash("192.0.2.10") == a.keyed_hash("192.0.2.10")
    assert a.keyed_hash("192.0.2.10") != b.keyed_hash("192.0.2.10")
    assert "192" not in a.keyed_hash("192.0.2.10")


def _payload(token: str) -> list[object]:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))  # type: ignore[no-any-return]


def test_a_token_tells_nothing_about_the_address() -> None:
    """Issue 14: a link once held the plain SHA-256 of the address (offline guessing)."""
    plain = hashlib.sha256(BERND.email.encode()).hexdigest()
    for token in (
        Tokens(SECRET).manage_token(BERND, now=NOW),
        Tokens(SECRET).confirm_token(BERND, now=NOW),
    ):
        payload = _payload(token)
        assert payload[:2] == [BERND.id, BERND.token_version]
        tag = str(payload[2])
        assert tag not in plain and legacy_address_tag(BERND) not in token
        # guessing the address does not give the tag without the key
        other_key = Tokens("another-secret-0123456789abcdefghijklmnopq")
        assert other_key.address_tag(BERND) != tag
        assert Tokens(SECRET).address_tag(BERND) == tag


def test_a_link_mailed_before_keyed_tags_still_opens_its_subscriber() -> None:
    """Old mails keep working (their unsubscribe link above all): the old tag is accepted."""
    old = URLSafeTimedSerializer(SECRET, salt="eudigest.subscriber.manage").dumps(
        [BERND.id, BERND.token_version, legacy_address_tag(BERND)]
    )
    tokens = Tokens(SECRET)
    tokens.check_claim(tokens.read_manage(old, now=NOW), BERND)
    someone_else = Subscriber(
        id=7, email="anna@stadt-esslingen.de", status=BERND.status, created_at=NOW
    )
    with pytest.raises(TokenInvalid) as info:
        tokens.check_claim(tokens.read_manage(old, now=NOW), someone_else)
    assert info.value.problem is TokenProblem.GONE
