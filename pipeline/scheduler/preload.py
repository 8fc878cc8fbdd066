"""What the scheduler's start-up server loads once (ADR 0011), then freezes.

Every run is forked from that server: what a fetch needs beyond its work is here, down
to the database drivers, the YAML loader, the adapters, anyio's event loop backend and
the CA bundle. And the command line: multiprocessing runs the main script again in every
run to rebuild `__main__` (Python 3.11's forkserver does not preload it), and the
`eudigest` script is three lines that import `pipeline.cli`. `gc.freeze()` at the end
moves all of it out of the collector's reach, so that a run's garbage collections do not
write to (and so copy) the pages it shares with the server.
"""

from __future__ import annotations

import gc
import sqlite3

import pipeline.bootstrap
import pipeline.catalog
import pipeline.cli.main
import pipeline.ingest.adapters
import pipeline.ingest.classify
import pipeline.ingest.normalize
import pipeline.ingest.parse
import pipeline.jobs
import pipeline.logs
import pipeline.memory
import pipeline.scheduler.child
import pipeline.store.items
import pipeline.store.sources
import pipeline.store.topics
from pipeline.ingest.fetch import load_ahead
from pipeline.store import load_drivers

__all__ = ["pipeline", "sqlite3"]  # loaded to be shared with every run, not used here

pipeline.memory.tune_malloc()  # every run inherits it
load_drivers()
load_ahead()
for name in pipeline.ingest.adapters.ADAPTER_NAMES:
    pipeline.ingest.adapters.get(name)  # each source kind's adapter module
gc.freeze()
