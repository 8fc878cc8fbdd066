"""One function per job: what the CLI and cron.yaml entries run. Thin and idempotent."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from pipeline.bootstrap import Services
from pipeline.compose.render import (
    GREETING,
    PREFERENCES_URL,
    UNSUBSCRIBE_URL,
    RenderedDigest,
    greeting,
    render_digest,
)
from pipeline.compose.segments import Segment
from pipeline.deliver.batch import Recipient
from pipeline.deliver.send import BatchMailer, Envelope, SendReport, send_edition
from pipeline.errors import ConfigError, SourceNotFound, StoreError
from pipeline.ingest import IngestOptions, Progress, run_ingest
from pipeline.model import EditionState, IngestReport, Subscriber


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


def send(services: Services, edition_id: int, *, batch_size: int = 1000) -> SendReport:
    """`eudigest send`: an approved (or scheduled, or interrupted) edition, exactly once."""
    from subscribers.tokens import Links
    from subscribers.unsubscribe import list_unsubscribe_headers

    _require_schema(services)
    mailer = services.mailer
    if not hasattr(mailer, "send_batch"):
        raise ConfigError(f"the mail backend {type(mailer).__name__} cannot send digests")
    store, settings = services.store, services.settings
    edition = store.editions.get(edition_id)
    office = services.office()
    newsletter = office.newsletter(edition.newsletter_id)
    if newsletter is None:
        raise ConfigError(f"newsletter {edition.newsletter_id!r} is not in office.yaml")
    labels = {t.id: t.label_de for t in services.taxonomy().topics}
    sources = {h.source.id: h.source for h in store.sources.health()}
    links = Links.from_settings(settings)
    started = services.clock()
    today = started.astimezone(settings.tz).date()

    def render(segment: Segment) -> RenderedDigest:
        return render_digest(
            edition,
            newsletter,
            segment.sections,
            office=office,
            branding=office.branding,
            topic_labels=labels,
            language=segment.language,
            tz=settings.tz,
            today=today,
            sources=sources,
        )

    def recipient_for(subscriber: Subscriber) -> Recipient:
        now = services.clock()
        return Recipient(
            subscriber.email,
            substitutions={
                GREETING: greeting(subscriber.name),
                PREFERENCES_URL: links.manage(subscriber, now=now),
                UNSUBSCRIBE_URL: links.unsubscribe(subscriber, now=now),
            },
            headers=list_unsubscribe_headers(settings, office, subscriber, now=now, links=links),
        )

    return send_edition(
        store,
        cast(BatchMailer, mailer),
        edition_id,
        render=render,
        recipient_for=recipient_for,
        token_prefix=f"send-{edition_id}-{os.getpid()}",
        now=services.clock,
        envelope=Envelope(
            from_email=office.sender_email,
            from_name=office.sender_name or office.name,
            reply_to=office.reply_to,
            categories=("digest", f"newsletter-{newsletter.id}"),
        ),
        batch_size=batch_size,
    )


def send_due(services: Services) -> list[SendReport]:
    """cron: every scheduled edition whose time has come, and any interrupted send."""
    _require_schema(services)
    now = services.clock()
    due = [
        e
        for e in services.store.editions.list(
            states=(EditionState.SCHEDULED, EditionState.SENDING), limit=1000
        )
        if e.state is EditionState.SENDING or (e.scheduled_at is not None and e.scheduled_at <= now)
    ]
    return [send(services, e.id) for e in sorted(due, key=lambda e: e.id)]


def _require_schema(services: Services) -> None:
    try:
        ready = services.store.is_initialised()
    except StoreError as exc:
        raise ConfigError(f"cannot open the database: {exc}") from exc
    if not ready:
        raise ConfigError("the database has no schema yet: run `eudigest init` first")
