"""Fetch sources over HTTP: conditional GET, size cap, redirects, timeouts, politeness.

With deliver/sendgrid.py the only module that imports httpx. Nothing here ever
raises for a failing source: every fault becomes a FetchResult with status
FAILED and a one-line English `error` an operator understands.

    requests ─► per-host semaphore ─► global semaphore ─► overall deadline
             ─► send (manual redirect loop, scheme checked on every hop)
             ─► connect: resolve the name, refuse special addresses, connect to the
                 checked address (every hop, every new connection; see _GuardedBackend)
             ─► 304 → NOT_MODIFIED | 4xx/5xx → FAILED (+Retry-After)
             ─► stream raw body ─► bounded gzip/deflate decoding ─► size cap ─► OK

Decompression is done here, not by httpx, so that no more than the size cap
(plus one network chunk) is ever decoded into memory: a gzip bomb stops at the
cap without inflating a whole chunk first.

No fetch reaches loopback, private, link-local, multicast, reserved or other
addresses that are not globally routable (IPv4, IPv6, IPv4-mapped), unless
EUDIGEST_FETCH_ALLOW names them: the check runs after DNS resolution, on the
addresses the socket then connects to, so a name that resolves differently a
second time (DNS rebinding) cannot slip past it. A refused address is a failed
fetch whose error names the address and the setting.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import functools
import http
import ipaddress
import re
import socket
import ssl
import sys
import time
import zlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

# httpx imports its command line client at its own import when click, rich and pygments
# are installed (they are, for other reasons): about 0.1 s of CPU that a fetch never
# uses. Marking that one module absent makes httpx define its stub `main` instead.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
import httpcore
import httpx

from pipeline.config import FetchAllow
from pipeline.model import EMPTY, FetchResult, FetchStatus

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate"  # decoded here, with a bound; no brotli/zstd
RETRY_AFTER_CAP = dt.timedelta(hours=24)
TOTAL_TIMEOUT_FACTOR = 3.0  # overall deadline per fetch = factor × timeout_s

_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """One HTTP request for one source. Validators come from the source's health."""

    source_id: str
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY)  # extra headers
    content: bytes | None = None  # raw request body (e.g. a JSON query)
    data: Mapping[str, str] | None = None  # form fields (urlencoded, or multipart with files)
    files: Mapping[str, tuple[str | None, bytes, str]] | None = None  # multipart parts
    etag: str | None = None  # → If-None-Match
    last_modified: str | None = None  # → If-Modified-Since


# ---------------------------------------------------------------- pure helpers


def retry_after(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """The time a Retry-After header value points to, capped at now + 24 h.

    Both forms are understood: delay-seconds ("120") and an HTTP-date. A date in
    the past gives `now`; anything unreadable gives None. The result is aware
    when `now` is aware, naive UTC when `now` is naive.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DIGITS.fullmatch(text):
        if len(text) > 9:  # more than ~31 years: the cap applies anyway
            return now + RETRY_AFTER_CAP
        return now + min(dt.timedelta(seconds=int(text)), RETRY_AFTER_CAP)
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:  # "-0000": an HTTP-date is always GMT
            when = when.replace(tzinfo=dt.UTC)
        if now.tzinfo is None:
            when = when.astimezone(dt.UTC).replace(tzinfo=None)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(when, now), now + RETRY_AFTER_CAP)


def next_try_after_failure(
    failures: int,
    interval_minutes: int,
    now: dt.datetime,
    retry_after: dt.datetime | None,
    max_minutes: int,
) -> dt.datetime:
    """When to try a failing source again: exponential backoff, never "disabled".

    interval × 2^(failures-1) minutes, capped at `max_minutes` (at least one
    minute). No jitter: the result is a pure function of its arguments. A
    Retry-After time wins when it is later, itself capped at now + 24 h.
    The result is always later than `now`.
    """
    exponent = min(max(failures, 1) - 1, 40)  # 2^40 minutes is past any cap
    minutes = max(interval_minutes, 1) * 2**exponent
    minutes = max(1, min(minutes, max_minutes))
    when = now + dt.timedelta(minutes=minutes)
    if retry_after is not None:
        when = max(when, min(retry_after, now + RETRY_AFTER_CAP))
    return when


def describe_size(n: int) -> str:
    """20_000_000 → '20 MB', 100_000 → '100 kB', 512 → '512 bytes'."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.3g} MB"
    if n >= 1_000:
        return f"{n / 1_000:.3g} kB"
    return f"{n} bytes"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes and contexts, and members of exception groups."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 32:
        current = todo.pop(0)
        if any(current is s for s in seen):
            continue
        seen.append(current)
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        for nxt in (current.__cause__, current.__context__):
            if nxt is not None:
                todo.append(nxt)
    return seen


def describe_error(exc: BaseException, timeout_s: float) -> str:
    """One English line for an httpx (or socket) exception, looking through its causes."""
    chain = _chain(exc)
    text = str(exc) or type(exc).__name__
    low = " | ".join(str(e) for e in chain).lower()
    errnos = {e.errno for e in chain if isinstance(e, OSError) and e.errno is not None}
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out after {_seconds(timeout_s)} (connect)"
    if isinstance(exc, httpx.ReadTimeout):
        return f"timed out after {_seconds(timeout_s)} (read)"
    if isinstance(exc, httpx.WriteTimeout):
        return f"timed out after {_seconds(timeout_s)} (write)"
    if isinstance(exc, httpx.PoolTimeout):
        return f"timed out after {_seconds(timeout_s)} (waiting for a free connection)"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {_seconds(timeout_s)}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"unsupported URL scheme ({text})"
    if isinstance(exc, httpx.InvalidURL):
        return f"invalid URL: {text}"
    if errno.ECONNREFUSED in errnos or "connection refused" in low:
        return "connection refused"
    if socket.EAI_NONAME in errnos or "name or service not known" in low or "nodename nor" in low:
        return "cannot connect: name or service not known (no network?)"
    if socket.EAI_AGAIN in errnos or "temporary failure in name resolution" in low:
        return "cannot connect: temporary failure in name resolution (no network?)"
    if errno.ENETUNREACH in errnos or "network is unreachable" in low:
        return "cannot connect: network is unreachable (no network?)"
    if errno.EHOSTUNREACH in errnos or "no route to host" in low:
        return "cannot connect: no route to host (no network?)"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "certificate verify failed" in low:
        return f"TLS error: {_last_words(chain)}"
    if errno.ECONNRESET in errnos or "connection reset" in low:
        return "connection reset by the server"
    if errno.EPIPE in errnos or "broken pipe" in low:
        return "connection closed by the server while sending the request"
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending" in low and "response" in low:
            return "server closed the connection without an answer"
        if "peer closed connection" in low or "incomplete" in low:
            return "connection closed before the whole body arrived"
        return f"HTTP protocol error: {text}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {_last_words(chain)}"
    if isinstance(exc, httpx.TransportError):
        return f"network error: {_last_words(chain)}"
    if isinstance(exc, httpx.HTTPError):
        return f"HTTP error: {text}"
    return f"unexpected error: {type(exc).__name__}: {text}"


def _last_words(chain: list[BaseException]) -> str:
    """The most specific message in an exception chain (the innermost non-empty one)."""
    for e in reversed(chain):
        if str(e):
            return str(e)
    return type(chain[0]).__name__


def _status_line(code: int, reason: str) -> str:
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = reason
    return f"HTTP {code} {phrase}".rstrip()


# ---------------------------------------------------------------- addresses

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def special_address(address: IPAddress) -> str | None:
    """Why an address must not be fetched ('loopback', 'private', …), or None if global.

    An IPv4-mapped IPv6 address is judged as its IPv4 address; one that carries an
    IPv4 address otherwise (6to4, NAT64) by that address too; Teredo is refused.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the socket reaches the IPv4 address
            return special_address(address.ipv4_mapped)
        if address.sixtofour is not None and (reason := special_address(address.sixtofour)):
            return reason
        if address.teredo is not None:
            return "Teredo tunnel"
        if address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            if (reason := special_address(inner)) is not None:
                return reason
    if address.is_loopback:
        return "loopback"
    if address.is_unspecified:
        return "unspecified"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "special-purpose"
    return None


class AddressRefused(Exception):
    """Internal: a connection to a special address that EUDIGEST_FETCH_ALLOW does not name."""

    def __init__(self, host: str, port: int, address: IPAddress, reason: str) -> None:
        shown = address if address.version == 4 else f"[{address}]"
        super().__init__(
            f"refused to connect to {shown}:{port} ({reason} address) for host {host!r}; "
            f"add {_allow_hint(host, port)} to EUDIGEST_FETCH_ALLOW if this source is meant "
            "to be fetched"
        )


def _allow_hint(host: str, port: int) -> str:
    return f"'[{host}]:{port}'" if ":" in host else f"'{host}:{port}'"


def check_address(host: str, port: int, address: IPAddress, allow: Sequence[FetchAllow]) -> None:
    """Raise AddressRefused unless the address is global or `allow` names it."""
    reason = special_address(address)
    if reason is not None and not any(entry.allows(host, port, address) for entry in allow):
        raise AddressRefused(host, port, address, reason)


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def _resolve(host: str, port: int) -> list[str]:
    """The addresses of a host name (or the literal address itself), as the OS resolves it."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(sockaddr[0]) for *_, sockaddr in infos]


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend that resolves, checks, then connects to the checked address.

    TLS (SNI, certificate) still uses the host name: httpcore calls start_tls on the
    stream with the URL's host, whatever address the socket was opened to.
    """

    def __init__(self, allow: Sequence[FetchAllow], resolve: Resolver | None = None) -> None:
        self._allow = tuple(allow)
        self._resolve = resolve or _resolve
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                resolved = await self._resolve(host.strip("[]"), port)
        except TimeoutError as exc:  # as httpcore's own backends report them
            raise httpcore.ConnectTimeout(f"resolving {host!r} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        addresses: list[IPAddress] = []
        for text in resolved:
            address = ipaddress.ip_address(text.split("%")[0])
            if address not in addresses:
                addresses.append(address)
        for address in addresses:  # all of them: one bad answer refuses the name
            check_address(host, port, address, self._allow)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        if last is None:
            raise httpcore.ConnectError(f"no address for {host!r}")
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The process's SSL context for fetching (SSL_CERT_FILE and SSL_CERT_DIR honoured):
    loading the CA bundle costs 20-30 ms, so it is done once, and the scheduler's start-up
    server does it for all the runs forked from it (ADR 0011)."""
    return httpx.create_ssl_context(trust_env=True)


def load_ahead() -> None:
    """Load now what a process's first fetch would: the CA bundle, anyio's asyncio
    backend and sniffio (httpcore imports them at its first connection), the IDNA codec.
    The scheduler's start-up server does, for every run forked from it (ADR 0011)."""
    import importlib

    # anyio's backend module is private: should a release move it, the rest still loads
    # (an ImportError here would cost the whole preload) and the run imports it itself.
    for name in ("encodings.idna", "sniffio", "anyio._backends._asyncio"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    shared_ssl_context()


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose every connection is checked.

    Environment proxies are not used (an HTTPS_PROXY would resolve names itself);
    SSL_CERT_FILE and SSL_CERT_DIR are, as before.
    """

    def __init__(
        self, allow: Sequence[FetchAllow], limits: httpx.Limits, resolve: Resolver | None = None
    ) -> None:
        # One SSL context, given to httpx's own pool, which is replaced here, and to ours.
        ssl_context = shared_ssl_context()
        super().__init__(verify=ssl_context, http1=True, http2=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=_GuardedBackend(allow, resolve),
        )


# ---------------------------------------------------------------- decoding


class _Unsupported(Exception):
    pass


class _BoundedDecoder:
    """Content-Encoding decoder that never produces more than asked for."""

    def __init__(self, content_encoding: str) -> None:
        encodings = [e.strip().lower() for e in content_encoding.split(",")]
        encodings = [e for e in encodings if e and e != "identity"]
        if len(encodings) > 1:
            raise _Unsupported(f"unsupported Content-Encoding {content_encoding!r}")
        self.name = encodings[0] if encodings else "identity"
        self._fed = 0
        self._z: zlib._Decompress | None
        if self.name == "identity":
            self._z = None
        elif self.name in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self.name == "deflate":
            self._z = zlib.decompressobj()  # zlib-wrapped; raw deflate as fallback
        else:
            raise _Unsupported(f"unsupported Content-Encoding {content_encoding!r}")

    @property
    def compressed(self) -> bool:
        return self._z is not None

    def decode(self, data: bytes, room: int) -> bytes:
        """Decode `data`, giving at most room + 1 bytes (one more means: over the cap)."""
        if self._z is None:
            return data
        fed_before = self._fed
        self._fed += len(data)
        try:
            return self._z.decompress(data, room + 1)
        except zlib.error:
            if self.name != "deflate" or fed_before:
                raise
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)  # some servers send raw deflate
            return self._z.decompress(data, room + 1)

    def finish(self, room: int) -> bytes:
        if self._z is None:
            return b""
        rest = self._z.flush(room + 1)
        if not self._z.eof:
            raise zlib.error(f"the {self.name} stream ends early (truncated body)")
        return rest


# ---------------------------------------------------------------- fetcher


class _Failed(Exception):
    """Internal: ends one fetch with a readable message."""

    def __init__(
        self, message: str, http_status: int | None = None, url: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.url = url  # where it happened, after redirects


@dataclass(slots=True)
class _Limits:
    total: asyncio.Semaphore
    per_host_n: int
    hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def host(self, name: str) -> asyncio.Semaphore:
        sem = self.hosts.get(name)
        if sem is None:
            sem = self.hosts[name] = asyncio.Semaphore(self.per_host_n)
        return sem


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Fetcher:
    """Fetches many sources at once, politely, and never raises for a source failure."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout_s: float,
        max_bytes: int,
        max_redirects: int,
        concurrency: int,
        per_host: int,
        transport: httpx.AsyncBaseTransport | None = None,
        allow: Sequence[FetchAllow] = (),
        resolve: Resolver | None = None,  # tests: a fake DNS; default the system's
        total_timeout_s: float | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.user_agent = user_agent
        self.timeout_s = timeout_s
        self.total_timeout_s = (
            total_timeout_s if total_timeout_s is not None else TOTAL_TIMEOUT_FACTOR * timeout_s
        )
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.concurrency = max(1, concurrency)
        self.per_host = max(1, per_host)
        self.transport = transport  # a test's transport replaces the guarded one
        self.allow = tuple(allow)
        self.resolve = resolve
        self.clock = clock

    def _client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(
            max_connections=self.concurrency,
            max_keepalive_connections=self.concurrency,
        )
        return httpx.AsyncClient(
            http1=True,
            http2=False,
            follow_redirects=False,  # followed by hand in _send: scheme check, no body reads
            timeout=httpx.Timeout(self.timeout_s),
            limits=limits,
            headers={
                "User-Agent": self.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            transport=self.transport or _GuardedTransport(self.allow, limits, self.resolve),
        )

    async def fetch_all(
        self, requests: Sequence[FetchRequest]
    ) -> AsyncGenerator[FetchResult, None]:
        """Yield one FetchResult per request, in the order they complete.

        Close the generator (contextlib.aclosing) if you may stop early: that
        cancels the fetches still running and closes the connections.
        """
        limits = _Limits(asyncio.Semaphore(self.concurrency), self.per_host)
        async with self._client() as client:
            tasks = [asyncio.create_task(self._fetch_one(client, limits, r)) for r in requests]
            try:
                for next_done in asyncio.as_completed(tasks):
                    yield await next_done
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def fetch_all_sync(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        """Fetch everything (in a new event loop); results in the order of `requests`."""

        async def collect() -> list[FetchResult]:
            by_position: dict[int, FetchResult] = {}
            limits = _Limits(asyncio.Semaphore(self.concurrency), self.per_host)
            async with self._client() as client:

                async def one(i: int, request: FetchRequest) -> None:
                    by_position[i] = await self._fetch_one(client, limits, request)

                await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
            return [by_position[i] for i in range(len(requests))]

        return asyncio.run(collect())

    async def fetch_one(self, request: FetchRequest) -> FetchResult:
        """Fetch a single request with its own client (convenience for adapters and tests)."""
        limits = _Limits(asyncio.Semaphore(1), 1)
        async with self._client() as client:
            return await self._fetch_one(client, limits, request)

    # ------------------------------------------------------------ one fetch

    async def _fetch_one(
        self, client: httpx.AsyncClient, limits: _Limits, request: FetchRequest
    ) -> FetchResult:
        try:
            parts = urlsplit(request.url)
            scheme = parts.scheme.lower()
            host = (parts.hostname or "").lower()
        except ValueError as exc:
            return self._failed(request, f"invalid URL: {exc}")
        if scheme not in ("http", "https"):
            shown = scheme or "none"
            return self._failed(request, f"unsupported URL scheme {shown!r} (only http and https)")
        if not host:
            return self._failed(request, "invalid URL: no host name")
        # Host slot first, so that a request waiting for a busy host holds no global slot.
        async with limits.host(host), limits.total:
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.total_timeout_s):
                    return await self._fetch(client, request, started)
            except TimeoutError:
                message = f"timed out after {_seconds(self.total_timeout_s)} (total for one fetch)"
                return self._failed(request, message, started=started)
            except _Failed as failure:
                return self._failed(
                    request, failure.message, failure.http_status, started=started, url=failure.url
                )
            except Exception as exc:  # never raise for a source: failures are data
                return self._failed(request, describe_error(exc, self.timeout_s), started=started)

    def _failed(
        self,
        request: FetchRequest,
        error: str,
        http_status: int | None = None,
        *,
        started: float | None = None,
        url: str | None = None,
        retry_at: dt.datetime | None = None,
    ) -> FetchResult:
        return FetchResult(
            source_id=request.source_id,
            status=FetchStatus.FAILED,
            url=url or request.url,
            http_status=http_status,
            error=error,
            retry_after=retry_at,
            elapsed_s=0.0 if started is None else time.monotonic() - started,
        )

    async def _fetch(
        self, client: httpx.AsyncClient, request: FetchRequest, started: float
    ) -> FetchResult:
        headers = dict(request.headers)
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        outgoing = client.build_request(
            request.method,
            request.url,
            headers=headers,
            content=request.content,
            data=dict(request.data) if request.data is not None else None,
            files=dict(request.files) if request.files is not None else None,
        )
        response = await self._send(client, outgoing)
        try:
            return await self._read(request, response, started)
        finally:
            await response.aclose()

    async def _send(self, client: httpx.AsyncClient, outgoing: httpx.Request) -> httpx.Response:
        """Send, following at most max_redirects redirects (bodies of redirects are not read)."""
        redirects = 0
        while True:
            try:
                response = await client.send(outgoing, stream=True)
            except AddressRefused as refused:  # this hop's address; the body never read
                raise _Failed(str(refused), None, str(outgoing.url)) from None
            next_request = response.next_request
            if next_request is None:
                return response
            await response.aclose()
            redirects += 1
            if redirects > self.max_redirects:
                raise _Failed(
                    f"more than {self.max_redirects} redirects",
                    response.status_code,
                    str(response.url),
                )
            scheme = next_request.url.scheme
            if scheme not in ("http", "https"):
                raise _Failed(
                    f"unsupported URL scheme {scheme!r} in a redirect (only http and https)",
                    response.status_code,
                    str(response.url),
                )
            outgoing = next_request

    async def _read(
        self, request: FetchRequest, response: httpx.Response, started: float
    ) -> FetchResult:
        final_url = str(response.url)
        code = response.status_code
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if code == 304:
            return FetchResult(
                source_id=request.source_id,
                status=FetchStatus.NOT_MODIFIED,
                url=final_url,
                content_type=response.headers.get("Content-Type"),
                etag=etag or request.etag,
                last_modified=last_modified or request.last_modified,
                http_status=code,
                elapsed_s=time.monotonic() - started,
            )
        if not 200 <= code < 300:
            error = _status_line(code, response.reason_phrase)
            retry_at = None
            if code in (429, 503):
                now = self.clock()
                retry_at = retry_after(response.headers.get("Retry-After"), now)
                if retry_at is not None:
                    wait = round((retry_at - now).total_seconds())
                    error += f" (Retry-After {wait} s)"
            elif 300 <= code < 400:
                error += " (redirect without a usable Location)"
            return self._failed(
                request, error, code, started=started, url=final_url, retry_at=retry_at
            )
        try:
            body = await self._read_body(response)
        except _Failed as failure:
            failure.url = final_url
            raise
        if not body:
            raise _Failed(f"HTTP {code} with an empty body", code, final_url)
        return FetchResult(
            source_id=request.source_id,
            status=FetchStatus.OK,
            url=final_url,
            body=body,
            content_type=response.headers.get("Content-Type"),
            etag=etag,
            last_modified=last_modified,
            http_status=code,
            elapsed_s=time.monotonic() - started,
        )

    async def _read_body(self, response: httpx.Response) -> bytes:
        code = response.status_code
        cap = describe_size(self.max_bytes)
        declared = response.headers.get("Content-Length", "").strip()
        if _DIGITS.fullmatch(declared) and int(declared) > self.max_bytes:
            raise _Failed(
                f"response body over the {cap} size cap (Content-Length {int(declared)})", code
            )
        try:
            decoder = _BoundedDecoder(response.headers.get("Content-Encoding", ""))
        except _Unsupported as exc:
            raise _Failed(str(exc), code) from None
        over = (
            f"decompressed body over the {cap} size cap (gzip bomb?)"
            if decoder.compressed
            else f"response body over the {cap} size cap"
        )
        chunks: list[bytes] = []
        size = 0
        try:
            async for raw in response.aiter_raw():
                piece = decoder.decode(raw, self.max_bytes - size)
                size += len(piece)
                if size > self.max_bytes:
                    raise _Failed(over, code)
                chunks.append(piece)
            piece = decoder.finish(self.max_bytes - size)
        except zlib.error as exc:
            raise _Failed(f"cannot decode the {decoder.name} body: {exc}", code) from None
        size += len(piece)
        if size > self.max_bytes:
            raise _Failed(over, code)
        chunks.append(piece)
        return b"".join(chunks)
