"""Deliveries: one edition to one subscriber (queued → sent | failed | unknown, never
two), and the senders that hold them, each with a lease (ADR 0004)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class SenderOutcome(StrEnum):
    RUNNING = "running"
    DONE = "done"  # nothing left for it: the edition is sent, or the rest is other senders'
    STOPPED = "stopped"  # a transient failure (429, 5xx, no connection, disk full): rest queued
    HALTED = "halted"  # the backend refuses the key: rest queued until someone fixes it
    FAILED = "failed"  # an error ended it (the database went away, a bug)
    LOST = "lost"  # another sender found it gone (lease expired, process dead)


@dataclass(frozen=True, slots=True)
class ProcessRef:
    """Which process holds a lease: `instance` (host:pid) for people; `key` (boot id,
    pid namespace, start time) says whether a pid on this host is still that process."""

    host: str
    pid: int
    key: str

    @property
    def instance(self) -> str:
        return f"{self.host}:{self.pid}"


@dataclass(frozen=True, slots=True)
class Sender:
    """One process at work on one edition (`eudigest send`, `send-due`), with a lease it
    renews while it runs. Delivery rows it claims are its own until it ends or is gone."""

    id: int
    edition_id: int
    process: ProcessRef
    started_at: dt.datetime
    beat_at: dt.datetime
    lease_until: dt.datetime
    outcome: SenderOutcome = SenderOutcome.RUNNING
    ended_at: dt.datetime | None = None
    detail: str | None = None
    queued: int | None = None  # deliveries still queued when it ended

    @property
    def instance(self) -> str:
        return self.process.instance

    def running(self, now: dt.datetime) -> bool:
        """Running and within its lease (a sender past its lease counts as gone)."""
        return self.ended_at is None and self.lease_until >= now


class DeliveryState(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"  # taken by a sender; its request has not left yet
    SENDING = "sending"  # the request is (or was) on its way
    SENT = "sent"
    FAILED = "failed"  # permanent: SendGrid refused this recipient
    UNKNOWN = "unknown"  # the sender died or timed out after the request left
    SKIPPED = "skipped"  # no longer subscribed, suppressed or nothing to receive


# A delivery in one of these states is not done yet: the edition is still being sent.
PENDING_DELIVERY_STATES = (
    DeliveryState.QUEUED.value,
    DeliveryState.CLAIMED.value,
    DeliveryState.SENDING.value,
)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    edition_id: int
    subscriber_id: int
    segment_key: str
    state: DeliveryState
    attempts: int = 0
    message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: int
    state: DeliveryState  # SENT, FAILED, QUEUED (transient: try again later) or UNKNOWN
    message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryProblem:
    """A failed or unknown delivery and the address it went to (None: erased since)."""

    delivery: Delivery
    email: str | None


@dataclass(frozen=True, slots=True)
class Recovery:
    """What `recover` took back from senders that are gone."""

    requeued: int  # claimed rows queued again (their request never left)
    unknown: int  # sending rows now unknown (their request may have left)
    lost: tuple[Sender, ...] = ()  # running senders found gone (now `lost`)


@dataclass(frozen=True, slots=True)
class Resolution:
    changed: int  # unknown rows now sent (treated as delivered) or queued again
    resumed: bool  # the edition went from SENT back to SENDING
