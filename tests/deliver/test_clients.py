"""The SendGrid client's connections: at most `concurrency`, each lent to one request, through
the proxy the environment names."""

from __future__ import annotations

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpcore
import httpx
import pytest

from pipeline.deliver.sendgrid import Clients, Endpoint, _environment_proxy


def test_never_more_clients_than_its_size_and_each_to_one_request_at_a_time() -> None:
    made: list[httpx.Client] = []
    in_use: set[int] = set()
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def make() -> httpx.Client:
        made.append(client := httpx.Client())
        return client

    clients = Clients(make, size=4, wait_s=60)

    def request(i: int) -> None:
        if i < 8:
            barrier.wait()  # eight threads want a client at once
        with clients.lend() as client:
            with lock:
                assert id(client) not in in_use, "one client lent to two requests"
                in_use.add(id(client))
            with lock:
                in_use.discard(id(client))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(request, range(200)))
    assert 1 <= len(made) <= 4
    clients.close()
    assert all(c.is_closed for c in made)


def test_a_request_that_finds_every_client_lent_fails_as_a_pool_timeout() -> None:
    """Nothing was sent: the mailer maps it to a transient "no connection" failure."""
    clients = Clients(httpx.Client, size=1, wait_s=0)
    with clients.lend(), pytest.raises(httpcore.PoolTimeout), clients.lend():
        pass
    with clients.lend():  # returned: lent again
        pass
    clients.close()


# ---------------------------------------------------------------- the endpoint's connections


class _ForwardProxy(ThreadingHTTPServer):
    """A loopback HTTP proxy that answers for the origin itself: records what it was asked."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.seen.append((self.path, dict(self.headers.items()), body))
                self.send_response(202)
                self.send_header("X-Message-Id", "via-proxy")
                self.send_header("Content-Length", "0")
                self.end_headers()

        server = self
        super().__init__(("127.0.0.1", 0), Handler)


def test_mail_goes_through_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTPS_PROXY/HTTP_PROXY count as they did for the httpx client (an office behind a
    proxy), with the credentials in the proxy's URL; NO_PROXY goes direct."""
    from tests.deliver.test_sendgrid_peer import batch, mailer

    proxy = _ForwardProxy()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        port = proxy.server_address[1]
        for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://eu%40buero:g%3Fheim@127.0.0.1:{port}")
        sender = mailer("http://sendgrid.invalid:8080")  # only the proxy can reach it
        results = sender.send_batch(batch(3))
        sender.close()
        assert [r.message_id for r in results] == ["via-proxy"] * 3
        (path, headers, body), *more = proxy.seen
        assert not more
        assert path == "http://sendgrid.invalid:8080/v3/mail/send"  # asked of the proxy
        assert headers["Host"] == "sendgrid.invalid:8080"
        assert headers["Authorization"] == "Bearer SG.test"
        credentials = base64.b64decode(headers["Proxy-Authorization"].split()[1])
        assert credentials == b"eu@buero:g?heim"
        assert len(json.loads(body)["personalizations"]) == 3
    finally:
        proxy.shutdown()
        proxy.server_close()

    assert _environment_proxy("http", "sendgrid.invalid") == (
        f"http://127.0.0.1:{port}",
        ("eu@buero", "g?heim"),
    )
    monkeypatch.setenv("NO_PROXY", ".invalid")
    assert _environment_proxy("http", "sendgrid.invalid") is None
    assert _environment_proxy("https", "api.sendgrid.com") is None  # no HTTPS_PROXY
    monkeypatch.setenv("ALL_PROXY", "proxy.example:3128")
    assert _environment_proxy("https", "api.sendgrid.com") == ("http://proxy.example:3128", None)


def test_the_host_header_names_a_port_only_when_it_is_not_the_scheme_s_own() -> None:
    def host(url: str) -> bytes:
        return dict(Endpoint(url, {}, timeout_s=1).headers)[b"Host"]

    assert host("https://api.sendgrid.com/v3/mail/send") == b"api.sendgrid.com"
    assert host("https://api.sendgrid.com:8443/v3/mail/send") == b"api.sendgrid.com:8443"
    assert host("http://127.0.0.1:4010/v3/mail/send") == b"127.0.0.1:4010"
    assert host("http://[::1]:4010/v3/mail/send") == b"[::1]:4010"


def test_a_repeated_response_header_reads_as_httpx_read_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Names in lower case; a header sent twice gives its values joined by ", " (httpx's
    `Headers[name]`), so a Retry-After or X-Message-Id reads as it did with the client."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(202)
            self.send_header("X-Message-Id", "m1")
            self.send_header("X-Note", "a")
            self.send_header("x-note", "b")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v3/mail/send"
        endpoint = Endpoint(url, {}, timeout_s=30)
        with endpoint.connection() as pool:
            status, headers, body = endpoint.post(pool, b"{}")
        with httpx.Client() as client:
            theirs = client.post(url, content=b"{}")
    finally:
        server.shutdown()
        server.server_close()
    assert (status, body) == (202, b"ok")
    assert headers["x-message-id"] == theirs.headers["X-Message-Id"] == "m1"
    assert headers["x-note"] == theirs.headers["x-note"] == "a, b"
