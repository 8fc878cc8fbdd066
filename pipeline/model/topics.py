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
    weight: float = 1.0  # how much the office cares (relevance): 0 none, 1 normal, up to 3


@dataclass(frozen=True, slots=True)
class Taxonomy:
    topics: tuple[Topic, ...]
    region_keywords: tuple[str, ...] = ()  # places of the region itself
    region_name: str = ""  # as staff read it: "Region Stuttgart"
    land_name: str = ""  # "Baden-Württemberg"
    land_keywords: tuple[str, ...] = ()
    country_name: str = ""  # "Deutschland"
    country_keywords: tuple[str, ...] = ()
    sector_keywords: tuple[str, ...] = ()  # the region's industries (weak evidence)
    company_keywords: tuple[str, ...] = ()  # firms; count only in a company context

    def topic_ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.topics)


@dataclass(frozen=True, slots=True)
class TopicAssignment:
    topic_id: str
    confidence: float  # 0..1
    origin: TopicOrigin = TopicOrigin.AUTO
