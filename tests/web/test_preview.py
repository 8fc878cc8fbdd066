"""The structured preview's filter (a pure function; compose will replace it)."""

from __future__ import annotations

import datetime as dt

from pipeline.model import (
    Annotation,
    Audience,
    DocType,
    Edition,
    EditionSection,
    EditionState,
    Item,
    ItemStatus,
    ItemVersion,
    TopicAssignment,
    TopicOrigin,
)
from pipeline.web.preview import item_topics, preview

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)


def item(
    item_id: int,
    topics: tuple[TopicAssignment, ...] = (),
    audiences: tuple[Audience, ...] = (),
    headline: str = "",
    versions: tuple[ItemVersion, ...] = (),
) -> Item:
    return Item(
        id=item_id,
        source_id="ec-de",
        title=f"Titel {item_id}",
        url=f"https://ec.europa.eu/{item_id}",
        summary_html="",
        language="de",
        published=NOW,
        fetched_at=NOW,
        updated_at=NOW,
        doc_type=DocType.PRESS_RELEASE,
        status=ItemStatus.ACCEPTED,
        relevance=0.5,
        topics=topics,
        versions=versions,
        annotation=Annotation(item_id, headline=headline, audiences=audiences, version=1)
        if headline or audiences
        else None,
    )


def edition(*sections: tuple[str, tuple[int, ...]]) -> Edition:
    return Edition(
        id=1,
        newsletter_id="weekly",
        title="KW 48",
        intro="",
        state=EditionState.DRAFT,
        created_at=NOW,
        created_by="anna",
        sections=tuple(
            EditionSection(id=n + 10, title=t, position=n, item_ids=ids)
            for n, (t, ids) in enumerate(sections)
        ),
    )


def auto(topic: str) -> TopicAssignment:
    return TopicAssignment(topic, 0.7)


def staff(topic: str) -> TopicAssignment:
    return TopicAssignment(topic, 1.0, TopicOrigin.STAFF)


def test_staff_topics_win_over_automatic_ones() -> None:
    assert item_topics(item(1, (auto("energy_climate"), auto("mobility")))) == (
        "energy_climate",
        "mobility",
    )
    assert item_topics(item(1, (auto("energy_climate"), staff("funding")))) == ("funding",)


def test_topics_and_audiences_filter_and_empty_sections_vanish() -> None:
    items = {
        1: item(1, (staff("energy_climate"),), audiences=(Audience.KOMMUNE,)),
        2: item(2, (auto("funding"),)),
        3: item(3, (auto("funding"), staff("cohesion"))),
    }
    e = edition(("Im Fokus", (1,)), ("Förderung", (2, 3)))

    def shown(**kw: object) -> list[tuple[str, list[int]]]:
        return [(s.title, [p.item.id for p in s.items]) for s in preview(e, items, **kw)]  # type: ignore[arg-type]

    assert shown() == [("Im Fokus", [1]), ("Förderung", [2, 3])]
    assert shown(audience=Audience.UNTERNEHMEN) == [("Förderung", [2, 3])]
    assert shown(audience=Audience.KOMMUNE) == [("Im Fokus", [1]), ("Förderung", [2, 3])]
    assert shown(topics=["funding"]) == [("Förderung", [2])]  # 3's staff topics replace auto
    assert shown(topics=["cohesion", "energy_climate"]) == [("Im Fokus", [1]), ("Förderung", [3])]
    assert shown(topics=["health"]) == []


def test_headline_for_german_readers_version_title_for_others() -> None:
    en = ItemVersion("id-en", "ec-en", "en", "English title", "https://ec.europa.eu/en", "", "h")
    de = ItemVersion("id-de", "ec-de", "de", "Deutscher Titel", "https://ec.europa.eu/de", "", "h")
    it = item(1, headline="Unsere Überschrift", versions=(de, en))
    e = edition(("A", (1,)))
    german = preview(e, {1: it}, language="de")[0].items[0]
    assert (german.headline, german.url) == ("Unsere Überschrift", "https://ec.europa.eu/de")
    english = preview(e, {1: it}, language="en")[0].items[0]
    assert (english.headline, english.url, english.language) == (
        "English title",
        "https://ec.europa.eu/en",
        "en",
    )
    plain = preview(e, {1: item(1)}, language="de")[0].items[0]
    assert plain.headline == "Titel 1"


def test_items_missing_from_the_store_are_skipped() -> None:
    e = edition(("A", (1, 99)))
    assert [p.item.id for p in preview(e, {1: item(1)})[0].items] == [1]
