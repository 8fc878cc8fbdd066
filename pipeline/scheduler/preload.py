"""What the scheduler's start-up server imports once (ADR 0011), then freezes.

Every run is forked from that server. `gc.freeze()` moves everything imported here out
of the collector's reach, so that a run's garbage collections do not write to (and so
copy) the pages it shares with the server and with the other runs.
"""

from __future__ import annotations

import gc

import pipeline.ingest.classify
import pipeline.ingest.normalize
import pipeline.ingest.parse
import pipeline.jobs
import pipeline.scheduler.child
import pipeline.store.items  # noqa: F401  (imported to be shared, not used here)

gc.freeze()
