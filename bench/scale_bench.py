"""Scale benchmark: the desk and the lists at a larger office's size, in one run.

    python bench/scale_bench.py --postgres URL [--items 50000] [--subscribers 100000]
                                [--requests 20] [--json OUT] [--compare PREVIOUS.json]
                                [--keep] [--reuse DBNAME]

Creates a database of its own on the PostgreSQL server of URL (dropped afterwards unless
--keep; --reuse measures a kept one again without seeding), or a SQLite file when no
--postgres is given, and seeds it as an office after a few years would have it:

- --items synthetic items through the store's public methods (ingest's lookup → decide →
  apply), German and English, 0–3 topics, 4 sources, dates over 18 months; a fifth name a
  dossier's reference; relevance reasons on every item (so the default view folds the
  items below the threshold); 10 % accepted, 20 % rejected, 0.5 % deleted, the rest new;
  300 annotated; 500 dossiers with 4 aliases and 20 events each, threaded; the staff
  member follows every tenth; an edition of 60 items in 4 sections.
- --subscribers rows of a CSV as Excel writes it (`bench/subscribers_bench.py`'s file:
  umlauts, ';', BOM, 0.5 % bad rows, 10 % without consent who get a confirmation mail),
  imported with `eudigest subscribers import` as a whole process: that wall time is the
  import figure (aim: under 30 s for 100,000 rows).

Then each page is requested --requests times after 3 warm-ups through Flask's test client,
logged in through the login form: the whole request inside the app (routing, session,
store reads, Jinja), no network. Median and p95 in ms; aim: under 100 ms median.
--json writes the figures; --compare prints a previous run's beside them.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from desk_bench import (  # noqa: E402
    NOW,
    OFFICE_YAML,
    PASSWORD,
    SECRET,
    SOURCES,
    logged_in_client,
    measure,
    p95,
    synthetic,
)
from dossiers_bench import dossier_records, procedure  # noqa: E402
from subscribers_bench import write_subscriber_csv  # noqa: E402

from pipeline import curate  # noqa: E402
from pipeline.bootstrap import Services, build  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.curate import staff  # noqa: E402
from pipeline.ingest.dedupe import decide  # noqa: E402
from pipeline.model import Audience, ItemStatus, Priority, Role  # noqa: E402

DOSSIERS = 500
ANNOTATED = 300
EDITION_ITEMS = 60
TOPIC = "energy_climate"
SEARCH = "Wasserstoff"
SUBSCRIBER_SEARCH = "müller"


# ---------------------------------------------------------------- the database


@contextmanager
def database(postgres: str | None, folder: Path, keep: bool, reuse: str | None) -> Iterator[str]:
    """A URL of a database of our own: a new one on the server of `postgres`, or SQLite."""
    if postgres is None:
        yield f"sqlite:///{folder / 'scale.db'}"
        return
    import sqlalchemy as sa  # only here: CREATE DATABASE needs autocommit

    url = sa.make_url(postgres)
    name = reuse or f"eudigest_scale_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    if not reuse:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep and not reuse:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        else:
            print(f"kept database {name}")
        admin.dispose()


def settings_env(folder: Path, url: str) -> dict[str, str]:
    office = folder / "office.yaml"
    office.write_text(OFFICE_YAML, encoding="utf-8")
    return {
        "EUDIGEST_DATA_DIR": str(folder / "var"),
        "EUDIGEST_SECRET_KEY": SECRET,
        "EUDIGEST_OFFICE": str(office),
        "EUDIGEST_TAXONOMY": str(ROOT / "taxonomy.yaml"),
        "EUDIGEST_BASE_URL": "https://newsletter.region-stuttgart.example",
        "EUDIGEST_DATABASE_URL": url,
    }


# ---------------------------------------------------------------- seeding


def fill_items(services: Services, total: int) -> None:
    """Synthetic items as ingest stores them; a fifth name a dossier's procedure."""
    store = services.store
    store.sources.register(SOURCES, now=NOW)
    rng = random.Random(48)
    for start in range(0, total, 1000):
        batch = []
        for n in range(start, min(total, start + 1000)):
            source, incoming = synthetic(n, rng)
            classification = incoming.classification
            if rng.random() < 0.2:
                refs = (*classification.references, procedure(rng.randrange(DOSSIERS)))
                classification = dataclasses.replace(classification, references=refs)
            # Reasons as ingest gives every item since migration 0011: the default view
            # then folds the items below the threshold as an office's inbox does.
            reasons = ("EU-Quelle",) + (("Thema Energie & Klima",) if classification.topics else ())
            classification = dataclasses.replace(classification, relevance_reasons=reasons)
            incoming = dataclasses.replace(incoming, classification=classification)
            batch.append((source, incoming))
        for source in SOURCES:
            incoming = [inc for src, inc in batch if src is source]
            known = store.items.lookup(
                {i.item.identity for i in incoming}, {i.item.url or "" for i in incoming}, set()
            )
            store.items.apply(decide(incoming, known, institution=source.institution), now=NOW)


def seed_desk(services: Services, total: int) -> dict[str, Any]:
    store = services.store
    started = time.perf_counter()
    store.upgrade()
    fill_items(services, total)
    actor = staff.add_user(store, "anna", Role.EDITOR, PASSWORD, now=NOW)
    rng = random.Random(16)
    ids = list(range(1, store.items.count() + 1))
    rng.shuffle(ids)
    tenth, fifth = total // 10, total // 5
    accepted, rejected = ids[:tenth], ids[tenth : tenth + fifth]
    deleted = ids[tenth + fifth : tenth + fifth + total // 200]
    for chunk in range(0, len(accepted), 500):
        curate.accept(
            store,
            accepted[chunk : chunk + 500],
            actor=actor,
            now=NOW,
            topic_ids=services.taxonomy().topic_ids(),
        )
    store.items.set_status(rejected, ItemStatus.REJECTED, now=NOW, actor=actor.name)
    store.items.set_status(deleted, ItemStatus.DELETED, now=NOW, actor=actor.name)
    for item_id in ids[:ANNOTATED]:
        curate.annotate(
            store,
            item_id,
            headline="Wasserstoff für die Region: Förderaufruf mit Frist",
            comment_md="Fördermittel für Kommunen in Baden-Württemberg – **Frist beachten!**",
            priority=Priority.DEADLINE if item_id % 3 else Priority.FYI,
            audiences=[Audience.KOMMUNE, Audience.UNTERNEHMEN],
            expected_version=0,
            actor=actor,
            now=NOW,
        )
    store.dossiers.upsert(dossier_records(DOSSIERS, random.Random(13)), now=NOW)
    store.dossiers.thread(now=NOW)
    for d in range(0, DOSSIERS, 10):
        store.dossiers.follow(procedure(d), "anna", now=NOW)
    edition = curate.create_edition(
        store,
        services.office(),
        "weekly",
        title="EU-Wochenbrief 48/2026",
        intro="Bench",
        actor=actor,
        now=NOW,
    )
    sections = [s.id for s in edition.sections]
    for k, item_id in enumerate(accepted[:EDITION_ITEMS]):
        curate.place_item(
            store,
            edition.id,
            item_id,
            section_id=sections[k % len(sections)],
            position=None,
            actor=actor,
            now=NOW,
        )
    spread_fetched_at(services)
    return {"edition": edition.id, "item": ids[0], "seed_s": time.perf_counter() - started}


def spread_fetched_at(services: Services) -> None:
    """Items arrive over 18 months, not all in the minute of seeding: fetched an hour
    after they were published (the status page counts the last 14 days' arrivals)."""
    import sqlalchemy as sa

    from pipeline.store.schema import items

    with services.store.engine.begin() as conn:
        rows = conn.execute(sa.select(items.c.id, items.c.published)).all()
        conn.execute(
            sa.update(items).where(items.c.id == sa.bindparam("b_id")),
            [
                {"b_id": r.id, "fetched_at": min(NOW, r.published + dt.timedelta(hours=1))}
                for r in rows
            ],
        )


def import_subscribers(env: dict[str, str], folder: Path, rows: int) -> dict[str, Any]:
    """`eudigest subscribers import` as a whole process; its wall time."""
    from pipeline.catalog import load_taxonomy

    csv_path = folder / "verteiler.csv"
    write_subscriber_csv(csv_path, rows, sorted(load_taxonomy(ROOT / "taxonomy.yaml").topic_ids()))
    cli = Path(sys.executable).with_name("eudigest")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(
        [str(cli), "subscribers", "import", str(csv_path)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode != 0:
        raise SystemExit(f"import failed: {out.stderr or out.stdout}")
    summary = next((line for line in out.stdout.splitlines() if "importiert" in line), "")
    return {"import_s": wall, "import_cpu_s": cpu, "import_summary": summary.strip()}


def analyze(services: Services) -> None:
    if services.store.engine.dialect.name == "postgresql":
        # Planner statistics and the visibility map, as autovacuum leaves them a minute
        # after a bulk load (PostgreSQL 13+ vacuums after inserts too).
        import sqlalchemy as sa

        with services.store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))


# ---------------------------------------------------------------- measuring


def pages(facts: dict[str, Any]) -> dict[str, str]:
    return {
        "inbox, default view": "/desk/",
        f"inbox, topic {TOPIC}": f"/desk/?topic={TOPIC}",
        f"inbox, search „{SEARCH}“": f"/desk/?q={SEARCH}",
        "inbox, all statuses, page 20": "/desk/?status=all&page=20",
        "item page": f"/desk/items/{facts['item']}",
        f"dossier list ({DOSSIERS})": "/desk/verfahren/",
        "dossier page": f"/desk/verfahren/{procedure(7)}",
        "subscriber list": "/desk/subscribers/",
        f"subscriber search „{SUBSCRIBER_SEARCH}“": f"/desk/subscribers/?q={SUBSCRIBER_SEARCH}",
        "subscriber list, page 100": "/desk/subscribers/?page=100",
        "edition page (preflight reach)": f"/desk/editions/{facts['edition']}",
        "status page": "/desk/status",
    }


def run_pages(
    services: Services, facts: dict[str, Any], n: int, only: str | None = None
) -> dict[str, dict[str, float]]:
    from pipeline.web import create_app

    client = logged_in_client(create_app(services.settings, services))
    out: dict[str, dict[str, float]] = {}
    for name, url in pages(facts).items():
        if only and only not in name:
            continue

        def get(url: str = url) -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        times = measure(get, n)
        out[name] = {"median": statistics.median(times), "p95": p95(times)}
    return out


def report(result: dict[str, Any], previous: dict[str, Any] | None) -> None:
    print(
        f"{result['backend']}: {result['items']:,} items, {result['subscribers']:,} subscribers, "
        f"{DOSSIERS} dossiers; {result['requests']} requests per page after 3 warm-up"
    )
    if result.get("import_s") is not None:
        print(f"seeding the desk took {result['seed_s']:.0f} s")
    before = (previous or {}).get("pages", {})
    head = f"{'page':<38}{'median':>8}{'p95':>8}"
    if before:
        head += f"{'before':>9}{'p95':>8}"
    print(head + f"{'<100':>6}")
    print("-" * (len(head) + 6))
    for name, t in result["pages"].items():
        line = f"{name:<38}{t['median']:8.1f}{t['p95']:8.1f}"
        if before:
            b = before.get(name)
            line += f"{b['median']:9.1f}{b['p95']:8.1f}" if b else f"{'':>17}"
        print(line + f"{'yes' if t['median'] < 100 else 'NO':>6}")
    if result.get("import_s") is not None:
        line = f"{'import of the CSV (whole process), s':<38}{result['import_s']:8.1f}{'':>8}"
        if previous and previous.get("import_s") is not None:
            line += f"{previous['import_s']:9.1f}{'':>8}"
        print(line + f"{'<30 s' if result['import_s'] < 30 else 'NO':>6}")
        if result.get("import_cpu_s") is not None:
            line = f"{'  of which CPU time of the process, s':<38}{result['import_cpu_s']:8.1f}"
            if previous and previous.get("import_cpu_s") is not None:
                line += f"{'':>8}{previous['import_cpu_s']:9.1f}"
            print(line)
        print(f"  {result['import_summary']}")
    print("Times in ms (the import in s): the whole request inside the app, no network.")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (any database on it)")
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    ap.add_argument("--compare", type=Path, help="a previous --json file to print beside")
    ap.add_argument("--keep", action="store_true", help="keep the database (PostgreSQL)")
    ap.add_argument("--reuse", metavar="DBNAME", help="measure a kept database again")
    ap.add_argument("--only", metavar="WORD", help="only the pages whose name contains WORD")
    args = ap.parse_args()
    previous = json.loads(args.compare.read_text()) if args.compare else None
    with (
        tempfile.TemporaryDirectory() as tmp,
        database(args.postgres, Path(tmp), args.keep, args.reuse) as url,
    ):
        folder = Path(tmp)
        env = settings_env(folder, url)
        services = build(Settings.from_env(env, cwd=folder))
        services.clock = lambda: NOW
        try:
            result: dict[str, Any] = {
                "backend": services.store.engine.dialect.name,
                "items": args.items,
                "subscribers": args.subscribers,
                "requests": args.requests,
                "import_s": None,
            }
            if args.reuse:
                store = services.store
                edition = store.editions.list(limit=1)[0]
                result["items"] = store.items.count(include_deleted=True)
                ids = list(range(1, result["items"] + 1))
                random.Random(16).shuffle(ids)  # as seed_desk drew them
                result |= {"edition": edition.id, "item": ids[0]}
                result["subscribers"] = sum(store.subscribers.counts().values())
            else:
                result |= seed_desk(services, args.items)
                result |= import_subscribers(env, folder, args.subscribers)
            analyze(services)
            result["pages"] = run_pages(services, result, args.requests, args.only)
        finally:
            services.close()
    report(result, previous)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
