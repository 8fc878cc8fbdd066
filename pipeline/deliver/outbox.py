"""The outbox mailer: every message becomes files instead of leaving the machine.

    <dir>/20261125T083000123456Z-000001-confirm-s12-1a2b3c4d.eml    the message (RFC 5322)
    <dir>/20261125T083000123456Z-000001-confirm-s12-1a2b3c4d.html   its HTML part, to look at

Names sort by time, then by a counter, then the message's reference. The .eml is
multipart/alternative (text, then HTML), UTF-8, with every header the message carries
(From, Reply-To, List-Unsubscribe, …). The default backend for development and tests;
SendGrid in production (chosen in bootstrap). A file that cannot be written gives a
failed SendResult (transient: disk full, read-only), a message the email package refuses
a permanent one; never an exception.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path

from pipeline.compose.render import RenderedDigest, personalize
from pipeline.model import Batch, OutgoingEmail, Recipient, RecipientResult, SendResult

log = logging.getLogger("eudigest.deliver")

DEFAULT_SENDER = "eudigest@localhost"
# CRLF line ends; headers folded only past RFC 5322's hard limit, so that a long
# List-Unsubscribe URL stays one token instead of turning into encoded words.
POLICY = SMTP.clone(max_line_length=998)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OutboxMailer:
    """A Mailer that writes `.eml` and `.html` files into one directory."""

    def __init__(self, directory: Path, *, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.directory = directory
        self._clock = clock
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, messages: list[OutgoingEmail]) -> list[SendResult]:
        return [self._write(m) for m in messages]

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        """One .eml per recipient, the placeholders filled as personalize() does.

        A file that cannot be written (disk full, read-only, gone) stops the batch: the
        recipients after it are not tried and come back transient, like it (the sender
        stops, they stay queued for the next run)."""
        results: list[RecipientResult] = []
        blocked: str | None = None
        for r in batch.recipients:
            if blocked is not None:
                results.append(RecipientResult(r.email, ok=False, error=blocked))
                continue
            result = self._write(batch_message(batch, r))
            results.append(
                RecipientResult(
                    r.email,
                    ok=result.ok,
                    message_id=result.message_id,
                    error=result.error,
                    permanent=result.permanent,
                )
            )
            if not result.ok and not result.permanent:
                blocked = f"not written: the outbox failed before it ({result.error})"
        return results

    def _write(self, message: OutgoingEmail) -> SendResult:
        reference = message.reference or uuid.uuid4().hex[:12]
        try:
            eml = build_message(message, now=self._clock())
            self.directory.mkdir(parents=True, exist_ok=True)
            stem = self._stem(reference)
            _write_atomic(self.directory / f"{stem}.html", message.html.encode("utf-8"))
            _write_atomic(self.directory / f"{stem}.eml", eml.as_bytes(policy=POLICY))
        except OSError as exc:  # disk full, read-only, directory gone: perhaps only for now
            log.warning("outbox: message %s not written: %s", reference, exc)
            return SendResult(
                reference, ok=False, error=f"outbox {self.directory}: {exc}", permanent=False
            )
        except ValueError as exc:  # a header the email package refuses: this message, always
            log.warning("outbox: message %s refused: %s", reference, exc)
            return SendResult(reference, ok=False, error=str(exc), permanent=True)
        log.info("outbox: message %s written as %s.eml", reference, stem)
        return SendResult(reference, ok=True, message_id=str(eml["Message-ID"]))

    def _stem(self, reference: str) -> str:
        stamp = self._clock().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        safe = _UNSAFE.sub("_", reference)[:80]
        with self._lock:
            while True:
                stem = f"{stamp}-{next(self._counter):06d}-{safe}"
                if not (self.directory / f"{stem}.eml").exists():
                    return stem


def batch_message(batch: Batch, r: Recipient) -> OutgoingEmail:
    """One recipient's message of a batch: substitutions (HTML-escaped in the HTML part)."""
    digest = RenderedDigest(subject=batch.subject, text=batch.text, html=batch.html)
    subs = dict(r.substitutions)
    digest = personalize(
        digest,
        greeting=subs.pop("%%greeting%%", ""),
        preferences_url=subs.pop("%%preferences_url%%", ""),
        unsubscribe_url=subs.pop("%%unsubscribe_url%%", ""),
    )
    # Other tokens: the same semantics (raw in subject and text, escaped in HTML).
    extra = {k: v for k, v in subs.items()}
    digest = RenderedDigest(
        subject=_fill(digest.subject, extra),
        text=_fill(digest.text, extra),
        html=_fill(digest.html, {k: html.escape(v, quote=True) for k, v in extra.items()}),
    )
    headers: dict[str, str] = {**batch.headers, **r.headers}
    headers["From"] = formataddr((batch.from_name, batch.from_email))
    if batch.reply_to:
        headers["Reply-To"] = batch.reply_to
    return OutgoingEmail(
        to=r.email,
        subject=digest.subject,
        text=digest.text,
        html=digest.html,
        headers=headers,
        category=batch.categories[0] if batch.categories else "digest",
        reference=r.custom_args.get("delivery_id", ""),
    )


def _fill(text: str, values: dict[str, str]) -> str:
    for token, value in values.items():
        text = text.replace(token, value)
    return text


def build_message(message: OutgoingEmail, *, now: dt.datetime) -> EmailMessage:
    """The RFC 5322 message: headers, then text and HTML as multipart/alternative."""
    eml = EmailMessage()
    headers = {k: v for k, v in message.headers.items()}
    sender = headers.pop("From", DEFAULT_SENDER)
    eml["From"] = sender
    eml["To"] = message.to
    eml["Subject"] = message.subject
    eml["Date"] = format_datetime(now.astimezone(dt.UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    eml["Message-ID"] = headers.pop("Message-ID", None) or make_msgid(domain=domain)
    for name, value in headers.items():
        if name.lower() in ("to", "subject", "date"):
            continue  # the message's own fields win
        eml[name] = value
    eml.set_content(message.text, charset="utf-8", cte="quoted-printable")
    eml.add_alternative(message.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return eml


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary name, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
