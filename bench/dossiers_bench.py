"""Dossier benchmark: threading cost, the dossier list and a dossier page.

    python bench/dossiers_bench.py [--items 20000] [--dossiers 500] [--repeat 20]
                                   [--postgres URL]

Builds a store (a SQLite file in a temporary folder, or a schema of its own on
PostgreSQL, dropped afterwards) with --items synthetic items through the store's public
methods, each naming 1–3 references (a third of them a dossier's procedure, COM or
CELEX number, some corrigenda, the rest unrelated), then --dossiers dossiers with
4 aliases and 20 events each. Times, median of --repeat runs:

- thread (none):  `store.dossiers.thread` on a store without dossiers (what every
                  fetch pays when the office follows no procedure)
- thread (cold):  the first threading after the dossiers arrived (all links new)
- thread (warm):  every later fetch (no new link), per item in the store
- list:           `store.dossiers.list` (all dossiers with counts and next steps)
- page:           `store.dossiers.get` of one dossier (aliases, events, items, followers)

The issue's aims: threading must not make a cold fetch of the corpus more than 5 %
slower (compare with `bench/ingest_bench.py`'s cold figure); list and page under
100 ms median with 500 dossiers and 20,000 items.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.ingest.dedupe import Incoming, decide  # noqa: E402
from pipeline.model import (  # noqa: E402
    Classification,
    DocType,
    DossierEvent,
    DossierRecord,
    EventKind,
    NormalizedItem,
    ProcedureType,
    Source,
    SourceKind,
)
from pipeline.store import Store  # noqa: E402

NOW = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
KINDS = [k for k in EventKind if k is not EventKind.OTHER]


def procedure(n: int) -> str:
    return f"{2020 + n % 7}/{n:04d}(COD)"


def com(n: int) -> str:
    return f"COM({2020 + n % 7}) {n}"


def celex(n: int) -> str:
    return f"3{2020 + n % 7}R{n:04d}"


@contextmanager
def bench_store(postgres: str | None, folder: Path) -> Iterator[Store]:
    if postgres is None:
        store = Store(f"sqlite:///{folder / 'bench.db'}")
        store.upgrade()
        yield store
        store.close()
        return
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres else "?"
    store = Store(f"{postgres}{sep}options=-csearch_path%3D{schema}")
    try:
        store.upgrade()
        yield store
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fill_items(store: Store, total: int, dossiers: int, rng: random.Random) -> None:
    src = Source("bench", "Bench", "European Commission", "https://x.test/", "en", SourceKind.FEED)
    store.sources.register([src], now=NOW)
    batch: list[Incoming] = []
    for n in range(total):
        refs: list[str] = []
        for _ in range(rng.randint(1, 3)):
            d = rng.randrange(dossiers * 3)  # a third names one of the dossiers
            refs.append(rng.choice([procedure(d), com(d), celex(d), f"IP/26/{d}"]))
            if rng.random() < 0.01:
                refs.append(f"{celex(d)}R(01)")
        item = NormalizedItem(
            source_id="bench",
            identity=f"bench:{n}",
            title=f"Item {n}",
            url=f"https://x.test/item/{n}",
            summary_html="",
            summary_text="",
            language="en",
            published=NOW - dt.timedelta(minutes=n),
            updated=None,
            content_hash=f"h{n}",
            family=None,
        )
        classification = Classification(
            (), DocType.PRESS_RELEASE, tuple(dict.fromkeys(refs)), (), 0
        )
        batch.append(Incoming(item, classification))
        if len(batch) == 1000 or n == total - 1:
            known = store.items.lookup({i.item.identity for i in batch}, set(), set())
            store.items.apply(decide(batch, known, institution="European Commission"), now=NOW)
            batch = []


def dossier_records(count: int, rng: random.Random) -> list[DossierRecord]:
    records = []
    for d in range(count):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(700))
        events = tuple(
            DossierEvent(
                start + dt.timedelta(days=10 * e),
                KINDS[min(e, len(KINDS) - 1)],
                "bench",
                key=f"{d}-{e}",
                forecast=e == 19,
            )
            for e in range(20)
        )
        records.append(
            DossierRecord(
                reference=procedure(d),
                source="bench",
                title_de=f"Verordnung Nummer {d}",
                title_en=f"Regulation number {d}",
                procedure_type=ProcedureType.COD,
                aliases=(com(d), celex(d), f"A10-{d:04d}/2026"),
                events=events,
            )
        )
    return records


def timed(fn: Callable[[], Any], n: int) -> float:
    values = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        values.append(time.perf_counter() - started)
    return statistics.median(values)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--dossiers", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument(
        "--postgres", metavar="URL", help="e.g. postgresql+psycopg://postgres@127.0.0.1/test"
    )
    args = ap.parse_args()
    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp, bench_store(args.postgres, Path(tmp)) as store:
        started = time.perf_counter()
        fill_items(store, args.items, args.dossiers, rng)
        fill_s = time.perf_counter() - started
        none_s = timed(lambda: store.dossiers.thread(now=NOW), args.repeat)
        store.dossiers.upsert(dossier_records(args.dossiers, rng), now=NOW)
        started = time.perf_counter()
        links = store.dossiers.thread(now=NOW)
        cold_s = time.perf_counter() - started
        warm_s = timed(lambda: store.dossiers.thread(now=NOW), args.repeat)
        today = NOW.date()
        list_s = timed(lambda: store.dossiers.list(today=today), args.repeat)
        page_s = timed(lambda: store.dossiers.get(procedure(7), today=today), args.repeat)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(
            f"{backend}: {args.items} items (stored in {fill_s:.1f} s), "
            f"{args.dossiers} dossiers, {links} links; median of {args.repeat}"
        )
        print(f"{'thread (none)':<16}{none_s * 1000:9.2f} ms")
        print(f"{'thread (cold)':<16}{cold_s * 1000:9.2f} ms")
        print(
            f"{'thread (warm)':<16}{warm_s * 1000:9.2f} ms  "
            f"({warm_s / args.items * 1e6:.2f} µs per item)"
        )
        print(f"{'list':<16}{list_s * 1000:9.2f} ms  ({args.dossiers} dossiers)")
        print(f"{'page':<16}{page_s * 1000:9.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
