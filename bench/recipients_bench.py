"""Recipients benchmark: a send's readers built as `jobs.send` builds them, CPU seconds.

    python bench/recipients_bench.py [--readers 100000] [--threads 0] [--repeat 3]

Each reader gets what `jobs.send`'s `recipient_for` gives it and the sender then adds:
the feedback reader token (%%feedback%%), one signed manage token for the preferences
and unsubscribe links, the greeting, the List-Unsubscribe headers, and
`with_custom_args` (edition and delivery ids). No store, no rendering, no mailer: this is
the per-reader part of a send, alone. `--threads N` builds them on N worker threads, as
the sender does (0: the main thread). Prints the CPU seconds (user + system, all
threads) of each round and a digest of every recipient built (equal digests: the same
tokens, links and headers). The allocator is set up as the `eudigest` command sets it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
SECRET = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz"
BASE_URL = "https://newsletter.example.org"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readers", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=0, help="worker threads (0: main thread)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from pipeline.memory import fixed_mmap_threshold

    fixed_mmap_threshold()  # as the `eudigest` command does first

    from pipeline import jobs
    from pipeline.config import Settings
    from pipeline.model import OrgType, Subscriber, SubscriberStatus
    from pipeline.model.feedback import READER_PLACEHOLDER
    from pipeline.model.office import Office
    from subscribers.feedback import FeedbackLinks, FeedbackTokens
    from subscribers.tokens import Links

    rng = random.Random(11)
    readers = [
        Subscriber(
            id=i,
            email=f"leser.{i}@kommune-{i % 97}.example",
            status=SubscriberStatus.CONFIRMED,
            created_at=NOW,
            name=rng.choice(["", "Anna Müller", "Bernd Schmidt"]),
            org_type=rng.choice(list(OrgType)),
            confirmed_at=NOW,
            token_version=1 + i % 3,
        )
        for i in range(1, args.readers + 1)
    ]
    settings = Settings.from_env({"EUDIGEST_SECRET_KEY": SECRET, "EUDIGEST_BASE_URL": BASE_URL})
    services: Any = SimpleNamespace(settings=settings, clock=lambda: NOW)
    office = Office(name="Europabüro", newsletters=(), sender_email="eu@kommune.example")
    links = Links.from_settings(settings)
    feedback = FeedbackLinks(FeedbackTokens(settings.secret_key), links.base_url, 7)
    recipient = jobs._recipient_maker(services, links, office)

    def build(chunk: list[Subscriber]) -> list[Any]:
        return [
            recipient(
                s, {READER_PLACEHOLDER: feedback.reader(s, now=services.clock())}
            ).with_custom_args({"edition_id": "e7", "delivery_id": f"d{s.id}"})
            for s in chunk
        ]

    for _ in range(args.repeat):
        start = time.process_time()
        if args.threads:
            with ThreadPoolExecutor(args.threads) as pool:
                chunks = [readers[i : i + 1000] for i in range(0, len(readers), 1000)]
                built = [r for part in pool.map(build, chunks) for r in part]
        else:
            built = build(readers)
        cpu = time.process_time() - start
        digest = hashlib.sha256()
        for r in built:
            digest.update(
                repr(
                    (
                        r.email,
                        *(sorted(m.items()) for m in (r.substitutions, r.headers, r.custom_args)),
                    )
                ).encode()
            )
        print(
            f"{len(built):,} recipients: {cpu:.2f} s CPU "
            f"({cpu / len(built) * 1e6:.1f} µs each), digest {digest.hexdigest()[:16]}"
        )


if __name__ == "__main__":
    main()
