"""One function per job: what the CLI and cron.yaml entries run. Thin and idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.bootstrap import Services
from pipeline.errors import ConfigError, SourceNotFound, StoreError
from pipeline.ingest import IngestOptions, Progress, run_ingest
from pipeline.model import IngestReport


@dataclass(frozen=True, slots=True)
class InitReport:
    revision: str
    topics: int
    sources: int


def init(services: Services) -> InitReport:
    """Create or upgrade the schema, then load taxonomy.yaml and sources.yaml."""
    taxonomy = services.taxonomy()
    sources = services.sources(taxonomy=taxonomy)  # validate both files before touching the db
    revision = services.store.upgrade()
    services.store.topics.sync(taxonomy)
    services.store.sources.register(sources, now=services.clock())
    return InitReport(revision=revision, topics=len(taxonomy.topics), sources=len(sources))


def fetch(
    services: Services,
    *,
    source_ids: Sequence[str] = (),
    sources_file: Path | None = None,
    force: bool = False,
    due_only: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Fetch the configured sources (or those of `sources_file`, or the ones named)."""
    _require_schema(services)
    taxonomy = services.taxonomy()
    configured = services.sources(sources_file, taxonomy=taxonomy)
    services.store.topics.sync(taxonomy)
    services.store.sources.register(configured, now=services.clock())
    known = {s.id for s in configured}
    if source_ids:
        registered = {h.source.id for h in services.store.sources.health(list(source_ids))}
        unknown = [s for s in source_ids if s not in registered]
        if unknown:
            raise SourceNotFound(unknown[0])
    options = IngestOptions(
        only=list(source_ids) if source_ids else sorted(known),
        explicit=bool(source_ids),
        force=force,
        due_only=due_only,
        tz=services.settings.tz,
        backoff_max_minutes=services.settings.backoff_max_minutes,
    )
    return run_ingest(
        services.store,
        services.fetcher,
        taxonomy,
        options,
        clock=services.clock,
        progress=progress,
    )


def fetch_due(services: Services) -> IngestReport:
    """cron.yaml `fetch`: every configured source whose interval has passed."""
    return fetch(services, due_only=True)


def purge(services: Services) -> int:
    """cron.yaml `purge`: retention: unconfirmed sign-ups older than 30 days go."""
    from subscribers.gdpr import purge_pending

    _require_schema(services)
    return purge_pending(services.store, now=services.clock())


def _require_schema(services: Services) -> None:
    try:
        ready = services.store.is_initialised()
    except StoreError as exc:
        raise ConfigError(f"cannot open the database: {exc}") from exc
    if not ready:
        raise ConfigError("the database has no schema yet: run `eudigest init` first")
