"""What readers answered, for the desk: per edition, section, topic and item (issue 17).

edition_feedback(store, edition)  counts of the edition's own links (its mail), summed
                                  per section and per topic (an item counts for each
                                  of its topics), and the "Was fehlt Ihnen?" texts
erase_suggestion(store, …)        staff erase a text (it was read, or it says too much)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pipeline.model import Edition, StaffUser
from pipeline.model.feedback import NO_FEEDBACK, FeedbackCounts, Suggestion
from pipeline.store import Store


@dataclass(frozen=True, slots=True)
class EditionFeedback:
    total: FeedbackCounts = NO_FEEDBACK
    by_section: tuple[tuple[str, FeedbackCounts], ...] = ()
    by_topic: tuple[tuple[str, FeedbackCounts], ...] = ()  # topic id, most answers first
    by_item: dict[int, FeedbackCounts] = field(default_factory=dict)
    suggestions: tuple[Suggestion, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.total.answers and not self.total.more and not self.suggestions


def edition_feedback(store: Store, edition: Edition) -> EditionFeedback:
    by_item = store.feedback.counts_by_edition_item(edition.id)
    items = store.items.get_many(list(edition.item_ids)) if by_item else {}
    sections = []
    for s in sorted(edition.sections, key=lambda s: s.position):
        counts = sum((by_item.get(i, NO_FEEDBACK) for i in s.item_ids), NO_FEEDBACK)
        sections.append((s.title, counts))
    topics: dict[str, FeedbackCounts] = {}
    for item_id, counts in by_item.items():
        item = items.get(item_id)
        for t in item.topics if item is not None else ():
            topics[t.topic_id] = topics.get(t.topic_id, NO_FEEDBACK) + counts
    ranked = sorted(topics.items(), key=lambda kv: (-(kv[1].answers + kv[1].more), kv[0]))
    return EditionFeedback(
        total=sum(by_item.values(), NO_FEEDBACK),
        by_section=tuple(sections),
        by_topic=tuple(ranked),
        by_item=by_item,
        suggestions=tuple(store.feedback.suggestions(edition.id)),
    )


def erase_suggestion(
    store: Store, edition_id: int, suggestion_id: int, *, actor: StaffUser, now: dt.datetime
) -> bool:
    """Erase one "Was fehlt Ihnen?" text of an edition; False when it was gone already.
    The edition's history notes who erased which one (never the text)."""
    erased = store.feedback.erase_suggestion(edition_id, suggestion_id)
    if erased:
        store.editions.note(
            edition_id, actor=actor.name, action="feedback.erased",
            detail=f"Hinweis {suggestion_id}", now=now,
        )  # fmt: skip
    return erased
