"""Gather what the preflight needs and run it (the I/O around `curate.preflight.check`).

    edition, its items ─► earlier sent editions of the newsletter with the same items
                      ─► reach: the edition's segments over the confirmed readers
                      ─► links (optional, `curate.links`: concurrent, timeouts, no
                         private addresses, each once per run)
                      ─► acknowledged warnings ─► check() ─► Preflight

It lives in compose because who gets what is compose's rule (`resolve_segments`, the
sender's own); the desk and `eudigest edition check` call it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pipeline.compose.segments import reach_of
from pipeline.config import Settings
from pipeline.curate import preflight
from pipeline.model import Edition, Item, LinkStatus, Office, Preflight, Reach
from pipeline.store import Store

if TYPE_CHECKING:
    from pipeline.ingest.fetch import Fetcher

AddressRule = Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]


def reach(store: Store, edition: Edition, items: dict[int, Item]) -> Reach:
    """Confirmed readers of the newsletter, distinct renderings, readers who get nothing
    (dossier news aside: a reader of followed dossiers may still get their block)."""
    sections = [
        (s.title, [items[i] for i in s.item_ids if i in items])
        for s in sorted(edition.sections, key=lambda s: s.position)
    ]
    # Counted from the readers' profiles (what decides their content), not from every
    # reader: at 100,000 subscribers loading them took seconds per view of the edition.
    return reach_of(sections, store.subscribers.reader_profiles(edition.newsletter_id))


def run(
    store: Store,
    office: Office,
    settings: Settings,
    edition_id: int,
    *,
    now: dt.datetime,
    tz: ZoneInfo,
    check_links: bool = False,
    fetcher: Fetcher | None = None,
    allowed: AddressRule | None = None,
    cache: MutableMapping[str, LinkStatus] | None = None,
) -> Preflight:
    edition = store.editions.get(edition_id)
    items = store.items.get_many(list(edition.item_ids))
    found_links = None
    if check_links:  # httpx is imported only now (the desk's pages start without it)
        from pipeline.curate import links as link_check

        urls = preflight.edition_links(edition, items)
        found_links = link_check.check_links(
            urls,
            fetcher or link_check.link_fetcher(settings),
            allowed=allowed or link_check.public_address,
            cache=cache,
        )
    return preflight.check(
        edition,
        items,
        office,
        settings,
        today=now.astimezone(tz).date(),
        sent_before=store.approvals.sent_before(edition),
        links=found_links,
        reach=reach(store, edition, items),
        acknowledged=store.approvals.acknowledgements(edition.id),
    )
