"""Parse → normalize → classify one fetched body, here or in worker processes.

    Preparer(taxonomy, tz, workers)
      workers = 0 → prepare() runs in the caller's thread (as `run_ingest` did before)
      workers ≥ 1 → a process pool, started at the first body (a run where every source
                     answers 304 starts none): parsing one source while others download
                     and the store writes a third, on every core
      .submit(source, result, now) → concurrent Future of list[Incoming]
                                     (a ParseError, pickled back, as from parse())

The work is pure (bytes in, values out), so it may run anywhere; the store is written by
the caller only. The caller imports the parsers and builds the classifier once, freezes
its objects out of the garbage collector's reach (gc.freeze), then forks the workers where
the platform can: they start in milliseconds and share those pages instead of copying
them (elsewhere each worker builds its own). Preparing here freezes them too, so that the
collector's full passes while a large body is parsed skip them. A worker that dies (out of
memory on a hostile feed) breaks the pool: the caller then prepares the remaining bodies
itself.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
from concurrent.futures import Future
from types import TracebackType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from pipeline.ingest.classify import Classifier
    from pipeline.ingest.dedupe import Incoming
    from pipeline.model import FetchResult, Source, Taxonomy

_worker: tuple[Classifier, ZoneInfo] | None = None  # in a worker process: set by _start


def prepare(
    source: Source, result: FetchResult, now: dt.datetime, classifier: Classifier, tz: ZoneInfo
) -> list[Incoming]:
    """The entries of one fetched body, normalised and classified (ParseError if unusable)."""
    from pipeline.ingest.dedupe import Incoming
    from pipeline.ingest.normalize import normalize
    from pipeline.ingest.parse import parse

    incoming = []
    for raw in parse(source, result):
        item = normalize(raw, source, tz=tz, now=now)
        incoming.append(Incoming(item, classifier.classify(item, source)))
    return incoming


def _start(taxonomy: Taxonomy, tz: ZoneInfo) -> None:
    global _worker
    if _worker is None:  # forked: inherited from the parent
        from pipeline.ingest.classify import Classifier

        _worker = (Classifier(taxonomy), tz)


def _prepare_here(source: Source, result: FetchResult, now: dt.datetime) -> list[Incoming]:
    assert _worker is not None, "not a worker process"
    return prepare(source, result, now, *_worker)


class Preparer:
    """Prepares bodies in up to `workers` processes (0: none); a context manager."""

    def __init__(self, taxonomy: Taxonomy, tz: ZoneInfo, workers: int) -> None:
        self.taxonomy = taxonomy
        self.tz = tz
        self.workers = max(0, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._classifier: Classifier | None = None
        self._frozen = False  # this preparer called gc.freeze()
        self._thawed_before = True  # nothing was frozen then: unfreeze at close

    @property
    def parallel(self) -> bool:
        return self.workers > 0

    def submit(
        self, source: Source, result: FetchResult, now: dt.datetime
    ) -> Future[list[Incoming]]:
        """Prepare in a worker process (started on first use)."""
        if self._pool is None:
            global _worker
            from concurrent.futures import ProcessPoolExecutor

            import pipeline.ingest.normalize
            import pipeline.ingest.parse  # noqa: F401  (loaded once, shared by forked workers)

            methods = multiprocessing.get_all_start_methods()
            fork = "fork" in methods
            context = multiprocessing.get_context("fork" if fork else None)
            if fork:
                _worker = (self._classifier_here(), self.tz)
                # The parent's objects: shared, never copied by a child's collector.
                self._freeze()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_start,
                initargs=(self.taxonomy, self.tz),
            )
        return self._pool.submit(_prepare_here, source, result, now)

    def here(self, source: Source, result: FetchResult, now: dt.datetime) -> list[Incoming]:
        """Prepare in this process (no pool, or the pool broke)."""
        classifier = self._classifier_here()
        if not self._frozen and gc.get_freeze_count() == 0:
            import pipeline.ingest.normalize
            import pipeline.ingest.parse  # noqa: F401  (its objects are frozen with the rest)

            # Everything loaded so far (modules, the store's metadata, the classifier) lives
            # as long as the run: out of the collector's reach, a collection of the oldest
            # generation while a large feed is parsed reads only the new objects (it read
            # every object of the process, ~50 ms for the corpus's podcast feed). A run
            # forked from the scheduler's start-up server finds its preload frozen already
            # (pipeline/scheduler/preload.py) and leaves it so.
            self._freeze()
        return prepare(source, result, now, classifier, self.tz)

    def _freeze(self) -> None:
        if not self._frozen:
            self._thawed_before = gc.get_freeze_count() == 0
            gc.freeze()
            self._frozen = True

    def _classifier_here(self) -> Classifier:
        if self._classifier is None:
            from pipeline.ingest.classify import Classifier

            self._classifier = Classifier(self.taxonomy)
        return self._classifier

    def close(self) -> None:
        global _worker
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._frozen:
            if self._thawed_before:  # else another owner's freeze (a start-up server's)
                gc.unfreeze()
            self._frozen = False
            _worker = None

    def __enter__(self) -> Preparer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
