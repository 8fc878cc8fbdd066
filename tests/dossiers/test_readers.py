"""Subscribers follow published dossiers; their digest says once what changed.

End to end over a real SQLite store, the loopback FeedServer (the EP API's real answer
for 2025/0260(COD), first cut before its June events, then whole), the real web app
(the preference page, opened from the mail's link) and the outbox mailer."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.model import Edition, EditionState
from pipeline.store import Store
from subscribers.addresses import hash_of
from subscribers.gdpr import subscriber_data
from tests.subscribers.conftest import Outbox, Visitor, make_settings
from tests.support.feedserver import FeedServer
from tests.support.fetching import allow_server
from tests.web.conftest import NOW, add_item, checked, visible

PROCEDURE = "api/ep-opendata-procedure-2025-0260-cod.json"
REFERENCE = "2025/0260(COD)"
BASE = "https://newsletter.region-stuttgart.example"
ANNA = "anna.schmid@landratsamt-esslingen.de"  # follows the customs file
BERND = "bernd.mueller@landratsamt-bb.de"  # follows nothing
BLOCK = "Neues in Ihren Verfahren"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)


@pytest.fixture
def server(corpus_dir: Path) -> Iterator[FeedServer]:
    with FeedServer(corpus_dir) as srv:
        yield srv


def _serve(
    server: FeedServer,
    corpus_dir: Path,
    *,
    before: str | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """The procedure as the EP API answers it; with `before`, only its events before then;
    with `extra`, one more event. The list changes too (its `meta`): an unchanged list
    answers 304 and ingest then asks for no procedure."""
    _list(server, version=f"{before or 'all'}:{extra['id'] if extra else ''}")
    body: dict[str, Any] = json.loads((corpus_dir / PROCEDURE).read_text(encoding="utf-8"))
    if before is not None or extra is not None:
        body = copy.deepcopy(body)
        process = body["data"][0]
        if before is not None:
            process["consists_of"] = [
                e for e in process["consists_of"] if e["activity_date"] < before
            ]
        if extra is not None:
            process["consists_of"].append(extra)
    server.put("/ep/procedures/2025-0260", json.dumps(body).encode(), "application/ld+json")


def _list(server: FeedServer, *, version: str) -> None:
    listing = {
        "meta": {"version": version},
        "data": [
            {
                "id": "eli/dl/proc/2025-0260",
                "type": "Process",
                "process_id": "2025-0260",
                "process_type": "def/ep-procedure-types/COD",
                "label": REFERENCE,
            }
        ],
    }
    server.put("/ep/procedures", json.dumps(listing).encode(), "application/ld+json")


def _sources(tmp_path: Path, server: FeedServer) -> Path:
    options = {"types": ["COD"], "detail_url": server.url("/ep/procedures/{id}")}
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  - id: ep-procedures\n"
        "    name: EP Verfahren\n"
        "    institution: Europäisches Parlament\n"
        f"    url: {server.url('/ep/procedures')}\n"
        "    language: en\n"
        "    kind: api\n"
        "    adapter: ep_procedures\n"
        f"    options: {json.dumps(options)}\n",
        encoding="utf-8",
    )
    return path


def _fetch(services: Services, sources: Path) -> None:
    report = jobs.fetch(services, sources_file=sources, force=True)
    assert [r.status for r in report.sources] == ["ok"], report.sources


def _confirmed(visitor: Visitor, outbox: Outbox, address: str) -> str:
    """Sign up and confirm from the mail; the preference page's URL."""
    visitor.sign_up(address, newsletters=["weekly"])
    link = urlsplit(outbox.last(address).link("/abo/bestaetigen/"))
    assert f"{link.scheme}://{link.netloc}" == BASE
    response = visitor.confirm(link.path)  # the test client is the site at BASE
    assert response.status_code == 303
    return urlsplit(response.headers["Location"]).path


def _send(services: Services, title: str, n: int) -> Edition:
    """An approved edition of one fresh item, sent through jobs.send to the outbox."""
    store = services.store
    item = add_item(store, n, title=title)
    edition = store.editions.create(
        "weekly", title=title, intro="", sections=[("Meldungen", [item])], actor="anna",
        now=services.clock(),
    )  # fmt: skip
    store.editions.transition(
        edition.id,
        from_states=(EditionState.DRAFT,),
        to_state=EditionState.APPROVED,
        actor="x",
        now=services.clock(),
    )
    report = jobs.send(services, edition.id)
    assert report.finished and report.failed == 0
    return edition


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, settings: Settings, clock: Any) -> Iterator[Services]:
    """The services on the SQLite template, or on a fresh PostgreSQL schema with the same
    taxonomy, sources and staff accounts."""
    if request.param == "sqlite":
        yield request.getfixturevalue("services")
        return
    from pipeline.bootstrap import build
    from pipeline.catalog import load_taxonomy
    from pipeline.curate import staff as accounts
    from pipeline.model import Role
    from tests.conftest import _pg_store
    from tests.web.conftest import EC_DE, EP_EN, PASSWORD

    pg = _pg_store()
    services = build(settings)
    services.store.close()
    services.store = next(pg)
    services.clock = clock
    services.store.topics.sync(load_taxonomy(settings.taxonomy_path))
    services.store.sources.register([EC_DE, EP_EN], now=NOW)
    accounts.add_user(services.store, "anna", Role.EDITOR, PASSWORD, now=NOW)
    try:
        yield services
    finally:
        with pytest.raises(StopIteration):
            next(pg)  # drops the schema


# Made up for this test: a step the EP would add after June (the Council adopts the act).
COUNCIL_ADOPTS = {
    "id": "eli/dl/event/2025-0260-COUNCIL-2026-07-13",
    "type": "Activity",
    "activity_date": "2026-07-13",
    "activity_id": "2025-0260-COUNCIL-2026-07-13",
    "had_activity_type": "def/ep-activities/COUNCIL_ADOPTION",
}


def test_staff_and_a_reader_follow_a_procedure_from_ingest_to_digests(
    backend: Services,
    settings: Settings,
    outbox: Outbox,
    server: FeedServer,
    corpus_dir: Path,
    tmp_path: Path,
    clock: Any,
) -> None:
    """Ingest (the EP API from the loopback server) → the dossier → staff follow it at
    the desk → a reader follows it on the preference page → the next digest says once
    what happened, the one after says nothing, and a new step is all the next one says."""
    from pipeline.web import create_app
    from tests.web.conftest import Desk

    services = backend
    store = services.store
    allow_server(services, server)  # built before the server: its fetcher may reach it now
    app = create_app(settings, services)
    app.config["TESTING"] = True
    visitor = Visitor(app.test_client())
    sources = _sources(tmp_path, server)
    _serve(server, corpus_dir, before="2026-06-01")
    _fetch(services, sources)
    assert store.dossiers.get(REFERENCE, today=clock().date()).stage_label == "Trilog"

    # staff: Anna follows the file at the desk; nothing is new to her yet
    desk = Desk(app.test_client())
    assert desk.login("anna").status_code == 303
    page = "/desk/verfahren/2025/0260(COD)"
    assert desk.post(f"{page}/folgen", {"action": "follow"}).status_code == 303
    assert "Neues in Ihren Verfahren" not in visible(desk.text("/desk/"))

    # a reader: follows it on the preference page opened from the confirmation mail
    prefs = _confirmed(visitor, outbox, ANNA)
    form = visitor.get(prefs)
    assert "Verfahren verfolgen" not in visible(form.text)  # nothing published yet
    assert store.dossiers.publish(REFERENCE, True, actor="anna", now=clock())

    form = visitor.get(prefs)
    shown = visible(form.text)
    assert "Verfahren verfolgen" in shown
    assert "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren" in shown
    assert f"{REFERENCE} · Stufe: Trilog" in shown
    assert checked(form.text, "dossiers") == set()
    response = visitor.post_from(
        form,
        prefs,
        {
            "language": "de",
            "org_type": "landkreis",
            "newsletters": ["weekly"],
            "dossiers_shown": "1",
            "dossiers": [REFERENCE],
        },
    )
    assert response.status_code == 303
    assert checked(visitor.get(prefs).text, "dossiers") == {REFERENCE}

    bernd_prefs = _confirmed(Visitor(visitor.client, "192.0.2.11"), outbox, BERND)
    assert checked(visitor.get(bernd_prefs).text, "dossiers") == set()

    # nothing happened since Anna began to follow: no block
    _send(services, "Wochenbrief 1", 31)
    assert BLOCK not in outbox.last(ANNA).text and BLOCK not in outbox.last(ANNA).html

    # the June events arrive: the file moved from the trilogue to the Council
    clock.advance(days=1)
    _serve(server, corpus_dir, before=None)
    _fetch(services, sources)
    inbox = visible(desk.text("/desk/"))
    assert "Neues in Ihren Verfahren 2025/0260(COD) 7 neue Ereignisse" in inbox
    assert "7 neue Ereignisse seit Ihrem letzten Besuch" in visible(desk.text(page))
    assert "neue Ereignisse" not in visible(desk.text("/desk/"))  # she looked

    _send(services, "Wochenbrief 2", 32)
    mail = outbox.last(ANNA)
    text = mail.text
    assert text.count(BLOCK.upper()) == 1 and mail.html.count(BLOCK) == 1
    block = text[text.index(BLOCK.upper()) : text.index("MELDUNGEN")]
    assert "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren" in block
    assert f"{REFERENCE} · Ordentliches Gesetzgebungsverfahren" in block
    assert "Stand jetzt: Rat (bisher: Trilog)" in block
    assert "Stand jetzt: <strong>Rat</strong> (bisher: Trilog)" in mail.html
    assert "- 2. Juni 2026: Ausschuss billigt vorläufige Einigung" in block
    assert "- 16. Juni 2026: Parlament legt Standpunkt fest" in block
    assert "<strong>16. Juni 2026: Parlament legt Standpunkt fest</strong>" in mail.html
    assert "eingereicht (2×)" in block  # the two tabled documents of one day: one line
    assert "13. April 2026" not in block  # happened before she followed: not news
    assert "Als Nächstes: Annahme durch den Rat" in block
    url = f"{BASE}/archiv/verfahren/2025-0260-cod"
    assert f"Zum Verfahren: {url}" in block and f'href="{url}"' in mail.html
    assert BLOCK not in outbox.last(BERND).text  # follows nothing: no block

    # the next digest does not repeat it
    clock.advance(days=1)
    _send(services, "Wochenbrief 3", 33)
    assert "Wochenbrief 3" in outbox.last(ANNA).subject
    assert BLOCK not in outbox.last(ANNA).text and BLOCK not in outbox.last(ANNA).html

    # a new step arrives: the next digest reports that step alone
    clock.advance(days=1)
    _serve(server, corpus_dir, before=None, extra=COUNCIL_ADOPTS)
    _fetch(services, sources)
    assert "2025/0260(COD) 1 neues Ereignis" in visible(desk.text("/desk/"))
    _send(services, "Wochenbrief 4", 34)
    mail = outbox.last(ANNA)
    block = mail.text[mail.text.index(BLOCK.upper()) : mail.text.index("MELDUNGEN")]
    steps = [line for line in block.splitlines() if line.startswith("- ")]
    assert steps == ["- 13. Juli 2026: Rat nimmt den Rechtsakt an"]
    assert "Stand jetzt: angenommen (bisher: Rat)" in block
    assert "Als Nächstes: Veröffentlichung im Amtsblatt" in block
    assert BLOCK not in outbox.last(BERND).text

    # the GDPR export names what she follows
    anna = store.subscribers.by_hash(hash_of(ANNA))
    assert anna is not None
    data = subscriber_data(store, anna, services.office(), services.taxonomy(), now=NOW)
    assert [d["reference"] for d in data["dossiers"]] == [REFERENCE]
    assert data["dossiers"][0]["title"].startswith("Nichtanwendung von Zöllen")


def test_a_failed_delivery_carries_its_news_to_the_next_digest(store: Store) -> None:
    """Reported means: its delivery did not end failed or skipped; the windows of one
    edition never change, however often it is resumed."""
    from pipeline.model import DossierEvent, DossierRecord, EventKind, NewSubscriber, Profile

    now = NOW
    sub = store.subscribers.add(
        NewSubscriber(
            email=ANNA,
            email_hash=hash_of(ANNA),
            profile=Profile(newsletters=("weekly",)),
            consent_text="v1",
            consent_at=now,
        ),
        now=now,
    )

    def record(*days: int) -> DossierRecord:
        return DossierRecord(
            reference=REFERENCE,
            source="ep",
            title_de="Zölle",
            events=tuple(
                DossierEvent(dt.date(2026, 6, d), EventKind.PLENARY_VOTE, "ep", key=f"e{d}")
                for d in days
            ),
        )

    store.dossiers.upsert([record(1)], now=now)
    assert store.dossiers.publish(REFERENCE, True, actor="anna", now=now)
    assert store.dossiers.set_reader_follows(sub.id, [REFERENCE, "2099/0001(COD)"], now=now) == (
        1,
        0,
    )
    store.dossiers.upsert([record(1, 2)], now=now)

    def edition() -> int:
        return store.editions.create(
            "weekly", title="W", intro="", sections=[("M", [])], actor="a", now=now
        ).id

    first = edition()
    news = store.dossiers.news_for(first, [sub.id])
    assert [e.date.day for e in news[sub.id][0].events] == [2]
    store.dossiers.upsert([record(1, 2, 3)], now=now)
    assert store.dossiers.news_for(first, [sub.id]) == news  # frozen for the edition
    store.deliveries.plan(first, [(sub.id, "k")], now=now)
    [row] = store.deliveries.claim(first, None, limit=10, token="t", now=now, sender_id=None)
    store.deliveries.skip([row.id], token="t", reason="test", now=now)

    second = edition()
    again = store.dossiers.news_for(second, [sub.id])
    assert [e.date.day for e in again[sub.id][0].events] == [2, 3]  # carried over
    store.deliveries.plan(second, [(sub.id, "k")], now=now)

    third = edition()
    assert store.dossiers.news_for(third, [sub.id]) == {}  # queued counts as reported

    store.dossiers.upsert([record(1, 2, 3, 5)], now=now)
    frozen = edition()  # stopped after freezing, before planning: its resume sends it
    assert [e.date.day for e in store.dossiers.news_for(frozen, [sub.id])[sub.id][0].events] == [5]
    assert store.dossiers.news_for(edition(), [sub.id]) == {}

    assert store.dossiers.publish(REFERENCE, False, actor="anna", now=now)
    store.dossiers.upsert([record(1, 2, 3, 4, 5)], now=now)
    assert store.dossiers.news_for(edition(), [sub.id]) == {}  # unpublished: no block
    assert [r for r, _, _ in store.dossiers.reader_follows(sub.id)] == [REFERENCE]


def test_events_keep_their_rows_across_fetches(store: Store) -> None:
    """New events are told by their ids: a list entry (no events) erases none, and a
    corrected event keeps its row, so refetching a procedure makes nothing new."""
    from sqlalchemy import select

    from pipeline.model import DossierEvent, DossierRecord, EventKind
    from pipeline.store.schema import dossier_events

    def ids() -> list[tuple[int, str]]:
        with store.engine.connect() as conn:
            query = select(dossier_events.c.id, dossier_events.c.key)
            return [tuple(r) for r in conn.execute(query.order_by(dossier_events.c.id))]

    vote = DossierEvent(dt.date(2026, 6, 16), EventKind.PLENARY_VOTE, "ep", key="v")
    debate = DossierEvent(dt.date(2026, 6, 15), EventKind.PLENARY_DEBATE, "ep", key="d")
    full = DossierRecord(reference=REFERENCE, source="ep", events=(vote, debate))
    store.dossiers.upsert([DossierRecord(reference=REFERENCE, source="ep"), full], now=NOW)
    before = ids()
    assert [k for _, k in before] == ["v", "d"]
    store.dossiers.upsert([DossierRecord(reference=REFERENCE, source="ep"), full], now=NOW)
    assert ids() == before
    moved = DossierEvent(dt.date(2026, 6, 17), EventKind.PLENARY_VOTE, "ep", key="v")
    outcome = store.dossiers.upsert(
        [DossierRecord(reference=REFERENCE, source="ep", events=(moved, debate))], now=NOW
    )
    assert outcome.updated == 1 and ids() == before
    dates = [e.date for e in store.dossiers.get(REFERENCE, today=NOW.date()).events]
    assert dt.date(2026, 6, 17) in dates


def test_staff_publish_on_the_command_line_and_the_export_names_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, server: FeedServer
) -> None:
    import os

    from pipeline.bootstrap import build
    from pipeline.model import NewSubscriber, Profile
    from tests.dossiers.test_cli import cli_users_add, write_sources
    from tests.integration.test_ingest_corpus import Cli

    cli = Cli(tmp_path, monkeypatch, capsys)
    monkeypatch.setenv("EUDIGEST_SECRET_KEY", "dossier-readers-test-secret-0123456789")
    assert cli("init")[0] == 0
    assert cli.json("fetch", "--sources-file", str(write_sources(tmp_path, server)))
    code, _, err = cli("dossier", "publish", "2025/260(COD)", "--as", "anna")
    assert code == 2 and "Kein Mitarbeiterkonto" in err
    assert cli_users_add(cli, "anna") == 0
    code, out, _ = cli("dossier", "publish", "2025/260(COD)", "--as", "anna")
    assert code == 0 and "für Abonnenten veröffentlicht" in out
    assert "war schon veröffentlicht" in cli("dossier", "publish", REFERENCE, "--as", "anna")[1]
    published = cli.json("dossiers", "--published")
    assert [(d["reference"], d["published"]) for d in published] == [(REFERENCE, True)]
    assert cli.json("dossier", "show", REFERENCE)["published"] is True

    services = build(Settings.from_env(dict(os.environ), cwd=tmp_path))
    try:
        sub = services.store.subscribers.add(
            NewSubscriber(
                email=ANNA,
                email_hash=hash_of(ANNA),
                profile=Profile(newsletters=("weekly",)),
                consent_text="v1",
                consent_at=NOW,
            ),
            now=NOW,
        )
        services.store.dossiers.set_reader_follows(sub.id, [REFERENCE], now=NOW)
    finally:
        services.close()
    code, out, err = cli("subscribers", "data", ANNA)
    assert code == 0, err
    [followed] = json.loads(out)["dossiers"]
    assert followed["reference"] == REFERENCE
    assert followed["title"] == "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren"

    code, out, _ = cli("dossier", "unpublish", REFERENCE, "--as", "anna")
    assert code == 0 and "nicht mehr veröffentlicht" in out
    assert cli.json("dossiers", "--published") == []


def test_segments_and_rendering_of_news() -> None:
    """Readers with the same items but different news are different segments; each block
    renders to the same bytes as the whole document; news alone makes a digest."""
    from pipeline.compose import resolve_segments
    from pipeline.model import DossierEvent, DossierNews, EventKind, OrgType, Stage
    from tests.compose.data import EDITION_SECTIONS, subscriber
    from tests.compose.test_renderer import make_renderer

    vote = DossierEvent(dt.date(2026, 6, 16), EventKind.PLENARY_ADOPT_POSITION, "ep")
    news = DossierNews(1, REFERENCE, "Zölle", Stage.COUNCIL, (vote,), (42,))
    follower = subscriber(1, OrgType.KOMMUNE, ("funding",))
    other = subscriber(2, OrgType.KOMMUNE, ("funding",))
    found = resolve_segments(EDITION_SECTIONS, [follower, other], "weekly", {1: (news,)})
    by = {s.id: seg for seg in found for s in seg.subscribers}
    # (the fixed edition's Interreg call says who may apply: both keys end with that part)
    assert by[1].key[:2] == by[2].key[:2] and by[1].key[2] == ((1, 42),)
    assert by[1].key[-1] == by[2].key[-1] == ("eligible", ((101, True),))
    assert by[2].dossiers == () and by[1].dossiers == (news,)
    [alone_segment] = resolve_segments([("Meldungen", [])], [other], "weekly", {2: (news,)})
    assert alone_segment.sections == () and alone_segment.dossiers == (news,)  # news alone
    assert resolve_segments([("Meldungen", [])], [other], "weekly", {}) == []
    by[3] = alone_segment

    fast, whole = make_renderer(base_url=BASE), make_renderer(base_url=BASE)
    for seg in (by[1], by[3], by[2]):
        mail = fast.render(seg.sections, language="de", dossiers=seg.dossiers)
        assert mail == whole.render_whole(seg.sections, language="de", dossiers=seg.dossiers)
    alone = fast.render((), language="de", dossiers=(news,))
    assert "16. Juni 2026: Parlament legt Standpunkt fest" in alone.text
    assert "Neues in Ihren Verfahren" in alone.subject + alone.html
    assert "0 Meldungen" in alone.text
    # no base URL: EUR-Lex's procedure page in German; OEIL (English) only as the last resort
    plain = make_renderer().render((), language="de", dossiers=(news,)).text
    assert "Zum Verfahren (EUR-Lex): https://eur-lex.europa.eu/procedure/DE/2025_260" in plain
    assert "oeil.secure" not in plain
    odd = replace(news, reference="2025/ABC")
    assert "Zum Verfahren (englischsprachige Seite): https://oeil.secure" in (
        make_renderer().render((), language="de", dossiers=(odd,)).text
    )


def test_the_block_tells_stage_steps_next_step_and_german_links() -> None:
    """What a district's EU officer needs to brief the Landrat: did the file move, what
    happened when, what comes next (with its date when forecast), the German text."""
    from pipeline.compose.render import digest_dossiers
    from pipeline.model import DossierEvent, DossierNews, EventKind, ProcedureType, Stage
    from tests.compose.test_renderer import make_renderer

    def step(day: int, kind: EventKind, document: str = "") -> DossierEvent:
        return DossierEvent(dt.date(2026, 6, day), kind, "ep", document=document)

    news = DossierNews(
        1,
        REFERENCE,
        "Zölle",
        Stage.COUNCIL,
        (
            step(10, EventKind.TABLING_PLENARY),
            step(10, EventKind.TABLING_PLENARY),
            step(16, EventKind.PLENARY_ADOPT_POSITION, "A10-0070/2026"),
        ),
        (5, 6, 7),
        procedure_type=ProcedureType.COD,
        stage_before=Stage.TRILOGUE,
        next_step="Annahme durch den Rat (voraussichtlich 12. Januar 2027)",
        celex="52025PC0123",
    )
    [view] = digest_dossiers([news], BASE)
    assert view.meta == f"{REFERENCE} · Ordentliches Gesetzgebungsverfahren"
    assert view.stage_text == "Stand jetzt: Rat (bisher: Trilog)"
    assert [(s.text, s.milestone) for s in view.steps] == [
        ("10. Juni 2026: Bericht oder Änderungsanträge für das Plenum eingereicht (2×)", False),
        ("16. Juni 2026: Parlament legt Standpunkt fest (A10-0070/2026)", True),
    ]
    assert [(link.label, link.url) for link in view.links] == [
        ("Zum Verfahren", f"{BASE}/archiv/verfahren/2025-0260-cod"),
        (
            "Kommissionsvorschlag auf Deutsch (EUR-Lex)",
            "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:52025PC0123",
        ),
    ]
    [act] = digest_dossiers([replace(news, celex="32026R0101", stage_before=None)], None)
    assert act.stage_text == "Stand: Rat (unverändert)"
    assert act.links[0].url == "https://eur-lex.europa.eu/procedure/DE/2025_260" == act.url
    assert act.links[1].label == "Rechtsakt auf Deutsch (EUR-Lex)"
    many = replace(news, events=tuple(step(d, EventKind.PLENARY_DEBATE) for d in range(1, 13)))
    [long] = digest_dossiers([many], BASE)
    assert long.more == 4 and long.steps[0].text.startswith("5. Juni 2026")  # the newest 8

    text = make_renderer(base_url=BASE).render((), language="de", dossiers=(news,)).text
    golden = Path(__file__).parent / "golden" / "dossier-block.txt"
    lines = text.splitlines()
    first = lines.index(BLOCK.upper()) - 1
    last = next(n for n, line in enumerate(lines) if line.startswith("Sie erhalten")) - 1
    block = "\n".join(lines[first:last]).strip() + "\n"
    if os.environ.get("UPDATE_GOLDEN", "") not in ("", "0"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(block, encoding="utf-8")
    assert block == golden.read_text(encoding="utf-8"), "UPDATE_GOLDEN=1 after reviewing"


def test_preview_news_starts_after_what_earlier_editions_reported(store: Store) -> None:
    """The preview's block: after the newest event an earlier edition of the newsletter
    reported, through the newest; the whole history before any; it writes nothing."""
    from sqlalchemy import func, select

    from pipeline.model import DossierEvent, DossierRecord, EventKind, NewSubscriber, Profile
    from pipeline.store.schema import dossier_reports

    def record(*days: int) -> DossierRecord:
        return DossierRecord(
            reference=REFERENCE,
            source="ep",
            title_de="Zölle",
            events=tuple(
                DossierEvent(dt.date(2026, 6, d), EventKind.PLENARY_VOTE, "ep", key=f"e{d}")
                for d in days
            ),
        )

    def edition() -> int:
        return store.editions.create(
            "weekly", title="W", intro="", sections=[("M", [])], actor="a", now=NOW
        ).id

    def reports() -> int:
        with store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(dossier_reports)).scalar())

    store.dossiers.upsert([record(1, 2)], now=NOW)
    first = edition()
    day = NOW.date()
    assert store.dossiers.preview_news("weekly", first, [REFERENCE], today=day) == ()  # unpublished
    store.dossiers.publish(REFERENCE, True, actor="anna", now=NOW)
    [news] = store.dossiers.preview_news("weekly", first, [REFERENCE, "x"], today=day)
    assert [e.date.day for e in news.events] == [1, 2]  # no edition reported any: all
    assert reports() == 0

    sub = store.subscribers.add(
        NewSubscriber(
            email=ANNA,
            email_hash=hash_of(ANNA),
            profile=Profile(newsletters=("weekly",)),
            consent_text="v1",
            consent_at=NOW,
        ),
        now=NOW,
    )
    store.dossiers.set_reader_follows(sub.id, [REFERENCE], now=NOW)
    store.dossiers.upsert([record(1, 2, 3)], now=NOW)
    assert store.dossiers.news_for(first, [sub.id], today=day)  # first reports day 3
    store.dossiers.upsert([record(1, 2, 3, 4)], now=NOW)
    second = edition()
    [news] = store.dossiers.preview_news("weekly", second, [REFERENCE], today=day)
    assert [e.date.day for e in news.events] == [4]
    assert (
        store.dossiers.preview_news("daily", second, [REFERENCE], today=day)[0].events[0].date.day
        == 1
    )
    assert reports() == 1  # the first edition's window only
