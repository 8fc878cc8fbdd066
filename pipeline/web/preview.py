"""A structured preview of an edition as one kind of subscriber would get it.

Pure: no Flask, no store. The compose stage will replace this with the real
segment filter and renderer; until then the rules are:

- an item goes to a subscriber when it shares a topic with the subscriber's
  topics (no topics chosen: everything), where an item's topics are the ones
  staff confirmed or, if staff confirmed none, its automatic ones;
- an item whose annotation names audiences goes only to those audiences (no
  audiences named, or no kind of organisation chosen: everybody);
- the text shown is the office's German headline for German readers, else the
  title of the version in the reader's language (else the item's own title);
- a section left without items is not shown.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from pipeline.model import Audience, Edition, Item, TopicOrigin


@dataclass(frozen=True, slots=True)
class PreviewItem:
    item: Item
    headline: str
    url: str | None
    language: str
    comment_md: str
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PreviewSection:
    title: str
    items: tuple[PreviewItem, ...]


def item_topics(item: Item) -> tuple[str, ...]:
    """Staff-confirmed topics if there are any, else the automatic ones."""
    staff = tuple(t.topic_id for t in item.topics if t.origin is TopicOrigin.STAFF)
    return staff or tuple(t.topic_id for t in item.topics)


def wanted(item: Item, *, audience: Audience | None, topics: Collection[str]) -> bool:
    if topics and not set(item_topics(item)) & set(topics):
        return False
    audiences = item.annotation.audiences if item.annotation else ()
    return audience is None or not audiences or audience in audiences


def preview_item(item: Item, language: str) -> PreviewItem:
    version = next((v for v in item.versions if v.language == language), None)
    headline = item.annotation.headline.strip() if item.annotation else ""
    if not headline or language != "de":
        headline = version.title if version else item.title
    return PreviewItem(
        item=item,
        headline=headline,
        url=(version.url if version else None) or item.url,
        language=version.language if version else item.language,
        comment_md=item.annotation.comment_md if item.annotation else "",
        topics=item_topics(item),
    )


def preview(
    edition: Edition,
    items: Mapping[int, Item],
    *,
    audience: Audience | None = None,
    topics: Collection[str] = (),
    language: str = "de",
) -> list[PreviewSection]:
    """The sections (in order) with the items this subscriber would get."""
    sections = []
    for section in sorted(edition.sections, key=lambda s: s.position):
        chosen = tuple(
            preview_item(items[i], language)
            for i in section.item_ids
            if i in items and wanted(items[i], audience=audience, topics=topics)
        )
        if chosen:
            sections.append(PreviewSection(section.title, chosen))
    return sections
