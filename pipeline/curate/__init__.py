"""Curate: the desk's rules. The web app and the CLI call these; the store writes.

Every function checks what a person sent (lengths, known topics, allowed state
changes, the four-eyes rule), then calls one store method, which runs as one
transaction and writes the audit trail. Nothing is changed when a check fails.

Edition lifecycle:

    draft ──approve──► approved ──schedule──► scheduled ──(deliver)──► sending ──► sent
      ▲                   │                      │
      └──────reopen───────┘                      │
      └──────────────unschedule ("stop the presses")

Structure (title, intro, sections, items, order) changes only in `draft`. A `sent`
edition's items are corrected through `curate.corrections` (ADR 0009).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from pipeline.config import Settings
from pipeline.errors import Forbidden, InvalidInput, InvalidTransition, PreflightBlocked
from pipeline.model import (
    EDITION_STATE_LABELS,
    Acknowledgement,
    Annotation,
    Audience,
    Deadline,
    DeadlineKind,
    DocType,
    Edition,
    EditionState,
    Item,
    ItemStatus,
    Newsletter,
    Office,
    Preflight,
    Priority,
    ReviewRequest,
    StaffUser,
    TopicOrigin,
)
from pipeline.store import Store
from pipeline.store.items_desk import InboxQuery
from pipeline.text import render_markdown

__all__ = [
    "accept",
    "acknowledge",
    "add_section",
    "annotate",
    "approve",
    "change_topics",
    "create_edition",
    "create_own_item",
    "delete",
    "draft_candidates",
    "draft_from",
    "draft_with",
    "move_item",
    "place_item",
    "propose_draft",
    "reject",
    "remove_item",
    "remove_section",
    "rename_section",
    "reopen",
    "request_review",
    "restore_status",
    "schedule",
    "send_now",
    "set_topics",
    "transition_message",
    "unschedule",
    "update_edition",
]

MAX_HEADLINE = 300
MAX_COMMENT = 10_000
MAX_TITLE = 300
MAX_INTRO = 5_000
MAX_SECTION_TITLE = 120
MAX_BULK = 500
FIRST_DRAFT_WINDOW = dt.timedelta(days=14)  # a newsletter's first draft looks this far back


# ---------------------------------------------------------------- items


def accept(
    store: Store,
    item_ids: Sequence[int],
    *,
    actor: StaffUser,
    now: dt.datetime,
    topics: Sequence[str] | None = None,
    topic_ids: Collection[str] = (),
) -> int:
    """Accept items for the digests; with `topics`, also set their topics."""
    ids = _ids(item_ids)
    if topics is not None:
        set_topics(store, ids, topics, actor=actor, now=now, topic_ids=topic_ids)
    return store.items.set_status(ids, ItemStatus.ACCEPTED, now=now, actor=actor.name)


def reject(store: Store, item_ids: Sequence[int], *, actor: StaffUser, now: dt.datetime) -> int:
    return store.items.set_status(_ids(item_ids), ItemStatus.REJECTED, now=now, actor=actor.name)


def restore_status(
    store: Store, item_ids: Sequence[int], status: ItemStatus, *, actor: StaffUser, now: dt.datetime
) -> int:
    """Undo a triage step: put items back to the status they had (audited like any change)."""
    if status is ItemStatus.DELETED:
        raise InvalidInput("Gelöschte Meldungen lassen sich hier nicht wiederherstellen.")
    return store.items.set_status(_ids(item_ids), status, now=now, actor=actor.name)


def delete(store: Store, item_ids: Sequence[int], *, actor: StaffUser, now: dt.datetime) -> int:
    """Delete items: they stay as tombstones and never come back from their feeds."""
    return store.items.set_status(_ids(item_ids), ItemStatus.DELETED, now=now, actor=actor.name)


def set_topics(
    store: Store,
    item_ids: Sequence[int],
    topics: Sequence[str],
    *,
    actor: StaffUser,
    now: dt.datetime,
    topic_ids: Collection[str],
) -> None:
    """Staff confirm or change topics: exactly these, origin staff."""
    unknown = [t for t in topics if t not in topic_ids]
    if unknown:
        raise InvalidInput(f"Unbekanntes Thema: {unknown[0]}")
    store.items.set_topics(_ids(item_ids), list(topics), now=now, actor=actor.name)


def change_topics(
    store: Store,
    item_ids: Sequence[int],
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    actor: StaffUser,
    now: dt.datetime,
    topic_ids: Collection[str],
) -> int:
    """Add and remove topics item by item, keeping every other topic an item has: the
    staff-confirmed ones if there are any, else the automatic ones (which become confirmed).
    Never a silent replace. Returns how many items changed."""
    unknown = [t for t in (*add, *remove) if t not in topic_ids]
    if unknown:
        raise InvalidInput(f"Unbekanntes Thema: {unknown[0]}")
    if not add and not remove:
        raise InvalidInput("Bitte ein Thema zum Hinzufügen oder Entfernen wählen.")
    changed = 0
    for item_id in _ids(item_ids):
        item = store.items.get(item_id)
        staff = [t.topic_id for t in item.topics if t.origin is TopicOrigin.STAFF]
        current = staff or [t.topic_id for t in item.topics]
        wanted = [t for t in dict.fromkeys((*current, *add)) if t not in remove]
        if wanted != current or not staff:
            store.items.set_topics([item_id], wanted, now=now, actor=actor.name)
            changed += 1
    return changed


def annotate(
    store: Store,
    item_id: int,
    *,
    headline: str,
    comment_md: str,
    priority: Priority,
    audiences: Sequence[Audience],
    expected_version: int,
    actor: StaffUser,
    now: dt.datetime,
) -> Annotation:
    headline = " ".join(headline.split())
    comment_md = comment_md.replace("\r\n", "\n").strip()
    if len(headline) > MAX_HEADLINE:
        raise InvalidInput(f"Die Überschrift ist länger als {MAX_HEADLINE} Zeichen.")
    if len(comment_md) > MAX_COMMENT:
        raise InvalidInput(f"Die Einordnung ist länger als {MAX_COMMENT} Zeichen.")
    return store.items.annotate(
        item_id,
        headline=headline,
        comment_md=comment_md,
        priority=priority,
        audiences=list(dict.fromkeys(audiences)),
        expected_version=expected_version,
        now=now,
        actor=actor.name,
    )


def create_own_item(
    store: Store,
    *,
    title: str,
    url: str | None,
    summary_md: str,
    published: dt.datetime | None,
    event_date: dt.date | None,
    deadline: dt.date | None,
    topics: Sequence[str],
    topic_ids: Collection[str],
    actor: StaffUser,
    now: dt.datetime,
) -> Item:
    """An item no feed carries (an office event, a network meeting), accepted at once."""
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("Bitte einen Titel angeben.")
    if len(title) > MAX_TITLE or len(summary_md) > MAX_COMMENT:
        raise InvalidInput("Titel oder Text sind zu lang.")
    if url is not None:
        url = url.strip() or None
        if url is not None and (not url.startswith(("https://", "http://")) or " " in url):
            raise InvalidInput("Der Link muss mit https:// oder http:// beginnen.")
    unknown = [t for t in topics if t not in topic_ids]
    if unknown:
        raise InvalidInput(f"Unbekanntes Thema: {unknown[0]}")
    deadlines = []
    if event_date is not None:
        deadlines.append(Deadline(event_date, DeadlineKind.EVENT, "Termin"))
    if deadline is not None:
        deadlines.append(Deadline(deadline, DeadlineKind.DEADLINE, "Frist"))
    return store.items.create_own(
        title=title,
        url=url,
        summary_html=render_markdown(summary_md),
        published=published or now,
        deadlines=deadlines,
        topics=list(topics),
        doc_type=DocType.EVENT if event_date is not None else DocType.OTHER,
        now=now,
        actor=actor.name,
    )


# ---------------------------------------------------------------- editions


def create_edition(
    store: Store,
    office: Office,
    newsletter_id: str,
    *,
    title: str,
    intro: str,
    actor: StaffUser,
    now: dt.datetime,
) -> Edition:
    _newsletter(office, newsletter_id)
    title, intro = _edition_text(title, intro)
    return store.editions.create(
        newsletter_id,
        title=title,
        intro=intro,
        sections=[(s, []) for s in office.default_sections],
        actor=actor.name,
        now=now,
    )


def propose_draft(
    store: Store,
    office: Office,
    newsletter_id: str,
    *,
    actor: StaffUser,
    now: dt.datetime,
    limit: int = 40,
    topic_labels: dict[str, str] | None = None,
    tz: dt.tzinfo | None = None,
    days: int | None = None,
) -> Edition:
    """A draft from items accepted since the newsletter's last edition (or published in
    the last `days` days, when given: `draft_from()`).

    The items are `draft_candidates()`, grouped into one section per main topic (the
    item's most confident topic), the sections in the order of their best item; the
    title carries the date (in `tz`, the office's zone, when given). Staff edit it from
    there. With no candidates the draft has the office's default sections, empty.
    """
    _newsletter(office, newsletter_id)
    chosen = draft_candidates(store, newsletter_id, now=now, limit=limit, days=days)
    return draft_with(
        store, office, newsletter_id, chosen, actor=actor, now=now, topic_labels=topic_labels, tz=tz
    )


MAX_DRAFT_DAYS = 366  # the widest window staff may ask a proposal for


def draft_from(
    store: Store, newsletter_id: str, *, now: dt.datetime, days: int | None = None
) -> dt.date:
    """The first publication day a new draft takes items from: `days` back from `now`
    when given, else a day before the last edition was made (a day of overlap: items
    published just before it; for a newsletter's first draft, before 14 days ago)."""
    if days is not None:
        if not 1 <= days <= MAX_DRAFT_DAYS:
            raise InvalidInput(f"Der Zeitraum muss zwischen 1 und {MAX_DRAFT_DAYS} Tagen liegen.")
        return (now - dt.timedelta(days=days)).date()
    since = store.editions.latest_created(newsletter_id) or now - FIRST_DRAFT_WINDOW
    return (since - dt.timedelta(days=1)).date()


def draft_candidates(
    store: Store,
    newsletter_id: str,
    *,
    now: dt.datetime,
    limit: int = 40,
    days: int | None = None,
) -> list[Item]:
    """What a new draft of this newsletter would hold; nothing is changed.

    Accepted items published since `draft_from()`, not yet in any edition of this
    newsletter, most relevant first, at most `limit`.
    """
    used = store.editions.item_ids_used(newsletter_id)
    page = store.items.search(
        InboxQuery(
            statuses=(ItemStatus.ACCEPTED,),
            date_from=draft_from(store, newsletter_id, now=now, days=days),
            order="relevance",
            per_page=200,
        )
    )
    return [i for i in page.items if i.id not in used][:limit]


def draft_with(
    store: Store,
    office: Office,
    newsletter_id: str,
    chosen: Sequence[Item],
    *,
    actor: StaffUser,
    now: dt.datetime,
    topic_labels: dict[str, str] | None = None,
    tz: dt.tzinfo | None = None,
    title: str | None = None,
    intro: str = "",
) -> Edition:
    """A draft holding exactly these items, one section per main topic, in this order."""
    newsletter = _newsletter(office, newsletter_id)
    sections: dict[str, list[int]] = {}
    for item in chosen:
        topic = item.topics[0].topic_id if item.topics else ""
        label = (topic_labels or {}).get(topic, topic) or "Weitere Meldungen"
        sections.setdefault(label, []).append(item.id)
    day = (now.astimezone(tz) if tz is not None else now).strftime("%d.%m.%Y")
    title, intro = _edition_text(title or f"{newsletter.name} – {day}", intro)
    return store.editions.create(
        newsletter_id,
        title=title,
        intro=intro,
        sections=list(sections.items()) or [(s, []) for s in office.default_sections],
        actor=actor.name,
        now=now,
    )


def update_edition(
    store: Store,
    edition_id: int,
    *,
    title: str,
    intro: str,
    expected_version: int,
    actor: StaffUser,
    now: dt.datetime,
) -> Edition:
    title, intro = _edition_text(title, intro)
    return store.editions.update_meta(
        edition_id,
        title=title,
        intro=intro,
        expected_version=expected_version,
        actor=actor.name,
        now=now,
    )


def add_section(
    store: Store, edition_id: int, title: str, *, actor: StaffUser, now: dt.datetime
) -> Edition:
    return store.editions.add_section(edition_id, _section_title(title), actor=actor.name, now=now)


def rename_section(
    store: Store,
    edition_id: int,
    section_id: int,
    title: str,
    *,
    actor: StaffUser,
    now: dt.datetime,
) -> Edition:
    return store.editions.rename_section(
        edition_id, section_id, _section_title(title), actor=actor.name, now=now
    )


def remove_section(
    store: Store, edition_id: int, section_id: int, *, actor: StaffUser, now: dt.datetime
) -> Edition:
    return store.editions.remove_section(edition_id, section_id, actor=actor.name, now=now)


def move_section(
    store: Store,
    edition_id: int,
    section_id: int,
    *,
    delta: int = 0,
    position: int | None = None,
    actor: StaffUser,
    now: dt.datetime,
) -> Edition:
    """One place up or down (`delta`), or to `position` (0 first), e.g. by drag and drop."""
    if position is None and delta not in (-1, 1):
        raise InvalidInput("delta must be -1 or 1")
    if position is not None and position < 0:
        raise InvalidInput("position must be ≥ 0")
    return store.editions.move_section(
        edition_id, section_id, delta=delta, position=position, actor=actor.name, now=now
    )


def place_item(
    store: Store,
    edition_id: int,
    item_id: int,
    *,
    section_id: int | None,
    position: int | None = None,
    actor: StaffUser,
    now: dt.datetime,
) -> Edition:
    """Add an item to an edition, or move it; only accepted items go into editions."""
    item = store.items.get(item_id)
    if item.status is not ItemStatus.ACCEPTED:
        raise InvalidInput("Nur übernommene Meldungen können in eine Ausgabe.")
    return store.editions.place_item(
        edition_id, item_id, section_id=section_id, position=position, actor=actor.name, now=now
    )


def move_item(
    store: Store, edition_id: int, item_id: int, *, delta: int, actor: StaffUser, now: dt.datetime
) -> Edition:
    if delta not in (-1, 1):
        raise InvalidInput("delta must be -1 or 1")
    return store.editions.move_item(edition_id, item_id, delta=delta, actor=actor.name, now=now)


def remove_item(
    store: Store, edition_id: int, item_id: int, *, actor: StaffUser, now: dt.datetime
) -> Edition:
    return store.editions.remove_item(edition_id, item_id, actor=actor.name, now=now)


def approve(
    store: Store,
    office: Office,
    edition_id: int,
    *,
    actor: StaffUser,
    now: dt.datetime,
    settings: Settings,
    waive: Collection[str] = (),
) -> Edition:
    """Draft → approved, unless the preflight finds something blocking (PreflightBlocked,
    with the findings). With four eyes on, not by whoever made the last change. The audit
    entry names both people: who last edited it and who approved it.

    `waive`: blocking codes to let pass, for the demo only (office placeholders; it mails
    nobody but its own demo subscriber through the outbox)."""
    from pipeline.curate import preflight

    edition = store.editions.get(edition_id)
    if edition.state is not EditionState.DRAFT:
        raise InvalidTransition(edition_id, edition.state.value, EditionState.APPROVED.value)
    items = store.items.get_many(list(edition.item_ids))
    blocking = [
        f
        for f in preflight.blocking_findings(edition, items, office, settings)
        if f.code.value not in waive
    ]
    if blocking:
        raise PreflightBlocked(edition_id, blocking)
    editor = edition.last_editor or edition.created_by  # unchanged since: its author
    if office.four_eyes and editor == actor.name:
        raise Forbidden(
            "Vier-Augen-Prinzip: Die Freigabe muss eine andere Person erteilen als die, "
            f"die zuletzt geändert hat ({actor.name}). Bitte „Freigabe anfordern“: "
            "eine Kollegin oder ein Kollege gibt dann frei."
        )
    # The conditional update also checks that nobody changed it since it was read.
    return store.editions.transition(
        edition_id,
        from_states=[EditionState.DRAFT],
        to_state=EditionState.APPROVED,
        actor=actor.name,
        now=now,
        detail=f"zuletzt bearbeitet von {editor}, freigegeben von {actor.name}",
        approved_by=actor.name,
        approved_at=now,
        expected_version=edition.version,
    )


def request_review(
    store: Store,
    office: Office,
    edition_id: int,
    *,
    actor: StaffUser,
    now: dt.datetime,
    settings: Settings,
) -> ReviewRequest:
    """Four eyes: the author asks a colleague to approve (shown in the desk); not while
    the preflight blocks (nobody could approve it)."""
    from pipeline.curate import preflight

    if not office.four_eyes:
        raise InvalidInput("Ohne Vier-Augen-Prinzip kann jede Person selbst freigeben.")
    edition = store.editions.get(edition_id)
    items = store.items.get_many(list(edition.item_ids))
    blocking = preflight.blocking_findings(edition, items, office, settings)
    if blocking:
        raise PreflightBlocked(edition_id, blocking)
    return store.approvals.request_review(edition_id, actor=actor.name, now=now)


def acknowledge(
    store: Store,
    check: Preflight,
    key: str,
    *,
    actor: StaffUser,
    now: dt.datetime,
) -> Acknowledgement:
    """Staff let a warning of the preflight stand (audited); blocking ones cannot be."""
    finding = next((f for f in check.warnings if f.key == key), None)
    if finding is None:
        if any(f.key == key for f in check.blocking):
            raise InvalidInput("Blockierende Punkte lassen sich nicht bestätigen, nur beheben.")
        if any(f.key == key for f, _ in check.acknowledged):
            raise InvalidInput("Dieser Hinweis ist schon bestätigt.")
        raise InvalidInput("Diesen Hinweis gibt es (nicht mehr); bitte die Seite neu laden.")
    return store.approvals.acknowledge(
        check.edition_id,
        key,
        message=f"Hinweis bestätigt: {finding.message}",
        actor=actor.name,
        now=now,
    )


def transition_message(exc: InvalidTransition) -> str:
    """What a refused state change means, in German (the desk and the command line)."""
    now = _state_label(exc.from_state)
    if exc.from_state == exc.to_state:
        return f"Die Ausgabe ist bereits im Zustand „{now}“. Es wurde nichts geändert."
    if exc.to_state in EditionState.__members__.values():
        return (
            f"Die Ausgabe ist im Zustand „{now}“ und kann nicht in den Zustand "
            f"„{_state_label(exc.to_state)}“ wechseln. Es wurde nichts geändert."
        )
    return (
        f"Die Ausgabe ist im Zustand „{now}“: Inhalt und Aufbau lassen sich nur im "
        "Entwurf ändern. Es wurde nichts geändert."
    )


def _state_label(state: str) -> str:
    try:
        return EDITION_STATE_LABELS[EditionState(state)]
    except ValueError:
        return state


def schedule(
    store: Store, edition_id: int, *, send_at: dt.datetime, actor: StaffUser, now: dt.datetime
) -> Edition:
    if send_at.tzinfo is None:
        raise InvalidInput("send_at needs a time zone")
    if send_at <= now:
        raise InvalidInput("Der Versandzeitpunkt muss in der Zukunft liegen.")
    return store.editions.transition(
        edition_id,
        from_states=[EditionState.APPROVED],
        to_state=EditionState.SCHEDULED,
        actor=actor.name,
        now=now,
        detail=send_at.isoformat(),
        scheduled_at=send_at,
    )


def send_now(
    store: Store,
    edition_id: int,
    *,
    check: Preflight,
    actor: StaffUser,
    now: dt.datetime,
) -> Edition:
    """ "Jetzt senden": approved → scheduled for `now`, so whoever sends next (the desk's
    own sender, `send-due`, `eudigest send`) takes it; the senders' claims keep it exactly
    once. Refused while the preflight `check`, run just before, finds something blocking;
    only from APPROVED, so a second click finds it scheduled already (InvalidTransition)."""
    if check.edition_id != edition_id:
        raise InvalidInput("check is of another edition")
    if check.blocked:
        lines = "; ".join(f.message for f in check.blocking)
        raise InvalidInput(f"Nicht gesendet: Die Prüfliste blockiert den Versand ({lines}).")
    return store.editions.transition(
        edition_id,
        from_states=[EditionState.APPROVED],
        to_state=EditionState.SCHEDULED,
        actor=actor.name,
        now=now,
        detail="Jetzt senden",
        scheduled_at=now,
    )


def unschedule(store: Store, edition_id: int, *, actor: StaffUser, now: dt.datetime) -> Edition:
    """Stop the presses: scheduled → draft, approval withdrawn (until sending starts)."""
    return store.editions.transition(
        edition_id,
        from_states=[EditionState.SCHEDULED],
        to_state=EditionState.DRAFT,
        actor=actor.name,
        now=now,
        detail="Versand gestoppt",
        scheduled_at=None,
        approved_by=None,
        approved_at=None,
    )


def reopen(store: Store, edition_id: int, *, actor: StaffUser, now: dt.datetime) -> Edition:
    """Approved → draft, to change it again; the approval is withdrawn."""
    return store.editions.transition(
        edition_id,
        from_states=[EditionState.APPROVED],
        to_state=EditionState.DRAFT,
        actor=actor.name,
        now=now,
        detail="Freigabe zurückgenommen",
        approved_by=None,
        approved_at=None,
    )


# ---------------------------------------------------------------- checks


def _ids(item_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in item_ids))
    if not ids:
        raise InvalidInput("Bitte mindestens eine Meldung auswählen.")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"Höchstens {MAX_BULK} Meldungen auf einmal.")
    return ids


def _newsletter(office: Office, newsletter_id: str) -> Newsletter:
    newsletter = office.newsletter(newsletter_id)
    if newsletter is None:
        known = ", ".join(n.id for n in office.newsletters)
        raise InvalidInput(f"Unbekannter Newsletter {newsletter_id!r} (bekannt: {known})")
    return newsletter


def _edition_text(title: str, intro: str) -> tuple[str, str]:
    title = " ".join(title.split())
    intro = intro.replace("\r\n", "\n").strip()
    if not title:
        raise InvalidInput("Bitte einen Titel angeben.")
    if len(title) > MAX_TITLE or len(intro) > MAX_INTRO:
        raise InvalidInput("Titel oder Einleitung sind zu lang.")
    return title, intro


def _section_title(title: str) -> str:
    title = " ".join(title.split())
    if not title or len(title) > MAX_SECTION_TITLE:
        raise InvalidInput(
            f"Rubriken brauchen einen Titel (höchstens {MAX_SECTION_TITLE} Zeichen)."
        )
    return title
