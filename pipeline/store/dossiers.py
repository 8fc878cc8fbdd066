"""Dossiers: procedures, their aliases and events, the items threaded to them, who follows them.

upsert(records)      merge what one source says (non-empty fields win, aliases add up,
                     the source's events replace its earlier ones); stage recomputed
thread()             every item whose references name an alias joins its dossier
                     (one join over item_references; corrigenda by their act); a
                     newly joined EUR-Lex document adds its events (Berichtigung, im
                     Amtsblatt) and, named with the procedure, the act as an alias
attach / detach      staff, by hand, audited; a detached item never comes back by itself
follow / unfollow    staff, audited
mark_seen / unseen   which events of followed dossiers a staff member has not seen yet
                     (new since they last opened the dossier's page)
note / set_note      the office's note on a dossier (Markdown), audited
followed_of_items    which followed dossiers the items of an inbox page belong to
publish              staff offer a dossier to subscribers (audited)
reader_follows / set_reader_follows
                     the published dossiers a subscriber follows (preference page)
news_for(edition)    per subscriber, the events of followed dossiers their digest of
                     this edition reports; frozen when the edition is first planned
list / get           the views of the command line (and later the desk)
published / get_published   what the public archive shows (no followers)
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from pipeline.errors import DossierNotFound, ItemNotFound
from pipeline.model import (
    Dossier,
    DossierEvent,
    DossierNews,
    DossierNote,
    DossierRecord,
    DossierUpsert,
    EventKind,
    ProcedureType,
    Stage,
    UnseenEvents,
    celex_in_url,
    document_events,
    equivalents,
    main_celex,
    next_step,
    stage_of,
)
from pipeline.store.audit import write_audit
from pipeline.store.base import upsert as upsert_stmt
from pipeline.store.base import wrap_errors
from pipeline.store.schema import (
    deliveries,
    dossier_aliases,
    dossier_events,
    dossier_follows,
    dossier_items,
    dossier_notes,
    dossier_reports,
    dossiers,
    editions,
    item_references,
    items,
    subscriber_dossiers,
)

_MERGED_FIELDS = (
    "title_de",
    "title_en",
    "title_other",
    "title_other_language",
    "lead_committee",
    "rapporteur",
    "train_url",
)


class DossiersStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ------------------------------------------------------------ writing from sources

    def upsert(self, records: Sequence[DossierRecord], *, now: dt.datetime) -> DossierUpsert:
        """Store what sources say about procedures; one transaction for the batch."""
        new = updated = unchanged = 0
        with wrap_errors("storing dossiers"), self._engine.begin() as conn:
            for record in records:
                outcome = _upsert_one(conn, record, now)
                new += outcome == "new"
                updated += outcome == "updated"
                unchanged += outcome == "unchanged"
        return DossierUpsert(
            new=new,
            updated=updated,
            unchanged=unchanged,
            references=tuple(r.reference for r in records),
        )

    def thread(self, *, now: dt.datetime) -> int:
        """Link every item whose references name a dossier's alias; the number of new links.

        Runs at the end of every ingest, over all items, so items that arrived before
        their dossier was known join it too. Cheap: nothing when there are no dossiers,
        else one indexed join and a look at corrigenda (references ending in R(nn)).

        A newly linked item that is an EUR-Lex document (its link names a CELEX number)
        adds what it says to the dossier (`model.document_events`): a corrigendum an
        event "Berichtigung", the act's publication the event "Im Amtsblatt
        veröffentlicht" (stage "im Amtsblatt"), and an act whose entry names the
        procedure or the proposal becomes an alias — then threading runs once more, so
        items naming only the act join in the same run."""
        with wrap_errors("threading items to dossiers"), self._engine.begin() as conn:
            if conn.execute(select(dossiers.c.id).limit(1)).first() is None:
                return 0
            total = 0
            for _ in range(2):
                fresh = _thread_once(conn, now)
                total += len(fresh)
                if not _document_events(conn, fresh, now):
                    break
            return total

    # ------------------------------------------------------------ staff

    def attach(self, reference: str, item_id: int, *, actor: str, now: dt.datetime) -> bool:
        """Staff thread an item by hand; False when it was linked already."""
        with wrap_errors("attaching an item to a dossier"), self._engine.begin() as conn:
            dossier_id, canonical = _resolve(conn, reference)
            if conn.execute(select(items.c.id).where(items.c.id == item_id)).first() is None:
                raise ItemNotFound(item_id)
            row = conn.execute(
                select(dossier_items.c.detached).where(
                    dossier_items.c.dossier_id == dossier_id, dossier_items.c.item_id == item_id
                )
            ).first()
            if row is not None and not row.detached:
                return False
            values = {"origin": "staff", "detached": False, "at": now, "by": actor}
            if row is None:
                conn.execute(
                    insert(dossier_items).values(dossier_id=dossier_id, item_id=item_id, **values)
                )
            else:
                conn.execute(
                    update(dossier_items)
                    .where(
                        dossier_items.c.dossier_id == dossier_id,
                        dossier_items.c.item_id == item_id,
                    )
                    .values(**values)
                )
            write_audit(conn, now, actor, "dossier.attach", item_id=item_id, detail=canonical)
            return True

    def detach(self, reference: str, item_id: int, *, actor: str, now: dt.datetime) -> bool:
        """Staff take an item out of a dossier; it stays out. False when it was not in it."""
        with wrap_errors("detaching an item from a dossier"), self._engine.begin() as conn:
            dossier_id, canonical = _resolve(conn, reference)
            where = and_(
                dossier_items.c.dossier_id == dossier_id, dossier_items.c.item_id == item_id
            )
            row = conn.execute(select(dossier_items.c.detached).where(where)).first()
            if row is not None and row.detached:
                return False
            if row is None:
                if conn.execute(select(items.c.id).where(items.c.id == item_id)).first() is None:
                    raise ItemNotFound(item_id)
                conn.execute(
                    insert(dossier_items).values(
                        dossier_id=dossier_id,
                        item_id=item_id,
                        origin="staff",
                        detached=True,
                        at=now,
                        by=actor,
                    )
                )
            else:
                conn.execute(
                    update(dossier_items).where(where).values(detached=True, at=now, by=actor)
                )
            write_audit(conn, now, actor, "dossier.detach", item_id=item_id, detail=canonical)
            return True

    def follow(self, reference: str, user: str, *, now: dt.datetime) -> bool:
        """`user` follows the dossier; False when they did already."""
        with wrap_errors("following a dossier"), self._engine.begin() as conn:
            dossier_id, canonical = _resolve(conn, reference)
            stmt = (
                upsert_stmt(conn, dossier_follows)
                .values(
                    dossier_id=dossier_id,
                    user_name=user,
                    followed_at=now,
                    seen_event_id=_newest_event(conn, dossier_id),
                )
                .on_conflict_do_nothing()
                .returning(dossier_follows.c.dossier_id)
            )
            added = conn.execute(stmt).first() is not None
            if added:
                write_audit(conn, now, user, "dossier.follow", detail=canonical)
            return added

    def unfollow(self, reference: str, user: str, *, now: dt.datetime) -> bool:
        with wrap_errors("unfollowing a dossier"), self._engine.begin() as conn:
            dossier_id, canonical = _resolve(conn, reference)
            removed = (
                conn.execute(
                    delete(dossier_follows).where(
                        dossier_follows.c.dossier_id == dossier_id,
                        dossier_follows.c.user_name == user,
                    )
                ).rowcount
                == 1
            )
            if removed:
                write_audit(conn, now, user, "dossier.unfollow", detail=canonical)
            return removed

    def mark_seen(self, reference: str, user: str) -> int | None:
        """`user` opened the dossier's page: its events so far are no longer new to them.

        Returns the newest event id they had seen before (what the page may mark "neu"
        above it), or None when they do not follow the dossier (nothing is stored)."""
        with wrap_errors("marking a dossier seen"), self._engine.begin() as conn:
            dossier_id, _ = _resolve(conn, reference)
            where = and_(
                dossier_follows.c.dossier_id == dossier_id, dossier_follows.c.user_name == user
            )
            before = conn.execute(select(dossier_follows.c.seen_event_id).where(where)).scalar()
            if before is None:
                return None
            newest = _newest_event(conn, dossier_id)
            if newest > before:
                conn.execute(update(dossier_follows).where(where).values(seen_event_id=newest))
            return int(before)

    def unseen(self, user: str) -> builtins.list[UnseenEvents]:
        """The dossiers `user` follows that have events they have not seen (arrived since
        they last opened the page), the most recent news first. Forecasts do not count."""
        query = (
            select(
                dossiers.c.reference,
                dossiers.c.title_de,
                dossiers.c.title_en,
                dossiers.c.title_other,
                dossiers.c.stage,
                dossier_events,
            )
            .join(dossier_follows, dossier_follows.c.dossier_id == dossiers.c.id)
            .join(dossier_events, dossier_events.c.dossier_id == dossiers.c.id)
            .where(
                dossier_follows.c.user_name == user,
                dossier_events.c.forecast.is_(False),
                dossier_events.c.id > dossier_follows.c.seen_event_id,
            )
            .order_by(dossiers.c.reference, dossier_events.c.date, dossier_events.c.id)
        )
        by: dict[str, builtins.list[Any]] = {}
        with wrap_errors("reading unseen dossier events"), self._engine.connect() as conn:
            for row in conn.execute(query):
                by.setdefault(row.reference, []).append(row)
        found = [
            UnseenEvents(
                reference=reference,
                title=rows[-1].title_de or rows[-1].title_en or rows[-1].title_other or reference,
                stage=Stage(rows[-1].stage),
                count=len(rows),
                latest=_event(rows[-1]._mapping),
            )
            for reference, rows in by.items()
        ]
        return sorted(found, key=lambda u: (u.latest.date, u.latest.id), reverse=True)

    def set_note(self, reference: str, note_md: str, *, actor: str, now: dt.datetime) -> bool:
        """The office's note on the dossier becomes `note_md`; False when it was that."""
        with wrap_errors("saving a dossier note"), self._engine.begin() as conn:
            dossier_id, canonical = _resolve(conn, reference)
            row = conn.execute(
                select(dossier_notes.c.note_md).where(dossier_notes.c.dossier_id == dossier_id)
            ).first()
            if row is not None and row.note_md == note_md:
                return False
            values = {"note_md": note_md, "updated_at": now, "updated_by": actor}
            if row is None:
                conn.execute(insert(dossier_notes).values(dossier_id=dossier_id, **values))
            else:
                conn.execute(
                    update(dossier_notes)
                    .where(dossier_notes.c.dossier_id == dossier_id)
                    .values(**values)
                )
            write_audit(conn, now, actor, "dossier.note", detail=canonical)
            return True

    # ------------------------------------------------------------ subscribers

    def publish(self, reference: str, published: bool, *, actor: str, now: dt.datetime) -> bool:
        """Offer the dossier to subscribers (or stop); False when it was so already.

        Unpublishing keeps subscribers' follows (publishing again brings them back) but
        their digests carry no block of it meanwhile."""
        with wrap_errors("publishing a dossier"), self._engine.begin() as conn:
            dossier_id, canonical = _resolve(conn, reference)
            changed = conn.execute(
                update(dossiers)
                .where(dossiers.c.id == dossier_id, dossiers.c.published.is_(not published))
                .values(published=published)
            ).rowcount
            if changed:
                action = "dossier.publish" if published else "dossier.unpublish"
                write_audit(conn, now, actor, action, detail=canonical)
            return bool(changed)

    def reader_follows(self, subscriber_id: int) -> builtins.list[tuple[str, str, dt.datetime]]:
        """(reference, German-first title, since when) of the dossiers a subscriber
        follows, published or not."""
        with wrap_errors("reading a subscriber's dossiers"), self._engine.connect() as conn:
            return [
                (
                    r.reference,
                    r.title_de or r.title_en or r.title_other or r.reference,
                    r.followed_at,
                )
                for r in conn.execute(
                    select(
                        dossiers.c.reference,
                        dossiers.c.title_de,
                        dossiers.c.title_en,
                        dossiers.c.title_other,
                        subscriber_dossiers.c.followed_at,
                    )
                    .join(subscriber_dossiers, subscriber_dossiers.c.dossier_id == dossiers.c.id)
                    .where(subscriber_dossiers.c.subscriber_id == subscriber_id)
                    .order_by(dossiers.c.reference)
                )
            ]

    def set_reader_follows(
        self, subscriber_id: int, references: Iterable[str], *, now: dt.datetime
    ) -> tuple[int, int]:
        """The subscriber follows exactly these published dossiers; (added, removed).

        References that name no published dossier are ignored; follows of dossiers no
        longer published stay (the form does not show them). A new follow starts after
        the dossier's newest event: what happened before is not news to the reader."""
        wanted = {r.strip() for r in references if r.strip()}
        with wrap_errors("saving a subscriber's dossiers"), self._engine.begin() as conn:
            offered = {
                r.reference: r.id
                for r in conn.execute(
                    select(dossiers.c.id, dossiers.c.reference).where(
                        dossiers.c.published.is_(True)
                    )
                )
            }
            have = set(
                conn.execute(
                    select(subscriber_dossiers.c.dossier_id).where(
                        subscriber_dossiers.c.subscriber_id == subscriber_id
                    )
                ).scalars()
            )
            keep = {offered[r] for r in wanted if r in offered}
            drop = (have & set(offered.values())) - keep
            add = keep - have
            if drop:
                conn.execute(
                    delete(subscriber_dossiers).where(
                        subscriber_dossiers.c.subscriber_id == subscriber_id,
                        subscriber_dossiers.c.dossier_id.in_(drop),
                    )
                )
            for dossier_id in sorted(add):
                newest = conn.execute(
                    select(func.max(dossier_events.c.id)).where(
                        dossier_events.c.dossier_id == dossier_id
                    )
                ).scalar()
                conn.execute(
                    insert(subscriber_dossiers).values(
                        subscriber_id=subscriber_id,
                        dossier_id=dossier_id,
                        followed_at=now,
                        since_event_id=newest or 0,
                    )
                )
            return len(add), len(drop)

    def news_for(
        self, edition_id: int, subscriber_ids: Iterable[int], *, today: dt.date | None = None
    ) -> dict[int, tuple[DossierNews, ...]]:
        """Per subscriber, the news of the published dossiers they follow that their
        digest of this edition reports ("Neues in Ihren Verfahren").

        Frozen once per edition: the first call before the edition's deliveries are
        planned stores each reader's window of event ids (after the newest event an
        earlier digest reported to them, through the dossier's newest event now);
        every later call (a resumed send) reads the same windows, so a reader's block
        never changes within an edition. A window counts as reported unless that
        reader's delivery of its edition ended failed or skipped: then its events come
        again in the next digest. Forecasts are never news.

        The stage is the one the window's events reached; the next step is the earliest
        forecast from the day the edition was planned (`today` before that; no next
        step without either), so a resumed send tells the same."""
        wanted = set(subscriber_ids)
        with wrap_errors("planning dossier news"), self._engine.begin() as conn:
            windows = _frozen_windows(conn, edition_id)
            planned = conn.execute(
                select(editions.c.planned_at).where(editions.c.id == edition_id)
            ).scalar()
            if planned is not None:
                today = planned.date()
            if not windows and planned is None:
                windows = _new_windows(conn, wanted)
                if windows:
                    conn.execute(
                        insert(dossier_reports),
                        [
                            {
                                "edition_id": edition_id,
                                "subscriber_id": sid,
                                "dossier_id": did,
                                "after_event_id": after,
                                "through_event_id": through,
                            }
                            for (sid, did), (after, through) in windows.items()
                        ],
                    )
            return _news(conn, {k: v for k, v in windows.items() if k[0] in wanted}, today)

    def preview_news(
        self, newsletter_id: str, edition_id: int, references: Iterable[str], *, today: dt.date
    ) -> tuple[DossierNews, ...]:
        """The block a reader following `references` (published dossiers only) would get
        in this edition, for the desk's preview: the events after those the previous
        editions of the newsletter reported to anyone, through the newest (the whole
        history when none did; the digest shows its newest steps). Reads only: a
        preview never freezes a window or marks anything reported."""
        wanted = {r.strip() for r in references if r.strip()}
        if not wanted:
            return ()
        with wrap_errors("previewing dossier news"), self._engine.connect() as conn:
            chosen = {
                int(r.id)
                for r in conn.execute(
                    select(dossiers.c.id).where(
                        dossiers.c.reference.in_(wanted), dossiers.c.published.is_(True)
                    )
                )
            }
            if not chosen:
                return ()
            planned = conn.execute(
                select(editions.c.planned_at).where(editions.c.id == edition_id)
            ).scalar()
            if planned is not None:  # as its digests tell the next step
                today = planned.date()
            earlier = {
                int(did): int(through)
                for did, through in conn.execute(
                    select(
                        dossier_reports.c.dossier_id, func.max(dossier_reports.c.through_event_id)
                    )
                    .join(editions, editions.c.id == dossier_reports.c.edition_id)
                    .where(
                        dossier_reports.c.dossier_id.in_(chosen),
                        editions.c.newsletter_id == newsletter_id,
                        editions.c.id < edition_id,
                    )
                    .group_by(dossier_reports.c.dossier_id)
                )
            }
            frozen = {
                int(did): int(through)
                for did, through in conn.execute(
                    select(
                        dossier_reports.c.dossier_id, func.max(dossier_reports.c.through_event_id)
                    )
                    .where(
                        dossier_reports.c.dossier_id.in_(chosen),
                        dossier_reports.c.edition_id == edition_id,
                    )
                    .group_by(dossier_reports.c.dossier_id)
                )
            }
            windows: _Windows = {}
            for did in chosen:
                through = frozen.get(did) or _newest_event(conn, did)
                after = earlier.get(did, 0)
                if through > after:
                    windows[(0, did)] = (after, through)
            return _news(conn, windows, today).get(0, ())

    # ------------------------------------------------------------ reading

    def list(
        self,
        *,
        today: dt.date,
        stage: Stage | None = None,
        followed_by: str | None = None,
        published: bool | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Dossier]:
        """Dossiers with their item and event counts, the most recently changed first;
        `limit`/`offset`: one page of them (counts and next steps read for it alone)."""
        n_items = (
            select(func.count())
            .select_from(dossier_items)
            .where(dossier_items.c.dossier_id == dossiers.c.id, dossier_items.c.detached.is_(False))
            .scalar_subquery()
        )
        n_events = (
            select(func.count())
            .select_from(dossier_events)
            .where(
                dossier_events.c.dossier_id == dossiers.c.id, dossier_events.c.forecast.is_(False)
            )
            .scalar_subquery()
        )
        query = select(dossiers, n_items.label("n_items"), n_events.label("n_events"))
        query = query.where(*_list_filters(stage, followed_by, published))
        query = query.order_by(dossiers.c.updated_at.desc(), dossiers.c.reference)
        if limit is not None:
            query = query.limit(limit).offset(offset)
        with wrap_errors("listing dossiers"), self._engine.connect() as conn:
            rows = conn.execute(query).all()
            ids = [r.id for r in rows]
            forecasts = _forecasts(conn, ids, today)
        return [
            _dossier(
                r._mapping,
                item_count=r.n_items,
                event_count=r.n_events,
                next_step=next_step(Stage(r.stage), forecasts.get(r.id, ()), today),
            )
            for r in rows
        ]

    def count(
        self,
        *,
        stage: Stage | None = None,
        followed_by: str | None = None,
        published: bool | None = None,
    ) -> int:
        """How many dossiers `list` gives with these filters."""
        where = _list_filters(stage, followed_by, published)
        with wrap_errors("counting dossiers"), self._engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(dossiers).where(*where)).scalar_one()
            )

    def get(self, reference: str, *, today: dt.date) -> Dossier:
        """The whole record, by its reference or any alias (in any spelling); forecasts
        only from `today` on."""
        with wrap_errors("reading a dossier"), self._engine.connect() as conn:
            dossier_id, _ = _resolve(conn, reference)
            row = conn.execute(select(dossiers).where(dossiers.c.id == dossier_id)).one()
            aliases = tuple(
                a
                for (a,) in conn.execute(
                    select(dossier_aliases.c.alias)
                    .where(dossier_aliases.c.dossier_id == dossier_id)
                    .order_by(dossier_aliases.c.alias)
                )
                if a != row.reference
            )
            # A forecast whose day has passed tells nothing any more: what happened is
            # an event of its own.
            events = tuple(
                _event(e._mapping)
                for e in conn.execute(
                    select(dossier_events)
                    .where(
                        dossier_events.c.dossier_id == dossier_id,
                        or_(dossier_events.c.forecast.is_(False), dossier_events.c.date >= today),
                    )
                    .order_by(dossier_events.c.date, dossier_events.c.id)
                )
            )
            item_ids = tuple(
                i
                for (i,) in conn.execute(
                    select(dossier_items.c.item_id)
                    .where(
                        dossier_items.c.dossier_id == dossier_id,
                        dossier_items.c.detached.is_(False),
                    )
                    .order_by(dossier_items.c.item_id)
                )
            )
            followers = tuple(
                u
                for (u,) in conn.execute(
                    select(dossier_follows.c.user_name)
                    .where(dossier_follows.c.dossier_id == dossier_id)
                    .order_by(dossier_follows.c.user_name)
                )
            )
        return _dossier(
            row._mapping,
            aliases=aliases,
            events=events,
            item_ids=item_ids,
            followers=followers,
            item_count=len(item_ids),
            event_count=sum(1 for e in events if not e.forecast),
            next_step=next_step(Stage(row.stage), events, today),
        )

    # ------------------------------------------------------------ the public archive

    def published(self, *, today: dt.date, everything: bool) -> builtins.list[Dossier]:
        """The dossiers the public archive shows, most recently changed first, without
        followers. `everything`: office.yaml's `archive.dossiers: public`; else only the
        ones staff published (the `published` column, once a migration adds it)."""
        found = self.list(today=today)
        if not everything:
            chosen = self._published_ids()
            found = [d for d in found if d.id in chosen]
        return [replace(d, followers=()) for d in found]

    def get_published(self, reference: str, *, today: dt.date, everything: bool) -> Dossier:
        """One dossier of the public archive, without followers; DossierNotFound when it
        does not exist or is not published."""
        found = self.get(reference, today=today)
        if not everything and found.id not in self._published_ids():
            raise DossierNotFound(reference)
        return replace(found, followers=())

    def _published_ids(self) -> set[int]:
        column = dossiers.c.get("published")
        if column is None:  # no per-dossier publication yet: nothing is published by hand
            return set()
        with wrap_errors("reading published dossiers"), self._engine.connect() as conn:
            return {int(i) for (i,) in conn.execute(select(dossiers.c.id).where(column.is_(True)))}

    def of_item(self, item_id: int) -> builtins.list[str]:
        """The references of the dossiers an item is threaded to."""
        with wrap_errors("reading an item's dossiers"), self._engine.connect() as conn:
            return [
                r
                for (r,) in conn.execute(
                    select(dossiers.c.reference)
                    .join(dossier_items, dossier_items.c.dossier_id == dossiers.c.id)
                    .where(dossier_items.c.item_id == item_id, dossier_items.c.detached.is_(False))
                    .order_by(dossiers.c.reference)
                )
            ]

    def note(self, reference: str) -> DossierNote | None:
        """The office's note on the dossier; None when nobody wrote one."""
        with wrap_errors("reading a dossier note"), self._engine.connect() as conn:
            dossier_id, _ = _resolve(conn, reference)
            row = conn.execute(
                select(dossier_notes).where(dossier_notes.c.dossier_id == dossier_id)
            ).first()
        if row is None or not row.note_md:
            return None
        return DossierNote(
            note_md=row.note_md, updated_at=row.updated_at, updated_by=row.updated_by
        )

    def followed_of_items(
        self, user: str, item_ids: Iterable[int]
    ) -> dict[int, builtins.list[str]]:
        """For the items among `item_ids` that belong to a dossier `user` follows: the
        references of those dossiers (one query, for an inbox page)."""
        ids = sorted(set(item_ids))
        if not ids:
            return {}
        query = (
            select(dossier_items.c.item_id, dossiers.c.reference)
            .join(dossiers, dossiers.c.id == dossier_items.c.dossier_id)
            .join(
                dossier_follows,
                and_(
                    dossier_follows.c.dossier_id == dossier_items.c.dossier_id,
                    dossier_follows.c.user_name == user,
                ),
            )
            .where(dossier_items.c.item_id.in_(ids), dossier_items.c.detached.is_(False))
            .order_by(dossier_items.c.item_id, dossiers.c.reference)
        )
        found: dict[int, builtins.list[str]] = {}
        with wrap_errors("reading followed dossiers"), self._engine.connect() as conn:
            for item_id, reference in conn.execute(query):
                found.setdefault(item_id, []).append(reference)
        return found


# ---------------------------------------------------------------- helpers

_Windows = dict[tuple[int, int], tuple[int, int]]  # (subscriber, dossier) → (after, through]


def _frozen_windows(conn: Connection, edition_id: int) -> _Windows:
    return {
        (r.subscriber_id, r.dossier_id): (r.after_event_id, r.through_event_id)
        for r in conn.execute(
            select(dossier_reports).where(dossier_reports.c.edition_id == edition_id)
        )
    }


def _new_windows(conn: Connection, subscriber_ids: set[int]) -> _Windows:
    """Each follower's window over their published dossiers that has news in it."""
    follows = [
        r
        for r in conn.execute(
            select(subscriber_dossiers)
            .join(dossiers, dossiers.c.id == subscriber_dossiers.c.dossier_id)
            .where(dossiers.c.published.is_(True))
        )
        if r.subscriber_id in subscriber_ids
    ]
    if not follows:
        return {}
    dossier_ids = {r.dossier_id for r in follows}
    newest = {
        did: top
        for did, top in conn.execute(
            select(dossier_events.c.dossier_id, func.max(dossier_events.c.id))
            .where(
                dossier_events.c.dossier_id.in_(dossier_ids), dossier_events.c.forecast.is_(False)
            )
            .group_by(dossier_events.c.dossier_id)
        )
    }
    # What earlier digests reported, or still will: queued, sending and unknown count,
    # and so does an edition stopped between freezing and planning (its resume sends
    # the frozen windows). Failed and skipped deliveries do not.
    reported = {
        (sid, did): through
        for sid, did, through in conn.execute(
            select(
                dossier_reports.c.subscriber_id,
                dossier_reports.c.dossier_id,
                func.max(dossier_reports.c.through_event_id),
            )
            .join(editions, editions.c.id == dossier_reports.c.edition_id)
            .outerjoin(
                deliveries,
                and_(
                    deliveries.c.edition_id == dossier_reports.c.edition_id,
                    deliveries.c.subscriber_id == dossier_reports.c.subscriber_id,
                ),
            )
            .where(
                dossier_reports.c.dossier_id.in_(dossier_ids),
                or_(
                    deliveries.c.state.not_in(("failed", "skipped")),
                    and_(deliveries.c.id.is_(None), editions.c.planned_at.is_(None)),
                ),
            )
            .group_by(dossier_reports.c.subscriber_id, dossier_reports.c.dossier_id)
        )
    }
    found: _Windows = {}
    for r in follows:
        after = max(r.since_event_id, reported.get((r.subscriber_id, r.dossier_id), 0))
        through = newest.get(r.dossier_id, 0)
        if through > after:
            found[(r.subscriber_id, r.dossier_id)] = (after, through)
    return found


def _news(
    conn: Connection, windows: _Windows, today: dt.date | None
) -> dict[int, tuple[DossierNews, ...]]:
    if not windows:
        return {}
    dossier_ids = {did for _, did in windows}
    rows = {
        r.id: r
        for r in conn.execute(
            select(dossiers.c.id, dossiers.c.reference, dossiers.c.title_de, dossiers.c.title_en)
            .add_columns(dossiers.c.title_other, dossiers.c.stage)
            .add_columns(dossiers.c.procedure_type, dossiers.c.withdrawn)
            .where(dossiers.c.id.in_(dossier_ids))
        )
    }
    aliases: dict[int, builtins.list[str]] = {}
    for did, alias in conn.execute(
        select(dossier_aliases.c.dossier_id, dossier_aliases.c.alias).where(
            dossier_aliases.c.dossier_id.in_(dossier_ids)
        )
    ):
        aliases.setdefault(did, []).append(alias)
    # every event of these dossiers: the window's, the ones before it (the stage it
    # began from) and the forecasts (the next step)
    events: dict[int, builtins.list[DossierEvent]] = {}
    for e in conn.execute(
        select(dossier_events)
        .where(dossier_events.c.dossier_id.in_(dossier_ids))
        .order_by(dossier_events.c.date, dossier_events.c.id)
    ):
        events.setdefault(e.dossier_id, []).append(_event(e._mapping))
    found: dict[int, builtins.list[DossierNews]] = {}
    for (sid, did), (after, through) in sorted(windows.items()):
        every = events.get(did, [])
        mine = [e for e in every if not e.forecast and after < e.id <= through]
        row = rows.get(did)
        if not mine or row is None:
            continue
        past = [e for e in every if not e.forecast and e.id <= through]
        withdrawn = bool(row.withdrawn)
        stage = stage_of(past, withdrawn)
        before = stage_of([e for e in past if e.id <= after], withdrawn)
        forecasts = tuple(e for e in every if e.forecast)
        found.setdefault(sid, []).append(
            DossierNews(
                dossier_id=did,
                reference=row.reference,
                title=row.title_de or row.title_en or row.title_other or row.reference,
                stage=stage,
                events=tuple(mine),
                event_ids=tuple(e.id for e in mine),
                procedure_type=ProcedureType.of(row.procedure_type),
                stage_before=before if before is not stage else None,
                next_step=next_step(stage, forecasts, today) if today is not None else "",
                celex=main_celex(aliases.get(did, ())),
            )
        )
    return {sid: tuple(n) for sid, n in found.items()}


def _newest_event(conn: Connection, dossier_id: int) -> int:
    """The id of the dossier's newest event that is not a forecast; 0 when none."""
    newest = conn.execute(
        select(func.max(dossier_events.c.id)).where(
            dossier_events.c.dossier_id == dossier_id, dossier_events.c.forecast.is_(False)
        )
    ).scalar()
    return int(newest or 0)


def _thread_once(conn: Connection, now: dt.datetime) -> builtins.list[tuple[int, int]]:
    """Link the items whose references name an alias (or, for a corrigendum, its act's);
    the new (item, dossier) pairs."""
    linked = (
        select(dossier_items.c.item_id)
        .where(
            dossier_items.c.item_id == item_references.c.item_id,
            dossier_items.c.dossier_id == dossier_aliases.c.dossier_id,
        )
        .exists()
    )
    pairs: set[tuple[int, int]] = {
        (int(i), int(d))
        for i, d in conn.execute(
            select(item_references.c.item_id, dossier_aliases.c.dossier_id)
            .join(dossier_aliases, dossier_aliases.c.alias == item_references.c.reference)
            .where(~linked)
            .distinct()
        )
    }
    corrigenda = conn.execute(
        select(item_references.c.item_id, item_references.c.reference).where(
            item_references.c.reference.like("%R(__)")
        )
    ).all()
    if corrigenda:
        by_alias: dict[str, set[int]] = {}
        for dossier_id, alias in conn.execute(
            select(dossier_aliases.c.dossier_id, dossier_aliases.c.alias)
        ):
            by_alias.setdefault(alias, set()).add(dossier_id)
        found = {
            (int(item_id), d)
            for item_id, reference in corrigenda
            for key in equivalents(reference)
            for d in by_alias.get(key, ())
        }
        if found:
            known = {
                (int(i), int(d))
                for i, d in conn.execute(
                    select(dossier_items.c.item_id, dossier_items.c.dossier_id).where(
                        dossier_items.c.item_id.in_({i for i, _ in found})
                    )
                )
            }
            pairs |= found - known
    fresh = sorted(pairs)
    if fresh:
        conn.execute(
            insert(dossier_items),
            [
                {
                    "dossier_id": d,
                    "item_id": i,
                    "origin": "auto",
                    "detached": False,
                    "at": now,
                    "by": "",
                }
                for i, d in fresh
            ],
        )
    return fresh


_BRUSSELS = ZoneInfo("Europe/Brussels")


def _document_events(conn: Connection, pairs: Sequence[tuple[int, int]], now: dt.datetime) -> bool:
    """Events and aliases that newly linked EUR-Lex documents add to their dossiers
    (`model.document_events`); True when an alias was added."""
    if not pairs:
        return False
    item_ids = sorted({i for i, _ in pairs})
    documents: dict[int, tuple[str, dt.date, str]] = {}
    for chunk in _chunks(item_ids):
        for r in conn.execute(
            select(items.c.id, items.c.url, items.c.published, items.c.source_id).where(
                items.c.id.in_(chunk), items.c.url.like("%eur-lex.europa.eu%")
            )
        ):
            celex = celex_in_url(r.url)
            if celex is not None and celex.startswith("3"):
                day = _aware(r.published).astimezone(_BRUSSELS).date()
                documents[int(r.id)] = (celex, day, str(r.source_id))
    if not documents:
        return False
    wanted = [(i, d) for i, d in pairs if i in documents]
    refs: dict[int, builtins.list[str]] = {}
    for i, ref in conn.execute(
        select(item_references.c.item_id, item_references.c.reference).where(
            item_references.c.item_id.in_(sorted(documents))
        )
    ):
        refs.setdefault(int(i), []).append(ref)
    dossier_ids = sorted({d for _, d in wanted})
    known: dict[int, set[str]] = {}
    for d, alias in conn.execute(
        select(dossier_aliases.c.dossier_id, dossier_aliases.c.alias).where(
            dossier_aliases.c.dossier_id.in_(dossier_ids)
        )
    ):
        known.setdefault(int(d), set()).add(alias)
    references = dict(
        conn.execute(
            select(dossiers.c.id, dossiers.c.reference).where(dossiers.c.id.in_(dossier_ids))
        ).all()
    )
    added_alias = False
    touched: set[int] = set()
    for item_id, dossier_id in wanted:
        celex, day, source = documents[item_id]
        aliases = known.setdefault(dossier_id, set())
        new_aliases, events = document_events(
            celex, refs.get(item_id, []), references[dossier_id], aliases, day, source
        )
        missing = sorted(a for a in new_aliases if a not in aliases)
        if missing:
            conn.execute(
                insert(dossier_aliases),
                [{"dossier_id": dossier_id, "alias": a, "source": source} for a in missing],
            )
            aliases.update(missing)
            added_alias = True
            touched.add(dossier_id)
        for event in events:
            # one event per document and dossier, whichever EUR-Lex feed brought it; a
            # publication only when no source reported one (OEIL's "Final act published")
            same = [
                dossier_events.c.dossier_id == dossier_id,
                dossier_events.c.kind == event.kind.value,
                dossier_events.c.forecast.is_(False),
            ]
            if event.kind is not EventKind.OJ_PUBLICATION:
                same.append(dossier_events.c.document == event.document)
            seen = conn.execute(select(dossier_events.c.id).where(*same)).first()
            if seen is None:
                conn.execute(
                    insert(dossier_events).values(
                        dossier_id=dossier_id,
                        source=event.source,
                        key=_event_key(event),
                        date=event.date,
                        kind=event.kind.value,
                        label_en="",
                        document=event.document,
                        forecast=False,
                    )
                )
                touched.add(dossier_id)
    for dossier_id in sorted(touched):
        _restage(conn, dossier_id, now)
    return added_alias


def _restage(conn: Connection, dossier_id: int, now: dt.datetime) -> None:
    """The dossier's stage from its events now; updated_at moves (something happened)."""
    row = conn.execute(select(dossiers.c.withdrawn).where(dossiers.c.id == dossier_id)).one()
    events = [
        _event(e._mapping)
        for e in conn.execute(
            select(dossier_events).where(dossier_events.c.dossier_id == dossier_id)
        )
    ]
    conn.execute(
        update(dossiers)
        .where(dossiers.c.id == dossier_id)
        .values(stage=stage_of(events, bool(row.withdrawn)).value, updated_at=now)
    )


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _resolve(conn: Connection, reference: str) -> tuple[int, str]:
    """The id and reference of the dossier that `reference` (or an alias) names."""
    for key in (*equivalents(reference), reference.strip()):
        row = conn.execute(
            select(dossiers.c.id, dossiers.c.reference).where(dossiers.c.reference == key)
        ).first()
        if row is None:
            row = conn.execute(
                select(dossiers.c.id, dossiers.c.reference)
                .join(dossier_aliases, dossier_aliases.c.dossier_id == dossiers.c.id)
                .where(dossier_aliases.c.alias == key)
                .order_by(dossiers.c.id)
            ).first()
        if row is not None:
            return int(row.id), str(row.reference)
    raise DossierNotFound(reference)


def _upsert_one(conn: Connection, record: DossierRecord, now: dt.datetime) -> str:
    row = conn.execute(select(dossiers).where(dossiers.c.reference == record.reference)).first()
    fields: dict[str, Any] = {f: getattr(record, f) for f in _MERGED_FIELDS if getattr(record, f)}
    if record.procedure_type is not ProcedureType.OTHER:
        fields["procedure_type"] = record.procedure_type.value
    if row is None:
        dossier_id = conn.execute(
            insert(dossiers)
            .values(
                reference=record.reference,
                title_de="",
                title_en="",
                procedure_type=ProcedureType.OTHER.value,
                stage=Stage.PROPOSAL.value,
                lead_committee="",
                rapporteur="",
                withdrawn=False,
                created_at=now,
                updated_at=now,
            )
            .returning(dossiers.c.id)
        ).scalar_one()
        changed, outcome = True, "new"
        current: dict[str, Any] = {"withdrawn": False, "stage": Stage.PROPOSAL.value}
    else:
        dossier_id = row.id
        current = dict(row._mapping)
        changed, outcome = False, "unchanged"
    fields = {k: v for k, v in fields.items() if current.get(k) != v}
    if record.withdrawn and not current["withdrawn"]:
        fields["withdrawn"] = True
    changed |= bool(fields)

    aliases = {record.reference}
    for alias in record.aliases:
        aliases.update(equivalents(alias))
    # A part of a split file, and merged files, also answer to the other reference:
    # items naming it join both (docs/adr/0008-dossiers.md, "Splits and mergers").
    for relation in record.relations:
        if relation.shares_items:
            aliases.add(relation.reference)
    have = {
        a
        for (a,) in conn.execute(
            select(dossier_aliases.c.alias).where(dossier_aliases.c.dossier_id == dossier_id)
        )
    }
    missing = sorted(a for a in aliases - have if a and len(a) <= 200)
    if missing:
        conn.execute(
            insert(dossier_aliases),
            [{"dossier_id": dossier_id, "alias": a, "source": record.source} for a in missing],
        )
        changed = True

    events = list(record.events)
    # A relation's event: on the day the source gives, else on the record's newest step
    # (a stable day, so refetching does not move it).
    past = [e.date for e in record.events if not e.forecast]
    for relation in record.relations:
        day = relation.date or (max(past) if past else None)
        if day is not None:
            events.append(relation.event(record.source, day))
    if any(e.kind is EventKind.OJ_PUBLICATION and not e.forecast for e in events):
        # EUR-Lex reported the publication first (thread, _document_events): one event
        # "Im Amtsblatt veröffentlicht" per dossier, the first source's
        reported = conn.execute(
            select(dossier_events.c.id).where(
                dossier_events.c.dossier_id == dossier_id,
                dossier_events.c.kind == EventKind.OJ_PUBLICATION.value,
                dossier_events.c.forecast.is_(False),
                dossier_events.c.source != record.source,
                dossier_events.c.key.like("celex:%"),
            )
        ).first()
        if reported is not None:
            events = [e for e in events if e.kind is not EventKind.OJ_PUBLICATION or e.forecast]
    if events:  # a record without events (an entry of a procedure list) never erases
        changed |= _replace_events(conn, dossier_id, record.source, events)
    all_events = [
        _event(e._mapping)
        for e in conn.execute(
            select(dossier_events).where(dossier_events.c.dossier_id == dossier_id)
        )
    ]
    stage = stage_of(all_events, bool(fields.get("withdrawn", current["withdrawn"])))
    if stage.value != current["stage"]:
        fields["stage"] = stage.value
        changed = True
    if changed:
        conn.execute(
            update(dossiers).where(dossiers.c.id == dossier_id).values(**fields, updated_at=now)
        )
        if outcome == "unchanged":
            outcome = "updated"
    return outcome


def _event_key(e: DossierEvent) -> str:
    return (e.key or f"{e.date.isoformat()}:{e.kind.value}:{e.document}")[:300]


def _replace_events(
    conn: Connection, dossier_id: int, source: str, events: Iterable[DossierEvent]
) -> bool:
    """The source's events of this dossier become `events`; True when that changed them."""
    wanted: dict[str, DossierEvent] = {}
    for e in events:
        wanted.setdefault(_event_key(e), e)
    have = {
        r.key: r
        for r in conn.execute(
            select(dossier_events).where(
                dossier_events.c.dossier_id == dossier_id, dossier_events.c.source == source
            )
        )
    }

    def same(row: Any, e: DossierEvent) -> bool:
        return (row.date, row.kind, row.label_en, row.document, bool(row.forecast)) == (
            e.date,
            e.kind.value,
            e.label_en,
            e.document,
            e.forecast,
        )

    # An event keeps its row (and id) while its key lasts, corrected in place: new events
    # get higher ids than every event seen before, which is how subscribers' digests
    # tell what is new (news_for).
    stale = [k for k in have if k not in wanted]
    fresh = [k for k in wanted if k not in have]
    corrected = 0
    for k, e in wanted.items():
        if k in have and not same(have[k], e):
            conn.execute(
                update(dossier_events)
                .where(dossier_events.c.id == have[k].id)
                .values(
                    date=e.date,
                    kind=e.kind.value,
                    label_en=e.label_en[:2000],
                    document=e.document[:200],
                    forecast=e.forecast,
                )
            )
            corrected += 1
    if stale:
        conn.execute(
            delete(dossier_events).where(
                dossier_events.c.dossier_id == dossier_id,
                dossier_events.c.source == source,
                dossier_events.c.key.in_(stale),
            )
        )
    if fresh:
        conn.execute(
            insert(dossier_events),
            [
                {
                    "dossier_id": dossier_id,
                    "source": source,
                    "key": k,
                    "date": wanted[k].date,
                    "kind": wanted[k].kind.value,
                    "label_en": wanted[k].label_en[:2000],
                    "document": wanted[k].document[:200],
                    "forecast": wanted[k].forecast,
                }
                for k in fresh
            ],
        )
    return bool(stale or fresh or corrected)


def _forecasts(
    conn: Connection, ids: builtins.list[int], today: dt.date
) -> dict[int, tuple[DossierEvent, ...]]:
    if not ids:
        return {}
    found: dict[int, builtins.list[DossierEvent]] = {}
    for r in conn.execute(
        select(dossier_events).where(
            dossier_events.c.forecast.is_(True),
            dossier_events.c.date >= today,
            dossier_events.c.dossier_id.in_(ids),
        )
    ):
        found.setdefault(r.dossier_id, []).append(_event(r._mapping))
    return {k: tuple(v) for k, v in found.items()}


def _event(m: Any) -> DossierEvent:
    return DossierEvent(
        date=m["date"],
        kind=EventKind.of(m["kind"]),
        source=m["source"],
        key=m["key"],
        label_en=m["label_en"],
        document=m["document"],
        forecast=bool(m["forecast"]),
        id=int(m["id"]),
    )


def _dossier(m: Any, **extra: Any) -> Dossier:
    return Dossier(
        id=m["id"],
        reference=m["reference"],
        title_de=m["title_de"],
        title_en=m["title_en"],
        procedure_type=ProcedureType.of(m["procedure_type"]),
        stage=Stage(m["stage"]),
        lead_committee=m["lead_committee"],
        rapporteur=m["rapporteur"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        published=bool(m["published"]),
        title_other=m["title_other"],
        title_other_language=m["title_other_language"],
        train_url=m["train_url"],
        **extra,
    )


def _list_filters(
    stage: Stage | None, followed_by: str | None, published: bool | None
) -> builtins.list[ColumnElement[bool]]:
    where: builtins.list[ColumnElement[bool]] = []
    if stage is not None:
        where.append(dossiers.c.stage == stage.value)
    if published is not None:
        where.append(dossiers.c.published.is_(published))
    if followed_by is not None:
        where.append(
            dossiers.c.id.in_(
                select(dossier_follows.c.dossier_id).where(
                    dossier_follows.c.user_name == followed_by
                )
            )
        )
    return where
