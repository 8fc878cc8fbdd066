"""Composition root: build the services a shell (CLI, scheduler, web) works with.

    build(settings) -> Services(settings, store, fetcher, mailer, clock)

The store is opened at once; the fetcher (httpx) and the mail backend (the outbox, or
the `sendgrid` library) are built on first use, so that a command that neither fetches
nor sends never imports them (every `eudigest` process starts fast).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import Settings
from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.ingest.fetch import Fetcher
    from pipeline.model import Mailer, Office, Source, Taxonomy
    from pipeline.model.glossary import Glossary
    from pipeline.store import Store


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Services:
    """What a command, a job or a request works with; tests replace parts by assignment."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        fetcher: Fetcher | None = None,
        mailer: Mailer | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._fetcher = fetcher
        self._mailer = mailer

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            self._fetcher = build_fetcher(self.settings)
        return self._fetcher

    @fetcher.setter
    def fetcher(self, value: Fetcher) -> None:
        self._fetcher = value

    @property
    def mailer(self) -> Mailer:
        """EUDIGEST_MAIL_BACKEND: the outbox (files) or SendGrid; see build_mailer."""
        if self._mailer is None:
            self._mailer = build_mailer(self.settings)
        return self._mailer

    @mailer.setter
    def mailer(self, value: Mailer) -> None:
        self._mailer = value

    def derive(self, *, settings: Settings | None = None, mailer: Mailer | None = None) -> Services:
        """The same services (same store and clock) with other settings or another mailer."""
        return Services(
            settings or self.settings,
            self.store,
            fetcher=self._fetcher,
            mailer=mailer or self._mailer,
            clock=self.clock,
        )

    def office(self) -> Office:
        from pipeline.catalog import load_office

        return load_office(self.settings.office_path)

    def taxonomy(self) -> Taxonomy:
        from pipeline.catalog import load_taxonomy

        return load_taxonomy(self.settings.taxonomy_path)

    def glossary(self) -> Glossary:
        """glossary.yaml beside taxonomy.yaml (EUDIGEST_TAXONOMY's folder); none: empty."""
        from pipeline.catalog import load_glossary
        from pipeline.model.glossary import EMPTY_GLOSSARY

        path = self.settings.taxonomy_path.parent / "glossary.yaml"
        return load_glossary(path) if path.is_file() else EMPTY_GLOSSARY

    def sources(self, path: Path | None = None, taxonomy: Taxonomy | None = None) -> list[Source]:
        """The sources of sources.yaml (or another file), validated against the taxonomy."""
        from pipeline.catalog import load_sources
        from pipeline.ingest.adapters import ADAPTER_NAMES

        taxonomy = taxonomy or self.taxonomy()
        return load_sources(
            path or self.settings.sources_path,
            topic_ids=taxonomy.topic_ids(),
            adapter_names=ADAPTER_NAMES,
        )

    def close(self) -> None:
        self.store.close()


def build(settings: Settings) -> Services:
    from pipeline.store import Store

    return Services(settings, Store(settings.database_url))


def build_fetcher(settings: Settings) -> Fetcher:
    from pipeline.ingest.fetch import Fetcher

    return Fetcher(
        user_agent=settings.user_agent,
        timeout_s=settings.fetch_timeout_s,
        max_bytes=settings.fetch_max_bytes,
        max_redirects=settings.fetch_max_redirects,
        allow=settings.fetch_allow,
        concurrency=settings.fetch_concurrency,
        per_host=settings.fetch_per_host,
    )


def build_mailer(settings: Settings) -> Mailer:
    """The configured mail backend (both send transactional mails and digest batches)."""
    if settings.mail_backend == "sendgrid":
        if not settings.sendgrid_api_key:  # Settings.from_env refuses this already
            raise ConfigError("SENDGRID_API_KEY: required when EUDIGEST_MAIL_BACKEND=sendgrid")
        from pipeline.deliver.sendgrid import SendGridMailer

        return SendGridMailer(
            settings.sendgrid_api_key,
            host=settings.sendgrid_host,
            concurrency=settings.sendgrid_concurrency,
        )
    from pipeline.deliver.outbox import OutboxMailer

    return OutboxMailer(settings.outbox_path)
