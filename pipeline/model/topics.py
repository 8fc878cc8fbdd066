"""Topics: the themes of taxonomy.yaml, and an item's topics with their confidence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TopicOrigin(StrEnum):
    AUTO = "auto"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    label_de: str
    label_en: str
    keywords_de: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    topics: tuple[Topic, ...]
    region_keywords: tuple[str, ...] = ()

    def topic_ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.topics)


@dataclass(frozen=True, slots=True)
class TopicAssignment:
    topic_id: str
    confidence: float  # 0..1
    origin: TopicOrigin = TopicOrigin.AUTO
