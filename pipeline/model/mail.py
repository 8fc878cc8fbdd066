"""Mail: what leaves the machine, and the one port every mail backend implements.

    OutgoingEmail     one rendered message to one recipient (confirmations, test sends)
    Batch             one segment's content, rendered once, for many Recipients: each with
                      its substitutions (%%unsubscribe_url%%, %%preferences_url%%,
                      %%greeting%%), its own headers (List-Unsubscribe) and opaque custom_args
    SendResult / RecipientResult   what became of a message / of one recipient of a batch
    Mailer            send(messages) and send_batch(batch): the outbox (files) or SendGrid,
                      chosen in bootstrap

Construction refuses anything that would leak personal data into `custom_args` or
`categories`, leave a token unreplaced, or make SendGrid refuse a whole request
(reserved headers, duplicate addresses). Stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Protocol

from pipeline.errors import InvalidInput
from pipeline.model._common import EMPTY

PLACEHOLDERS: tuple[str, ...] = ("%%unsubscribe_url%%", "%%preferences_url%%", "%%greeting%%")
TOKEN = re.compile(r"%%[A-Za-z0-9_]+%%")
MAX_CATEGORIES = 10
MAX_SUBSTITUTION_BYTES = 10_000  # per personalization (SendGrid)
MAX_CUSTOM_ARGS_BYTES = 10_000
# Headers SendGrid does not let a personalization set (its docs and the spec).
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "Content-Type",
        "Content-Transfer-Encoding",
        "To",
        "From",
        "Subject",
        "Reply-To",
        "CC",
        "BCC",
    )
)
# An opaque id: letters, digits, '-', '_', ':' and at least one digit; never '@', '.',
# or spaces, so neither an address nor a name fits.
_OPAQUE = re.compile(r"(?=[A-Za-z_:-]*[0-9])[A-Za-z0-9_:-]{1,100}")
_ARG_KEY = re.compile(r"[a-z][a-z0-9_]{0,49}")
_CATEGORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _:-]{0,99}")
# What SendGrid (and the spec's `format: email`) takes: ASCII, one @, a dotted domain.
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
)


def is_sendable_address(address: str) -> bool:
    """True when SendGrid will take the address (ASCII; IDN domains must be punycode)."""
    return len(address) <= 254 and _ADDRESS.fullmatch(address) is not None


def unsubscribe_headers(https_url: str, mailto: str) -> dict[str, str]:
    """RFC 2369 + RFC 8058 one-click headers for one recipient."""
    if not https_url.startswith("https://"):
        raise InvalidInput(f"one-click unsubscribe needs an https URL, not {https_url!r}")
    if not mailto.startswith("mailto:"):
        mailto = f"mailto:{mailto}"
    return {
        "List-Unsubscribe": f"<{https_url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


def check_headers(headers: Mapping[str, str]) -> None:
    """Refuse headers SendGrid would reject for the whole request, and bad one-click ones."""
    for name, value in headers.items():
        if name.lower() in RESERVED_HEADERS:
            raise InvalidInput(f"header {name} cannot be set per message in SendGrid")
        if "\r" in value or "\n" in value:
            raise InvalidInput(f"header {name} contains a line break")
    lower = {k.lower(): v for k, v in headers.items()}
    if "list-unsubscribe-post" in lower and "<https://" not in lower.get("list-unsubscribe", ""):
        raise InvalidInput("List-Unsubscribe-Post needs an https URL in List-Unsubscribe")


def check_custom_args(custom_args: Mapping[str, str], email: str = "") -> None:
    """custom_args are kept by SendGrid long-term: opaque ids only, never an address or name."""
    if not custom_args:
        return  # most recipients are made without (the sender adds its ids later)
    local = email.partition("@")[0].lower()
    for key, value in custom_args.items():
        if not _ARG_KEY.fullmatch(key):
            raise InvalidInput(f"custom_args key {key!r} is not a short lower-case name")
        if not isinstance(value, str) or not _OPAQUE.fullmatch(value):
            raise InvalidInput(f"custom_args[{key!r}] must be an opaque id, got {value!r}")
        if local and value.lower() == local:
            raise InvalidInput(f"custom_args[{key!r}] contains part of the recipient's address")
    if len(repr(dict(custom_args)).encode()) > MAX_CUSTOM_ARGS_BYTES:
        raise InvalidInput("custom_args exceed 10,000 bytes")


def check_categories(categories: tuple[str, ...]) -> None:
    """At most 10 distinct, short, general labels; never personal data."""
    if len(categories) > MAX_CATEGORIES:
        raise InvalidInput(f"{len(categories)} categories; SendGrid allows {MAX_CATEGORIES}")
    if len(set(categories)) != len(categories):
        raise InvalidInput(f"categories repeat: {categories!r}")
    for category in categories:
        if not _CATEGORY.fullmatch(category):
            raise InvalidInput(f"category {category!r} is not a short general label")


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person of a batch: address, their substitutions, headers, opaque ids."""

    email: str
    substitutions: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    custom_args: Mapping[str, str] = field(default_factory=lambda: EMPTY)

    def __post_init__(self) -> None:
        object.__setattr__(self, "substitutions", _frozen(self.substitutions))
        object.__setattr__(self, "headers", _frozen(self.headers))
        object.__setattr__(self, "custom_args", _frozen(self.custom_args))
        for key in self.substitutions:
            if not TOKEN.fullmatch(key):
                raise InvalidInput(f"substitution key {key!r} is not a %%token%%")
        size = sum(len(k.encode()) + len(v.encode()) for k, v in self.substitutions.items())
        if size > MAX_SUBSTITUTION_BYTES:
            raise InvalidInput(f"substitutions of one recipient are {size} bytes (max 10,000)")
        check_headers(self.headers)
        check_custom_args(self.custom_args, self.email)

    def with_custom_args(self, custom_args: Mapping[str, str]) -> Recipient:
        """This recipient with these custom_args, only they checked (the rest was when this
        one was made): `dataclasses.replace` checked every field again, for every reader
        of a send (the sender adds its ids to each)."""
        check_custom_args(custom_args, self.email)
        other = object.__new__(Recipient)
        for name in _RECIPIENT_FIELDS:  # every field, also one added later
            object.__setattr__(other, name, getattr(self, name))
        object.__setattr__(other, "custom_args", _frozen(custom_args))
        return other


# `copy.copy` of a slotted dataclass looks the fields up twice for every copy.
_RECIPIENT_FIELDS = tuple(f.name for f in fields(Recipient))


@dataclass(frozen=True, slots=True)
class Batch:
    """A segment's content, rendered once, for many recipients."""

    subject: str
    text: str
    html: str
    from_email: str
    from_name: str = ""
    reply_to: str = ""
    categories: tuple[str, ...] = ()
    recipients: tuple[Recipient, ...] = ()
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _frozen(self.headers))
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "recipients", tuple(self.recipients))
        if not self.subject.strip() or not self.text.strip() or not self.html.strip():
            raise InvalidInput("a batch needs a subject, a text and an HTML body")
        if not is_sendable_address(self.from_email):
            raise InvalidInput(f"from address {self.from_email!r} is not sendable")
        if self.reply_to and not is_sendable_address(self.reply_to):
            raise InvalidInput(f"reply-to address {self.reply_to!r} is not sendable")
        check_headers(self.headers)
        check_categories(self.categories)
        seen: set[str] = set()
        tokens = self.tokens()
        for r in self.recipients:
            key = r.email.strip().lower()
            if key in seen:
                raise InvalidInput(f"recipient {r.email!r} appears twice in one batch")
            seen.add(key)
            missing = tokens - set(r.substitutions)
            if missing:
                raise InvalidInput(f"recipient {r.email!r} lacks substitutions {sorted(missing)}")
            if key.partition("@")[0] in {c.lower() for c in self.categories}:
                raise InvalidInput(f"a category is the address of {r.email!r}")

    def tokens(self) -> set[str]:
        """The %%tokens%% used in subject, text and HTML."""
        return set(TOKEN.findall(self.subject + self.text + self.html))


@dataclass(frozen=True, slots=True)
class RecipientResult:
    """What became of one recipient: ok (queued by SendGrid), failed, or unknown.

    `permanent` failures must not be retried as they are; transient ones may be
    retried by the next run; `unknown` means the request may have been accepted
    (timeout after it left), so staff decide instead of a resend.
    `halt` means this recipient was not sent because the backend refuses all sending
    (SendGrid answered 401/403: the API key is wrong or lacks permission): the row stays
    queued and the run stops, instead of failing every subscriber.
    """

    email: str
    ok: bool
    message_id: str | None = None
    error: str | None = None
    permanent: bool = False
    unknown: bool = False
    status: int | None = None  # the HTTP status of the last answer, when there was one
    halt: bool = False  # the backend refuses every request (key wrong): not sent, stop the run


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One message to one recipient, rendered, ready for a Mailer."""

    to: str
    subject: str
    text: str
    html: str
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    category: str = "transactional"  # no personal data: SendGrid keeps it
    reference: str = ""  # opaque id for logs and SendGrid custom_args


@dataclass(frozen=True, slots=True)
class SendResult:
    reference: str
    ok: bool
    message_id: str | None = None
    error: str | None = None
    permanent: bool = False


class Mailer(Protocol):
    """The mail backends' one port: the outbox (files) or SendGrid, chosen in bootstrap."""

    def send(self, messages: list[OutgoingEmail]) -> list[SendResult]:
        """Transactional mails, one request (or file) each; a result per message."""
        ...

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        """One segment's digest to all its recipients; a result per recipient, in order."""
        ...
