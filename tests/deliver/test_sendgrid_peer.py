"""The SendGrid backend against SendGrid's own spec (Prism) and a scripted loopback server."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable

import pytest

from pipeline.deliver.sendgrid import SendGridMailer, retry_after_seconds
from pipeline.errors import InvalidInput
from pipeline.model import (
    PLACEHOLDERS,
    Batch,
    OutgoingEmail,
    Recipient,
    RecipientResult,
    unsubscribe_headers,
)
from tests.deliver.conftest import Peer, Reply, Scripted, Sleeps, at_ceiling
from tests.support.ports import refusing_port

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
SUBJECT = "EU-Wochenbrief: Förderaufrufe für die Region (%%greeting%%)"
TEXT = (
    "%%greeting%%,\n\ndiese Woche: Horizont Europa öffnet drei Aufrufe.\n\n"
    "Einstellungen: %%preferences_url%%\nAbmelden: %%unsubscribe_url%%\n"
)
HTML = (
    '<!doctype html><html lang="de"><body><p>%%greeting%%,</p>'
    '<h1>Förderaufrufe</h1><p><a href="%%preferences_url%%">Einstellungen</a> · '
    '<a href="%%unsubscribe_url%%">Abmelden</a></p></body></html>'
)


def recipient(i: int, email: str | None = None) -> Recipient:
    token = f"tok{i:05d}x"
    return Recipient(
        email=email or f"leser{i}@gemeinde-{i % 7}.example.org",
        substitutions={
            "%%greeting%%": f"Guten Tag Leserin Nr. {i}",
            "%%unsubscribe_url%%": f"https://eu.example.org/abmelden/{token}",
            "%%preferences_url%%": f"https://eu.example.org/einstellungen/{token}",
        },
        headers=unsubscribe_headers(
            f"https://eu.example.org/abmelden/{token}", "abmelden@eu.example.org"
        ),
        custom_args={"edition_id": "e42", "delivery_id": f"d{i}"},
    )


def batch(n: int, *, first: int = 0) -> Batch:
    return Batch(
        subject=SUBJECT,
        text=TEXT,
        html=HTML,
        from_email="eu@europabuero.example.org",
        from_name="Europabüro Region Stuttgart",
        reply_to="team@europabuero.example.org",
        categories=("digest", "eu-wochenbrief"),
        recipients=tuple(recipient(i) for i in range(first, first + n)),
    )


def mailer(url: str, sleeps: Sleeps | None = None, **kw: object) -> SendGridMailer:
    kw.setdefault("api_key", "SG.test")
    kw.setdefault("jitter", at_ceiling)
    return SendGridMailer(
        host=url,
        timeout_s=kw.pop("timeout_s", 30.0),  # type: ignore[arg-type]
        max_retries=kw.pop("max_retries", 2),  # type: ignore[arg-type]
        backoff_s=1.5,
        sleep=sleeps if sleeps is not None else Sleeps(),
        clock=lambda: NOW,
        **kw,  # type: ignore[arg-type]
    )


def assert_clean_202s(peer: Peer, count: int) -> None:
    assert [e.status for e in peer.exchanges] == [202] * count
    for e in peer.exchanges:
        assert e.path == "/v3/mail/send"
        assert "sl-violations" not in e.response_headers, e.response_headers["sl-violations"]


# --- Prism: valid requests ---------------------------------------------------------------


def test_a_valid_batch_is_accepted_by_the_spec(peer: Peer) -> None:
    results = mailer(peer.url).send_batch(batch(3))
    assert_clean_202s(peer, 1)
    assert peer.exchanges[0].headers["authorization"] == "Bearer SG.test"
    assert [r.email for r in results] == [r.email for r in batch(3).recipients]
    assert all(r.ok and not r.permanent and not r.unknown for r in results)
    assert {r.message_id for r in results} == {None}  # Prism sends no X-Message-Id


def test_2500_recipients_go_in_exactly_three_requests(peer: Peer) -> None:
    m = mailer(peer.url)
    b = batch(2500)
    results = m.send_batch(b)
    assert_clean_202s(peer, 3)
    assert m.requests_made == 3
    sent = [p["to"][0]["email"] for e in peer.exchanges for p in e.json()["personalizations"]]
    assert [len(e.json()["personalizations"]) for e in peer.exchanges] == [1000, 1000, 500]
    assert sorted(sent) == sorted(r.email for r in b.recipients)  # each exactly once
    assert sum(r.ok for r in results) == 2500


def test_each_personalization_carries_its_own_parts(peer: Peer) -> None:
    b = batch(4)
    mailer(peer.url).send_batch(b)
    assert_clean_202s(peer, 1)
    body = peer.exchanges[0].json()
    assert body["subject"] == SUBJECT  # umlauts intact, tokens left for SendGrid
    assert body["from"] == {
        "email": "eu@europabuero.example.org",
        "name": "Europabüro Region Stuttgart",
    }
    assert body["reply_to"] == {"email": "team@europabuero.example.org"}
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["content"][0]["value"] == TEXT and body["content"][1]["value"] == HTML
    for r, p in zip(b.recipients, body["personalizations"], strict=True):
        assert p["to"] == [{"email": r.email}]
        assert set(p["substitutions"]) == set(PLACEHOLDERS)
        token = p["substitutions"]["%%unsubscribe_url%%"].rsplit("/", 1)[1]
        unsub = p["headers"]["List-Unsubscribe"]
        assert f"<https://eu.example.org/abmelden/{token}>" in unsub
        assert "<mailto:abmelden@eu.example.org>" in unsub
        assert p["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert p["custom_args"] == dict(r.custom_args)


def test_no_personal_data_in_custom_args_or_categories(peer: Peer) -> None:
    b = batch(50)
    mailer(peer.url).send_batch(b)
    body = peer.exchanges[0].json()
    kept = json.dumps([body.get("categories"), body.get("custom_args")]) + json.dumps(
        [p.get("custom_args") for p in body["personalizations"]]
    )
    assert "@" not in kept
    for r in b.recipients:
        assert r.email not in kept and r.email.split("@")[0] not in kept
    assert "custom_args" not in body  # top level is typed string in the spec: never there


def test_personal_data_is_refused_before_anything_is_sent() -> None:
    good = recipient(1)
    for args in ({"delivery_id": "leser1@example.org"}, {"name": "Bernd"}, {"d": "Bernd Müller"}):
        with pytest.raises(InvalidInput):
            Recipient(good.email, good.substitutions, good.headers, args)
    with pytest.raises(InvalidInput):
        Batch(SUBJECT, TEXT, HTML, "eu@example.org", categories=("leser1@example.org",))
    with pytest.raises(InvalidInput):
        Batch(SUBJECT, TEXT, HTML, "eu@example.org", categories=tuple(f"c{i}" for i in range(11)))


def test_a_recipient_missing_a_substitution_is_refused() -> None:
    r = recipient(1)
    partial = {k: v for k, v in r.substitutions.items() if k != "%%greeting%%"}
    with pytest.raises(InvalidInput, match="greeting"):
        Batch(
            SUBJECT,
            TEXT,
            HTML,
            "eu@example.org",
            recipients=(Recipient(r.email, partial, r.headers, r.custom_args),),
        )


def test_an_address_sendgrid_refuses_fails_alone(peer: Peer) -> None:
    b = batch(3)
    bad = recipient(99, email="bernd@localhost")
    b = Batch(
        b.subject,
        b.text,
        b.html,
        b.from_email,
        b.from_name,
        b.reply_to,
        b.categories,
        (*b.recipients[:1], bad, *b.recipients[1:]),
    )
    results = mailer(peer.url).send_batch(b)
    assert_clean_202s(peer, 1)
    assert len(peer.exchanges[0].json()["personalizations"]) == 3
    assert [(r.ok, r.permanent) for r in results] == [
        (True, False),
        (False, True),
        (True, False),
        (True, False),
    ]
    assert results[1].email == "bernd@localhost"


def test_transactional_mail_takes_its_headers_from_the_message(peer: Peer) -> None:
    message = OutgoingEmail(
        to="bernd@gemeinde.example.org",
        subject="Bitte bestätigen Sie Ihr Abonnement",
        text="Bitte bestätigen: https://eu.example.org/bestaetigen/abc",
        html='<p>Bitte <a href="https://eu.example.org/bestaetigen/abc">bestätigen</a></p>',
        headers={
            "From": "Europabüro Region Stuttgart <eu@europabuero.example.org>",
            "Reply-To": "team@europabuero.example.org",
            "Message-ID": "<x1@europabuero.example.org>",
            **unsubscribe_headers("https://eu.example.org/abmelden/t1", "abmelden@eu.example.org"),
        },
        category="confirm",
        reference="confirm-s12-1a2b3c4d",
    )
    results = mailer(peer.url).send([message])
    assert_clean_202s(peer, 1)
    assert results[0].ok and results[0].reference == "confirm-s12-1a2b3c4d"
    body = peer.exchanges[0].json()
    assert body["from"] == {
        "email": "eu@europabuero.example.org",
        "name": "Europabüro Region Stuttgart",
    }
    assert body["reply_to"] == {"email": "team@europabuero.example.org"}
    assert body["categories"] == ["confirm"]
    (p,) = body["personalizations"]
    assert p["to"] == [{"email": "bernd@gemeinde.example.org"}]
    assert set(p["headers"]) == {"List-Unsubscribe", "List-Unsubscribe-Post"}
    assert p["custom_args"] == {"reference": "confirm-s12-1a2b3c4d"}
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]


# --- Prism: failures -----------------------------------------------------------------------


def test_server_error_is_transient_and_retried_with_backoff(peer: Peer) -> None:
    sleeps = Sleeps()
    results = mailer(peer.url, sleeps, extra_headers={"Prefer": "code=500"}).send_batch(batch(2))
    assert [e.status for e in peer.exchanges] == [500, 500, 500]  # 1 + max_retries
    assert sleeps == [1.5, 3.0]
    assert all(not r.ok and not r.permanent and not r.unknown and r.status == 500 for r in results)
    assert "500" in (results[0].error or "")


def test_413_splits_until_one_personalization_then_fails_all(peer: Peer) -> None:
    sleeps = Sleeps()
    results = mailer(peer.url, sleeps, extra_headers={"Prefer": "code=413"}).send_batch(batch(4))
    # 4 → halves 2 + 2 → 1: even one personalization is too large, so the content is;
    # nothing more is tried for the rest
    assert [len(e.json()["personalizations"]) for e in peer.exchanges] == [4, 2, 1]
    assert [e.status for e in peer.exchanges] == [413] * 3
    assert sleeps == []
    assert all(not r.ok and r.permanent and r.status == 413 for r in results)


def test_missing_key_is_401_and_halts_without_failing_anyone(peer: Peer) -> None:
    results = mailer(peer.url, api_key="").send_batch(batch(1500))
    assert [e.status for e in peer.exchanges] == [401]  # the second chunk is never tried
    assert all(r.halt and not r.permanent and not r.ok and r.status == 401 for r in results)
    assert "Invalid security scheme" in (results[0].error or "")  # Prism's finding
    assert "SENDGRID_API_KEY" in (results[0].error or "")


def test_a_400_naming_personalizations_is_attributed() -> None:
    from pipeline.deliver.sendgrid import classify

    body = json.dumps(
        {
            "errors": [
                {"field": "personalizations.3.to.0.email", "message": "invalid"},
                {"field": "personalizations.7", "message": "duplicate"},
            ]
        }
    )
    assert classify(400, {}, body, now=NOW).rejected == {3, 7}
    mixed = json.dumps(
        {"errors": [{"field": "personalizations.3", "message": "x"}, {"field": "from"}]}
    )
    assert classify(400, {}, mixed, now=NOW).rejected == frozenset()  # about everyone
    prism = json.dumps(
        [{"location": ["request", "body", "personalizations", "2", "to", "0", "email"]}]
    )
    assert classify(400, {"sl-violations": prism}, b"", now=NOW).rejected == {2}
    assert classify(400, {}, b"not json", now=NOW).rejected == frozenset()


def test_a_400_fails_every_recipient_of_the_request_with_sendgrids_words(peer: Peer) -> None:
    results = mailer(peer.url, extra_headers={"Prefer": "code=400"}).send_batch(batch(3))
    assert [e.status for e in peer.exchanges] == [400]
    assert all(not r.ok and r.permanent and r.status == 400 for r in results)
    assert "error message" in (results[0].error or "")  # the body's errors[].message


def test_a_schema_violation_reports_prisms_findings(peer: Peer) -> None:
    b = batch(1)
    from pipeline.deliver.sendgrid import SendFailed, batch_body

    body = batch_body(b, b.recipients)
    body["categories"] = [f"c{i}" for i in range(11)]  # what Batch itself never allows
    with pytest.raises(SendFailed) as info:
        mailer(peer.url)._post(body)
    assert info.value.permanent and info.value.status == 400
    assert "categories" in str(info.value)  # from the sl-violations header, not the stub body


# --- Our own loopback server: 429, timeouts, no connection --------------------------------


def test_429_waits_as_told_then_succeeds(scripted: Callable[[list[Reply]], Scripted]) -> None:
    server = scripted(
        [
            (429, {"Retry-After": "7"}),
            (429, {"Retry-After": "Wed, 25 Nov 2026 08:30:30 GMT"}),  # NOW + 30 s
            (202, {"X-Message-Id": "msg-abc"}),
        ]
    )
    sleeps = Sleeps()
    results = mailer(server.url, sleeps).send_batch(batch(2))
    assert sleeps == [7.0, 30.0]
    assert len(server.exchanges) == 3
    assert len({e.body for e in server.exchanges}) == 1  # the same request each time
    assert [(r.ok, r.message_id) for r in results] == [(True, "msg-abc")] * 2


def test_429_beyond_the_retries_is_transient(scripted: Callable[[list[Reply]], Scripted]) -> None:
    server = scripted([(429, {"Retry-After": "1"})])
    sleeps = Sleeps()
    results = mailer(server.url, sleeps, max_retries=3).send_batch(batch(1))
    assert len(server.exchanges) == 4 and sleeps == [1.0, 1.0, 1.0]
    assert not results[0].ok and not results[0].permanent and not results[0].unknown
    assert results[0].status == 429


def test_retry_after_longer_than_we_wait_leaves_it_to_the_next_run(
    scripted: Callable[[list[Reply]], Scripted],
) -> None:
    server = scripted([(429, {"Retry-After": "3600"})])
    sleeps = Sleeps()
    results = mailer(server.url, sleeps).send_batch(batch(1))
    assert len(server.exchanges) == 1 and sleeps == []
    assert not results[0].permanent and "3600" in (results[0].error or "")


def test_a_read_timeout_is_unknown_and_never_resent(
    scripted: Callable[[list[Reply]], Scripted],
) -> None:
    def late(release: threading.Event) -> tuple[int, dict[str, str]]:
        release.wait(60)  # released by the test once the client gave up
        return 202, {}

    server = scripted([late])
    sleeps = Sleeps()
    results = mailer(server.url, sleeps, timeout_s=0.5).send_batch(batch(2))
    server.release.set()
    assert len(server.exchanges) == 1 and sleeps == []
    assert all(r.unknown and not r.ok and not r.permanent for r in results)


def test_no_connection_is_transient_and_retried(
    scripted: Callable[[list[Reply]], Scripted],
) -> None:
    sleeps = Sleeps()
    with refusing_port() as port:
        m = mailer(f"http://127.0.0.1:{port}", sleeps)
        (result,) = m.send_batch(batch(1))
    assert m.requests_made == 3 and sleeps == [1.5, 3.0]
    assert not result.ok and not result.permanent and not result.unknown and result.status is None


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("120", now=NOW) == 120.0
    assert retry_after_seconds("Wed, 25 Nov 2026 08:31:00 GMT", now=NOW) == 60.0
    assert retry_after_seconds("Wed, 25 Nov 2026 08:00:00 GMT", now=NOW) == 0.0  # past
    assert retry_after_seconds("soon", now=NOW) is None


def test_results_are_one_per_recipient_in_order(peer: Peer) -> None:
    b = batch(5)
    results = mailer(peer.url).send_batch(b)
    assert all(isinstance(r, RecipientResult) for r in results)
    assert [r.email for r in results] == [r.email for r in b.recipients]


def test_neither_the_key_nor_an_address_reaches_the_log(
    peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    b = batch(2)
    mailer(peer.url, api_key="SG.secret-never-logged").send_batch(b)
    assert_clean_202s(peer, 1)
    assert "SG.secret-never-logged" not in caplog.text
    assert all(r.email not in caplog.text for r in b.recipients)
    assert "batch of 2 queued" in caplog.text  # our own record is there
