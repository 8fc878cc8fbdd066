"""The desk's Verfahren pages: server time of the list, a dossier page and the inbox.

    python bench/dossier_desk_bench.py [--items 20000] [--dossiers 500] [--requests 30]
                                       [--postgres URL]

The store of `bench/dossiers_bench.py` (synthetic items naming references, dossiers with
4 aliases and 20 events each, threaded), an office from `bench/desk_bench.py`; the staff
member follows every tenth dossier. Each page is requested --requests times after 3
warm-ups through the Flask test client (logged in, no network); median and p95 in ms.
The issue's aim: list and page under 100 ms median with 500 dossiers and 20,000 items.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from desk_bench import PASSWORD, bench_store, logged_in_client, measure, p95  # noqa: E402
from dossiers_bench import NOW, dossier_records, fill_items, procedure  # noqa: E402

from pipeline.bootstrap import build  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.curate import staff  # noqa: E402
from pipeline.model import DossierEvent, DossierRecord, EventKind, Role  # noqa: E402


def run(settings: Settings, args: argparse.Namespace, backend: str) -> None:
    from pipeline.store.items import InboxQuery
    from pipeline.web import create_app
    from pipeline.web.staff import STATUS_FILTERS

    services = build(settings)
    try:
        store = services.store
        store.upgrade()
        services.clock = lambda: NOW
        fill_items(store, args.items, args.dossiers, random.Random(13))
        store.dossiers.upsert(dossier_records(args.dossiers, random.Random(13)), now=NOW)
        links = store.dossiers.thread(now=NOW)
        staff.add_user(store, "anna", Role.EDITOR, PASSWORD, now=NOW)
        for d in range(0, args.dossiers, 10):
            store.dossiers.follow(procedure(d), "anna", now=NOW)
        client = logged_in_client(create_app(settings, services))
        n_items = len(store.dossiers.get(procedure(7), today=NOW.date()).item_ids)
        urls = {
            f"list ({args.dossiers} dossiers)": "/desk/verfahren/",
            "list, nur gefolgte": "/desk/verfahren/?followed=1",
            f"dossier page ({n_items} items)": f"/desk/verfahren/{procedure(7)}",
            "inbox, page 1 (with markers)": "/desk/?status=all",
        }
        print(f"{backend}: {args.items} items, {args.dossiers} dossiers, {links} links")
        print(f"{'page':<36}{'median':>8}{'p95':>8}")
        for name, url in urls.items():

            def get(url: str = url) -> None:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            values = measure(get, args.requests)
            print(f"{name:<36}{statistics.median(values):8.1f}{p95(values):8.1f}")
        shown = store.items.search(InboxQuery(statuses=STATUS_FILTERS["all"][1]))
        ids = [i.id for i in shown.items]
        marks = measure(lambda: store.dossiers.followed_of_items("anna", ids), args.requests)
        label = "  of which the inbox markers"
        print(f"{label:<36}{statistics.median(marks):8.1f}{p95(marks):8.1f}")
        unseen = measure(lambda: store.dossiers.unseen("anna"), args.requests)
        label = "  of which new events (none)"
        print(f"{label:<36}{statistics.median(unseen):8.1f}{p95(unseen):8.1f}")
        # a new step in every followed dossier: the inbox's box "Neues in Ihren Verfahren"
        step = DossierEvent(NOW.date(), EventKind.COUNCIL_ADOPTION, "bench-new", key="new")
        store.dossiers.upsert(
            [
                DossierRecord(reference=procedure(d), source="bench-new", events=(step,))
                for d in range(0, args.dossiers, 10)
            ],
            now=NOW,
        )
        assert len(store.dossiers.unseen("anna")) == len(range(0, args.dossiers, 10))

        def inbox() -> None:
            assert client.get("/desk/?status=all").status_code == 200

        values = measure(inbox, args.requests)
        label = f"inbox, {len(range(0, args.dossiers, 10))} dossiers with news"
        print(f"{label:<36}{statistics.median(values):8.1f}{p95(values):8.1f}")
        unseen = measure(lambda: store.dossiers.unseen("anna"), args.requests)
        label = "  of which new events"
        print(f"{label:<36}{statistics.median(unseen):8.1f}{p95(unseen):8.1f}")
    finally:
        services.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--dossiers", type=int, default=500)
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--postgres", metavar="URL")
    args = ap.parse_args()
    targets: list[str | None] = [None] + ([args.postgres] if args.postgres else [])
    for target in targets:
        with tempfile.TemporaryDirectory() as tmp, bench_store(target, Path(tmp)) as settings:
            run(settings, args, "PostgreSQL" if target else "SQLite")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
