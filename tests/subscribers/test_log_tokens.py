"""No subscriber token reaches a log line (issue 14): not the access log of the server,
not the CSRF failure message, not an error page's log.

The app is served for real by werkzeug (as `eudigest serve` does) on loopback, with
eudigest's own logging set up; every route with a token is requested, with and
without a CSRF token, and everything logged is searched for the tokens.
"""

from __future__ import annotations

import http.client
import logging
import re
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

from pipeline import logs
from pipeline.bootstrap import Services
from subscribers import tokens
from subscribers.addresses import email_hash
from tests.subscribers.conftest import Outbox, Visitor

BERND = "bernd.mueller@landratsamt-bb.de"


@pytest.fixture
def logging_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    werkzeug = logging.getLogger("werkzeug")
    werkzeug_handlers, werkzeug_level = list(werkzeug.handlers), werkzeug.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    werkzeug.handlers[:] = werkzeug_handlers
    werkzeug.setLevel(werkzeug_level)


def serve(app: Flask) -> tuple[str, int, threading.Thread, object]:
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    return "127.0.0.1", server.port, thread, server


def request(port: int, method: str, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        conn.request(method, path, body="a=1" if method == "POST" else None, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_no_token_in_any_log_line(
    app: Flask,
    visitor: Visitor,
    services: Services,
    outbox: Outbox,
    capsys: pytest.CaptureFixture[str],
    logging_restored: None,
) -> None:
    visitor.sign_up(BERND)
    confirm_link = outbox.last(BERND).link(tokens.CONFIRM_PATH)
    confirm_token = urlsplit(confirm_link).path.removeprefix(tokens.CONFIRM_PATH)
    subscriber = services.store.subscribers.by_hash(email_hash(BERND))
    assert subscriber is not None
    manage_token = tokens.Tokens(app.secret_key).manage_token(  # type: ignore[arg-type]
        subscriber, now=services.clock()
    )
    secrets = {"confirm": confirm_token, "manage": manage_token}

    # every route that carries a token, with the token filled in
    routes = sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if "<token>" in rule.rule
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )
    assert len(routes) >= 8, routes
    logs.setup("json", "INFO")
    capsys.readouterr()
    _, port, thread, server = serve(app)
    try:
        statuses = {}
        for rule, method in routes:
            token = confirm_token if rule.startswith(tokens.CONFIRM_PATH) else manage_token
            path = rule.replace("<token>", token)
            statuses[(method, rule)] = request(port, method, path)  # POSTs: no CSRF token
            statuses[(method, rule + "/x")] = request(port, method, path + "/nichts?t=" + token)
        # a token as the whole query of another page, and a failing CSRF check
        assert statuses[("POST", tokens.MANAGE_PATH + "<token>")] == 400
        logging.getLogger("eudigest.test").info("opened %s", confirm_link)
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join()
    captured = capsys.readouterr()
    output = captured.err + captured.out
    # the access log and the CSRF message were written, with the tokens taken out
    assert re.search(r'"(GET|POST) /abo/einstellungen/\[token\]', output), output[:2000]
    assert "CSRF check failed" in output
    for name, secret in secrets.items():
        for start in range(0, len(secret) - 16, 8):  # no piece of it either
            assert secret[start : start + 16] not in output, (name, start)
    assert BERND not in output


def test_token_paths_in_logs_agree_with_the_routes() -> None:
    for path in (tokens.CONFIRM_PATH, tokens.MANAGE_PATH, tokens.UNSUBSCRIBE_PATH):
        assert logs.redact(f"GET {path}abc.DEF-_123 HTTP/1.1") == f"GET {path}[token] HTTP/1.1"
    assert logs.redact("/abo/link?x=1") == "/abo/link?x=1"
