"""Delivery ledger benchmark: the store's part of a send to 100,000 readers, alone.

    python bench/ledger_bench.py [--readers 100000] [--per-segment 7.46] [--in-flight 4]
                                 [--root PATH] [--json]

On a SQLite file: N confirmed readers (one newsletter), an edition planned as
`pipeline/deliver/send.py` plans it (the readers of a segment together, segments not in
key order: the key is a hash), ~N/7.46 segments as in deliver_bench's send of 100,000
(13,400 requests). Then the ledger is walked as the sender walks it, without rendering
or mailing: claim 1,000 (the last segment released when a full claim spans segments),
who may still receive them, one group per segment, `start_many` of `--in-flight` groups
and `record_many` of their answers (sent, one message id per request).

Reported: CPU seconds of this thread (`time.thread_time`, SQLite's own work included)
per store method and in all; `confirmed_for` (the recipients read at the start of a
send) and `plan` at N. `--root` runs another checkout's `pipeline` (before/after in one
sitting: `git archive main | tar -x -C /tmp/main` and `--root /tmp/main`). Making the
readers and the schema is not counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--readers", type=int, default=100_000)
    ap.add_argument("--per-segment", type=float, default=7.46, help="readers per segment")
    ap.add_argument("--in-flight", type=int, default=4, help="groups started together")
    ap.add_argument("--root", default=str(ROOT), help="the checkout whose pipeline runs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, args.root)
    out = run(args.readers, args.per_segment, args.in_flight)
    if args.json:
        print(json.dumps(out))
        return
    for key, value in out.items():
        print(f"{key:>24}  {value}")


def run(readers: int, per_segment: float, in_flight: int) -> dict[str, Any]:
    from pipeline.model import DeliveryState, NewSubscriber, OrgType, Outcome, Profile
    from pipeline.store import Store

    cpu: dict[str, float] = {}
    calls: dict[str, int] = {}

    def timed(name: str, fn: Callable[..., Any], *a: Any, **kw: Any) -> Any:
        started = time.thread_time()
        try:
            return fn(*a, **kw)
        finally:
            cpu[name] = cpu.get(name, 0.0) + time.thread_time() - started
            calls[name] = calls.get(name, 0) + 1

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        store.upgrade()
        rng = random.Random(7)
        topics = [f"topic_{k}" for k in range(20)]
        org_types = list(OrgType)
        people = [
            NewSubscriber(
                f"person{n}@gemeinde{n % 97}.example.org",
                f"{n:064x}",
                Profile(
                    name=f"Person Nr. {n}",
                    org_type=rng.choice(org_types),
                    language="en" if rng.random() < 0.08 else "de",
                    topics=tuple(rng.sample(topics, rng.randint(0, 5))),
                    newsletters=("weekly",),
                ),
                "v1",
                consent_at=NOW - dt.timedelta(seconds=rng.randrange(10**8)),
            )
            for n in range(1, readers + 1)
        ]
        for start in range(0, readers, 10_000):
            store.subscribers.add_many(people[start : start + 10_000], now=NOW)
        edition = store.editions.create(
            "weekly", title="KW 48", intro="", sections=[("A", [])], actor="bench", now=NOW
        )
        keys = [f"{rng.getrandbits(256):064x}" for _ in range(round(readers / per_segment))]
        by_segment: dict[int, list[int]] = {}
        for n in range(1, readers + 1):
            by_segment.setdefault(rng.randrange(len(keys)), []).append(n)
        plan = [(sid, keys[k]) for k, sids in by_segment.items() for sid in sids]

        d = store.deliveries
        found = timed("confirmed_for", store.subscribers.confirmed_for, "weekly")
        assert len(found) == readers, len(found)
        timed("plan", d.plan, edition.id, plan, now=NOW)
        requests = 0
        while True:
            token = f"bench:{uuid.uuid4()}"
            claimed = timed("claim", d.claim, edition.id, None, limit=1000, token=token, now=NOW)
            if not claimed:
                break
            if len(claimed) == 1000 and claimed[0].segment_key != claimed[-1].segment_key:
                last = claimed[-1].segment_key
                back = [x.id for x in claimed if x.segment_key == last]
                timed("release", d.release, back, token=token, now=NOW)
                claimed = [x for x in claimed if x.segment_key != last]
            timed("receiving", d.receiving, "weekly", [x.subscriber_id for x in claimed])
            groups: dict[str, list[int]] = {}
            for x in claimed:
                groups.setdefault(x.segment_key, []).append(x.id)
            pending = list(groups.values())
            for at in range(0, len(pending), in_flight):
                chunk = pending[at : at + in_flight]
                moved = timed("start_many", d.start_many, [(g, token) for g in chunk], now=NOW)
                assert len(moved) == sum(len(g) for g in chunk)
                answered = [
                    ([Outcome(i, DeliveryState.SENT, message_id=f"m{at}-{k}") for i in g], token)
                    for k, g in enumerate(chunk)
                ]
                requests += len(chunk)
                timed("record_many", d.record_many, answered, now=NOW)
        assert d.counts(edition.id)["sent"] == readers
        store.close()
    sender = ("claim", "release", "receiving", "start_many", "record_many")
    out: dict[str, Any] = {"readers": readers, "requests": requests}
    out["sender_cpu_s"] = round(sum(cpu[k] for k in sender if k in cpu), 3)
    for key in ("confirmed_for", "plan", *sender):
        out[f"{key}_cpu_s"] = round(cpu.get(key, 0.0), 3)
        out[f"{key}_calls"] = calls.get(key, 0)
    return out


if __name__ == "__main__":
    main()
