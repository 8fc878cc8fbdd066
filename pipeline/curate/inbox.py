"""The inbox's memory: saved views ("Meine Ansichten") and items put off ("Später").

Saved views belong to one staff member; a name is 1–80 characters, unique per person
regardless of case. A view stores the inbox's query string (its known filters only);
opening one drops filters that no longer fit (a topic or source that is gone) and says so.

"Später" puts new items off until the start of the next day in the office's time zone:
they leave the default inbox until then, and the "Später (n)" filter shows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from pipeline.errors import DuplicateItem, InvalidInput
from pipeline.model import StaffUser
from pipeline.model.desk import SavedView
from pipeline.store import Store
from pipeline.store.items import InboxQuery

MAX_VIEW_NAME = 80
# The folded group "Wahrscheinlich nicht relevant (N)" is counted up to here ("über
# 1.000"): it is shown closed after the last page of suggestions, and counting 10,000
# unlikely items (50,000 items on PostgreSQL: 42 ms) bought a number nobody reads.
FOLDED_COUNT_CAP = 1_000
MAX_VIEWS = 50
MAX_QUERY = 2000


def view_name(raw: str) -> str:
    """A view's name as stored: whitespace folded; 1 to 80 characters."""
    name = " ".join((raw or "").split())
    if not name:
        raise InvalidInput("Bitte einen Namen für die Ansicht angeben.")
    if len(name) > MAX_VIEW_NAME:
        raise InvalidInput(f"Der Name ist zu lang (höchstens {MAX_VIEW_NAME} Zeichen).")
    return name


def view_query(raw: str, allowed: Collection[str]) -> str:
    """The filters of an inbox query string worth keeping: known keys, non-empty values."""
    pairs = [(k, v[:200]) for k, v in parse_qsl(raw or "") if k in allowed and v.strip()]
    return urlencode(pairs)[:MAX_QUERY]


def save_view(
    store: Store,
    actor: StaffUser,
    name: str,
    query: str,
    *,
    allowed: Collection[str],
    now: dt.datetime,
) -> SavedView:
    clean = view_name(name)
    if len(store.views.list(actor.id)) >= MAX_VIEWS:
        raise InvalidInput(f"Höchstens {MAX_VIEWS} Ansichten; bitte zuerst eine löschen.")
    try:
        return store.views.add(actor.id, clean, view_query(query, allowed), now=now)
    except DuplicateItem:
        raise InvalidInput(
            f"Es gibt schon eine Ansicht „{clean}“; bitte einen anderen Namen wählen."
        ) from None


def rename_view(store: Store, actor: StaffUser, view_id: int, name: str) -> SavedView:
    clean = view_name(name)
    try:
        return store.views.rename(actor.id, view_id, clean)
    except DuplicateItem:
        raise InvalidInput(
            f"Es gibt schon eine Ansicht „{clean}“; bitte einen anderen Namen wählen."
        ) from None


def delete_view(store: Store, actor: StaffUser, view_id: int) -> SavedView:
    return store.views.delete(actor.id, view_id)


def open_view(view: SavedView, known: Mapping[str, Collection[str]]) -> tuple[str, list[str]]:
    """The view's query string with values `known` no longer has dropped (e.g. a topic
    that was removed from the taxonomy), and a German note for each dropped filter."""
    labels = {"topic": "Thema", "source": "Quelle"}
    kept: list[tuple[str, str]] = []
    notes: list[str] = []
    for key, value in parse_qsl(view.query):
        if key in known and value not in known[key]:
            notes.append(
                f"{labels.get(key, key)} „{value}“ gibt es nicht mehr; "
                "dieser Filter der Ansicht wurde weggelassen."
            )
            continue
        kept.append((key, value))
    return urlencode(kept), notes


def later_until(now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """When an item put off today comes back: the start of tomorrow in the office's zone."""
    tomorrow = now.astimezone(tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def later_count(store: Store, *, now: dt.datetime) -> int:
    """ "Später (n)": how many new items are put off beyond `now` (up to the count cap)."""
    return store.items.search_count(InboxQuery(deferred="only", deferred_at=now))[0]


def put_off(
    store: Store, item_ids: Sequence[int], *, actor: StaffUser, now: dt.datetime, tz: ZoneInfo
) -> dict[int, dt.datetime | None]:
    """ "Später": the items leave the default inbox until tomorrow; returns what they had."""
    return store.items.defer(_ids(item_ids), later_until(now, tz), now=now, actor=actor.name)


def bring_back(
    store: Store, item_ids: Sequence[int], *, actor: StaffUser, now: dt.datetime
) -> dict[int, dt.datetime | None]:
    """Back into the inbox now; returns what the items had."""
    return store.items.defer(_ids(item_ids), None, now=now, actor=actor.name)


def restore_deferred(
    store: Store, previous: Mapping[int, dt.datetime | None], *, actor: StaffUser, now: dt.datetime
) -> int:
    """Undo `put_off` or `bring_back`."""
    return store.items.restore_deferred(dict(previous), now=now, actor=actor.name)


def _ids(item_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        raise InvalidInput("Keine Meldungen gewählt.")
    return ids
