"""Editions of newsletters: their sections, ordered items, state and audit trail.

Every structural change runs in one transaction that first *claims* the edition
with a conditional update (`state = 'draft'`, and the version the editor started
from when given), so an edit can never slip into an edition that was approved or
started sending in the meantime, and two staff members never overwrite each other
silently. State changes are conditional updates on the state they leave.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, literal, select, update

from pipeline.errors import EditionNotFound, InvalidInput, InvalidTransition, StaleEdit
from pipeline.model import (
    PENDING_DELIVERY_STATES,
    AuditEntry,
    Edition,
    EditionSection,
    EditionState,
)
from pipeline.store.audit import entries, write_audit
from pipeline.store.base import wrap_errors
from pipeline.store.schema import (
    audit_log,
    deliveries,
    edition_items,
    edition_sections,
    editions,
    item_deadlines,
    items,
)

Layout = list[tuple[int, list[int]]]  # [(section id, [item ids in order])] in section order


class EditionsStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ------------------------------------------------------------ reading

    def get(self, edition_id: int) -> Edition:
        with wrap_errors(f"reading edition {edition_id}"), self._engine.connect() as conn:
            return _load(conn, edition_id)

    def list(
        self,
        newsletter_id: str | None = None,
        states: Collection[EditionState] | None = None,
        limit: int = 50,
    ) -> builtins.list[Edition]:
        stmt = select(editions.c.id).order_by(editions.c.created_at.desc(), editions.c.id.desc())
        if newsletter_id is not None:
            stmt = stmt.where(editions.c.newsletter_id == newsletter_id)
        if states is not None:
            stmt = stmt.where(editions.c.state.in_([s.value for s in states]))
        with wrap_errors("listing editions"), self._engine.connect() as conn:
            ids = conn.execute(stmt.limit(limit)).scalars().all()
            return [_load(conn, i) for i in ids]

    def latest_created(self, newsletter_id: str) -> dt.datetime | None:
        with wrap_errors("reading editions"), self._engine.connect() as conn:
            value = conn.execute(
                select(func.max(editions.c.created_at)).where(
                    editions.c.newsletter_id == newsletter_id
                )
            ).scalar_one()
        if value is not None and value.tzinfo is None:  # SQLite's aggregate loses the type
            value = dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)
        return value  # type: ignore[no-any-return]

    def item_ids_used(self, newsletter_id: str) -> set[int]:
        """Items already placed in some edition of this newsletter."""
        with wrap_errors("reading editions"), self._engine.connect() as conn:
            rows = conn.execute(
                select(edition_items.c.item_id)
                .join(editions, editions.c.id == edition_items.c.edition_id)
                .where(editions.c.newsletter_id == newsletter_id)
            )
            return set(rows.scalars())

    # ------------------------------------------------------------ the public archive

    def sent(
        self, newsletter_id: str | None = None, *, limit: int = 20, offset: int = 0
    ) -> builtins.list[Edition]:
        """Sent editions, newest first (by sent time), optionally of one newsletter."""
        stmt = (
            select(editions.c.id)
            .where(editions.c.state == EditionState.SENT.value)
            .order_by(editions.c.sent_at.desc().nulls_last(), editions.c.id.desc())
        )
        if newsletter_id is not None:
            stmt = stmt.where(editions.c.newsletter_id == newsletter_id)
        with wrap_errors("listing sent editions"), self._engine.connect() as conn:
            ids = conn.execute(stmt.limit(limit).offset(offset)).scalars().all()
            return [_load(conn, i) for i in ids]

    def count_sent(self, newsletter_id: str | None = None) -> int:
        stmt = select(func.count()).where(editions.c.state == EditionState.SENT.value)
        if newsletter_id is not None:
            stmt = stmt.where(editions.c.newsletter_id == newsletter_id)
        with wrap_errors("counting sent editions"), self._engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def sent_items_with_deadlines(self, since: dt.date) -> dict[int, Edition]:
        """Items of sent editions with a deadline on or after `since`, each mapped to
        the edition that first carried it (the deadline calendars)."""
        has_deadline = (
            select(item_deadlines.c.item_id)
            .where(item_deadlines.c.item_id == edition_items.c.item_id)
            .where(item_deadlines.c.date >= since)
            .exists()
        )
        stmt = (
            select(edition_items.c.item_id, editions.c.id)
            .join(editions, editions.c.id == edition_items.c.edition_id)
            .where(editions.c.state == EditionState.SENT.value, has_deadline)
            .order_by(editions.c.sent_at.asc().nulls_last(), editions.c.id.asc())
        )
        with wrap_errors("reading deadlines of sent editions"), self._engine.connect() as conn:
            first: dict[int, int] = {}
            for item_id, edition_id in conn.execute(stmt):
                first.setdefault(int(item_id), int(edition_id))
            loaded = {e: _load(conn, e) for e in set(first.values())}
        return {item_id: loaded[e] for item_id, e in first.items()}

    def first_sent(self, item_ids: Collection[int]) -> dict[int, Edition]:
        """Of `item_ids`, those some sent edition carried, each with the first such edition
        (the public dossier pages show only what readers already had)."""
        wanted = sorted(set(item_ids))
        if not wanted:
            return {}
        stmt = (
            select(edition_items.c.item_id, editions.c.id)
            .join(editions, editions.c.id == edition_items.c.edition_id)
            .where(editions.c.state == EditionState.SENT.value, edition_items.c.item_id.in_(wanted))
            .order_by(editions.c.sent_at.asc().nulls_last(), editions.c.id.asc())
        )
        with wrap_errors("reading sent editions of items"), self._engine.connect() as conn:
            first: dict[int, int] = {}
            for item_id, edition_id in conn.execute(stmt):
                first.setdefault(int(item_id), int(edition_id))
            loaded = {e: _load(conn, e) for e in set(first.values())}
        return {item_id: loaded[e] for item_id, e in first.items()}

    def audit(self, edition_id: int) -> builtins.list[AuditEntry]:
        with wrap_errors("reading the audit trail"), self._engine.connect() as conn:
            return entries(conn, audit_log.c.edition_id == edition_id)

    def note(
        self, edition_id: int, *, actor: str, action: str, detail: str, now: dt.datetime
    ) -> None:
        """An audit entry about the edition that changes nothing else (e.g. a test send)."""
        with wrap_errors(f"noting on edition {edition_id}"), self._engine.begin() as conn:
            _state(conn, edition_id)  # EditionNotFound
            write_audit(conn, now, actor, action, edition_id=edition_id, detail=detail)

    # ------------------------------------------------------------ creating

    def create(
        self,
        newsletter_id: str,
        *,
        title: str,
        intro: str,
        sections: Sequence[tuple[str, Sequence[int]]],
        actor: str,
        now: dt.datetime,
    ) -> Edition:
        """A draft with these sections and items (one transaction)."""
        if not sections:
            raise InvalidInput("an edition needs at least one section")
        with wrap_errors("creating an edition"), self._engine.begin() as conn:
            edition_id = conn.execute(
                insert(editions)
                .values(
                    newsletter_id=newsletter_id,
                    title=title,
                    intro=intro,
                    state=EditionState.DRAFT.value,
                    version=1,
                    created_at=now,
                    created_by=actor,
                    updated_at=now,
                    last_editor=actor,
                )
                .returning(editions.c.id)
            ).scalar_one()
            layout: Layout = []
            for position, (section_title, item_ids) in enumerate(sections):
                section_id = conn.execute(
                    insert(edition_sections)
                    .values(edition_id=edition_id, title=section_title, position=position)
                    .returning(edition_sections.c.id)
                ).scalar_one()
                layout.append((int(section_id), list(item_ids)))
            _write_layout(conn, edition_id, layout)
            count = sum(len(ids) for _, ids in layout)
            write_audit(
                conn,
                now,
                actor,
                "edition.create",
                edition_id=edition_id,
                detail=f"{count} Meldungen",
            )
            return _load(conn, edition_id)

    # ------------------------------------------------------------ editing a draft

    def update_meta(
        self,
        edition_id: int,
        *,
        title: str,
        intro: str,
        expected_version: int,
        actor: str,
        now: dt.datetime,
    ) -> Edition:
        def change(conn: Connection, layout: Layout) -> tuple[Layout, str]:
            conn.execute(
                update(editions).where(editions.c.id == edition_id).values(title=title, intro=intro)
            )
            return layout, "Titel/Einleitung geändert"

        return self._edit(edition_id, actor, now, "edition.meta", change, expected_version)

    def add_section(self, edition_id: int, title: str, *, actor: str, now: dt.datetime) -> Edition:
        def change(conn: Connection, layout: Layout) -> tuple[Layout, str]:
            section_id = conn.execute(
                insert(edition_sections)
                .values(edition_id=edition_id, title=title, position=len(layout))
                .returning(edition_sections.c.id)
            ).scalar_one()
            return [*layout, (int(section_id), [])], f"Rubrik „{title}“ angelegt"

        return self._edit(edition_id, actor, now, "edition.section", change)

    def rename_section(
        self, edition_id: int, section_id: int, title: str, *, actor: str, now: dt.datetime
    ) -> Edition:
        def change(conn: Connection, layout: Layout) -> tuple[Layout, str]:
            _section_index(layout, section_id)
            conn.execute(
                update(edition_sections)
                .where(edition_sections.c.id == section_id)
                .values(title=title)
            )
            return layout, f"Rubrik umbenannt in „{title}“"

        return self._edit(edition_id, actor, now, "edition.section", change)

    def remove_section(
        self, edition_id: int, section_id: int, *, actor: str, now: dt.datetime
    ) -> Edition:
        def change(conn: Connection, layout: Layout) -> tuple[Layout, str]:
            index = _section_index(layout, section_id)
            if len(layout) == 1:
                raise InvalidInput("Die letzte Rubrik kann nicht entfernt werden.")
            _, moved = layout.pop(index)
            layout[0][1].extend(moved)  # its items go to the first remaining section
            conn.execute(delete(edition_items).where(edition_items.c.section_id == section_id))
            conn.execute(delete(edition_sections).where(edition_sections.c.id == section_id))
            return layout, f"Rubrik entfernt ({len(moved)} Meldungen verschoben)"

        return self._edit(edition_id, actor, now, "edition.section", change)

    def move_section(
        self,
        edition_id: int,
        section_id: int,
        *,
        delta: int = 0,
        position: int | None = None,
        actor: str,
        now: dt.datetime,
    ) -> Edition:
        """Move a section up (delta < 0) or down one place; at the edge nothing changes.
        With `position`, it goes to that place (0 first; past the end: last), e.g. after
        a drag and drop."""

        def change(conn: Connection, layout: Layout) -> tuple[Layout, str]:
            index = _section_index(layout, section_id)
            new_index = (
                index + delta if position is None else max(0, min(position, len(layout) - 1))
            )
            if 0 <= new_index < len(layout):
                layout.insert(new_index, layout.pop(index))
            title = conn.execute(
                select(edition_sections.c.title).where(edition_sections.c.id == section_id)
            ).scalar_one()
            if position is not None:
                return layout, f"Rubrik „{title}“ (an Stelle {new_index + 1})"
            return layout, f"Rubrik „{title}“ ({'nach oben' if delta < 0 else 'nach unten'})"

        return self._edit(edition_id, actor, now, "edition.section", change)

    def place_item(
        self,
        edition_id: int,
        item_id: int,
        *,
        section_id: int | None,
        position: int | None,
        actor: str,
        now: dt.datetime,
    ) -> Edition:
        """Add an item, or move it to another section or position."""

        def change(conn: Connection, layout: Layout) -> tuple[Layout, str]:
            was_in = any(item_id in ids for _, ids in layout)
            for _, ids in layout:
                if item_id in ids:
                    ids.remove(item_id)
            target = layout[_section_index(layout, section_id) if section_id else 0][1]
            at = len(target) if position is None else max(0, min(position, len(target)))
            target.insert(at, item_id)
            moved = "verschoben" if was_in else "neu"
            return layout, f"{_title(conn, item_id)} ({moved})"

        return self._edit(edition_id, actor, now, "edition.place", change, item_id=item_id)

    def move_item(
        self, edition_id: int, item_id: int, *, delta: int, actor: str, now: dt.datetime
    ) -> Edition:
        """Move an item up (delta < 0) or down within the whole running order."""

        def change(conn: Connection, layout: Layout) -> tuple[Layout, str]:
            flat = [(s, i) for s, ids in layout for i in ids]
            index = next((n for n, (_, i) in enumerate(flat) if i == item_id), None)
            if index is None:
                raise InvalidInput(f"Meldung {item_id} ist nicht in dieser Ausgabe.")
            section, _ = flat[index]
            ids = layout[_section_index(layout, section)][1]
            at = ids.index(item_id)
            new_at = at + delta
            if 0 <= new_at < len(ids):
                ids.insert(new_at, ids.pop(at))
            else:  # past the edge of its section: into the neighbouring one
                s = _section_index(layout, section) + (1 if delta > 0 else -1)
                if 0 <= s < len(layout):
                    ids.remove(item_id)
                    neighbour = layout[s][1]
                    neighbour.insert(0 if delta > 0 else len(neighbour), item_id)
            return layout, f"{_title(conn, item_id)} ({'nach oben' if delta < 0 else 'nach unten'})"

        return self._edit(edition_id, actor, now, "edition.move", change, item_id=item_id)

    def remove_item(
        self, edition_id: int, item_id: int, *, actor: str, now: dt.datetime
    ) -> Edition:
        def change(conn: Connection, layout: Layout) -> tuple[Layout, str]:
            if not any(item_id in ids for _, ids in layout):
                raise InvalidInput(f"Meldung {item_id} ist nicht in dieser Ausgabe.")
            return [(s, [i for i in ids if i != item_id]) for s, ids in layout], (
                _title(conn, item_id)
            )

        return self._edit(edition_id, actor, now, "edition.remove", change, item_id=item_id)

    # ------------------------------------------------------------ state

    def transition(
        self,
        edition_id: int,
        *,
        from_states: Collection[EditionState],
        to_state: EditionState,
        actor: str,
        now: dt.datetime,
        detail: str = "",
        expected_version: int | None = None,
        **values: Any,
    ) -> Edition:
        """Move to `to_state` if the edition is in one of `from_states` (atomic), and,
        with `expected_version`, only if nobody changed it since that version. Staying in
        the same state (a sender joining an edition in SENDING) writes no audit entry."""
        with wrap_errors(f"changing edition {edition_id}"), self._engine.begin() as conn:
            before = _state(conn, edition_id)
            stmt = update(editions).where(
                editions.c.id == edition_id,
                editions.c.state.in_([s.value for s in from_states]),
            )
            if expected_version is not None:
                stmt = stmt.where(editions.c.version == expected_version)
            result = conn.execute(
                stmt.values(
                    state=to_state.value,
                    version=editions.c.version + 1,
                    updated_at=now,
                    **values,
                )
            )
            if result.rowcount != 1:
                current = _state(conn, edition_id)
                if current not in from_states:
                    raise InvalidTransition(edition_id, current.value, to_state.value)
                raise StaleEdit(
                    "Die Ausgabe wurde inzwischen geändert; bitte die aktuelle Fassung prüfen."
                )
            if before is not to_state or detail:
                write_audit(
                    conn, now, actor, f"edition.{to_state.value}", edition_id=edition_id,
                    detail=detail,
                )  # fmt: skip
            return _load(conn, edition_id)

    def halt(
        self,
        edition_id: int,
        *,
        from_states: Collection[EditionState],
        reason: str,
        actor: str,
        now: dt.datetime,
    ) -> Edition:
        """→ HALTED with a German reason a person must act on; audited once per reason
        (a retry that stops for the same reason again adds no entry)."""
        with wrap_errors(f"halting edition {edition_id}"), self._engine.begin() as conn:
            row = conn.execute(
                select(editions.c.state, editions.c.halt_reason).where(editions.c.id == edition_id)
            ).first()
            if row is None:
                raise EditionNotFound(edition_id)
            allowed = {s.value for s in from_states} | {EditionState.HALTED.value}
            result = conn.execute(
                update(editions)
                .where(editions.c.id == edition_id, editions.c.state.in_(allowed))
                .values(
                    state=EditionState.HALTED.value,
                    version=editions.c.version + 1,
                    updated_at=now,
                    halt_reason=reason,
                    halted_at=now,
                )
            )
            if result.rowcount != 1:
                current = _state(conn, edition_id)
                raise InvalidTransition(edition_id, current.value, EditionState.HALTED.value)
            if row.state != EditionState.HALTED.value or row.halt_reason != reason:
                write_audit(
                    conn, now, actor, f"edition.{EditionState.HALTED.value}",
                    edition_id=edition_id, detail=reason,
                )  # fmt: skip
            return _load(conn, edition_id)

    def resume(self, edition_id: int, *, actor: str, now: dt.datetime) -> Edition:
        """HALTED → SENDING (staff pressed "Versand fortsetzen"): `send-due` goes on with
        the ledger's queued rows; the halt reason stays readable in the audit trail."""
        with wrap_errors(f"resuming edition {edition_id}"), self._engine.begin() as conn:
            result = conn.execute(
                update(editions)
                .where(
                    editions.c.id == edition_id,
                    editions.c.state == EditionState.HALTED.value,
                )
                .values(
                    state=EditionState.SENDING.value,
                    version=editions.c.version + 1,
                    updated_at=now,
                    halt_reason=None,
                    halted_at=None,
                )
            )
            if result.rowcount != 1:
                current = _state(conn, edition_id)  # EditionNotFound
                raise InvalidTransition(edition_id, current.value, EditionState.SENDING.value)
            write_audit(conn, now, actor, "edition.resumed", edition_id=edition_id, detail="")
            return _load(conn, edition_id)

    def finish_sending(self, edition_id: int, *, actor: str, now: dt.datetime) -> Edition:
        """Sending → sent once no delivery is queued, claimed or sending any more (checked
        in the same statement: rows staff queue again meanwhile keep it sending); already
        sent: nothing changes. `sent_at` keeps the time of the first completed send; the
        end of a later resend is an audit entry of its own. Returns the edition as it is
        (still SENDING when rows are pending)."""
        pending = (
            select(deliveries.c.id)
            .where(
                deliveries.c.edition_id == edition_id,
                deliveries.c.state.in_(PENDING_DELIVERY_STATES),
            )
            .exists()
        )
        with wrap_errors(f"finishing edition {edition_id}"), self._engine.begin() as conn:
            before = conn.execute(
                select(editions.c.sent_at).where(editions.c.id == edition_id)
            ).first()
            result = conn.execute(
                update(editions)
                .where(
                    editions.c.id == edition_id,
                    editions.c.state == EditionState.SENDING.value,
                    ~pending,
                )
                .values(
                    state=EditionState.SENT.value,
                    version=editions.c.version + 1,
                    updated_at=now,
                    sent_at=func.coalesce(
                        editions.c.sent_at, literal(now, editions.c.sent_at.type)
                    ),
                )
            )
            if result.rowcount != 1:
                current = _state(conn, edition_id)  # EditionNotFound
                if current not in (EditionState.SENT, EditionState.SENDING):
                    raise InvalidTransition(edition_id, current.value, EditionState.SENT.value)
                return _load(conn, edition_id)  # another sender finished it, or rows wait
            resend = before is not None and before[0] is not None
            detail = (
                "Erneuter Versand abgeschlossen; das Versanddatum bleibt das des ersten Versands."
                if resend
                else ""
            )
            write_audit(
                conn, now, actor, f"edition.{EditionState.SENT.value}", edition_id=edition_id,
                detail=detail,
            )  # fmt: skip
            return _load(conn, edition_id)

    # ------------------------------------------------------------ internals

    def _edit(
        self,
        edition_id: int,
        actor: str,
        now: dt.datetime,
        action: str,
        change: Callable[[Connection, Layout], tuple[Layout, str]],
        expected_version: int | None = None,
        item_id: int | None = None,
    ) -> Edition:
        with wrap_errors(f"editing edition {edition_id}"), self._engine.begin() as conn:
            claim = (
                update(editions)
                .where(editions.c.id == edition_id, editions.c.state == EditionState.DRAFT.value)
                .values(version=editions.c.version + 1, updated_at=now, last_editor=actor)
            )
            if expected_version is not None:
                claim = claim.where(editions.c.version == expected_version)
            if conn.execute(claim).rowcount != 1:
                state = _state(conn, edition_id)
                if state is not EditionState.DRAFT:
                    raise InvalidTransition(edition_id, state.value, "edit")
                raise StaleEdit(
                    "Die Ausgabe wurde inzwischen von jemand anderem geändert; "
                    "bitte die aktuelle Fassung prüfen und erneut speichern."
                )
            layout, detail = change(conn, _layout(conn, edition_id))
            _write_layout(conn, edition_id, layout)
            write_audit(
                conn, now, actor, action, edition_id=edition_id, item_id=item_id, detail=detail
            )
            return _load(conn, edition_id)


def _title(conn: Connection, item_id: int) -> str:
    """An item as the audit trail names it: its title in quotes, cut to 80 characters."""
    title = conn.execute(select(items.c.title).where(items.c.id == item_id)).scalar() or ""
    return f"„{title[:80]}{'…' if len(title) > 80 else ''}“"


def _state(conn: Connection, edition_id: int) -> EditionState:
    value = conn.execute(select(editions.c.state).where(editions.c.id == edition_id)).scalar()
    if value is None:
        raise EditionNotFound(edition_id)
    return EditionState(value)


def _section_index(layout: Layout, section_id: int | None) -> int:
    for n, (sid, _) in enumerate(layout):
        if sid == section_id:
            return n
    raise InvalidInput(f"Rubrik {section_id} gehört nicht zu dieser Ausgabe.")


def _layout(conn: Connection, edition_id: int) -> Layout:
    sections = conn.execute(
        select(edition_sections.c.id)
        .where(edition_sections.c.edition_id == edition_id)
        .order_by(edition_sections.c.position, edition_sections.c.id)
    ).scalars()
    layout: Layout = [(int(s), []) for s in sections]
    index = {s: n for n, (s, _) in enumerate(layout)}
    for row in conn.execute(
        select(edition_items.c.section_id, edition_items.c.item_id)
        .where(edition_items.c.edition_id == edition_id)
        .order_by(edition_items.c.position)
    ):
        layout[index[row.section_id]][1].append(int(row.item_id))
    return layout


def _write_layout(conn: Connection, edition_id: int, layout: Layout) -> None:
    """Store sections' order and items' order as given (positions 0..n-1)."""
    conn.execute(delete(edition_items).where(edition_items.c.edition_id == edition_id))
    rows, seen = [], set()
    for section_position, (section_id, ids) in enumerate(layout):
        conn.execute(
            update(edition_sections)
            .where(edition_sections.c.id == section_id)
            .values(position=section_position)
        )
        for position, item_id in enumerate(ids):
            if item_id in seen:
                continue
            seen.add(item_id)
            rows.append(
                {
                    "edition_id": edition_id,
                    "item_id": item_id,
                    "section_id": section_id,
                    "position": position,
                }
            )
    if rows:
        conn.execute(insert(edition_items), rows)


def _load(conn: Connection, edition_id: int) -> Edition:
    row = conn.execute(select(editions).where(editions.c.id == edition_id)).first()
    if row is None:
        raise EditionNotFound(edition_id)
    titles = {
        r.id: r.title
        for r in conn.execute(
            select(edition_sections.c.id, edition_sections.c.title).where(
                edition_sections.c.edition_id == edition_id
            )
        )
    }
    sections = tuple(
        EditionSection(id=s, title=titles[s], position=n, item_ids=tuple(ids))
        for n, (s, ids) in enumerate(_layout(conn, edition_id))
    )
    m = row._mapping
    return Edition(
        id=m["id"],
        newsletter_id=m["newsletter_id"],
        title=m["title"],
        intro=m["intro"],
        state=EditionState(m["state"]),
        created_at=m["created_at"],
        created_by=m["created_by"],
        version=m["version"],
        updated_at=m["updated_at"],
        last_editor=m["last_editor"],
        approved_by=m["approved_by"],
        approved_at=m["approved_at"],
        scheduled_at=m["scheduled_at"],
        sent_at=m["sent_at"],
        sections=sections,
        halt_reason=m["halt_reason"],
        halted_at=m["halted_at"],
    )
