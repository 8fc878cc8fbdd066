"""Ingest: pull what EU institutions publish into the store.

    store.sources.health()                     what is configured, validators, backoff
      | select (enabled; due or not in backoff; --source)
      | fetch.Fetcher.fetch_all                concurrent, per-host limit, conditional GET
      | for each result, as it arrives (one slow source holds only itself):
      |   FAILED       → a failure, next try by exponential backoff / Retry-After
      |   NOT_MODIFIED → a success (no parsing, no import of a parser: a 304 costs nothing)
      |   OK           → prepare.Preparer: parse → normalize → classify (per entry, pure;
      |                    in worker processes, EUDIGEST_FETCH_WORKERS, while others download)
      |                  → store.items.lookup → dedupe.decide (pure) → store.items.apply
      |                    (items, versions, and a sighting of every entry by this source;
      |                    one thread writes the store, source after source)
      |                  → a success
      |   OK, a list with follow-ups (adapter presscorner_documents): parse_list
      |                  → adapter.follow_ups → drop keys the store has in the source's
      |                  language → ≤ limit document requests (each may fail alone: a
      |                  warning) → adapter.parse each → as OK above
      |   OK, a dossier source (adapter ep_procedures, oeil): adapter.dossiers → DossierBatch
      |                  → its follow-ups (one detail request per procedure; each may fail
      |                    alone: a warning, the others go on) → store.dossiers.upsert
      | store.sources.record                     every source's health, one write for the run
      | store.dossiers.thread                    items whose references name a dossier join it
      |                                          (also items older than the dossier); only
      |                                          when a source gave content
      | IngestReport (new, updated, unchanged, failed per source; threaded)

A warm run (every source answers 304) reads the sources' health, sends the conditional
GETs and writes the health once: nothing else.

A failing source never stops the run: its error is stored on the source and
shown by `eudigest sources`. Nothing here raises for a source's failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from pipeline.errors import EudigestError, SourceError
from pipeline.ingest import adapters
from pipeline.ingest.dedupe import Incoming, decide
from pipeline.ingest.fetch import Fetcher, FetchRequest, next_try_after_failure
from pipeline.ingest.prepare import Preparer
from pipeline.model import (
    FetchResult,
    FetchStatus,
    IngestReport,
    RawItem,
    Source,
    SourceHealth,
    SourceReport,
    Taxonomy,
)
from pipeline.model.sources import FetchOutcome
from pipeline.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
Progress = Callable[[SourceReport], None]


@dataclass(frozen=True, slots=True)
class IngestOptions:
    only: Sequence[str] | None = None  # the source ids to consider (None: all registered)
    explicit: bool = False  # an operator named them: fetch even those in backoff
    due_only: bool = False  # skip sources whose interval has not passed (scheduler)
    force: bool = False  # ignore backoff and Retry-After
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Brussels"))
    backoff_max_minutes: int = 360
    workers: int = 0  # parsing processes beside the fetching (0: parse in this process)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_ingest(
    store: Store,
    fetcher: Fetcher,
    taxonomy: Taxonomy,
    options: IngestOptions = IngestOptions(),
    *,
    clock: Clock = utcnow,
    progress: Progress | None = None,
) -> IngestReport:
    """Fetch, parse and store every selected source; see the module docstring."""
    now = clock()
    report = IngestReport()
    selected: list[SourceHealth] = []
    for h in store.sources.health(options.only, counts=False):
        if not h.source.enabled and not options.explicit:
            continue
        if _deferred(h, options, now):
            waits = h.consecutive_failures > 0  # in backoff: say why, not only "deferred"
            report.sources.append(
                SourceReport(
                    h.source.id,
                    "deferred",
                    next_try=h.next_try,
                    error=h.last_error if waits else None,
                    failures=h.consecutive_failures,
                )
            )
        else:
            selected.append(h)
    if not selected:
        return report
    by_id = {h.source.id: h for h in selected}
    outcomes: list[FetchOutcome] = []
    with Preparer(taxonomy, options.tz, options.workers) as preparer:
        worker = _Worker(store, options, clock, fetcher, preparer)
        requests = [worker.request(h) for h in selected]
        try:
            asyncio.run(_consume(fetcher, requests, by_id, worker, report, outcomes, progress))
        finally:
            _record(store, outcomes)  # also what was done before an unexpected error
    if any(r.status == "ok" for r in report.sources):
        report.threaded = store.dossiers.thread(now=clock())
    return report


async def _consume(
    fetcher: Fetcher,
    requests: list[FetchRequest],
    by_id: dict[str, SourceHealth],
    worker: _Worker,
    report: IngestReport,
    outcomes: list[FetchOutcome],
    progress: Progress | None,
) -> None:
    """Each result as it arrives: prepare (in the pool) and store (in the one store
    thread), without waiting for the sources fetched or prepared before it."""
    loop = asyncio.get_running_loop()
    preparer = worker.preparer

    async def one(h: SourceHealth, result: FetchResult) -> None:
        now = worker.clock()
        prepared: list[Incoming] | EudigestError | None = None
        if preparer.parallel and worker.plain(h.source, result):
            try:
                prepared = await asyncio.wrap_future(preparer.submit(h.source, result, now))
            except EudigestError as exc:  # as parse() raises it, pickled back
                prepared = exc
            except BrokenExecutor:  # BrokenProcessPool: a worker died
                log.warning("a parsing process died; parsing %s here", h.source.id)
                prepared = None
        r, outcome = await loop.run_in_executor(
            store_thread, worker.handle, h, result, now, prepared
        )
        outcomes.append(outcome)
        report.sources.append(r)
        if progress is not None:
            progress(r)

    with ThreadPoolExecutor(1, thread_name_prefix="ingest-store") as store_thread:
        tasks: list[asyncio.Task[None]] = []
        try:
            async for result in fetcher.fetch_all(requests):
                tasks.append(asyncio.create_task(one(by_id[result.source_id], result)))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _record(store: Store, outcomes: Sequence[FetchOutcome]) -> None:
    """The sources' health in one write; while an error propagates, its own failure is
    logged rather than raised (the first error is the one to see)."""
    import sys

    if sys.exc_info()[0] is None:
        store.sources.record(outcomes)
        return
    try:
        store.sources.record(outcomes)
    except EudigestError as exc:
        log.warning("could not record the health of %d sources: %s", len(outcomes), exc)


def _deferred(h: SourceHealth, options: IngestOptions, now: dt.datetime) -> bool:
    """Wait for this source? Backoff and Retry-After are polite; --force overrides them."""
    if options.force or h.next_try is None or h.next_try <= now:
        return False
    if options.due_only:
        return True
    # An operator's plain `eudigest fetch` fetches everything, except a failing source
    # in backoff; naming the source (--source) asks for it explicitly.
    return h.consecutive_failures > 0 and not options.explicit


class _Worker:
    """Handles one fetched source: parse, normalize, classify, dedupe, store."""

    def __init__(
        self,
        store: Store,
        options: IngestOptions,
        clock: Clock,
        fetcher: Fetcher | None,
        preparer: Preparer,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.preparer = preparer
        self.options = options
        self.clock = clock

    @staticmethod
    def plain(source: Source, result: FetchResult) -> bool:
        """A body that parse() reads alone (no follow-up requests, no dossiers)."""
        return (
            result.status is FetchStatus.OK
            and adapters.dossiers_of(source) is None
            and adapters.follow_ups_of(source) is None
        )

    def request(self, h: SourceHealth) -> FetchRequest:
        spec = adapters.request_for(h.source)
        # A list with follow-ups is fetched whole every time: an unchanged list may still
        # name documents whose German version was missing or failed last time.
        conditional = adapters.follow_ups_of(h.source) is None
        return FetchRequest(
            source_id=h.source.id,
            url=spec.url,
            method=spec.method,
            headers=dict(spec.headers),
            content=spec.content,
            data=spec.data,
            files=spec.files,
            etag=h.etag if conditional else None,
            last_modified=h.last_modified if conditional else None,
        )

    def handle(
        self,
        h: SourceHealth,
        result: FetchResult,
        now: dt.datetime,
        prepared: list[Incoming] | EudigestError | None = None,
    ) -> tuple[SourceReport, FetchOutcome]:
        """Store what one source gave; its report and the health to record (not written
        here: the run writes every source's health at once)."""
        started = time.perf_counter()
        source = h.source
        report = SourceReport(source.id, elapsed_s=result.elapsed_s)
        try:
            if result.status is FetchStatus.FAILED:
                raise SourceError(source.id, result.error or "fetch failed")
            if isinstance(prepared, EudigestError):
                raise prepared
            if result.status is FetchStatus.OK:
                self._ingest_body(source, result, report, now, prepared)
            else:
                report.status = "not_modified"
            report.next_try = now + dt.timedelta(minutes=source.interval_minutes)
            outcome = FetchOutcome(
                source.id,
                at=now,
                next_try=report.next_try,
                etag=result.etag or h.etag,
                last_modified=result.last_modified or h.last_modified,
            )
        except EudigestError as exc:
            # A source's failure (fetch, parse, even a store error on its items) is
            # recorded on the source; the run goes on with the others.
            failures = h.consecutive_failures + 1
            report.status = "failed"
            report.error = str(exc)
            report.next_try = next_try_after_failure(
                failures,
                source.interval_minutes,
                now,
                result.retry_after,
                self.options.backoff_max_minutes,
            )
            log.info("source %s failed (%d in a row): %s", source.id, failures, exc)
            outcome = FetchOutcome(source.id, at=now, next_try=report.next_try, error=str(exc))
        report.elapsed_s = result.elapsed_s + (time.perf_counter() - started)
        return report, outcome

    def _ingest_body(
        self,
        source: Source,
        result: FetchResult,
        report: SourceReport,
        now: dt.datetime,
        prepared: list[Incoming] | None,
    ) -> None:
        reader = adapters.dossiers_of(source)
        if reader is not None:
            self._ingest_dossiers(source, result, report, now, reader)
            return
        lister = adapters.follow_ups_of(source)
        if prepared is not None:
            incoming = prepared
        elif lister is not None:
            incoming = self._follow_up_items(source, result, report, now, lister)
        else:
            incoming = self.preparer.here(source, result, now)
        known = self.store.items.lookup(
            identities={i.item.identity for i in incoming},
            urls={i.item.url for i in incoming if i.item.url},
            families={i.item.family for i in incoming if i.item.family},
        )
        changes = decide(incoming, known, institution=source.institution)
        counts = self.store.items.apply(changes, now=now)
        report.status = "ok"
        report.entries = len(incoming)
        report.new, report.updated = counts.new, counts.updated
        report.unchanged, report.suppressed = counts.unchanged, counts.suppressed

    def _follow_up_items(
        self,
        source: Source,
        result: FetchResult,
        report: SourceReport,
        now: dt.datetime,
        lister: Callable[[Source, list[RawItem], dt.datetime], adapters.FollowUpBatch],
    ) -> list[Incoming]:
        """A list, then one document per entry the store lacks in the source's language
        (at most the adapter's limit per run); each document may fail alone."""
        from pipeline.ingest.parse import parse_list

        if result.body.lstrip()[:1] == b"{":  # the source URL is one document
            return self.preparer.here(source, result, now)
        batch = lister(source, parse_list(source, result), now)
        report.warnings.extend(batch.problems)
        families = {f.family for f in batch.follow_ups}
        known = self.store.items.lookup(identities=(), urls=(), families=families)
        have = {
            family
            for family, items in known.by_family.items()
            if any(source.language in item.languages for item in items)
        }
        chosen = [f for f in batch.follow_ups if f.family not in have][: batch.limit]
        if not chosen or self.fetcher is None:
            return []
        requests = [
            FetchRequest(source_id=source.id, url=f.request.url, headers=dict(f.request.headers))
            for f in chosen
        ]
        incoming: list[Incoming] = []
        failures: list[str] = []
        for answer in self.fetcher.fetch_all_sync(requests):
            try:
                if answer.status is not FetchStatus.OK:
                    raise SourceError(source.id, answer.error or "no content")
                incoming.extend(self.preparer.here(source, answer, now))
            except EudigestError as exc:
                failures.append(f"{answer.url}: {exc}")
        report.warnings.extend(failures)
        if len(failures) == len(requests):
            raise SourceError(
                source.id, f"all {len(failures)} document requests failed; first: {failures[0]}"
            )
        return incoming

    def _ingest_dossiers(
        self,
        source: Source,
        result: FetchResult,
        report: SourceReport,
        now: dt.datetime,
        reader: Callable[[Source, FetchResult], adapters.DossierBatch],
    ) -> None:
        """A procedure list or file: its records, then one detail request per procedure."""
        if not result.body.strip():
            raise SourceError(source.id, "empty body: the server sent no content")
        batch = reader(source, result)
        records = list(batch.records)
        warnings = list(batch.problems)
        if batch.follow_ups and self.fetcher is not None:
            requests = [
                FetchRequest(source_id=source.id, url=f.url, headers=dict(f.headers))
                for f in batch.follow_ups
            ]
            failed = 0
            for detail in self.fetcher.fetch_all_sync(requests):
                try:
                    if detail.status is not FetchStatus.OK:
                        raise SourceError(source.id, detail.error or "no content")
                    records.extend(reader(source, detail).records)
                except EudigestError as exc:
                    failed += 1
                    warnings.append(f"{detail.url}: {exc}")
            if failed == len(requests):
                raise SourceError(
                    source.id, f"all {failed} procedure requests failed; first: {warnings[-failed]}"
                )
        counts = self.store.dossiers.upsert(records, now=now)
        report.status = "ok"
        report.entries = len(records)
        report.new, report.updated, report.unchanged = counts.new, counts.updated, counts.unchanged
        report.warnings = warnings
