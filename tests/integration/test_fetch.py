"""fetch.py against the real loopback feed server: no mocks, every fault route.

A fault test sets the one limit it is about, small, against a server side far slower
than it; every other fetch gets a timeout no busy machine reaches (10 s). The
assertions are on outcomes and messages, never on how long something took.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import os
import random
import socket
import threading
import zlib
from collections.abc import Iterator
from email.utils import format_datetime, formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.config import fetch_allow_list
from pipeline.ingest.fetch import Fetcher, FetchRequest, describe_error
from pipeline.model import FetchResult, FetchStatus
from tests.support.feedserver import GENERATED_FEED, FeedServer
from tests.support.ports import refusing_port

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
UA = "eudigest-tests/1 (+https://example.invalid/eudigest)"


@pytest.fixture
def srv(corpus_dir: Path) -> Iterator[FeedServer]:
    with FeedServer(corpus_dir) as server:
        yield server


def fetcher(**overrides: Any) -> Fetcher:
    options: dict[str, Any] = {
        "user_agent": UA,
        "timeout_s": 10.0,
        "max_bytes": 2_000_000,
        "max_redirects": 5,
        "concurrency": 8,
        "per_host": 4,
        "clock": lambda: NOW,
        # the running FeedServers only (each adds itself while it runs)
        "allow": fetch_allow_list(os.environ.get("EUDIGEST_FETCH_ALLOW", "")),
    }
    options.update(overrides)
    return Fetcher(**options)


def fetch(url: str, **overrides: Any) -> FetchResult:
    request_fields = {k: overrides.pop(k) for k in list(overrides) if k in REQUEST_FIELDS}
    [result] = fetcher(**overrides).fetch_all_sync([FetchRequest("src", url, **request_fields)])
    return result


REQUEST_FIELDS = {"method", "headers", "content", "data", "files", "etag", "last_modified"}


def failed(result: FetchResult) -> str:
    assert result.status is FetchStatus.FAILED, result
    assert result.body == b""
    assert result.error is not None
    return result.error


# ---------------------------------------------------------------- 200, validators, 304


def test_ok_gives_the_file_bytes_after_gzip_and_validators(
    srv: FeedServer, corpus_dir: Path
) -> None:
    path = corpus_dir / "feeds" / "de-blick-schweiz.xml"
    result = fetch(srv.url("/feeds/de-blick-schweiz.xml"))

    assert result.status is FetchStatus.OK
    assert result.body == path.read_bytes()
    assert "ü".encode() in result.body  # German text arrives as UTF-8 bytes, untouched
    assert result.http_status == 200
    assert result.content_type == "application/xml"
    assert result.etag is not None and result.etag.startswith('"')
    assert result.last_modified == formatdate(path.stat().st_mtime, usegmt=True)
    assert result.url == srv.url("/feeds/de-blick-schweiz.xml")
    seen = srv.requests[-1].headers
    assert seen["user-agent"] == UA
    assert seen["accept"].startswith("application/rss+xml, application/atom+xml")
    assert "gzip" in seen["accept-encoding"]
    assert "if-none-match" not in seen


def test_second_fetch_with_validators_is_not_modified(srv: FeedServer) -> None:
    url = srv.url("/feeds/ecb-press-en.xml")
    first = fetch(url)
    second = fetch(url, etag=first.etag, last_modified=first.last_modified)

    assert second.status is FetchStatus.NOT_MODIFIED
    assert second.body == b""
    assert second.http_status == 304
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    seen = srv.requests[-1].headers
    assert seen["if-none-match"] == first.etag
    assert seen["if-modified-since"] == first.last_modified
    assert srv.hits["/feeds/ecb-press-en.xml"] == 2


def test_if_modified_since_alone_gives_not_modified(srv: FeedServer) -> None:
    url = srv.url("/feeds/eba-news-en.xml")
    first = fetch(url)
    second = fetch(url, last_modified=first.last_modified)
    assert second.status is FetchStatus.NOT_MODIFIED
    assert "if-none-match" not in srv.requests[-1].headers


def test_not_modified_keeps_old_validators_when_the_304_omits_them(srv: FeedServer) -> None:
    srv.validators_on_304 = False
    first = fetch(srv.url("/feeds/eba-news-en.xml"))
    second = fetch(
        srv.url("/feeds/eba-news-en.xml"), etag=first.etag, last_modified=first.last_modified
    )
    assert second.status is FetchStatus.NOT_MODIFIED
    assert second.etag == first.etag
    assert second.last_modified == first.last_modified


def test_changed_feed_is_fetched_again_with_new_etag(srv: FeedServer) -> None:
    srv.put("/live.xml", b"<rss version='2.0'><channel><title>Eins</title></channel></rss>")
    first = fetch(srv.url("/live.xml"))
    srv.put(
        "/live.xml",
        "<rss version='2.0'><channel><title>Zwei Übersicht</title></channel></rss>".encode(),
    )
    second = fetch(srv.url("/live.xml"), etag=first.etag, last_modified=first.last_modified)

    assert second.status is FetchStatus.OK
    assert "Zwei Übersicht".encode() in second.body
    assert second.etag != first.etag


def test_content_type_override_is_reported(srv: FeedServer) -> None:
    srv.set_content_type("/feeds/ecb-press-en.xml", "text/html; charset=iso-8859-1")
    result = fetch(srv.url("/feeds/ecb-press-en.xml"))
    assert result.status is FetchStatus.OK
    assert result.content_type == "text/html; charset=iso-8859-1"


def test_twenty_eight_corpus_files_at_once(srv: FeedServer, corpus_dir: Path) -> None:
    files = sorted(p for p in corpus_dir.rglob("*") if p.suffix in (".xml", ".json"))
    assert len(files) >= 28
    requests = [FetchRequest(p.name, srv.url(p.relative_to(corpus_dir).as_posix())) for p in files]
    results = fetcher(concurrency=8, per_host=4).fetch_all_sync(requests)

    assert [r.source_id for r in results] == [p.name for p in files]  # sync keeps the order
    assert all(r.status is FetchStatus.OK for r in results), [r.error for r in results]
    for path, result in zip(files, results, strict=True):
        assert result.body == path.read_bytes(), path.name


# ---------------------------------------------------------------- HTTP errors, Retry-After


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (403, "HTTP 403 Forbidden"),
        (404, "HTTP 404 Not Found"),
        (410, "HTTP 410 Gone"),
        (500, "HTTP 500 Internal Server Error"),
        (502, "HTTP 502 Bad Gateway"),
        (503, "HTTP 503 Service Unavailable"),
    ],
)
def test_error_status_is_a_failure_with_its_name(srv: FeedServer, code: int, message: str) -> None:
    result = fetch(srv.url(f"/_fault/status/{code}"))
    assert failed(result) == message
    assert result.http_status == code
    assert result.retry_after is None


def test_retry_after_seconds_on_503(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/status/503?retry_after=120"))
    assert failed(result) == "HTTP 503 Service Unavailable (Retry-After 120 s)"
    assert result.retry_after == NOW + dt.timedelta(seconds=120)


def test_retry_after_http_date_on_429(srv: FeedServer) -> None:
    when = format_datetime(NOW + dt.timedelta(hours=1), usegmt=True)
    result = fetch(srv.url("/_fault/status/429?retry_after=" + when.replace(" ", "%20")))
    assert failed(result) == "HTTP 429 Too Many Requests (Retry-After 3600 s)"
    assert result.retry_after == NOW + dt.timedelta(hours=1)


def test_unreadable_retry_after_is_ignored(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/status/503?retry_after=soon"))
    assert failed(result) == "HTTP 503 Service Unavailable"
    assert result.retry_after is None


def test_retry_after_on_other_statuses_is_not_used(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/status/500?retry_after=60"))
    assert failed(result) == "HTTP 500 Internal Server Error"
    assert result.retry_after is None


# ---------------------------------------------------------------- redirects


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirects_within_the_limit_report_the_final_url(
    srv: FeedServer, corpus_dir: Path, code: int
) -> None:
    result = fetch(srv.url(f"/_fault/redirect/3?to=/feeds/ecb-press-en.xml&code={code}"))
    assert result.status is FetchStatus.OK
    assert result.url == srv.url("/feeds/ecb-press-en.xml")
    assert result.body == (corpus_dir / "feeds" / "ecb-press-en.xml").read_bytes()
    assert srv.hits["/_fault/redirect/3"] == 1
    assert srv.hits["/_fault/redirect/1"] == 1


def test_exactly_max_redirects_is_fine_one_more_is_not(srv: FeedServer) -> None:
    assert fetch(srv.url("/_fault/redirect/5"), max_redirects=5).body == GENERATED_FEED
    assert failed(fetch(srv.url("/_fault/redirect/6"), max_redirects=5)) == "more than 5 redirects"


def test_redirect_loop_stops(srv: FeedServer) -> None:
    assert failed(fetch(srv.url("/_fault/redirect-loop"))) == "more than 5 redirects"
    assert srv.hits["/_fault/redirect-loop"] == 6


def test_redirect_to_another_scheme_is_refused(srv: FeedServer) -> None:
    error = failed(fetch(srv.url("/_fault/redirect/1?to=file:///etc/passwd")))
    assert error == "unsupported URL scheme 'file' in a redirect (only http and https)"


def test_redirect_keeps_conditional_headers(srv: FeedServer) -> None:
    first = fetch(srv.url("/feeds/ecb-press-en.xml"))
    second = fetch(srv.url("/_fault/redirect/2?to=/feeds/ecb-press-en.xml"), etag=first.etag)
    assert second.status is FetchStatus.NOT_MODIFIED
    assert second.url == srv.url("/feeds/ecb-press-en.xml")


# ---------------------------------------------------------------- size cap, encodings


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("mb=3", "response body over the 1 MB size cap (Content-Length 3000000)"),
        ("mb=3&length=0", "response body over the 1 MB size cap"),
    ],
)
def test_size_cap_with_and_without_content_length(
    srv: FeedServer, query: str, message: str
) -> None:
    result = fetch(srv.url(f"/_fault/big?{query}"), max_bytes=1_000_000)
    assert failed(result) == message
    assert result.http_status == 200


@pytest.mark.parametrize("query", ["mb=0.5", "mb=0.5&length=0"])
def test_body_under_the_cap_arrives_whole(srv: FeedServer, query: str) -> None:
    result = fetch(srv.url(f"/_fault/big?{query}"), max_bytes=1_000_000)
    assert result.status is FetchStatus.OK
    assert len(result.body) == 500_000
    assert result.body.startswith(b"<!-- padding -->\n")


def test_size_cap_after_a_redirect_names_the_final_url(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/redirect/2?to=/_fault/big%3Fmb%3D3"), max_bytes=1_000_000)
    assert failed(result) == "response body over the 1 MB size cap (Content-Length 3000000)"
    assert result.url == srv.url("/_fault/big?mb=3")


def test_gzip_bomb_stops_at_the_cap(srv: FeedServer) -> None:
    # About 1 MB on the wire (under the cap), 1 GiB inflated.
    result = fetch(srv.url("/_fault/gzip-bomb"), max_bytes=2_000_000)
    assert failed(result) == "decompressed body over the 2 MB size cap (gzip bomb?)"


def test_gzipped_corpus_file_over_the_cap_is_refused(srv: FeedServer) -> None:
    # 1.6 MB inflated; gzipped it is far smaller, so only the decoded size can catch it.
    result = fetch(srv.url("/feeds/quirk-huge-podcast-giantbomb.xml"), max_bytes=1_000_000)
    assert failed(result) == "decompressed body over the 1 MB size cap (gzip bomb?)"


FEED = "<rss version='2.0'><channel><title>Förderaufruf</title></channel></rss>".encode()


def raw_deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return comp.compress(data) + comp.flush()


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        ("gzip", gzip.compress(FEED)),
        ("x-gzip", gzip.compress(FEED)),
        ("deflate", zlib.compress(FEED)),  # zlib-wrapped, as the RFC says
        ("deflate", raw_deflate(FEED)),  # without zlib header, as some servers send it
        ("identity", FEED),
    ],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "identity"],
)
def test_content_encodings_are_decoded(srv: FeedServer, encoding: str, encoded: bytes) -> None:
    srv.put("/enc.xml", encoded, headers={"Content-Encoding": encoding})
    result = fetch(srv.url("/enc.xml"))
    assert result.status is FetchStatus.OK, result.error
    assert result.body == FEED


def test_truncated_gzip_fails_clearly(srv: FeedServer) -> None:
    srv.put("/cut.xml", gzip.compress(FEED * 50)[:-30], headers={"Content-Encoding": "gzip"})
    error = failed(fetch(srv.url("/cut.xml")))
    assert error == "cannot decode the gzip body: the gzip stream ends early (truncated body)"


def test_corrupt_gzip_fails_clearly(srv: FeedServer) -> None:
    srv.put("/bad.xml", b"\x1f\x8b\x08\x00not really gzip", headers={"Content-Encoding": "gzip"})
    assert failed(fetch(srv.url("/bad.xml"))).startswith("cannot decode the gzip body: ")


def test_unrequested_encoding_fails_clearly(srv: FeedServer) -> None:
    srv.put("/br.xml", b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"})
    assert failed(fetch(srv.url("/br.xml"))) == "unsupported Content-Encoding 'br'"


# ---------------------------------------------------------------- content fetch does not judge


def test_empty_body_fails(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/empty"))
    assert failed(result) == "HTTP 200 with an empty body"
    assert result.http_status == 200


def test_html_page_is_fetched_and_left_to_the_parser(srv: FeedServer) -> None:
    # HTML sources are scraped pages: fetch cannot refuse text/html.
    result = fetch(srv.url("/_fault/html"))
    assert result.status is FetchStatus.OK
    assert result.content_type == "text/html; charset=utf-8"
    assert result.body.startswith(b"<!DOCTYPE html>")


def test_garbage_is_fetched_byte_for_byte(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/garbage?bytes=4096&seed=7"))
    assert result.status is FetchStatus.OK
    assert result.body == random.Random(7).randbytes(4096)


def test_truncated_file_with_honest_length_arrives_as_sent(
    srv: FeedServer, corpus_dir: Path
) -> None:
    data = (corpus_dir / "feeds" / "ecb-press-en.xml").read_bytes()
    result = fetch(srv.url("/_fault/truncated?file=feeds/ecb-press-en.xml"))
    assert result.status is FetchStatus.OK
    assert result.body == data[: len(data) // 2]


def test_body_shorter_than_its_content_length_fails(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/truncated?file=feeds/ecb-press-en.xml&lie=1"))
    assert failed(result) == "connection closed before the whole body arrived"


# ---------------------------------------------------------------- network faults, time limits


# The server's side is always far slower than the limit under test (a 60 s sleep, cut
# short when the server stops; a byte every 0.05 s for a read timeout of seconds), so a
# busy machine cannot make the other limit fire first.


def test_read_timeout(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/slow?seconds=60"), timeout_s=0.5)
    assert failed(result) == "timed out after 0.5 s (read)"


def test_trickling_server_is_cut_off_by_the_total_deadline(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/trickle?interval=0.05"), timeout_s=30, total_timeout_s=1.0)
    assert failed(result) == "timed out after 1 s (total for one fetch)"


def test_default_total_deadline_is_three_read_timeouts(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/trickle?interval=0.05"), timeout_s=1.5)
    assert failed(result) == "timed out after 4.5 s (total for one fetch)"


def test_connection_reset(srv: FeedServer) -> None:
    assert failed(fetch(srv.url("/_fault/reset"))) == "connection reset by the server"


def test_connection_closed_without_answer(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/reset?mode=close"))
    assert failed(result) == "server closed the connection without an answer"


def test_connection_refused() -> None:
    with refusing_port() as port:
        allow = fetch_allow_list(f"127.0.0.1:{port}")
        assert failed(fetch(f"http://127.0.0.1:{port}/feed.xml", allow=allow)) == (
            "connection refused"
        )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "ftp://ftp.example.invalid/feed.xml",
            "unsupported URL scheme 'ftp' (only http and https)",
        ),
        ("file:///etc/passwd", "unsupported URL scheme 'file' (only http and https)"),
        ("ec.europa.eu/rss.xml", "unsupported URL scheme 'none' (only http and https)"),
        ("http:///no-host.xml", "invalid URL: no host name"),
        ("http://[::1/feed.xml", "invalid URL: Invalid IPv6 URL"),
    ],
)
def test_only_http_urls_are_fetched(url: str, message: str) -> None:
    assert failed(fetch(url)) == message


NO_NETWORK = "(no network?)"
TLS_TEXT = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (
            httpx.ConnectError("[Errno -2] Name or service not known"),
            f"cannot connect: name or service not known {NO_NETWORK}",
        ),
        (
            httpx.ConnectError("[Errno -3] Temporary failure in name resolution"),
            f"cannot connect: temporary failure in name resolution {NO_NETWORK}",
        ),
        (
            httpx.ConnectError("[Errno 101] Network is unreachable"),
            f"cannot connect: network is unreachable {NO_NETWORK}",
        ),
        (httpx.ConnectTimeout("timed out"), "timed out after 30 s (connect)"),
        (httpx.ConnectError(TLS_TEXT), f"TLS error: {TLS_TEXT}"),
        (ValueError("boom"), "unexpected error: ValueError: boom"),
    ],
)
def test_messages_for_faults_loopback_cannot_produce(exc: Exception, message: str) -> None:
    # DNS and TLS failures need the outside network; their messages are checked here.
    assert describe_error(exc, 30.0) == message


# ---------------------------------------------------------------- concurrency


# The server answers a request of /_fault/together?n=N only once N of them are in flight:
# the limit is reached for sure, however slowly a busy machine starts the requests.


def test_per_host_limit_is_respected(srv: FeedServer) -> None:
    requests = [FetchRequest(f"s{i}", srv.url("/_fault/together?n=2")) for i in range(8)]
    results = fetcher(concurrency=8, per_host=2).fetch_all_sync(requests)
    assert [r.status for r in results] == [FetchStatus.OK] * 8
    assert srv.max_concurrent("127.0.0.1") == 2


def test_two_hosts_are_fetched_side_by_side(srv: FeedServer) -> None:
    requests = [
        FetchRequest(f"{host}-{i}", srv.url("/_fault/together?n=4", host=host))
        for host in ("127.0.0.1", "localhost")
        for i in range(4)
    ]
    results = fetcher(concurrency=8, per_host=2).fetch_all_sync(requests)
    assert [r.status for r in results] == [FetchStatus.OK] * 8
    assert srv.max_concurrent("127.0.0.1") == 2
    assert srv.max_concurrent("localhost") == 2
    assert srv.max_concurrent() == 4


def test_global_limit_is_respected(srv: FeedServer) -> None:
    requests = [FetchRequest(f"s{i}", srv.url("/_fault/together?n=3")) for i in range(6)]
    results = fetcher(concurrency=3, per_host=8).fetch_all_sync(requests)
    assert all(r.status is FetchStatus.OK for r in results)
    assert srv.max_concurrent() == 3


def test_fetch_all_yields_results_as_they_complete(srv: FeedServer) -> None:
    """The first request is answered only after the three others were yielded."""
    requests = [FetchRequest("held", srv.url("/_fault/held?gate=first"))] + [
        FetchRequest(f"fast{i}", srv.url("/feeds/eba-news-en.xml")) for i in range(3)
    ]

    async def collect() -> list[str]:
        order = []
        async for result in fetcher().fetch_all(requests):
            order.append(result.source_id)
            if len(order) == 3:
                srv.release("first")
        return order

    order = asyncio.run(collect())
    assert sorted(order[:3]) == ["fast0", "fast1", "fast2"]
    assert order[3] == "held"


def test_a_consumer_that_stops_early_leaves_nothing_running(srv: FeedServer) -> None:
    requests = [FetchRequest("fast", srv.url("/feeds/eba-news-en.xml"))] + [
        FetchRequest(f"slow{i}", srv.url("/_fault/slow?seconds=5")) for i in range(3)
    ]

    async def first_only() -> tuple[str, int]:
        gen = fetcher(timeout_s=10).fetch_all(requests)
        first = await anext(gen)
        await gen.aclose()
        return first.source_id, len(asyncio.all_tasks())

    source_id, tasks_left = asyncio.run(first_only())
    assert source_id == "fast"
    assert tasks_left == 1  # only the test's own task


# ---------------------------------------------------------------- request bodies


def test_post_with_json_content(srv: FeedServer) -> None:
    srv.put("/api/search", b'{"totalResults": 0, "results": []}', "application/json")
    result = fetch(
        srv.url("/api/search"),
        method="POST",
        content=b'{"query": "HORIZON"}',
        headers={"Content-Type": "application/json"},
    )
    assert result.status is FetchStatus.OK
    assert result.body == b'{"totalResults": 0, "results": []}'
    seen = srv.requests[-1]
    assert (seen.method, seen.body) == ("POST", b'{"query": "HORIZON"}')
    assert seen.headers["content-type"] == "application/json"


def test_post_multipart_with_data_and_files(srv: FeedServer) -> None:
    srv.put("/api/search", b'{"results": []}', "application/json")
    result = fetch(
        srv.url("/api/search?apiKey=SEDIA&text=***"),
        method="POST",
        data={"pageSize": "50"},
        files={"query": ("blob", b'{"bool":{"must":[]}}', "application/json")},
    )
    assert result.status is FetchStatus.OK
    seen = srv.requests[-1]
    assert seen.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'{"bool":{"must":[]}}' in seen.body
    assert b'name="pageSize"' in seen.body
    assert seen.query == "apiKey=SEDIA&text=***"


# ---------------------------------------------------------------- the server itself


def test_feed_server_stops_with_an_idle_keep_alive_connection_open(corpus_dir: Path) -> None:
    server = FeedServer(corpus_dir).start()
    conn = socket.create_connection(("127.0.0.1", server.port))
    try:
        conn.sendall(b"GET /_fault/feed HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b"</rss>" not in answer:
            answer += conn.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200 ")
        server.stop()  # the handler thread is blocked reading the next request
        assert conn.recv(1) == b""  # the server closed its side
    finally:
        conn.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("feedserver:")]
    assert not [t for t in threading.enumerate() if "process_request_thread" in t.name]


# ---------------------------------------------------------------- special addresses


def test_a_redirect_to_an_internal_address_is_refused_and_never_reached(
    srv: FeedServer,
) -> None:
    with FeedServer() as internal:
        internal.put("/secret", b"<rss><channel><title>internal</title></channel></rss>")
        for host in ("127.0.0.1", "localhost"):
            target = internal.url("/secret", host=host)
            url = srv.url(f"/_fault/redirect/1?to={target}")
            # only the public-facing server is allowed, as in production only public ones are
            result = fetch(url, allow=fetch_allow_list(srv.fetch_allow))
            error = failed(result)
            assert f"127.0.0.1:{internal.port} (loopback address)" in error
            assert "EUDIGEST_FETCH_ALLOW" in error
            assert result.url == target
        assert internal.hits["/secret"] == 0
        assert srv.hits["/_fault/redirect/1"] == 2


def test_without_an_allow_list_a_loopback_source_is_refused(srv: FeedServer) -> None:
    result = fetch(srv.url("/_fault/feed"), allow=())
    assert failed(result) == (
        f"refused to connect to 127.0.0.1:{srv.port} (loopback address) for host '127.0.0.1'; "
        f"add '127.0.0.1:{srv.port}' to EUDIGEST_FETCH_ALLOW if this source is meant to be "
        "fetched"
    )
    assert srv.hits["/_fault/feed"] == 0


def test_the_socket_connects_to_the_checked_address_not_to_a_second_lookup(
    srv: FeedServer,
) -> None:
    """DNS rebinding: the name is resolved once, checked, and that address is connected to.

    The fake DNS answers the allowed loopback address first and a private one after it;
    a fetcher that looked the name up again to connect would meet the second answer.
    No address outside this machine is ever connected to.
    """
    answers = [["10.9.9.9"], ["127.0.0.1"]]  # popped from the end: loopback first
    looked_up: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return answers.pop()

    url = f"http://feeds.example:{srv.port}/_fault/feed"  # a name no real DNS knows
    result = fetch(url, allow=fetch_allow_list(f"127.0.0.1:{srv.port}"), resolve=resolve)
    assert result.status is FetchStatus.OK, result
    assert result.body == GENERATED_FEED
    assert looked_up == ["feeds.example"]
    # the next connection resolves anew, meets the private answer and is refused
    again = fetch(url, allow=fetch_allow_list(f"127.0.0.1:{srv.port}"), resolve=resolve)
    assert f"refused to connect to 10.9.9.9:{srv.port} (private address)" in failed(again)
    assert srv.hits["/_fault/feed"] == 1


def test_one_special_answer_among_several_refuses_the_name(srv: FeedServer) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["147.67.34.30", "10.0.0.7"]

    result = fetch(f"http://mixed.example:{srv.port}/_fault/feed", allow=(), resolve=resolve)
    assert f"refused to connect to 10.0.0.7:{srv.port} (private address)" in failed(result)
