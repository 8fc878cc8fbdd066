"""Readers for sources that are not RSS/Atom feeds, by name.

    request_for(source) → RequestSpec    what fetch.py should send (GET source.url by default;
                                         ft_search POSTs its query as multipart JSON parts)
    get(name).parse(source, result)      → list[RawItem]

Known adapters: `html` (CSS selectors from options), `ft_search` (Funding &
Tenders SEDIA search API), `have_your_say` (Better Regulation initiatives),
`sanctionsmap` (EU Sanctions Map regimes), `presscorner_documents` (the German
version of press items from the press corner's documents API: a list, then one
request per item, `follow_ups_of(source)`); dossier adapters (procedures, not
items: `dossiers_of(source)` is their reader): `ep_procedures` (EP Open Data
API v2), `oeil` (Legislative Observatory procedure files).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from pipeline.errors import ConfigError
from pipeline.ingest.adapters._base import (
    Adapter,
    DossierBatch,
    FollowUpBatch,
    ItemFollowUp,
    RequestSpec,
    check_feed_options,
    default_request,
)
from pipeline.model import FetchResult, RawItem, Source, SourceKind

__all__ = [
    "ADAPTER_NAMES",
    "Adapter",
    "DossierBatch",
    "FollowUpBatch",
    "ItemFollowUp",
    "RequestSpec",
    "check_options",
    "dossiers_of",
    "follow_ups_of",
    "get",
    "request_for",
]

# Each adapter's module is imported when a source first needs it: a fetch of feeds only
# never loads BeautifulSoup (the html adapter).
_MODULES = (
    "html",
    "ft_search",
    "have_your_say",
    "sanctionsmap",
    "ep_procedures",
    "oeil",
    "presscorner_documents",
)
_ADAPTERS: dict[str, Adapter] = {}

ADAPTER_NAMES: frozenset[str] = frozenset(_MODULES)  # each module's NAME (a test checks)


def _load(name: str) -> Adapter:
    adapter = _ADAPTERS.get(name)
    if adapter is None:
        module = importlib.import_module(f"pipeline.ingest.adapters.{name}")
        adapter = _ADAPTERS[name] = Adapter(
            name=module.NAME,
            parse=module.parse,
            request=module.request,
            check_options=getattr(module, "check_options", lambda options: []),
            dossiers=getattr(module, "dossiers", None),
            follow_ups=getattr(module, "follow_ups", None),
        )
    return adapter


def get(name: str) -> Adapter:
    """The adapter called `name`; ConfigError naming the known ones if there is none."""
    if name not in ADAPTER_NAMES:
        known = ", ".join(sorted(ADAPTER_NAMES))
        raise ConfigError(f"unknown adapter {name!r} (known adapters: {known})")
    return _load(name)


def _adapter_for(source: Source) -> Adapter | None:
    if source.adapter:
        return get(source.adapter)
    if source.kind == SourceKind.HTML:
        return _load("html")
    return None


def dossiers_of(source: Source) -> Callable[[Source, FetchResult], DossierBatch] | None:
    """The dossier reader of `source`'s adapter, or None for sources of items."""
    adapter = _adapter_for(source)
    return adapter.dossiers if adapter is not None else None


def follow_ups_of(
    source: Source,
) -> Callable[[Source, list[RawItem], dt.datetime], FollowUpBatch] | None:
    """The follow-up reader of an item adapter that reads a list, then one document per
    entry (`presscorner_documents`), or None."""
    adapter = _adapter_for(source)
    return adapter.follow_ups if adapter is not None else None


def request_for(source: Source) -> RequestSpec:
    """The HTTP request that fetches `source` (a plain GET of its URL unless an adapter says so)."""
    adapter = _adapter_for(source)
    return adapter.request(source) if adapter is not None else default_request(source)


def check_options(source: Source) -> list[str]:
    """Problems with `source.options` for its adapter, for sources.yaml validation."""
    adapter = _adapter_for(source)
    options: Mapping[str, Any] = source.options
    if adapter is not None:
        return adapter.check_options(options)
    return check_feed_options(options) if source.kind == SourceKind.FEED else []
