"""The desk's rules (curate) over the real store, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline import curate, text
from pipeline.config import Settings
from pipeline.curate import staff
from pipeline.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    ItemNotFound,
    PreflightBlocked,
    StaleEdit,
)
from pipeline.ingest.dedupe import Incoming, decide
from pipeline.model import (
    Audience,
    Classification,
    DocType,
    EditionState,
    ItemStatus,
    Newsletter,
    NormalizedItem,
    Priority,
    Role,
    Source,
    SourceKind,
    TopicAssignment,
)
from pipeline.store import Store
from pipeline.store.items import InboxQuery
from tests.support.office import office as filled_office

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
TOPICS = {"energy_climate", "funding", "mobility"}
OFFICE = filled_office(
    newsletters=(Newsletter("weekly", "EU-Wochenbrief"), Newsletter("daily", "EU-Tagesüberblick")),
    default_sections=("Im Fokus", "Termine"),
)
FOUR_EYES = filled_office(newsletters=OFFICE.newsletters, four_eyes=True)
# outbox, no base URL: nothing leaves the machine, so the preflight only warns about it
SETTINGS = Settings(
    Path("/nonexistent"),
    "sqlite://",
    Path("sources.yaml"),
    Path("taxonomy.yaml"),
    base_url="https://eudigest.example.de",  # what mailed links need, or approval is refused
    secret_key="store-desk-test-key-0123456789abcdef",
)
SRC = Source(
    "pc-de", "Pressecorner", "Europäische Kommission", "https://x.test", "de", SourceKind.FEED
)

TEXTS = [
    ("Förderaufruf für Wasserstoff-Projekte in Baden-Württemberg", "energy_climate", 0.9),
    ("Neue Leitlinien für staatliche Beihilfen im Verkehr", "mobility", 0.7),
    ("Kommission genehmigt Förderprogramm für Kommunen", "funding", 0.8),
    ("Rat einigt sich auf CO2-Flottengrenzwerte", "mobility", 0.5),
]


def seed(store: Store) -> list[int]:
    store.sources.register([SRC], now=NOW)
    incoming = []
    for n, (title, topic, relevance) in enumerate(TEXTS):
        item = NormalizedItem(
            source_id="pc-de",
            identity=f"url:https://x.test/{n}",
            title=title,
            url=f"https://x.test/{n}",
            summary_html=f"<p>Text {n}: Förderung</p>",
            summary_text=f"Text {n}: Förderung",
            language="de",
            published=NOW - dt.timedelta(days=n),
            updated=None,
            content_hash=str(n),
            family=None,
        )
        cl = Classification(
            (TopicAssignment(topic, 0.6),), DocType.PRESS_RELEASE, (), (), relevance
        )
        incoming.append(Incoming(item, cl))
    store.items.apply(decide(incoming, store.items.lookup([], [], []), institution="EC"), now=NOW)
    return [i.id for i in store.items.list()]


@pytest.fixture
def desk(store: Store) -> tuple[Store, list[int]]:
    return store, seed(store)


@pytest.fixture
def anna(store: Store):  # type: ignore[no-untyped-def]
    return staff.add_user(store, "anna", Role.EDITOR, "ein langes Passwort", now=NOW)


@pytest.fixture
def ben(store: Store):  # type: ignore[no-untyped-def]
    return staff.add_user(store, "ben", Role.ADMIN, "noch ein langes Passwort", now=NOW)


# ---------------------------------------------------------------- accounts


def test_login_throttles_the_client_and_name_never_the_account(store: Store, anna) -> None:  # type: ignore[no-untyped-def]
    assert staff.authenticate(store, "Anna", "ein langes Passwort", now=NOW).name == "anna"
    for n in range(5):
        with pytest.raises(staff.LoginFailed) as failed:
            staff.authenticate(
                store, "anna", "falsch", now=NOW + dt.timedelta(seconds=n), client="203.0.113.9"
            )
    # the fifth failure slows this client down for this name: 1 minute, then doubling
    assert failed.value.locked_until == NOW + dt.timedelta(seconds=4, minutes=1)
    with pytest.raises(staff.LoginFailed) as blocked:
        staff.authenticate(
            store, "anna", "ein langes Passwort", now=NOW + dt.timedelta(seconds=30),
            client="203.0.113.9",
        )  # fmt: skip
    assert blocked.value.locked_until is not None
    # anna herself, from her own client, is not locked out
    assert staff.authenticate(store, "anna", "ein langes Passwort", now=NOW).name == "anna"
    # after the minute the stranger's client may try again; a sixth failure blocks 2 minutes
    later = NOW + dt.timedelta(minutes=2)
    with pytest.raises(staff.LoginFailed) as sixth:
        staff.authenticate(store, "anna", "falsch", now=later, client="203.0.113.9")
    assert sixth.value.locked_until == later + dt.timedelta(minutes=2)


def test_unknown_names_are_counted_and_answered_like_known_ones(store: Store, anna) -> None:  # type: ignore[no-untyped-def]
    outcomes = {}
    for name in ("anna", "niemand"):
        untils = []
        for n in range(6):
            with pytest.raises(staff.LoginFailed) as failed:
                staff.authenticate(
                    store, name, "falsch", now=NOW + dt.timedelta(seconds=n), client="198.51.100.7"
                )
            untils.append(failed.value.locked_until)
        outcomes[name] = untils
    assert outcomes["anna"] == outcomes["niemand"]
    assert outcomes["anna"][:4] == [None] * 4


def test_one_client_trying_many_names_is_blocked_as_a_whole(store: Store, anna) -> None:  # type: ignore[no-untyped-def]
    for n in range(staff.CLIENT_LIMIT):
        with pytest.raises(staff.LoginFailed):
            staff.authenticate(
                store, f"name{n}", "falsch", now=NOW + dt.timedelta(seconds=n), client="192.0.2.1"
            )
    with pytest.raises(staff.LoginFailed) as blocked:
        staff.authenticate(
            store, "anna", "ein langes Passwort", now=NOW + dt.timedelta(minutes=1),
            client="192.0.2.1",
        )  # fmt: skip
    assert blocked.value.locked_until is not None
    assert staff.authenticate(store, "anna", "ein langes Passwort", now=NOW).name == "anna"


def test_a_test_send_address_is_set_only_in_its_normal_form_and_removed(store: Store, anna) -> None:  # type: ignore[no-untyped-def]
    staff.set_email(store, anna.id, "anna.mueller@region-stuttgart.de")
    assert store.users.by_name("anna").email == "anna.mueller@region-stuttgart.de"  # type: ignore[union-attr]
    for raw in (" Anna@Region-Stuttgart.DE", "", "keine-adresse"):
        with pytest.raises(InvalidInput):
            staff.set_email(store, anna.id, raw)
    assert store.users.by_name("anna").email == "anna.mueller@region-stuttgart.de"  # type: ignore[union-attr]
    staff.set_email(store, anna.id, None)
    assert store.users.by_name("anna").email is None  # type: ignore[union-attr]


def test_accounts_validate_names_passwords_and_duplicates(store: Store, anna) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="mindestens 12"):
        staff.add_user(store, "carla", Role.EDITOR, "kurz", now=NOW)
    with pytest.raises(InvalidInput, match="gibt es schon"):
        staff.add_user(store, "ANNA", Role.EDITOR, "ein anderes langes Passwort", now=NOW)
    with pytest.raises(InvalidInput, match="Benutzernamen"):
        staff.add_user(store, "<script>", Role.EDITOR, "ein anderes langes Passwort", now=NOW)
    with pytest.raises(staff.LoginFailed):
        staff.authenticate(store, "nobody", "ein langes Passwort", now=NOW)
    store.users.set_active(anna.id, False)
    with pytest.raises(staff.LoginFailed):
        staff.authenticate(store, "anna", "ein langes Passwort", now=NOW)
    assert store.users.get(anna.id).password_hash.startswith("$argon2id$")


# ---------------------------------------------------------------- inbox


def test_full_text_search_finds_german_words_and_filters_combine(desk, anna) -> None:  # type: ignore[no-untyped-def]
    store, ids = desk
    found = store.items.search(InboxQuery(text="Wasserstoff"))
    assert [i.title for i in found.items] == [TEXTS[0][0]]
    assert store.items.search(InboxQuery(text="Förderprogramm")).total == 1
    assert store.items.search(InboxQuery(text="Beihilfen Verkehr")).total == 1
    assert store.items.search(InboxQuery(text='"; DROP TABLE items; --')).total == 0
    assert store.items.search(InboxQuery(topic="mobility")).total == 2
    by_relevance = store.items.search(InboxQuery(order="relevance"))
    assert [i.title for i in by_relevance.items][:2] == [TEXTS[0][0], TEXTS[2][0]]
    paged = store.items.search(InboxQuery(per_page=3, page=2))
    assert (paged.total, paged.pages, len(paged.items)) == (4, 2, 1)
    day = (NOW - dt.timedelta(days=1)).date()
    assert store.items.search(InboxQuery(date_from=day, date_to=day)).total == 1
    # The office's annotation is searchable too.
    curate.annotate(
        store,
        ids[3],
        headline="Wichtig für Zulieferer",
        comment_md="",
        priority=Priority.ACTION,
        audiences=[],
        expected_version=0,
        actor=anna,
        now=NOW,
    )
    assert [i.id for i in store.items.search(InboxQuery(text="Zulieferer")).items] == [ids[3]]


def test_accept_reject_and_topics_are_audited(desk, anna) -> None:  # type: ignore[no-untyped-def]
    store, ids = desk
    curate.accept(store, ids[:2], actor=anna, now=NOW, topics=["funding"], topic_ids=TOPICS)
    curate.reject(store, [ids[2]], actor=anna, now=NOW)
    assert store.items.get(ids[0]).status is ItemStatus.ACCEPTED
    assert [t.topic_id for t in store.items.get(ids[0]).topics] == ["funding"]
    assert store.items.get(ids[0]).topics[0].origin.value == "staff"
    assert store.items.get(ids[2]).status is ItemStatus.REJECTED
    trail = store.items.audit(ids[0])
    assert {(e.actor, e.action) for e in trail} == {("anna", "status.accepted"), ("anna", "topics")}
    with pytest.raises(InvalidInput, match="Unbekanntes Thema"):
        curate.accept(store, [ids[3]], actor=anna, now=NOW, topics=["wetter"], topic_ids=TOPICS)
    assert store.items.get(ids[3]).status is ItemStatus.NEW  # nothing changed
    with pytest.raises(ItemNotFound):
        curate.reject(store, [ids[3], 999_999], actor=anna, now=NOW)
    assert store.items.get(ids[3]).status is ItemStatus.NEW


def test_two_people_editing_one_annotation_never_lose_a_change_silently(desk, anna, ben) -> None:  # type: ignore[no-untyped-def]
    store, ids = desk
    first = curate.annotate(
        store,
        ids[0],
        headline="Förderung für Wasserstoff",
        comment_md="**Wichtig** für die Region",
        priority=Priority.DEADLINE,
        audiences=[Audience.KOMMUNE, Audience.UNTERNEHMEN],
        expected_version=0,
        actor=anna,
        now=NOW,
    )
    assert (first.version, first.updated_by) == (1, "anna")
    # Ben and Anna both open version 1; Ben saves first, Anna's save is refused.
    curate.annotate(
        store,
        ids[0],
        headline="Ben",
        comment_md="",
        priority=Priority.FYI,
        audiences=[],
        expected_version=1,
        actor=ben,
        now=NOW,
    )
    with pytest.raises(StaleEdit, match="ben"):
        curate.annotate(
            store,
            ids[0],
            headline="Anna",
            comment_md="",
            priority=Priority.FYI,
            audiences=[],
            expected_version=1,
            actor=anna,
            now=NOW,
        )
    note = store.items.get(ids[0]).annotation
    assert note is not None and (note.headline, note.version) == ("Ben", 2)
    with pytest.raises(InvalidInput):
        curate.annotate(
            store,
            ids[0],
            headline="x" * 301,
            comment_md="",
            priority=Priority.FYI,
            audiences=[],
            expected_version=2,
            actor=anna,
            now=NOW,
        )


def test_markdown_is_rendered_safely() -> None:
    html = text.render_markdown(
        "**Frist** für Kommunen <script>alert(1)</script> [x](javascript:alert(2))"
    )
    assert "<strong>Frist</strong> für Kommunen" in html
    assert "<script" not in html and "&lt;script&gt;" in html  # shown as text, never run
    assert 'href="javascript' not in html


def test_own_item_is_accepted_with_its_dates(store: Store, anna) -> None:  # type: ignore[no-untyped-def]
    item = curate.create_own_item(
        store,
        title="Netzwerktreffen der EU-Referenten",
        url=None,
        summary_md="Treffen im *Haus der Wirtschaft*",
        published=None,
        event_date=dt.date(2027, 1, 20),
        deadline=dt.date(2027, 1, 10),
        topics=["funding"],
        topic_ids=TOPICS,
        actor=anna,
        now=NOW,
    )
    assert item.status is ItemStatus.ACCEPTED and item.source_id == "office"
    assert "<em>Haus der Wirtschaft</em>" in item.summary_html
    assert {(d.date, d.kind.value) for d in item.deadlines} == {
        (dt.date(2027, 1, 20), "event"),
        (dt.date(2027, 1, 10), "deadline"),
    }
    assert store.items.audit(item.id)[0].action == "create"
    with pytest.raises(InvalidInput):
        curate.create_own_item(
            store,
            title="x",
            url="javascript:alert(1)",
            summary_md="",
            published=None,
            event_date=None,
            deadline=None,
            topics=[],
            topic_ids=TOPICS,
            actor=anna,
            now=NOW,
        )


# ---------------------------------------------------------------- editions


def test_edition_is_built_reordered_and_approved(desk, anna, ben) -> None:  # type: ignore[no-untyped-def]
    store, ids = desk
    curate.accept(store, ids, actor=anna, now=NOW)
    e = curate.create_edition(
        store, OFFICE, "weekly", title="EU-Wochenbrief 48", intro="Hallo", actor=anna, now=NOW
    )
    focus, dates = (s.id for s in e.sections)
    for item_id in ids[:3]:
        e = curate.place_item(store, e.id, item_id, section_id=focus, actor=anna, now=NOW)
    e = curate.place_item(store, e.id, ids[3], section_id=dates, actor=anna, now=NOW)
    assert [s.item_ids for s in e.sections] == [tuple(ids[:3]), (ids[3],)]
    e = curate.move_item(store, e.id, ids[2], delta=-1, actor=anna, now=NOW)
    assert e.sections[0].item_ids == (ids[0], ids[2], ids[1])
    e = curate.move_item(store, e.id, ids[1], delta=1, actor=anna, now=NOW)  # over the edge
    assert [s.item_ids for s in e.sections] == [(ids[0], ids[2]), (ids[1], ids[3])]
    e = curate.place_item(store, e.id, ids[3], section_id=focus, position=0, actor=anna, now=NOW)
    assert e.sections[0].item_ids == (ids[3], ids[0], ids[2])
    e = curate.add_section(store, e.id, "Förderung", actor=anna, now=NOW)
    e = curate.remove_section(store, e.id, dates, actor=anna, now=NOW)
    assert [s.title for s in e.sections] == ["Im Fokus", "Förderung"]
    assert set(e.item_ids) == set(ids)  # the removed section's items were kept
    e = curate.remove_item(store, e.id, ids[0], actor=anna, now=NOW)
    with pytest.raises(PreflightBlocked, match="„Förderung“ ist leer"):
        curate.approve(store, OFFICE, e.id, actor=anna, now=NOW, settings=SETTINGS)
    e = curate.place_item(store, e.id, ids[0], section_id=e.sections[1].id, actor=anna, now=NOW)
    e = curate.approve(store, OFFICE, e.id, actor=anna, now=NOW, settings=SETTINGS)
    assert (e.state, e.approved_by) == (EditionState.APPROVED, "anna")
    assert next(a.action for a in store.editions.audit(e.id)) == "edition.approved"


def test_only_accepted_items_go_into_editions(desk, anna) -> None:  # type: ignore[no-untyped-def]
    store, ids = desk
    e = curate.create_edition(store, OFFICE, "weekly", title="T", intro="", actor=anna, now=NOW)
    with pytest.raises(InvalidInput, match="übernommene"):
        curate.place_item(store, e.id, ids[0], section_id=None, actor=anna, now=NOW)


def test_lifecycle_and_illegal_transitions_change_nothing(desk, anna, ben) -> None:  # type: ignore[no-untyped-def]
    store, ids = desk
    curate.accept(store, ids, actor=anna, now=NOW)
    e = curate.create_edition(store, FOUR_EYES, "daily", title="T", intro="", actor=anna, now=NOW)
    e = curate.place_item(store, e.id, ids[0], section_id=None, actor=anna, now=NOW)
    with pytest.raises(Forbidden, match="Vier-Augen"):
        curate.approve(store, FOUR_EYES, e.id, actor=anna, now=NOW, settings=SETTINGS)
    e = curate.approve(store, FOUR_EYES, e.id, actor=ben, now=NOW, settings=SETTINGS)
    with pytest.raises(InvalidTransition):
        curate.place_item(store, e.id, ids[1], section_id=None, actor=anna, now=NOW)
    with pytest.raises(InvalidTransition):
        curate.approve(store, FOUR_EYES, e.id, actor=ben, now=NOW, settings=SETTINGS)
    with pytest.raises(InvalidInput, match="Zukunft"):
        curate.schedule(store, e.id, send_at=NOW - dt.timedelta(hours=1), actor=ben, now=NOW)
    send_at = NOW + dt.timedelta(days=1)
    e = curate.schedule(store, e.id, send_at=send_at, actor=ben, now=NOW)
    assert (e.state, e.scheduled_at) == (EditionState.SCHEDULED, send_at)
    e = curate.unschedule(store, e.id, actor=anna, now=NOW)  # stop the presses
    assert (e.state, e.scheduled_at, e.approved_by) == (EditionState.DRAFT, None, None)
    # Sending has begun: no way back, no more changes.
    e = curate.approve(store, FOUR_EYES, e.id, actor=ben, now=NOW, settings=SETTINGS)
    e = curate.schedule(store, e.id, send_at=send_at, actor=ben, now=NOW)
    e = store.editions.transition(
        e.id,
        from_states=[EditionState.SCHEDULED],
        to_state=EditionState.SENDING,
        actor="deliver",
        now=NOW,
    )
    for attempt in (
        lambda: curate.unschedule(store, e.id, actor=anna, now=NOW),
        lambda: curate.move_item(store, e.id, ids[0], delta=1, actor=anna, now=NOW),
        lambda: curate.reopen(store, e.id, actor=anna, now=NOW),
    ):
        with pytest.raises(InvalidTransition):
            attempt()
    after = store.editions.get(e.id)
    assert (after.state, after.item_ids, after.version) == (
        EditionState.SENDING,
        e.item_ids,
        e.version,
    )


def test_concurrent_edition_edits_are_detected(desk, anna, ben) -> None:  # type: ignore[no-untyped-def]
    store, _ = desk
    e = curate.create_edition(store, OFFICE, "weekly", title="T", intro="", actor=anna, now=NOW)
    curate.update_edition(
        store, e.id, title="Ben's", intro="", expected_version=e.version, actor=ben, now=NOW
    )
    with pytest.raises(StaleEdit):
        curate.update_edition(
            store, e.id, title="Anna's", intro="", expected_version=e.version, actor=anna, now=NOW
        )
    assert store.editions.get(e.id).title == "Ben's"


def test_propose_draft_takes_accepted_items_since_the_last_edition(desk, anna) -> None:  # type: ignore[no-untyped-def]
    store, ids = desk
    curate.accept(store, ids[:3], actor=anna, now=NOW)
    labels = {
        "energy_climate": "Energie & Klima",
        "funding": "Förderprogramme",
        "mobility": "Mobilität",
    }
    e = curate.propose_draft(store, OFFICE, "weekly", actor=anna, now=NOW, topic_labels=labels)
    assert e.title.startswith("EU-Wochenbrief – 25.11.2026")
    assert [s.title for s in e.sections] == ["Energie & Klima", "Förderprogramme", "Mobilität"]
    assert set(e.item_ids) == set(ids[:3])
    again = curate.propose_draft(store, OFFICE, "weekly", actor=anna, now=NOW, topic_labels=labels)
    assert again.item_ids == ()  # nothing new since: an empty draft with the default sections
    assert [s.title for s in again.sections] == ["Im Fokus", "Termine"]
    with pytest.raises(InvalidInput, match="Unbekannter Newsletter"):
        curate.propose_draft(store, OFFICE, "monthly", actor=anna, now=NOW)


def test_schema_py_matches_migration_0019_which_goes_down_and_up(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pipeline.store.schema import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    mine = [d for d in diff if "login_throttle" in repr(d) or "session_version" in repr(d)]
    assert mine == []
    store.downgrade("0015")
    store.upgrade()
    assert store.is_current()


def test_logout_raises_the_session_version(store: Store, anna) -> None:  # type: ignore[no-untyped-def]
    assert store.users.get(anna.id).session_version == 0
    store.users.end_sessions(anna.id)
    assert store.users.get(anna.id).session_version == 1
    staff.set_password(store, anna.id, "ein neues langes Passwort")
    assert store.users.get(anna.id).session_version == 2


def test_throttle_rows_go_a_day_after_their_window(store: Store) -> None:
    from sqlalchemy import select

    from pipeline.store.schema import login_throttle

    def keys() -> set[str]:
        with store.engine.connect() as conn:
            return set(conn.execute(select(login_throttle.c.key)).scalars())

    window = dt.timedelta(minutes=15)
    store.users.count_login_failure("old", now=NOW, window=window, block_for=lambda n: None)
    store.users.count_login_failure("x" * 64, now=NOW, window=window, block_for=lambda n: None)
    assert keys() == {"old", "x" * 64}
    later = NOW + dt.timedelta(days=1, minutes=16)
    assert (
        store.users.count_login_failure("new", now=later, window=window, block_for=lambda n: None)
        == 1
    )
    assert keys() == {"new"}


def test_known_and_unknown_names_take_the_same_path(
    store: Store, anna, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """One password hash verified per attempt for every name, none once throttled."""
    verified: list[str] = []
    real = staff._verify

    def counting(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(staff, "_verify", counting)
    for name in ("anna", "niemand"):
        counts = []
        for n in range(6):
            before = len(verified)
            with pytest.raises(staff.LoginFailed):
                staff.authenticate(
                    store, name, "falsch", now=NOW + dt.timedelta(seconds=n), client=name
                )
            counts.append(len(verified) - before)
        assert counts == [1, 1, 1, 1, 1, 0], name
