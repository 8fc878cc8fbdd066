"""Composition root: build the services a shell (CLI, scheduler, web) works with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline import catalog
from pipeline.config import Settings
from pipeline.deliver.outbox import OutboxMailer
from pipeline.deliver.sendgrid import SendGridMailer
from pipeline.errors import ConfigError
from pipeline.ingest import adapters
from pipeline.ingest.fetch import Fetcher
from pipeline.model import Mailer, Office, Source, Taxonomy
from pipeline.store import Store


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: Settings
    store: Store
    fetcher: Fetcher
    mailer: Mailer  # EUDIGEST_MAIL_BACKEND: the outbox (files) or SendGrid; see build_mailer
    clock: Callable[[], dt.datetime] = utcnow

    def office(self) -> Office:
        return catalog.load_office(self.settings.office_path)

    def taxonomy(self) -> Taxonomy:
        return catalog.load_taxonomy(self.settings.taxonomy_path)

    def sources(self, path: Path | None = None, taxonomy: Taxonomy | None = None) -> list[Source]:
        """The sources of sources.yaml (or another file), validated against the taxonomy."""
        taxonomy = taxonomy or self.taxonomy()
        return catalog.load_sources(
            path or self.settings.sources_path,
            topic_ids=taxonomy.topic_ids(),
            adapter_names=adapters.ADAPTER_NAMES,
        )

    def close(self) -> None:
        self.store.close()


def build(settings: Settings) -> Services:
    return Services(
        settings=settings,
        store=Store(settings.database_url),
        fetcher=Fetcher(
            user_agent=settings.user_agent,
            timeout_s=settings.fetch_timeout_s,
            max_bytes=settings.fetch_max_bytes,
            max_redirects=settings.fetch_max_redirects,
            concurrency=settings.fetch_concurrency,
            per_host=settings.fetch_per_host,
        ),
        mailer=build_mailer(settings),
    )


def build_mailer(settings: Settings) -> OutboxMailer | SendGridMailer:
    """The configured mail backend (both send transactional mails and digest batches)."""
    if settings.mail_backend == "sendgrid":
        if not settings.sendgrid_api_key:  # Settings.from_env refuses this already
            raise ConfigError("SENDGRID_API_KEY: required when EUDIGEST_MAIL_BACKEND=sendgrid")
        return SendGridMailer(settings.sendgrid_api_key, host=settings.sendgrid_host)
    return OutboxMailer(settings.outbox_path)
