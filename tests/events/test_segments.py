"""Who gets what: resolve_segments over edition sections and subscribers (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.compose import Segment, resolve_segments
from pipeline.compose.segments import wants
from pipeline.model import (
    Annotation,
    Audience,
    DocType,
    Item,
    ItemStatus,
    OrgType,
    Subscriber,
    SubscriberStatus,
    TopicAssignment,
)

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
TOPICS = ("funding", "mobility", "energy_climate", "digital", "cohesion")


def item(
    item_id: int, title: str, topics: Sequence[str] = (), audiences: Sequence[Audience] = ()
) -> Item:
    return Item(
        id=item_id,
        source_id="ec-de",
        title=title,
        url=f"https://ec.europa.eu/commission/presscorner/detail/de/ip_26_{item_id}",
        summary_html="<p>Text</p>",
        language="de",
        published=NOW,
        fetched_at=NOW,
        updated_at=NOW,
        doc_type=DocType.PRESS_RELEASE,
        status=ItemStatus.ACCEPTED,
        relevance=0.5,
        topics=tuple(TopicAssignment(t, 0.8) for t in topics),
        annotation=Annotation(item_id, audiences=tuple(audiences)) if audiences else None,
    )


def subscriber(
    sid: int,
    topics: Sequence[str] = (),
    org: OrgType = OrgType.KOMMUNE,
    language: str = "de",
    newsletters: Sequence[str] = ("weekly",),
    status: SubscriberStatus = SubscriberStatus.CONFIRMED,
) -> Subscriber:
    return Subscriber(
        id=sid,
        email=f"person{sid}@gemeinde.example",
        status=status,
        created_at=NOW,
        org_type=org,
        language=language,
        topics=tuple(topics),
        newsletters=tuple(newsletters),
    )


HYDROGEN = item(1, "Wasserstoff für Straßenbahnen", ["energy_climate", "mobility"])
CALL = item(2, "Aufruf: urbane Mobilität", ["funding", "mobility"], [Audience.KOMMUNE])
CHIPS = item(3, "Chips Act: Förderung für Unternehmen", ["digital"], [Audience.UNTERNEHMEN])
OFFICE = item(4, "Europabüro: Veranstaltung in Brüssel")  # no topic: general news
COHESION = item(
    5, "Konsultation Kohäsionspolitik", ["cohesion"], [Audience.KOMMUNE, Audience.LANDKREIS]
)
EDITION = [
    ("Im Fokus", [HYDROGEN, CALL]),
    ("Förderung & Ausschreibungen", [CALL, CHIPS]),  # CALL again: kept once, in Im Fokus
    ("Aus dem Büro", [OFFICE, COHESION]),
]


def contents(segment: Segment) -> list[tuple[str, list[int]]]:
    return [(title, [i.id for i in items]) for title, items in segment.sections]


def segment_of(segments: list[Segment], subscriber_id: int) -> Segment | None:
    found = [s for s in segments if any(m.id == subscriber_id for m in s.subscribers)]
    assert len(found) <= 1
    return found[0] if found else None


def test_topics_and_audiences_choose_the_items() -> None:
    mobility_kommune = subscriber(1, ["mobility"], OrgType.KOMMUNE)
    digital_firm = subscriber(2, ["digital"], OrgType.UNTERNEHMEN)
    everything_landkreis = subscriber(3, [], OrgType.LANDKREIS)
    segments = resolve_segments(
        EDITION, [mobility_kommune, digital_firm, everything_landkreis], "weekly"
    )

    by_id = {sid: segment_of(segments, sid) for sid in (1, 2, 3)}
    assert by_id[1] is not None and contents(by_id[1]) == [
        ("Im Fokus", [1, 2]),
        ("Aus dem Büro", [4]),
    ]
    assert by_id[2] is not None and contents(by_id[2]) == [
        ("Förderung & Ausschreibungen", [3]),
        ("Aus dem Büro", [4]),
    ]
    assert by_id[3] is not None and contents(by_id[3]) == [
        ("Im Fokus", [1]),
        ("Aus dem Büro", [4, 5]),
    ]


def test_identical_content_shares_one_segment_per_language() -> None:
    """Different topic choices that select the same items still share a rendering."""
    people = [
        subscriber(1, ["mobility"]),
        subscriber(2, ["mobility", "funding"]),  # CALL is also funding: same items
        subscriber(3, ["mobility"], language="en"),
        subscriber(4, ["mobility"]),
    ]
    segments = resolve_segments(EDITION, people, "weekly")
    assert [[m.id for m in s.subscribers] for s in segments] == [[1, 2, 4], [3]]
    assert [s.language for s in segments] == ["de", "en"]
    assert segments[0].key == ("de", ((1, 2), (), (4,)))
    assert segments[0].item_ids == segments[1].item_ids == (1, 2, 4)
    assert all(s.newsletter_id == "weekly" for s in segments)


def test_nobody_gets_an_empty_mail() -> None:
    only_funding_firm = subscriber(1, ["funding"], OrgType.UNTERNEHMEN)  # CALL is for Kommunen
    edition = [("Förderung", [CALL]), ("Leer", [])]
    assert resolve_segments(edition, [only_funding_firm], "weekly") == []
    assert resolve_segments([], [subscriber(2)], "weekly") == []
    assert resolve_segments(EDITION, [], "weekly") == []


def test_only_confirmed_subscribers_of_this_newsletter_count() -> None:
    people = [
        subscriber(1, status=SubscriberStatus.PENDING),
        subscriber(2, status=SubscriberStatus.UNSUBSCRIBED),
        subscriber(3, newsletters=("daily",)),
        subscriber(4),
        subscriber(4),  # the same subscriber twice: once
    ]
    segments = resolve_segments(EDITION, people, "weekly")
    assert [[m.id for m in s.subscribers] for s in segments] == [[4]]


def test_sonstige_get_only_what_is_for_everyone() -> None:
    segments = resolve_segments(EDITION, [subscriber(1, [], OrgType.SONSTIGE)], "weekly")
    assert [contents(s) for s in segments] == [[("Im Fokus", [1]), ("Aus dem Büro", [4])]]


def test_sections_and_items_keep_the_edition_order() -> None:
    reordered = [("Aus dem Büro", [COHESION, OFFICE]), ("Im Fokus", [CALL, HYDROGEN])]
    segments = resolve_segments(reordered, [subscriber(1)], "weekly")
    assert contents(segments[0]) == [("Aus dem Büro", [5, 4]), ("Im Fokus", [2, 1])]


# ---------------------------------------------------------------- properties

ITEMS = st.builds(
    lambda topics, audiences: (tuple(topics), tuple(audiences)),
    st.lists(st.sampled_from(TOPICS), max_size=3, unique=True),
    st.lists(st.sampled_from(list(Audience)), max_size=2, unique=True),
)
PEOPLE = st.builds(
    lambda topics, org, lang, status, letters: (tuple(topics), org, lang, status, letters),
    st.lists(st.sampled_from(TOPICS), max_size=3, unique=True),
    st.sampled_from(list(OrgType)),
    st.sampled_from(["de", "en"]),
    st.sampled_from(list(SubscriberStatus)),
    st.sampled_from([("weekly",), ("daily",), ("daily", "weekly")]),
)


@settings(max_examples=200, deadline=None)
@given(
    sections=st.lists(
        st.lists(st.tuples(st.integers(1, 12), ITEMS), max_size=6), min_size=0, max_size=4
    ),
    people=st.lists(PEOPLE, max_size=25),
)
def test_every_subscriber_gets_exactly_what_matches_them(
    sections: list[list[tuple[int, tuple[tuple[str, ...], tuple[Audience, ...]]]]],
    people: list[tuple[tuple[str, ...], OrgType, str, SubscriberStatus, tuple[str, ...]]],
) -> None:
    # one Item per id (an id placed twice is the same item)
    by_id: dict[int, Item] = {}
    edition = []
    for n, placed in enumerate(sections):
        items = []
        for item_id, (topics, audiences) in placed:
            by_id.setdefault(item_id, item(item_id, f"Meldung {item_id}", topics, audiences))
            items.append(by_id[item_id])
        edition.append((f"Abschnitt {n}", items))
    subs = [
        subscriber(n, topics, org, lang, letters, status)
        for n, (topics, org, lang, status, letters) in enumerate(people)
    ]

    segments = resolve_segments(edition, subs, "weekly")

    # every subscriber is in at most one segment; segments differ in content
    members = [m.id for s in segments for m in s.subscribers]
    assert len(members) == len(set(members))
    assert len({s.key for s in segments}) == len(segments)
    first_place: dict[int, int] = {}
    for n, (_, items) in enumerate(edition):
        for it in items:
            first_place.setdefault(it.id, n)
    for sub in subs:
        seg = segment_of(segments, sub.id)
        expected = [
            it.id
            for it in dict.fromkeys(i for _, items in edition for i in items)
            if wants(sub, it)
        ]
        if sub.status is not SubscriberStatus.CONFIRMED or "weekly" not in sub.newsletters:
            assert seg is None
            continue
        if not expected:
            assert seg is None  # nothing for them: no mail
            continue
        assert seg is not None and seg.language == sub.language
        got = list(seg.item_ids)
        assert got == expected  # exactly the matching items, each once, in edition order
        for it in (by_id[i] for i in got):
            got_topics = {t.topic_id for t in it.topics}
            assert not sub.topics or not got_topics or got_topics & set(sub.topics)
            got_for = {a.value for a in it.annotation.audiences} if it.annotation else set()
            assert not got_for or sub.org_type.value in got_for
        for title, section_items in seg.sections:
            assert section_items, "no empty sections"
            assert all(edition[first_place[i.id]][0] == title for i in section_items)
