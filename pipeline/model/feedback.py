"""Reader feedback without tracking: what a reader may answer, and what staff see.

    Answer          ja | nein (Hilfreich?), mehr | kein-mehr (Mehr dazu bitte), wunsch
                    (the edition's "Was fehlt Ihnen?", free text)
    FeedbackCounts  useful, not_useful, more: per item, section, topic or edition
    Suggestion      one free-text answer to "Was fehlt Ihnen?" (text only, no reader)

One answer per reader, item and question counts. The store keeps a keyed hash of
reader and item (HMAC with EUDIGEST_SECRET_KEY) beside an answer only while it is
needed to deduplicate (DEDUP_DAYS); then the row is anonymous: no table links a
person to an answer. Stdlib only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

DEDUP_DAYS = 30  # a link works this long after sending; its hash is kept this long after
MAX_SUGGESTION_CHARS = 2000  # "Was fehlt Ihnen?"; longer text is refused with a message


class Question(StrEnum):
    USEFUL = "useful"  # Hilfreich? Ja · Nein
    MORE = "more"  # Mehr dazu bitte
    WISH = "wish"  # Was fehlt Ihnen? (per edition, free text)


class Answer(StrEnum):
    YES = "ja"
    NO = "nein"
    MORE = "mehr"
    NO_MORE = "kein-mehr"
    WISH = "wunsch"

    @property
    def question(self) -> Question:
        if self in (Answer.YES, Answer.NO):
            return Question.USEFUL
        if self in (Answer.MORE, Answer.NO_MORE):
            return Question.MORE
        return Question.WISH

    @property
    def value_bool(self) -> bool:
        return self in (Answer.YES, Answer.MORE)

    @property
    def other(self) -> Answer:
        """The answer that changes this one ("Antwort ändern")."""
        return {
            Answer.YES: Answer.NO,
            Answer.NO: Answer.YES,
            Answer.MORE: Answer.NO_MORE,
            Answer.NO_MORE: Answer.MORE,
        }.get(self, self)


ANSWER_LABELS = {
    Answer.YES: "Ja, hilfreich",
    Answer.NO: "Nein, nicht hilfreich",
    Answer.MORE: "Mehr dazu bitte",
    Answer.NO_MORE: "Doch nicht mehr dazu",
    Answer.WISH: "Was fehlt Ihnen?",
}


@dataclass(frozen=True, slots=True)
class FeedbackCounts:
    useful: int = 0
    not_useful: int = 0
    more: int = 0

    @property
    def answers(self) -> int:
        return self.useful + self.not_useful

    def __add__(self, other: FeedbackCounts) -> FeedbackCounts:
        return FeedbackCounts(
            self.useful + other.useful,
            self.not_useful + other.not_useful,
            self.more + other.more,
        )

    def as_dict(self) -> dict[str, int]:
        return {"useful": self.useful, "not_useful": self.not_useful, "more": self.more}


NO_FEEDBACK = FeedbackCounts()


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: int
    edition_id: int
    text: str
    created_at: dt.datetime
    org_type: str = ""  # the reader's organisation type when known, never the reader


class Recorded(StrEnum):
    NEW = "new"  # counted
    CHANGED = "changed"  # the reader's earlier answer replaced
    SAME = "same"  # the same answer again (a replay): nothing changed


# The reader's part of every feedback link: one %%token%% per mail (SendGrid and the
# outbox substitute it per recipient, like %%unsubscribe_url%%).
READER_PLACEHOLDER = "%%feedback%%"
FEEDBACK_PATH = "/feedback/"
