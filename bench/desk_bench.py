"""Desk benchmark: server time of the desk's pages over a store of 5,000 items.

    python bench/desk_bench.py [--requests 30] [--items 5000] [--postgres URL]

Builds a store in a temporary folder (or a schema of its own on PostgreSQL, dropped
afterwards): the whole corpus ingested from a loopback server, then synthetic items
through the store's public methods up to --items (varied titles in German and
English, topics, document types, dates over 18 months, deadlines), 110 of them
accepted, an edition of the weekly newsletter with 60 items in 4 sections, one
annotated item and a staff account. Then, with Flask's test client logged in through
the login form, each page is requested --requests times after 3 warm-up requests;
the time is that of the whole request inside the app (routing, session, store reads,
Jinja rendering), without a network. The baseline table times the store reads alone:
`store.items.search` with the very query the inbox builds, and all reads a view makes,
so the difference is what rendering costs. The issue's aim: under 100 ms median each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import curate, jobs  # noqa: E402
from pipeline.bootstrap import Services, build  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.curate import staff  # noqa: E402
from pipeline.ingest.dedupe import Incoming, decide  # noqa: E402
from pipeline.model import (  # noqa: E402
    Audience,
    Classification,
    Deadline,
    DeadlineKind,
    DocType,
    ItemStatus,
    NormalizedItem,
    Priority,
    Role,
    Source,
    SourceKind,
    TopicAssignment,
)
from pipeline.store.items import InboxQuery  # noqa: E402
from tests.support.corpus import sources_yaml  # noqa: E402
from tests.support.feedserver import FeedServer  # noqa: E402
from tests.support.fetching import allow_server  # noqa: E402

NOW = dt.datetime.now(dt.UTC)
PASSWORD = "Brüssel-Stuttgart-2026"
SECRET = "desk-bench-secret-key-0123456789abcdefghijk"
SEARCH_WORD = "Wasserstoff"  # in about one synthetic title in ten, and in summaries
EDITION_ITEMS = 60
ACCEPTED = 110  # the edition's 60, and 50 more offered as candidates in the editor

OFFICE_YAML = """\
office:
  name: Europabüro der Region Stuttgart
desk:
  four_eyes: false
  default_sections: [Im Fokus, Förderung & Ausschreibungen, Politik & Gesetzgebung, Termine]
newsletters:
  - {id: weekly, name: EU-Wochenbrief, cadence: weekly, curated: true}
  - {id: daily, name: EU-Tagesüberblick, cadence: daily, curated: false}
"""

SOURCES = [
    Source(
        "bench-ec-de", "Presseraum EU-Kommission (synthetisch)", "European Commission",
        "https://bench.invalid/ec-de", "de", SourceKind.FEED,
    ),
    Source(
        "bench-ec-en", "Commission press corner (synthetic)", "European Commission",
        "https://bench.invalid/ec-en", "en", SourceKind.FEED,
    ),
    Source(
        "bench-ep-en", "EP press releases (synthetic)", "European Parliament",
        "https://bench.invalid/ep-en", "en", SourceKind.FEED,
    ),
    Source(
        "bench-cor-de", "Ausschuss der Regionen (synthetisch)", "European Committee of the Regions",
        "https://bench.invalid/cor-de", "de", SourceKind.FEED,
    ),
]  # fmt: skip

DE_SUBJECTS = [
    "Wasserstoffprojekte im Nahverkehr", "Förderaufruf für kommunale Wärmenetze",
    "Beihilferegeln für Mittelständler", "Kohäsionsmittel für Grenzregionen",
    "Fachkräftestrategie für die Industrie", "Ladeinfrastruktur an Autobahnen",
    "Künstliche Intelligenz in Verwaltungen", "Forschungsnetzwerke für Batteriezellen",
    "Vergaberecht für Städte und Gemeinden", "Gesundheitsdaten in der Union",
    "ländliche Entwicklung in Baden-Württemberg", "Klimaanpassung in Ballungsräumen",
]  # fmt: skip
DE_VERBS = ["Kommission fördert", "Parlament billigt", "Rat einigt sich über",
            "Konsultation zu", "Neue Leitlinien für", "Ausschreibung:"]  # fmt: skip
EN_SUBJECTS = [
    "hydrogen valleys in industrial regions", "cohesion funding for border regions",
    "state aid for small businesses", "skills partnerships in the automotive sector",
    "charging infrastructure on the core network", "AI in public administrations",
    "battery research networks", "public procurement by municipalities",
    "health data across the Union", "rural development programmes", "urban climate adaptation",
]  # fmt: skip
EN_VERBS = ["Commission proposes", "Parliament backs", "Council agrees on",
            "Call for evidence on", "New guidelines for", "Call for proposals:"]  # fmt: skip
TOPICS = ["funding", "cohesion", "industry", "mobility", "energy_climate", "digital",
          "research", "employment", "environment", "municipalities", "trade", "health"]  # fmt: skip
DOC_TYPES = [DocType.PRESS_RELEASE] * 5 + [
    DocType.FUNDING_CALL, DocType.CONSULTATION, DocType.LEGISLATIVE_PROPOSAL,
    DocType.ADOPTED_ACT, DocType.EVENT, DocType.OTHER,
]  # fmt: skip


# ---------------------------------------------------------------- building the store


def synthetic(n: int, rng: random.Random) -> tuple[Source, Incoming]:
    source = SOURCES[n % len(SOURCES)]
    german = source.language == "de"
    verb = rng.choice(DE_VERBS if german else EN_VERBS)
    subject = rng.choice(DE_SUBJECTS if german else EN_SUBJECTS)
    if rng.random() < 0.1:
        subject = "Wasserstoff für " + subject if german else subject + " and hydrogen"
    title = f"{verb} {subject} ({n})"
    summary = (
        f"{title}. Die Mitteilung betrifft Regionen, Kommunen und Unternehmen; "
        "Anträge sind über das Förderportal möglich. Wasserstoff bleibt ein Schwerpunkt."
        if german and n % 3 == 0
        else f"{title}. The measure concerns regions, municipalities and businesses."
    )
    url = f"https://bench.invalid/{source.id}/items/{n}"
    published = NOW - dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 540))
    topics = rng.sample(TOPICS, rng.choice([0, 1, 1, 2, 2, 3]))
    deadlines: tuple[Deadline, ...] = ()
    if rng.random() < 0.15:
        deadlines = (
            Deadline(
                (published + dt.timedelta(days=rng.randrange(20, 200))).date(),
                DeadlineKind.DEADLINE,
                "Frist",
            ),
        )
    item = NormalizedItem(
        source_id=source.id,
        identity=f"url:{url}",
        title=title,
        url=url,
        summary_html=f"<p>{summary}</p>",
        summary_text=summary,
        language=source.language,
        published=published,
        updated=None,
        content_hash=f"bench-{n}",
        family=None,
    )
    classification = Classification(
        topics=tuple(TopicAssignment(t, round(rng.uniform(0.35, 0.95), 2)) for t in topics),
        doc_type=rng.choice(DOC_TYPES),
        references=(f"IP/26/{n}",) if rng.random() < 0.4 else (),
        deadlines=deadlines,
        relevance=round(rng.random() ** 2, 3),
    )
    return source, Incoming(item, classification)


def fill(services: Services, total: int) -> None:
    """Add synthetic items as ingest would (lookup → decide → apply) until `total`."""
    store = services.store
    store.sources.register(SOURCES, now=NOW)
    rng = random.Random(48)
    missing = total - store.items.count()
    n = 0
    while missing > 0:
        batch = [synthetic(n + k, rng) for k in range(min(500, missing))]
        n += len(batch)
        for source in SOURCES:
            incoming = [inc for src, inc in batch if src is source]
            known = store.items.lookup(
                {i.item.identity for i in incoming}, {i.item.url or "" for i in incoming}, set()
            )
            changes = decide(incoming, known, institution=source.institution)
            store.items.apply(changes, now=NOW)
        missing = total - store.items.count()


@contextmanager
def bench_store(postgres: str | None, folder: Path) -> Iterator[Settings]:
    """Settings for a SQLite file in `folder`, or for a fresh schema on PostgreSQL."""
    office = folder / "office.yaml"
    office.write_text(OFFICE_YAML, encoding="utf-8")
    env = {
        "EUDIGEST_DATA_DIR": str(folder / "var"),
        "EUDIGEST_SECRET_KEY": SECRET,
        "EUDIGEST_OFFICE": str(office),
        "EUDIGEST_TAXONOMY": str(ROOT / "taxonomy.yaml"),
    }
    if postgres is None:
        yield Settings.from_env(env, cwd=folder)
        return
    import sqlalchemy as sa  # only here: a schema of our own, like tests/conftest.py

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres else "?"
    env["EUDIGEST_DATABASE_URL"] = f"{postgres}{sep}options=-csearch_path%3D{schema}"
    try:
        yield Settings.from_env(env, cwd=folder)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def prepare(services: Services, corpus: Path, total: int) -> dict[str, int]:
    """Corpus, synthetic items, accepted items, an edition, an annotation, a user."""
    store = services.store
    started = time.perf_counter()
    store.upgrade()
    with FeedServer(corpus) as server:
        allow_server(services, server)
        path = Path(services.settings.data_dir) / "corpus-sources.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sources_yaml(server.base_url), encoding="utf-8")
        jobs.fetch(services, sources_file=path)
    corpus_items = store.items.count()
    fill(services, total)
    actor = staff.add_user(store, "anna", Role.EDITOR, PASSWORD, now=NOW)
    topic_ids = services.taxonomy().topic_ids()
    newest = store.items.search(InboxQuery(per_page=ACCEPTED, order="relevance"))
    ids = [i.id for i in newest.items]
    curate.accept(store, ids, actor=actor, now=NOW, topic_ids=topic_ids)
    office = services.office()
    edition = curate.create_edition(
        store, office, "weekly", title="EU-Wochenbrief 48/2026", intro="Bench", actor=actor, now=NOW
    )
    sections = [s.id for s in edition.sections]
    for k, item_id in enumerate(ids[:EDITION_ITEMS]):
        curate.place_item(
            store,
            edition.id,
            item_id,
            section_id=sections[k % len(sections)],
            position=None,
            actor=actor,
            now=NOW,
        )
    annotated = ids[0]
    curate.annotate(
        store,
        annotated,
        headline="Wasserstoff für die Region: Förderaufruf mit Frist",
        comment_md="Fördermittel für Kommunen in Baden-Württemberg – **Frist beachten!**\n\n- a",
        priority=Priority.DEADLINE,
        audiences=[Audience.KOMMUNE, Audience.UNTERNEHMEN],
        expected_version=0,
        actor=actor,
        now=NOW,
    )
    if store.engine.dialect.name == "postgresql":
        # Planner statistics, as autovacuum would have them a minute after a bulk load.
        import sqlalchemy as sa

        with store.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    return {
        "corpus": corpus_items,
        "items": store.items.count(),
        "edition": edition.id,
        "item": annotated,
        "setup_ms": int((time.perf_counter() - started) * 1000),
    }


# ---------------------------------------------------------------- measuring


def measure(fn: Callable[[], Any], n: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def logged_in_client(app: Any) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the login page"
    response = client.post(
        "/login", data={"name": "anna", "password": PASSWORD, "csrf_token": match.group(1)}
    )
    assert response.status_code == 303, response.status_code
    return client


@dataclass
class Page:
    """One page to time, and the store reads its view makes (the baseline)."""

    url: str
    reads: Callable[[], Any]
    search: Callable[[], Any] | None = None  # store.items.search alone (inbox pages)
    hits: int | None = None  # items matching the inbox query


def pages_to_time(services: Services, facts: dict[str, int]) -> dict[str, Page]:
    from werkzeug.datastructures import MultiDict

    from pipeline.web.staff import inbox_query

    store, tz = services.store, services.settings.tz
    edition_id, item_id = facts["edition"], facts["item"]
    pages: dict[str, Page] = {}
    for name, query_string in (
        ("inbox, page 1", ""),
        (f"inbox, full text „{SEARCH_WORD}“", f"q={SEARCH_WORD}"),
        ("inbox, page 50", "page=50"),
        ("inbox, by relevance", "order=relevance"),
    ):
        query, problems = inbox_query(MultiDict(parse_qsl(query_string)), tz)
        assert not problems, problems

        def search(query: InboxQuery = query) -> Any:
            return store.items.search(query)

        def reads(search: Callable[[], Any] = search) -> None:
            search()
            store.items.facets()

        url = f"/desk/?{query_string}" if query_string else "/desk/"
        pages[name] = Page(url, reads, search, search().total)

    def item_reads() -> None:
        store.items.get(item_id)
        store.items.facets()
        store.items.audit(item_id)

    def edition_reads() -> None:
        edition = store.editions.get(edition_id)
        store.items.get_many(list(edition.item_ids))
        store.items.search(InboxQuery(statuses=(ItemStatus.ACCEPTED,), per_page=50, tz=tz))
        store.editions.audit(edition_id)

    def status_reads() -> None:
        store.sources.health()
        store.stats.daily_activity(now=NOW, tz=tz, days=30)
        store.stats.last_sent()
        store.editions.list(limit=50)

    pages["item page"] = Page(f"/desk/items/{item_id}", item_reads)
    pages[f"edition editor ({EDITION_ITEMS} items)"] = Page(
        f"/desk/editions/{edition_id}", edition_reads
    )
    pages["status page"] = Page("/desk/status", status_reads)
    return pages


def shown(html: str) -> int:
    """Items a page lists: inbox rows (checkboxes) or edition entries (↑ buttons)."""
    return html.count('id="sel-') + html.count('aria-label="nach oben"')


def run(services: Services, facts: dict[str, int], n: int) -> None:
    from pipeline.web import create_app

    client = logged_in_client(create_app(services.settings, services))
    pages = pages_to_time(services, facts)

    def get(url: str) -> Callable[[], str]:
        def go() -> str:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return str(response.get_data(as_text=True))

        return go

    print(
        f"{services.store.engine.dialect.name}: {facts['items']:,} items "
        f"({facts['corpus']:,} from the corpus), {ACCEPTED} accepted, an edition of "
        f"{EDITION_ITEMS} items in 4 sections (set-up {facts['setup_ms'] / 1000:.1f} s); "
        f"{n} requests per page after 3 warm-up"
    )
    head = (
        f"{'page':<34} {'hits':>5} {'rows':>4} {'median':>7} {'p95':>7} "
        f"{'search':>7} {'reads':>7} {'render+':>8} {'<100':>4}"
    )
    print(head)
    print("-" * len(head))
    for name, page in pages.items():
        rows = shown(get(page.url)())
        times = measure(get(page.url), n)
        search_ms = statistics.median(measure(page.search, n)) if page.search else None
        reads_ms = statistics.median(measure(page.reads, n))
        median = statistics.median(times)
        print(
            f"{name:<34} {'' if page.hits is None else page.hits:>5} {rows or '':>4} "
            f"{median:>7.1f} {p95(times):>7.1f} "
            f"{'' if search_ms is None else f'{search_ms:.1f}':>7} {reads_ms:>7.1f} "
            f"{median - reads_ms:>8.1f} {'yes' if median < 100 else 'NO':>4}"
        )
    print(
        "Times in ms. median/p95: the whole request inside the app (Flask test client, no\n"
        "network). search: store.items.search alone with the inbox's own query; reads: every\n"
        "store read the view makes; render+ = median − reads (Jinja, session, routing).\n"
        "hits: items matching the inbox query; rows: items listed on the page."
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=30, help="requests per page (default 30)")
    ap.add_argument("--items", type=int, default=5000, help="items in the store (default 5000)")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument(
        "--postgres",
        metavar="URL",
        help="also measure on PostgreSQL (a schema of its own, dropped afterwards), e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    )
    args = ap.parse_args()
    if not (args.corpus / "MANIFEST.md").is_file():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    targets: list[str | None] = [None] + ([args.postgres] if args.postgres else [])
    for target in targets:
        with tempfile.TemporaryDirectory() as tmp, bench_store(target, Path(tmp)) as settings:
            services = build(settings)
            try:
                facts = prepare(services, args.corpus, args.items)
                run(services, facts, args.requests)
            finally:
                services.close()
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
