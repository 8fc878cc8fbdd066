"""Let a Services' fetcher reach one running FeedServer, and nothing else on loopback.

eudigest's fetcher refuses loopback addresses unless EUDIGEST_FETCH_ALLOW names them.
A FeedServer adds its own address to os.environ while it runs, which covers commands
and Settings read from os.environ; Services built earlier (or from a dict) get it here:

    with FeedServer(corpus) as server:
        allow_server(services, server)
        jobs.fetch(services, sources_file=path)
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.bootstrap import Services, build_fetcher
from pipeline.config import fetch_allow_list
from tests.support.feedserver import FeedServer


def allow_server(services: Services, server: FeedServer) -> None:
    settings = services.settings
    allow = settings.fetch_allow + fetch_allow_list(server.fetch_allow)
    services.settings = replace(settings, fetch_allow=allow)
    services.fetcher = build_fetcher(services.settings)
