"""Core-loop benchmark (issue 15): actions and seconds for triage → edition → preview →
approval by a second person → "Jetzt senden", in Debian's Chromium.

    python bench/desk_loop_bench.py

Ingests the shared corpus from a loopback server into a fresh SQLite store (as
`eudigest fetch` does), then for each path serves its own copy of that store with the
desk app on 127.0.0.1 (four eyes on, one confirmed reader, the outbox backend) and walks
tests/browser/desk_loop.py in a real browser: 20 inbox rows triaged from the keyboard,
then the loop. "before" is the path without the review notice and the preview's
buttons (what the desk offered before); "short" is the path they allow. The seconds are
wall time of the walk (browser, server and sender on this machine), from the first key
and from the first click of the loop until the mail is in the outbox; sign-ins are not
counted. Baseline from issue 15 (the desk before that issue): about eleven clicks plus
typing, and a wait of up to five minutes for the scheduler's `send-due`.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    OFFICE_YAML,
    Watch,
    _ingest_corpus,
    serve_copy,
)
from tests.browser.desk_loop import prepare, walk  # noqa: E402

BASE = "https://newsletter.region-stuttgart.example"


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    if not CHROMIUM.is_file():
        sys.exit(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="desk-loop-") as tmp:
        folder = Path(tmp)
        failed = _ingest_corpus(folder / "corpus")
        if failed:
            sys.exit(f"corpus sources failed: {failed}")
        corpus_db = folder / "corpus" / "var" / "eudigest.db"
        results = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for path in ("before", "short"):
                    where = folder / path
                    where.mkdir()
                    office = where / "office-four-eyes.yaml"
                    office.write_text(
                        OFFICE_YAML.replace("four_eyes: false", "four_eyes: true"), "utf-8"
                    )
                    serve = contextmanager(serve_copy)
                    with serve(where, corpus_db, office_path=office, base_url=BASE) as live:
                        prepare(live)
                        watch = Watch()
                        results.append(walk(browser, live, watch, path))  # type: ignore[arg-type]
                        if watch.errors:
                            sys.exit(f"console errors: {watch.errors}")
            finally:
                browser.close()
    print()
    print("Core loop: 20 inbox rows triaged, then draft → preview → approval (2nd person) → send")
    print("issue 15 baseline: ~11 clicks plus typing, then up to 5 min waiting for send-due")
    print(f"{'path':<8} {'triage actions':>15} {'triage s':>9} {'loop actions':>13} {'loop s':>7}")
    for r in results:
        a = r.actions
        print(
            f"{r.path:<8} {a.count('triage'):>15} {r.seconds['triage']:>9.1f} "
            f"{a.count('loop'):>13} {r.seconds['loop']:>7.1f}"
        )
    for r in results:
        print()
        print(r.summary())


if __name__ == "__main__":
    main()
