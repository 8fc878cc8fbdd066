"""Reader feedback: answers counted once per reader and item, suggestions, counts.

record(edition, item, answer, reader_hash, org_type, day)   one transaction: a new
    answer is added, another answer of the same reader replaces theirs, the same
    answer again changes nothing (Recorded.NEW | CHANGED | SAME)
add_suggestion / suggestions / erase_suggestion              "Was fehlt Ihnen?"
counts_by_item(item_ids) / counts_by_edition_item(edition)   the desk, `items --json`
forget_readers(before)                                       housekeeping: the keyed
    hashes of answers given before `before` become NULL (the row stays, anonymous)
reader_labels()                                              per item and org type:
    (useful, not_useful), for learning (ADR 0007)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Engine, and_, case, delete, func, insert, select, update

from pipeline.model.feedback import (
    Answer,
    FeedbackCounts,
    Question,
    Recorded,
    Suggestion,
)
from pipeline.store.base import upsert, wrap_errors
from pipeline.store.item_rows import chunks
from pipeline.store.schema import feedback_answers as fa
from pipeline.store.schema import feedback_suggestions as fs


def _day(now: dt.datetime) -> dt.datetime:
    """Only the day is kept: an answer's time would help link it to a web server log."""
    utc = now.astimezone(dt.UTC)
    return dt.datetime(utc.year, utc.month, utc.day, tzinfo=dt.UTC)


_USEFUL = func.sum(case((and_(fa.c.question == Question.USEFUL.value, fa.c.value), 1), else_=0))
_NOT_USEFUL = func.sum(
    case((and_(fa.c.question == Question.USEFUL.value, ~fa.c.value), 1), else_=0)
)
_MORE = func.sum(case((and_(fa.c.question == Question.MORE.value, fa.c.value), 1), else_=0))


def _counts(row: object) -> FeedbackCounts:
    useful, not_useful, more = row[-3:]  # type: ignore[index]
    return FeedbackCounts(int(useful or 0), int(not_useful or 0), int(more or 0))


class FeedbackStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(
        self,
        *,
        edition_id: int,
        item_id: int,
        answer: Answer,
        reader_hash: str,
        org_type: str,
        now: dt.datetime,
    ) -> Recorded:
        question = answer.question
        if question is Question.WISH:
            raise ValueError("a wish is a suggestion, not an answer")
        with wrap_errors("recording feedback"), self._engine.begin() as conn:
            row = conn.execute(
                select(fa.c.id, fa.c.value).where(
                    fa.c.reader_hash == reader_hash,
                    fa.c.item_id == item_id,
                    fa.c.question == question.value,
                )
            ).first()
            if row is None:
                added = conn.execute(
                    upsert(conn, fa)
                    .values(
                        edition_id=edition_id,
                        item_id=item_id,
                        question=question.value,
                        value=answer.value_bool,
                        org_type=org_type,
                        reader_hash=reader_hash,
                        answered_on=_day(now),
                    )
                    .on_conflict_do_nothing(index_elements=["reader_hash", "item_id", "question"])
                )
                if added.rowcount == 0:  # the same reader's other request came first
                    return Recorded.SAME
                return Recorded.NEW
            if bool(row.value) == answer.value_bool:
                return Recorded.SAME
            conn.execute(update(fa).where(fa.c.id == row.id).values(value=answer.value_bool))
            return Recorded.CHANGED

    def forget_readers(self, before: dt.datetime) -> int:
        """Housekeeping: answers given before `before` keep no reader hash."""
        with wrap_errors("forgetting feedback readers"), self._engine.begin() as conn:
            done = conn.execute(
                update(fa)
                .where(fa.c.reader_hash.is_not(None), fa.c.answered_on < before)
                .values(reader_hash=None)
            )
            return int(done.rowcount)

    def counts_by_item(self, item_ids: Iterable[int]) -> dict[int, FeedbackCounts]:
        """Every answer to these items, whatever edition carried them."""
        found: dict[int, FeedbackCounts] = {}
        with wrap_errors("counting feedback"), self._engine.connect() as conn:
            for chunk in chunks(list(dict.fromkeys(item_ids))):
                rows = conn.execute(
                    select(fa.c.item_id, _USEFUL, _NOT_USEFUL, _MORE)
                    .where(fa.c.item_id.in_(chunk))
                    .group_by(fa.c.item_id)
                )
                found.update({int(r.item_id): _counts(r) for r in rows})
        return found

    def counts_by_edition_item(self, edition_id: int) -> dict[int, FeedbackCounts]:
        """The answers given to the items of one edition (from its mail's links)."""
        with wrap_errors("counting feedback"), self._engine.connect() as conn:
            rows = conn.execute(
                select(fa.c.item_id, _USEFUL, _NOT_USEFUL, _MORE)
                .where(fa.c.edition_id == edition_id)
                .group_by(fa.c.item_id)
            )
            return {int(r.item_id): _counts(r) for r in rows}

    def reader_labels(self) -> dict[int, dict[str, FeedbackCounts]]:
        """item id → org type ("" unknown) → counts: readers' Ja/Nein as relevance labels."""
        found: dict[int, dict[str, FeedbackCounts]] = {}
        with wrap_errors("reading feedback labels"), self._engine.connect() as conn:
            rows = conn.execute(
                select(fa.c.item_id, fa.c.org_type, _USEFUL, _NOT_USEFUL, _MORE).group_by(
                    fa.c.item_id, fa.c.org_type
                )
            )
            for r in rows:
                found.setdefault(int(r.item_id), {})[str(r.org_type)] = _counts(r)
        return found

    # ------------------------------------------------------------ suggestions

    def add_suggestion(
        self, edition_id: int, text: str, *, org_type: str, now: dt.datetime
    ) -> Suggestion:
        with wrap_errors("storing a suggestion"), self._engine.begin() as conn:
            new_id = conn.execute(
                insert(fs)
                .values(edition_id=edition_id, text=text, org_type=org_type, created_at=_day(now))
                .returning(fs.c.id)
            ).scalar_one()
        return Suggestion(int(new_id), edition_id, text, _day(now), org_type)

    def suggestions(self, edition_id: int) -> list[Suggestion]:
        with wrap_errors("reading suggestions"), self._engine.connect() as conn:
            rows = conn.execute(
                select(fs).where(fs.c.edition_id == edition_id).order_by(fs.c.id)
            ).all()
        return [Suggestion(r.id, r.edition_id, r.text, r.created_at, r.org_type) for r in rows]

    def erase_suggestion(self, edition_id: int, suggestion_id: int) -> bool:
        with wrap_errors("erasing a suggestion"), self._engine.begin() as conn:
            done = conn.execute(
                delete(fs).where(fs.c.id == suggestion_id, fs.c.edition_id == edition_id)
            )
            return int(done.rowcount) > 0
