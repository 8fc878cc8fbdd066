"""SendGrid: the one module that imports the `sendgrid` library.

Sending (v3 Mail Send): `SendGridMailer.send_batch(batch)` sends one segment's
content to many recipients, at most 1,000 personalizations per request, each with
its substitutions, one-click unsubscribe headers and opaque custom_args, and with open,
click, subscription and Google Analytics tracking off (TRACKING_OFF, every request);
`SendGridMailer.send(messages)` is the Mailer protocol for transactional mails
(one request per message). The bodies are built here (`batch_body`, `message_body`:
plain dicts, as before); the requests go through httpcore (httpx's transport) on
connections kept alive (`Endpoint`, `Clients`), shared by `concurrency` threads of the
sender (issue 16: the `sendgrid` library's own client opened a connection and a TLS
handshake per request and is not thread-safe). The library is still used for the Event
Webhook's signature. `send_batch` is thread-safe:
the retry budget is shared, and a 429 (or any Retry-After) closes a gate that every
thread waits at before its next request, so one "too many requests" slows all of them.
Per request:

    build body (pure) | POST | 2xx -> ok, X-Message-Id (may be absent)
                             | 401, 403 -> halt: the key is wrong or lacks permission; nothing
                             |   more is sent, every recipient not yet sent comes back `halt`
                             |   (the sender leaves them queued and stops the run)
                             | 413 -> split the request in halves and send each; when even one
                             |   personalization is too large, the content is: all fail
                             | 400 naming personalizations (errors[].field "personalizations.N…",
                             |   or Prism's sl-violations) -> those fail, the rest is resent
                             | other 4xx -> permanent (whole request: every recipient in it)
                             | 429, 5xx, no connection (connect timeout included) -> transient:
                             |   sleep (Retry-After, or backoff with full jitter), retry up to
                             |   max_retries while the retry budget lasts (`Backoff`)
                             | read timeout/disconnect after the request left -> unknown, no retry
                             |   (SendGrid has no idempotency key: a retry could send twice)

Results come back per recipient; nothing raises for a failed send. A failure here never
suppresses an address: only bounce/dropped/spam events of the Event Webhook do that.

The webhook: `verify_event_webhook()` checks the headers are there, the timestamp
is fresh, and the ECDSA P-256 signature (made by SendGrid over `timestamp + raw
body`) is valid for the configured public key. It raises `WebhookRejected(reason)`
otherwise; the web shell maps reasons to HTTP.
"""

from __future__ import annotations

import binascii
import contextlib
import datetime as dt
import functools
import json
import logging
import queue
import random
import re
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from email.header import decode_header, make_header
from email.utils import parseaddr, parsedate_to_datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

import httpcore
import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from pipeline.errors import DeliveryError, EudigestError, InvalidInput
from pipeline.model import (
    Batch,
    OutgoingEmail,
    Recipient,
    RecipientResult,
    SendResult,
    check_categories,
    check_custom_args,
    check_headers,
    is_sendable_address,
)

log = logging.getLogger("eudigest.deliver")
SIGNATURE_HEADER: str = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER: str = EventWebhookHeader.TIMESTAMP
MAX_AGE = dt.timedelta(minutes=10)
_MAX_SIGNATURE_CHARS = 512  # a DER ECDSA P-256 signature is ~72 bytes, ~96 in base64
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class RejectReason(StrEnum):
    MISSING_HEADERS = "missing_headers"
    BAD_TIMESTAMP = "bad_timestamp"  # not a whole number of seconds
    TOO_OLD = "too_old"
    IN_FUTURE = "in_future"
    BAD_SIGNATURE = "bad_signature"
    NOT_UTF8 = "not_utf8"  # SendGrid sends UTF-8 JSON; the helper verifies text
    BAD_KEY = "bad_key"  # our configuration is wrong, not the request


class WebhookRejected(EudigestError):
    """A webhook request that must not be processed; `reason` says why."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


def verify_event_webhook(
    public_key_b64: str,
    raw_body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: dt.datetime,
    max_age: dt.timedelta = MAX_AGE,
) -> None:
    """Return when the request is SendGrid's and fresh; raise WebhookRejected otherwise.

    `raw_body` is the request body exactly as received (never re-serialised JSON).
    The timestamp may be at most `max_age` old and at most `max_age` ahead (clock skew).
    """
    if not signature or not timestamp:
        raise WebhookRejected(RejectReason.MISSING_HEADERS, "signature and timestamp required")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookRejected(RejectReason.BAD_TIMESTAMP, "timestamp is not whole seconds")
    signed_at = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    if signed_at < now - max_age:
        raise WebhookRejected(RejectReason.TOO_OLD, f"signed at {signed_at.isoformat()}")
    if signed_at > now + max_age:
        raise WebhookRejected(RejectReason.IN_FUTURE, f"signed at {signed_at.isoformat()}")
    verifier = _verifier(public_key_b64.strip())
    try:
        payload = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected(RejectReason.NOT_UTF8, "body is not UTF-8") from None
    if len(signature) > _MAX_SIGNATURE_CHARS:
        raise WebhookRejected(RejectReason.BAD_SIGNATURE, "signature too long")
    try:
        valid = verifier.verify_signature(payload, signature, timestamp)
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise WebhookRejected(RejectReason.BAD_SIGNATURE, "signature does not match")


@functools.lru_cache(maxsize=4)
def _verifier(public_key_b64: str) -> EventWebhook:
    """The helper for one configured key, parsed once."""
    if not public_key_b64:
        raise WebhookRejected(RejectReason.BAD_KEY, "no public key configured")
    try:
        verifier = EventWebhook(public_key_b64)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise WebhookRejected(RejectReason.BAD_KEY, f"cannot read the public key: {exc}") from None
    key = verifier.public_key
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise WebhookRejected(RejectReason.BAD_KEY, "the public key is not an ECDSA P-256 key")
    return verifier


# --- Mail Send ------------------------------------------------------------------------

DEFAULT_HOST = "https://api.sendgrid.com"
EU_HOST = "https://api.eu.sendgrid.com"  # EU regional subusers
MAX_PERSONALIZATIONS = 1000
DEFAULT_CONCURRENCY = 32  # requests in flight per sender (bench/deliver_bench.py, docs/deploy.md)
MAIL_SEND_PATH = "/v3/mail/send"
KEEPALIVE_S = 30.0  # a connection idle longer is closed, not reused
_MAX_ERROR_CHARS = 1000
# Headers of an OutgoingEmail that become fields of the body, or that SendGrid sets itself.
_DROPPED_HEADERS = frozenset(
    {
        "to",
        "subject",
        "date",
        "message-id",
        "cc",
        "bcc",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


class SendFailed(DeliveryError):
    """One Mail Send request failed; `unknown` when it may have been accepted all the same."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status: int | None = None,
        retry_after: float | None = None,
        unknown: bool = False,
        halt: bool = False,
        rejected: frozenset[int] = frozenset(),
    ) -> None:
        super().__init__(message, permanent=permanent)
        self.status = status
        self.retry_after = retry_after
        self.unknown = unknown
        self.halt = halt  # 401/403: no request of this account will succeed
        self.rejected = rejected  # 400: the indexes of the personalizations SendGrid named


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _BatchRun:
    """The state of one send_batch call: results so far, and why it stopped, if it did."""

    def __init__(self, batch: Batch, results: dict[str, RecipientResult]) -> None:
        self.batch = batch
        self.results = results
        self.stop: SendFailed | None = None

    def fail(self, recipients: Sequence[Recipient], exc: SendFailed) -> None:
        for r in recipients:
            self.results[r.email] = RecipientResult(
                r.email,
                ok=False,
                error=str(exc),
                permanent=exc.permanent and not exc.halt,
                unknown=exc.unknown,
                status=exc.status,
                halt=exc.halt,
            )


class Waits:
    """The mailer's waits (a retry's backoff, the 429 gate), which `interrupt()` ends.

    When the sender stops (a request was given up: the retry budget spent, a Retry-After
    too long, SendGrid gone), nothing more leaves, and a thread still waiting to retry
    would only hold the stop up: with the shared backoff's ceiling near its 30 s cap,
    a send with no SendGrid at all took half a minute to say so. `interrupt()` wakes the
    waits under way (not later ones); each reports that it was cut short, and its request
    gives up unsent. `sleep`: a test's stand-in for the clock's waits (None: real ones)."""

    def __init__(self, sleep: Callable[[float], None] | None = None) -> None:
        self._sleep = sleep
        self._woken = threading.Condition()
        self._interrupts = 0
        self.waiting = 0  # threads in a wait now

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds`; False when `interrupt()` ended the wait (or came during it)."""
        with self._woken:
            before = self._interrupts
            self.waiting += 1
            if self._sleep is None:
                self._woken.wait_for(lambda: self._interrupts != before, timeout=seconds)
        try:
            if self._sleep is not None:
                self._sleep(seconds)
        finally:
            with self._woken:
                self.waiting -= 1
                cut_short = self._interrupts != before
        return not cut_short

    def interrupt(self) -> None:
        with self._woken:
            self._interrupts += 1
            self._woken.notify_all()


class Interrupted(Exception):
    """A wait before a request was cut short: the sender stops, the request stays unsent."""


class Gate:
    """Where every thread of a mailer waits before a request while SendGrid asked all of
    them to (a 429, a Retry-After): `close(seconds)` shuts it until then from now (never
    earlier than it already was), `wait()` sleeps until it is open. Clock and sleep are
    injected (tests record the waits instead of waiting)."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], bool | None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._until = 0.0
        self._closer: threading.Thread | None = None
        self.closed = 0  # how often it was closed (tests, the log)

    def close(self, seconds: float) -> None:
        """Closed for `seconds` from now; the calling thread sleeps them itself."""
        with self._lock:
            until = self._monotonic() + seconds
            if until > self._until:
                # the thread itself, not its ident: idents are reused once a thread ends
                self._until, self._closer = until, threading.current_thread()
            self.closed += 1

    def wait(self) -> float:
        """Sleep while closed (not for the thread that closed it last: it slept already);
        returns the seconds slept (0.0 when open). Interrupted when `sleep` says its wait
        was cut short (`Waits.sleep` returning False)."""
        with self._lock:
            if self._closer is threading.current_thread():
                return 0.0
            left = self._until - self._monotonic()
        if left <= 0:
            return 0.0
        if self._sleep(left) is False:
            raise Interrupted
        return left


class SendGridMailer:
    """SendGrid v3 Mail Send over httpcore (keep-alive, `concurrency` connections).

    `extra_headers` is a test hook: e.g. `{"Prefer": "code=500"}` makes the Prism
    peer answer 500. `requests_made` counts HTTP requests (retries included).
    `concurrency` is how many requests the sender keeps in flight (threads calling
    `send_batch` at once; EUDIGEST_SENDGRID_CONCURRENCY). `sleep` replaces the waits
    (backoff, the 429 gate) in tests; the real ones end early on `interrupt()`.
    """

    def __init__(
        self,
        api_key: str,
        *,
        host: str = DEFAULT_HOST,
        timeout_s: float = 30.0,
        max_retries: int = 5,
        backoff_s: float = 0.2,
        max_wait_s: float = 120.0,
        default_from: str = "",
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        extra_headers: Mapping[str, str] | None = None,
        jitter: Callable[[float], float] | None = None,
        retry_ratio: float = 0.2,
        retry_minimum: int = 10,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.host = host.rstrip("/")
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.default_from = default_from
        self.concurrency = max(1, concurrency)
        self.requests_made = 0
        self.backoff = Backoff(
            base=backoff_s,
            max_wait=max_wait_s,
            ratio=retry_ratio,
            minimum=retry_minimum,
            jitter=jitter,
        )
        self._waits = Waits(sleep)
        self.gate = Gate(sleep=self._waits.sleep, monotonic=monotonic)
        self._clock = clock
        self._lock = threading.Lock()
        # Only our argument sets the key (config.py owns the environment).
        headers = {
            "Authorization": f"Bearer {api_key}".strip(),  # no key: SendGrid's 401
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "eudigest",
            **(extra_headers or {}),
        }
        self._endpoint = Endpoint(self.host + MAIL_SEND_PATH, headers, timeout_s=timeout_s)
        self._http = Clients(self._endpoint.connection, size=self.concurrency, wait_s=timeout_s)

    def close(self) -> None:
        self._http.close()

    @property
    def waiting(self) -> int:
        """Requests waiting now, to be retried or at the 429 gate."""
        return self._waits.waiting

    def interrupt(self) -> None:
        """The sender stops: requests waiting to be retried (or at the 429 gate) give up
        now, unsent, instead of after their wait. Later waits are not affected."""
        self._waits.interrupt()

    # Batch (digests) ---------------------------------------------------------------

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        """Send `batch` to all its recipients; one result per recipient, in order."""
        results: dict[str, RecipientResult] = {}
        sendable: list[Recipient] = []
        for r in batch.recipients:
            _require_one_click(batch, r)
            if is_sendable_address(r.email):
                sendable.append(r)
            else:
                results[r.email] = RecipientResult(
                    r.email, ok=False, permanent=True, error="address not accepted by SendGrid"
                )
        run = _BatchRun(batch, results)
        for chunk in _chunks(sendable, MAX_PERSONALIZATIONS):
            self._send_chunk(run, chunk)
        return [results[r.email] for r in batch.recipients]

    def _send_chunk(self, run: _BatchRun, chunk: Sequence[Recipient]) -> None:
        """One request for `chunk`, and what its failure asks for (halt, split, resend)."""
        if run.stop is not None:  # a halt or content too large: no more requests
            run.fail(chunk, run.stop)
            return
        try:
            message_id = self._post(batch_body(run.batch, chunk))
        except SendFailed as exc:
            if exc.halt:
                log.error("sendgrid: %s; stopping: nothing more is sent", exc)
                run.stop = exc
            elif exc.status == 413 and len(chunk) > 1:
                half = len(chunk) // 2
                log.warning("sendgrid: %d personalizations too large; splitting", len(chunk))
                self._send_chunk(run, chunk[:half])
                self._send_chunk(run, chunk[half:])
                return
            elif exc.status == 413:
                log.error("sendgrid: the content alone is too large for SendGrid: %s", exc)
                run.stop = exc
            elif exc.rejected and all(0 <= i < len(chunk) for i in exc.rejected):
                refused = [r for i, r in enumerate(chunk) if i in exc.rejected]
                rest = [r for i, r in enumerate(chunk) if i not in exc.rejected]
                log.warning(
                    "sendgrid: %d of %d personalizations refused; resending the other %d",
                    len(refused),
                    len(chunk),
                    len(rest),
                )
                run.fail(refused, exc)
                if rest:
                    self._send_chunk(run, rest)
                return
            else:
                log.warning("sendgrid: batch of %d not sent: %s", len(chunk), exc)
            run.fail(chunk, exc)
            return
        # DEBUG: 13,000 lines for 100,000 readers; the ledger keeps each message id, and
        # the sender logs its progress every 10 s at INFO
        log.debug("sendgrid: batch of %d queued (message id %s)", len(chunk), message_id)
        for r in chunk:
            run.results[r.email] = RecipientResult(
                r.email, ok=True, message_id=message_id, status=202
            )

    # Mailer protocol (transactional) -------------------------------------------------

    def send(self, messages: list[OutgoingEmail]) -> list[SendResult]:
        return [self._send_one(m) for m in messages]

    def _send_one(self, message: OutgoingEmail) -> SendResult:
        ref = message.reference
        try:
            body = message_body(message, default_from=self.default_from)
        except InvalidInput as exc:
            log.warning("sendgrid: message %s refused before sending: %s", ref, exc)
            return SendResult(ref, ok=False, error=str(exc), permanent=True)
        try:
            message_id = self._post(body)
        except SendFailed as exc:
            log.warning("sendgrid: message %s not sent: %s", ref, exc)
            error = f"outcome unknown: {exc}" if exc.unknown else str(exc)
            return SendResult(ref, ok=False, error=error, permanent=exc.permanent)
        return SendResult(ref, ok=True, message_id=message_id)

    # Doing: one POST with retries ----------------------------------------------------

    def _post(self, body: dict[str, Any]) -> str | None:
        """POST /v3/mail/send; the X-Message-Id, or SendFailed after retries."""
        attempt = 0
        content = encode(body)
        self.backoff.requested()
        while True:
            try:
                self.gate.wait()  # a 429 of any thread: every thread waits
            except Interrupted:
                raise SendFailed(
                    "not sent: the send stopped while SendGrid asked every request to wait",
                    permanent=False,
                ) from None
            try:
                message_id = self._attempt(content)
            except SendFailed as exc:
                self.backoff.failed()
                if exc.permanent or exc.unknown or attempt >= self.max_retries:
                    raise
                if exc.retry_after is not None and exc.retry_after > self.max_wait_s:
                    raise SendFailed(
                        f"{exc} (asked to wait {exc.retry_after:.0f} s; the next run retries)",
                        permanent=False,
                        status=exc.status,
                    ) from exc
                delay = self.backoff.retry_delay(exc.retry_after)  # None: no budget left
                if delay is None:
                    raise SendFailed(
                        f"{exc} (retried {self.backoff.retries} of {self.backoff.requests} "
                        "requests already: too many failures for now; the next run retries)",
                        permanent=False,
                        status=exc.status,
                    ) from exc
                if exc.status == 429 or exc.retry_after is not None:
                    log.info("sendgrid: %s; every request waits %.1f s", exc, delay)
                    self.gate.close(delay)  # told to slow down: every thread waits
                else:
                    log.info("sendgrid: %s; retry %d in %.1f s", exc, attempt + 1, delay)
                if not self._waits.sleep(delay):
                    raise SendFailed(
                        f"{exc} (not retried: the send stopped meanwhile; the next run retries)",
                        permanent=False,
                        status=exc.status,
                    ) from exc
                attempt += 1
            else:
                self.backoff.succeeded()
                return message_id

    def _attempt(self, content: bytes) -> str | None:
        with self._lock:
            self.requests_made += 1
        try:
            with self._http.lend() as http:
                status, headers, body = self._endpoint.post(http, content)
        except (
            httpcore.ConnectError,
            httpcore.ConnectTimeout,
            httpcore.PoolTimeout,
            httpcore.LocalProtocolError,  # refused by the client itself: nothing was written
        ) as exc:
            # before anything was sent: never processed
            raise SendFailed(f"no connection to SendGrid: {exc!r}", permanent=False) from exc
        except (
            httpcore.NetworkError,
            httpcore.TimeoutException,
            httpcore.ProtocolError,
            httpcore.ProxyError,
            httpcore.UnsupportedProtocol,
        ) as exc:  # the request had (or may have) left
            raise SendFailed(
                f"no answer from SendGrid after the request was sent ({exc!r})",
                permanent=False,
                unknown=True,
            ) from exc
        if 200 <= status < 300:
            return headers.get("x-message-id") or None
        raise classify(status, headers, body, now=self._clock())


class Endpoint:
    """Mail Send's address, headers and timeouts, and its connections: httpcore (httpx's
    own transport) with one keep-alive connection each, through the proxy the environment
    names (HTTPS_PROXY, ALL_PROXY, NO_PROXY) and with httpx's certificate settings
    (SSL_CERT_FILE, SSL_CERT_DIR), as an httpx client had. The client itself is left out:
    merging the URL, its header and response models, auth, redirect and cookie steps cost
    about half of each post's CPU (0.93 → 0.45 ms a 60 KB post on the 2-core machine) and
    the sender posts one fixed endpoint and needs none of them."""

    def __init__(self, url: str, headers: Mapping[str, str], *, timeout_s: float) -> None:
        self.url = httpcore.URL(url)
        origin = self.url.origin
        host = origin.host.decode("ascii")
        default_port = {b"https": 443, b"http": 80}.get(origin.scheme)
        netloc = f"[{host}]" if ":" in host else host  # an IPv6 address
        if origin.port != default_port:
            netloc = f"{netloc}:{origin.port}"
        self.headers = [(b"Host", netloc.encode("ascii"))] + [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
        ]
        seconds = {"connect": timeout_s, "read": timeout_s, "write": timeout_s}
        self.extensions = {"timeout": {**seconds, "pool": timeout_s}}
        self._ssl: ssl.SSLContext | None = None
        self._proxy = _environment_proxy(origin.scheme.decode("ascii"), host)

    def connection(self) -> httpcore.ConnectionPool:
        """A pool of one connection (httpcore checks a kept one is still open first)."""
        if self._ssl is None and (self.url.scheme == b"https" or self._proxy is not None):
            self._ssl = httpx.create_ssl_context()  # one for every connection
        if self._proxy is None:
            return httpcore.ConnectionPool(
                ssl_context=self._ssl,
                max_connections=1,
                max_keepalive_connections=1,
                keepalive_expiry=KEEPALIVE_S,
            )
        url, auth = self._proxy
        return httpcore.HTTPProxy(
            proxy_url=url,
            proxy_auth=auth,
            ssl_context=self._ssl,
            max_connections=1,
            max_keepalive_connections=1,
            keepalive_expiry=KEEPALIVE_S,
        )

    def post(
        self, http: httpcore.ConnectionPool, content: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """POST `content`: the status, the headers (lower-case names) and the body."""
        headers = [*self.headers, (b"Content-Length", str(len(content)).encode("ascii"))]
        response = http.request(
            "POST", self.url, headers=headers, content=content, extensions=self.extensions
        )
        names: dict[str, str] = {}
        for k, v in response.headers:  # a repeated header: its values joined, as httpx did
            name, value = k.decode("latin-1").lower(), v.decode("latin-1")
            names[name] = f"{names[name]}, {value}" if name in names else value
        return response.status, names, response.content


def _environment_proxy(scheme: str, host: str) -> tuple[str, tuple[str, str] | None] | None:
    """The proxy the environment names for this scheme and host (urllib's reading of
    *_PROXY and NO_PROXY, as httpx's), with its credentials apart; None: direct."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    auth = None
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        auth = (user, urllib.parse.unquote(parts.password or ""))
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", "")), auth


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class Clients(Generic[C]):
    """At most `size` connections, one lent to each request (the most recently returned
    first, its connection warm). One client with a pool of `size` connections looked at
    every connection, under one lock, on every request, while the sender's own thread
    competed for the GIL: the 100,000 send (bench/deliver_bench.py, one process, peer at
    once) took 55.3 s and 58.6 s of CPU that way against 46.5 s and 47.5 s this way, in
    the same hour. (Alone, without the sender's work, 5,000 posts of 70 KB cost about the
    same either way.) A request that finds all lent waits up to `wait_s`, then fails as
    httpcore's own PoolTimeout (nothing was sent)."""

    def __init__(self, make: Callable[[], C], *, size: int, wait_s: float) -> None:
        self._make = make
        self._size = size
        self._wait_s = wait_s
        self._idle: queue.LifoQueue[C] = queue.LifoQueue()
        self._all: list[C] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def lend(self) -> Iterator[C]:
        try:
            client = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                made = len(self._all) < self._size
                if made:
                    self._all.append(client := self._make())
            if not made:
                try:
                    client = self._idle.get(timeout=self._wait_s)
                except queue.Empty:
                    raise httpcore.PoolTimeout(f"all {self._size} connections busy") from None
        try:
            yield client
        finally:
            self._idle.put(client)

    def close(self) -> None:
        with self._lock:
            for client in self._all:
                client.close()


# Deciding: pure functions ------------------------------------------------------------


def classify(
    status: int, headers: Mapping[str, str], body: bytes | str | None, *, now: dt.datetime
) -> SendFailed:
    """The failure an HTTP answer means: 429 and 5xx transient, 401/403 halt, other 4xx
    permanent (a 400 naming personalizations says which)."""
    detail = _error_text(headers, body)
    message = f"SendGrid answered {status}" + (f": {detail}" if detail else "")
    if status in (401, 403):
        return SendFailed(
            f"{message} (the API key in SENDGRID_API_KEY is wrong, revoked or lacks the "
            "Mail Send permission)",
            permanent=True,
            status=status,
            halt=True,
        )
    if status == 400:
        return SendFailed(
            message,
            permanent=True,
            status=status,
            rejected=rejected_personalizations(headers, body),
        )
    if status == 429 or status >= 500:
        return SendFailed(
            message,
            permanent=False,
            status=status,
            retry_after=retry_after_seconds(headers.get("retry-after"), now=now),
        )
    if 400 <= status < 500:
        return SendFailed(message, permanent=True, status=status)
    return SendFailed(message, permanent=False, status=status)


_PERSONALIZATION_FIELD = re.compile(r"personalizations(?:\.|\[)([0-9]{1,4})\b")


def rejected_personalizations(
    headers: Mapping[str, str], body: bytes | str | None
) -> frozenset[int]:
    """Which personalizations a 400 blames; empty unless every error names one.

    SendGrid names the field of each error (`"field": "personalizations.3.to.0.email"`,
    see its Mail Send errors page); Prism puts the JSON path of each violation into
    `sl-violations` (`location: ["request", "body", "personalizations", "3", …]`). An error
    about anything else (from, content, subject …) concerns every recipient.
    """
    fields: list[str] = []
    violations = headers.get("sl-violations")
    try:
        if violations:
            for v in json.loads(violations):
                fields.append(".".join(str(x) for x in v.get("location", [])[2:]))
        elif body:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            for e in json.loads(text).get("errors", []):
                fields.append(str(e.get("field") or ""))
    except (ValueError, AttributeError, TypeError):
        return frozenset()
    found: set[int] = set()
    for f in fields:
        match = _PERSONALIZATION_FIELD.match(f)
        if match is None:
            return frozenset()
        found.add(int(match.group(1)))
    return frozenset(found)


def retry_after_seconds(value: str | None, *, now: dt.datetime) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


class Backoff:
    """When to retry a request that failed transiently (429, 5xx, no connection).

    - The wait is "full jitter" (a random time up to a ceiling, AWS Architecture Blog,
      "Exponential Backoff And Jitter"), so senders that failed together do not retry
      together. The ceiling is `base` × 2^(k-1) up to `cap`, where k counts the failed
      attempts since the last success of *any* request of this mailer: a steady, low
      error rate costs a short wait per failure, a storm backs off quickly.
    - A server's Retry-After is honoured as it is (`max_wait` and more: not retried now).
    - A retry budget bounds retries to `ratio` of the requests, plus `minimum` (as
      Finagle's RetryBudget): past it a failure is not retried, and the sender stops with
      the rest queued for the next run. A steady error rate can therefore not multiply
      the time of a send: at most 20 % more requests and their short waits.
    """

    def __init__(
        self,
        *,
        base: float = 0.2,
        cap: float = 30.0,
        max_wait: float = 120.0,
        ratio: float = 0.2,
        minimum: int = 10,
        jitter: Callable[[float], float] | None = None,
    ) -> None:
        self.base, self.cap, self.max_wait = base, cap, max_wait
        self.ratio, self.minimum = ratio, minimum
        self.jitter = jitter or (lambda ceiling: random.uniform(0.0, ceiling))  # noqa: S311
        self.requests = 0  # first attempts
        self.retries = 0
        self.streak = 0  # failed attempts since the last success
        self._lock = threading.Lock()  # shared by the sender's threads

    def requested(self) -> None:
        with self._lock:
            self.requests += 1

    def succeeded(self) -> None:
        with self._lock:
            self.streak = 0

    def failed(self) -> None:
        with self._lock:
            self.streak += 1

    def may_retry(self) -> bool:
        with self._lock:
            return self.retries < self.minimum + self.ratio * self.requests

    def retry_delay(self, retry_after: float | None) -> float | None:
        """`may_retry` and `delay` in one step (the sender's threads share the budget):
        the wait before the retry, or None when the budget is spent."""
        with self._lock:
            if self.retries >= self.minimum + self.ratio * self.requests:
                return None
            self.retries += 1
            if retry_after is not None:
                return min(retry_after, self.max_wait)
            ceiling = self.ceiling()
        return max(0.0, min(ceiling, self.jitter(ceiling)))

    def ceiling(self) -> float:
        return float(min(self.cap, self.base * 2 ** max(0, self.streak - 1)))

    def delay(self, retry_after: float | None) -> float:
        """Seconds to wait before the next retry (counted against the budget)."""
        with self._lock:
            self.retries += 1
            if retry_after is not None:
                return min(retry_after, self.max_wait)
            ceiling = self.ceiling()
        return max(0.0, min(ceiling, self.jitter(ceiling)))


# No tracking (issue 17): SendGrid would otherwise add an open-tracking pixel, rewrite
# every link through its click-tracking host, append its own unsubscribe footer or add
# Google Analytics utm_ parameters, depending on the account's settings. Every request
# switches all four off, whatever the account says (docs/privacy.md).
TRACKING_OFF: dict[str, Any] = {
    "click_tracking": {"enable": False, "enable_text": False},
    "open_tracking": {"enable": False},
    "subscription_tracking": {"enable": False},
    "ganalytics": {"enable": False},
}


def _tracking_off() -> dict[str, Any]:
    return {k: dict(v) for k, v in TRACKING_OFF.items()}


def batch_body(batch: Batch, recipients: Sequence[Recipient]) -> dict[str, Any]:
    """The Mail Send body for up to 1,000 recipients of one batch."""
    if not 1 <= len(recipients) <= MAX_PERSONALIZATIONS:
        raise InvalidInput(f"{len(recipients)} personalizations in one request")
    body: dict[str, Any] = {
        "personalizations": [_personalization(r) for r in recipients],
        "from": _address(batch.from_email, batch.from_name),
        "subject": batch.subject,
        # text/plain must come before text/html (SendGrid; the spec does not say so)
        "content": [
            {"type": "text/plain", "value": batch.text},
            {"type": "text/html", "value": batch.html},
        ],
        "tracking_settings": _tracking_off(),
    }
    if batch.reply_to:
        body["reply_to"] = {"email": batch.reply_to}
    if batch.categories:
        body["categories"] = list(batch.categories)
    if batch.headers:
        body["headers"] = dict(batch.headers)
    return body


def encode(body: dict[str, Any]) -> bytes:
    """A body as the JSON that is posted (no spaces after separators: ~40 bytes less per
    recipient). json.dumps, not orjson: orjson was ~7x faster on a digest's 60 KB, but its
    growing output buffers, made on 32 threads, held ~80 MB more at the peak of a
    100,000 send (bench/deliver_bench.py) for ~1 s less CPU."""
    return json.dumps(body, separators=(",", ":")).encode("ascii")


def message_body(message: OutgoingEmail, *, default_from: str = "") -> dict[str, Any]:
    """The Mail Send body for one transactional message (one personalization)."""
    headers: dict[str, str] = {}
    sender, reply_to = default_from, ""
    for name, value in message.headers.items():
        lname = name.lower()
        if lname == "from":
            sender = value
        elif lname == "reply-to":
            reply_to = value
        elif lname not in _DROPPED_HEADERS:
            headers[name] = value
    check_headers(headers)
    from_name, from_email = _parse_address(sender)
    if not is_sendable_address(from_email):
        raise InvalidInput(f"no sendable From address (got {sender!r})")
    if not is_sendable_address(message.to):
        raise InvalidInput("recipient address not accepted by SendGrid")
    if not message.text.strip() or not message.html.strip() or not message.subject.strip():
        raise InvalidInput("a message needs a subject, a text and an HTML body")
    personalization: dict[str, Any] = {"to": [{"email": message.to}]}
    if headers:
        personalization["headers"] = headers
    if message.reference:
        args = {"reference": message.reference}
        try:
            check_custom_args(args, message.to)
        except InvalidInput:
            log.warning("sendgrid: a message reference is not opaque; not sent as custom_args")
        else:
            personalization["custom_args"] = args
    body: dict[str, Any] = {
        "personalizations": [personalization],
        "from": _address(from_email, from_name),
        "subject": message.subject,
        "content": [
            {"type": "text/plain", "value": message.text},
            {"type": "text/html", "value": message.html},
        ],
        "tracking_settings": _tracking_off(),
    }
    if reply_to:
        reply_name, reply_email = _parse_address(reply_to)
        if not is_sendable_address(reply_email):
            raise InvalidInput(f"Reply-To {reply_to!r} is not sendable")
        body["reply_to"] = _address(reply_email, reply_name)
    if message.category:
        categories = (message.category,)
        check_categories(categories)
        body["categories"] = list(categories)
    return body


def _personalization(r: Recipient) -> dict[str, Any]:
    p: dict[str, Any] = {"to": [{"email": r.email}]}
    if r.substitutions:
        p["substitutions"] = dict(r.substitutions)
    if r.headers:
        p["headers"] = dict(r.headers)
    if r.custom_args:
        p["custom_args"] = dict(r.custom_args)
    return p


def _require_one_click(batch: Batch, r: Recipient) -> None:
    names = {k.lower() for k in (*batch.headers, *r.headers)}
    if not {"list-unsubscribe", "list-unsubscribe-post"} <= names:
        raise InvalidInput("every digest recipient needs List-Unsubscribe and -Post headers")


def _address(email: str, name: str) -> dict[str, str]:
    return {"email": email, "name": name} if name else {"email": email}


def _parse_address(value: str) -> tuple[str, str]:
    name, email = parseaddr(value)
    if "=?" in name:
        name = str(make_header(decode_header(name)))
    return name, email


def _chunks(items: Sequence[Recipient], size: int) -> Iterator[Sequence[Recipient]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _error_text(headers: Mapping[str, str], body: bytes | str | None) -> str:
    """SendGrid's own words: Prism's `sl-violations` header, else the body's errors."""
    parts: list[str] = []
    violations = headers.get("sl-violations")
    if violations:
        try:
            parts = [str(v.get("message", v)) for v in json.loads(violations)]
        except (ValueError, AttributeError, TypeError):
            parts = [violations]
    if not parts and body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            errors = json.loads(text).get("errors", [])
            parts = [
                f"{e.get('field')}: {e.get('message')}" if e.get("field") else str(e["message"])
                for e in errors
            ]
        except (ValueError, AttributeError, TypeError, KeyError):
            parts = [text.strip()]
    return "; ".join(p for p in parts if p)[:_MAX_ERROR_CHARS]
