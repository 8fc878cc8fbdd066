"""Check the links of an edition before it goes out: concurrently, with timeouts, never
against a private address.

    urls ─► each once (the run's cache) ─► resolve the host (threads, bounded)
         ─► refuse loopback, private, link-local, reserved … addresses
         ─► GET with the project's fetcher (ingest.fetch: timeouts, size cap, redirects)
         ─► LinkStatus(ok = the server answered 2xx; a body over the cap counts as found)

The address rule is `public_address` unless the caller passes another (tests allow
their own loopback server). Only the first host is checked here; the redirect hops are
the fetcher's to guard. Results are German one-liners for the checklist.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from pipeline.config import Settings
from pipeline.ingest.fetch import Fetcher, FetchRequest
from pipeline.model import LinkStatus

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressRule = Callable[[IPAddress], bool]
Resolver = Callable[[str, int], list[str]]

LINK_TIMEOUT_S = 10.0  # per request (connect, read); the fetcher adds a total deadline
LINK_MAX_BYTES = 512_000  # enough to know the page is there; more is not read
LINK_CONCURRENCY = 8
MAX_LINKS = 300  # a run checks at most this many links


def public_address(address: IPAddress) -> bool:
    """True for an address on the public internet (not loopback, private, link-local,
    multicast, reserved or unspecified; IPv4-mapped IPv6 judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def link_fetcher(settings: Settings) -> Fetcher:
    return Fetcher(
        user_agent=settings.user_agent,
        timeout_s=min(settings.fetch_timeout_s, LINK_TIMEOUT_S),
        max_bytes=LINK_MAX_BYTES,
        max_redirects=settings.fetch_max_redirects,
        concurrency=LINK_CONCURRENCY,
        per_host=settings.fetch_per_host,
    )


def check_links(
    urls: Iterable[str],
    fetcher: Fetcher,
    *,
    allowed: AddressRule = public_address,
    resolver: Resolver = resolve,
    cache: MutableMapping[str, LinkStatus] | None = None,
) -> dict[str, LinkStatus]:
    """The status of each link (each checked once; `cache` keeps them for the run)."""
    cache = {} if cache is None else cache
    wanted = [u for u in dict.fromkeys(urls) if u not in cache][:MAX_LINKS]
    refused: dict[str, LinkStatus] = {}
    with ThreadPoolExecutor(max_workers=LINK_CONCURRENCY) as pool:
        verdicts = list(pool.map(lambda u: _address_verdict(u, allowed, resolver), wanted))
    to_fetch = []
    for url, verdict in zip(wanted, verdicts, strict=True):
        if verdict is None:
            to_fetch.append(url)
        else:
            refused[url] = verdict
    cache.update(refused)
    if to_fetch:
        requests = [FetchRequest(source_id="preflight", url=u) for u in to_fetch]
        for url, result in zip(to_fetch, fetcher.fetch_all_sync(requests), strict=True):
            code = result.http_status
            if code is not None and 200 <= code < 300:
                cache[url] = LinkStatus(url, True)
            elif code is not None:
                cache[url] = LinkStatus(url, False, f"HTTP {code}")
            else:
                cache[url] = LinkStatus(url, False, f"nicht erreichbar: {result.error or ''}")
    return {u: cache[u] for u in dict.fromkeys(urls) if u in cache}


def _address_verdict(url: str, allowed: AddressRule, resolver: Resolver) -> LinkStatus | None:
    """None when the link may be fetched; else why not."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return LinkStatus(url, False, "ungültige Adresse")
    if parts.scheme not in ("http", "https") or not host:
        return LinkStatus(url, False, "ungültige Adresse")
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError):
        return LinkStatus(url, False, f"Rechner {host} unbekannt")
    if not addresses:
        return LinkStatus(url, False, f"Rechner {host} unbekannt")
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            return LinkStatus(url, False, "ungültige Adresse")
        if not allowed(address):
            return LinkStatus(url, False, "zeigt auf eine interne Adresse; nicht geprüft")
    return None
