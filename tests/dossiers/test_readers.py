"""Subscribers follow published dossiers; their digest says once what changed.

End to end over a real SQLite store, the loopback FeedServer (the EP API's real answer
for 2025/0260(COD), first cut before its June events, then whole), the real web app
(the preference page, opened from the mail's link) and the outbox mailer."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
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


def _serve(server: FeedServer, corpus_dir: Path, *, before: str | None) -> None:
    """The procedure as the EP API answers it; with `before`, only its events before then.
    The list changes too (its `meta`): an unchanged list answers 304 and ingest then
    asks for no procedure."""
    _list(server, version=before or "all")
    body: dict[str, Any] = json.loads((corpus_dir / PROCEDURE).read_text(encoding="utf-8"))
    if before is not None:
        body = copy.deepcopy(body)
        process = body["data"][0]
        process["consists_of"] = [e for e in process["consists_of"] if e["activity_date"] < before]
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


def test_a_follower_reads_what_changed_once_and_others_nothing(
    services: Services,
    visitor: Visitor,
    outbox: Outbox,
    server: FeedServer,
    corpus_dir: Path,
    tmp_path: Path,
    clock: Any,
) -> None:
    store = services.store
    allow_server(services, server)  # built before the server: its fetcher may reach it now
    sources = _sources(tmp_path, server)
    _serve(server, corpus_dir, before="2026-06-01")
    _fetch(services, sources)

    prefs = _confirmed(visitor, outbox, ANNA)
    page = visitor.get(prefs)
    assert "Verfahren verfolgen" not in visible(page.text)  # nothing published yet
    assert store.dossiers.publish(REFERENCE, True, actor="anna", now=clock())

    page = visitor.get(prefs)
    shown = visible(page.text)
    assert "Verfahren verfolgen" in shown
    assert "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren" in shown
    assert f"{REFERENCE} · Stufe: Trilog" in shown
    assert checked(page.text, "dossiers") == set()
    response = visitor.post_from(
        page,
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
    _send(services, "Wochenbrief 2", 32)
    mail = outbox.last(ANNA)
    text = mail.text
    assert text.count(BLOCK.upper()) == 1 and BLOCK in mail.html
    assert "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren" in text
    assert f"{REFERENCE} · Stand: Rat" in text
    assert "- 2. Juni 2026: Ausschuss billigt vorläufige Einigung" in text
    assert "- 16. Juni 2026: Parlament legt Standpunkt fest" in text
    assert "13. April 2026" not in text  # reported before she followed: not news
    url = f"{BASE}/archiv/verfahren/2025-0260-cod"
    assert f"Zum Verfahren: {url}" in text and f'href="{url}"' in mail.html
    assert BLOCK not in outbox.last(BERND).text  # follows nothing: no block

    # the next digest does not repeat it
    clock.advance(days=1)
    _send(services, "Wochenbrief 3", 33)
    assert "Wochenbrief 3" in outbox.last(ANNA).subject
    assert BLOCK not in outbox.last(ANNA).text

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
    assert by[1].key[:2] == by[2].key and by[1].key[2] == ((1, 42),)
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
    oeil = make_renderer().render((), language="de", dossiers=(news,))
    assert "oeil.secure.europarl.europa.eu" in oeil.text  # no base URL: OEIL
