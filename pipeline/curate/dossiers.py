"""Dossiers at the desk: staff thread items by hand and follow procedures.

    attach(store, reference, item_id, actor)    an item joins a dossier (audited)
    detach(store, reference, item_id, actor)    it leaves and stays out (audited)
    follow / unfollow(store, reference, name)   a staff account follows a dossier (audited)
    set_note(store, reference, md, actor)       the office's note, Markdown (audited)
    publish(store, reference, yes, name)        offer it to subscribers, or stop (audited)

Automatic threading (by references) runs at the end of every ingest
(`store.dossiers.thread`); what staff decide here wins over it.
"""

from __future__ import annotations

import datetime as dt

from pipeline.errors import InvalidInput
from pipeline.model import StaffUser
from pipeline.store import Store


def staff_account(store: Store, name: str) -> StaffUser:
    """The active staff account called `name`; InvalidInput (German) otherwise."""
    user = store.users.by_name(name.strip().lower())
    if user is None:
        raise InvalidInput(f"Kein Mitarbeiterkonto mit dem Namen „{name}“.")
    if not user.active:
        raise InvalidInput(f"Das Konto „{name}“ ist deaktiviert.")
    return user


def attach(
    store: Store, reference: str, item_id: int, *, actor: StaffUser, now: dt.datetime
) -> bool:
    """Thread an item to a dossier by hand; False when it was in it already."""
    return store.dossiers.attach(reference, item_id, actor=actor.name, now=now)


def detach(
    store: Store, reference: str, item_id: int, *, actor: StaffUser, now: dt.datetime
) -> bool:
    """Take an item out of a dossier; automatic threading will not add it again."""
    return store.dossiers.detach(reference, item_id, actor=actor.name, now=now)


def follow(store: Store, reference: str, user_name: str, *, now: dt.datetime) -> bool:
    user = staff_account(store, user_name)
    return store.dossiers.follow(reference, user.name, now=now)


def unfollow(store: Store, reference: str, user_name: str, *, now: dt.datetime) -> bool:
    user = staff_account(store, user_name)
    return store.dossiers.unfollow(reference, user.name, now=now)


NOTE_MAX = 10_000


def set_note(
    store: Store, reference: str, note_md: str, *, actor: StaffUser, now: dt.datetime
) -> bool:
    """The office's note on a dossier ("Einordnung für die Region"); rendered through
    text.render_markdown wherever it is shown. False when nothing changed."""
    text = note_md.replace("\r\n", "\n").strip()
    if len(text) > NOTE_MAX:
        raise InvalidInput(
            f"Die Einordnung ist zu lang (höchstens {NOTE_MAX:,} Zeichen).".replace(",", ".")
        )
    return store.dossiers.set_note(reference, text, actor=actor.name, now=now)


def publish(
    store: Store, reference: str, published: bool, user_name: str, *, now: dt.datetime
) -> bool:
    """Offer a dossier to subscribers (their preference page, the digest block), or stop;
    False when it was so already."""
    user = staff_account(store, user_name)
    return store.dossiers.publish(reference, published, actor=user.name, now=now)
