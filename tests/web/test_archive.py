"""The public archive, its Atom feeds and the ICS deadline calendars (Flask test client).

Runs on SQLite and on PostgreSQL. Editions are moved to SENT through the store's own
transitions (one test sends through `jobs.send` and the outbox, to compare the archive
with what a subscriber really got).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import feedparser
import icalendar
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pipeline import jobs
from pipeline.bootstrap import Services, build
from pipeline.catalog import load_taxonomy
from pipeline.compose.archive import slugify
from pipeline.config import Settings
from pipeline.model import (
    Deadline,
    DeadlineKind,
    Edition,
    EditionState,
    NewSubscriber,
    Priority,
    Profile,
)
from pipeline.store import Store
from pipeline.web import archive as archive_views
from pipeline.web import create_app
from subscribers.addresses import hash_of
from tests.conftest import _pg_store
from tests.subscribers.conftest import Outbox
from tests.web.conftest import (
    EC_DE,
    EP_EN,
    NOW,
    Clock,
    Desk,
    Seeded,
    add_item,
    assert_no_active_content,
    make_settings,
    seed_items,
    services_from_template,
    visible,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://newsletter.region-stuttgart.example"
DAY = dt.timedelta(days=1)


@dataclass
class World:
    store: Store
    services: Services
    client: FlaskClient
    clock: Clock
    items: Seeded
    editions: dict[str, Edition] = field(default_factory=dict)

    def get(self, url: str, status: int = 200, **kw: object) -> TestResponse:
        response = self.client.get(url, **kw)  # type: ignore[arg-type]
        assert response.status_code == status, (url, response.status_code)
        return response

    def text(self, url: str, status: int = 200) -> str:
        return self.get(url, status).get_data(as_text=True)

    def page(self, name: str) -> str:
        e = self.editions[name]
        return self.text(f"/archiv/{e.id}/{slugify(e.title)}")


def annotate(
    store: Store,
    item_id: int,
    headline: str,
    comment: str = "",
    *,
    priority: Priority = Priority.FYI,
    now: dt.datetime = NOW,
) -> None:
    current = store.items.get(item_id).annotation
    store.items.annotate(
        item_id,
        headline=headline,
        comment_md=comment,
        priority=priority,
        audiences=(),
        expected_version=current.version if current else 0,
        now=now,
        actor="anna",
    )


def make_edition(
    store: Store,
    newsletter: str,
    title: str,
    sections: list[tuple[str, list[int]]],
    *,
    intro: str = "",
    state: EditionState = EditionState.SENT,
    sent_at: dt.datetime = NOW,
) -> Edition:
    """An edition brought to `state` through the store's transitions."""
    edition = store.editions.create(
        newsletter, title=title, intro=intro, sections=sections, actor="anna", now=sent_at
    )
    path = [EditionState.APPROVED, EditionState.SENDING, EditionState.SENT]
    current = EditionState.DRAFT
    for target in path[: path.index(state) + 1] if state is not EditionState.DRAFT else []:
        extra = {"sent_at": sent_at} if target is EditionState.SENT else {}
        edition = store.editions.transition(
            edition.id, from_states=(current,), to_state=target, actor="x", now=sent_at, **extra
        )
        current = target
    return edition


def populate(store: Store) -> tuple[Seeded, dict[str, Edition]]:
    items = seed_items(store)
    items.ids["soon"] = add_item(
        store,
        10,
        title="Aufruf: Städtepartnerschaften für Bürgerbeteiligung",
        topics=(("municipalities", 0.8),),
        deadlines=(Deadline(NOW.date() + 14 * DAY, DeadlineKind.CALL_CLOSING, ""),),
    )
    items.ids["old"] = add_item(
        store,
        11,
        title="Abgelaufene Frist aus dem Sommer",
        topics=(("energy_climate", 0.8),),
        deadlines=(Deadline(NOW.date() - 60 * DAY, DeadlineKind.DEADLINE, "Frist"),),
    )
    items.ids["unsent"] = add_item(
        store,
        12,
        title="Nur im Entwurf",
        topics=(("energy_climate", 0.8),),
        deadlines=(Deadline(NOW.date() + 20 * DAY, DeadlineKind.DEADLINE, "Frist"),),
    )
    annotate(
        store,
        items["hydrogen"],
        "Wasserstoff-Straßenbahnen: Förderung für Städte",
        "**Wichtig** für Esslingen und Ludwigsburg: Anträge über die Region.",
        priority=Priority.DEADLINE,
    )
    ids = items.ids
    editions = {
        "older": make_edition(
            store, "weekly", "EU-Wochenbrief 47/2026", [("Meldungen", [ids["old"]])],
            sent_at=NOW - 7 * DAY,
        ),
        "daily": make_edition(
            store, "daily", "EU-Tagesüberblick vom 24. November", [("Meldungen", [ids["call"]])],
            sent_at=NOW - DAY,
        ),
        "latest": make_edition(
            store,
            "weekly",
            "EU-Wochenbrief 48/2026",
            [
                ("Im Fokus", [ids["hydrogen"], ids["call"]]),
                ("Förderung & Ausschreibungen", [ids["cohesion"], ids["soon"]]),
            ],
            intro="Liebe Leserinnen und Leser, *diese Woche* geht es um Wasserstoff.",
        ),
        "draft": make_edition(
            store, "weekly", "Entwurf KW 49", [("Meldungen", [ids["unsent"]])],
            state=EditionState.DRAFT,
        ),
        "approved": make_edition(
            store, "weekly", "Freigegeben KW 49", [("Meldungen", [ids["unsent"]])],
            state=EditionState.APPROVED,
        ),
        "sending": make_edition(
            store, "weekly", "Im Versand KW 49", [("Meldungen", [ids["unsent"]])],
            state=EditionState.SENDING,
        ),
    }  # fmt: skip
    return items, editions


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock, template_db: Path
) -> Iterator[World]:
    settings = make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)
    pg: Iterator[Store] | None = None
    if request.param == "sqlite":
        services = services_from_template(settings, clock, template_db)
    else:
        pg = _pg_store()
        store = next(pg)
        services = build(settings)
        services.store.close()
        services.store = store
        services.clock = clock
        store.topics.sync(load_taxonomy(settings.taxonomy_path))
        store.sources.register([EC_DE, EP_EN], now=NOW)
    items, editions = populate(services.store)
    app = create_app(settings, services)
    app.config["TESTING"] = True
    yield World(services.store, services, app.test_client(), clock, items, editions)
    if pg is not None:
        with pytest.raises(StopIteration):
            next(pg)  # drops the schema
    else:
        services.close()


def assert_in_order(text: str, *parts: str) -> None:
    """Each part occurs after the one before it."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} not found after position {at}"
        at = found + len(part)


# ---------------------------------------------------------------- the list


def test_list_shows_only_sent_editions_newest_first(world: World) -> None:
    html = world.text("/archiv/")
    assert '<html lang="de">' in html
    text = visible(html)
    assert_in_order(
        text, "EU-Wochenbrief 48/2026", "EU-Tagesüberblick vom 24. November",
        "EU-Wochenbrief 47/2026",
    )  # fmt: skip
    for hidden in ("Entwurf KW 49", "Freigegeben KW 49", "Im Versand KW 49"):
        assert hidden not in text
    assert "25. November 2026" in text and "18. November 2026" in text
    assert "4 Meldungen" in text
    for link in ('href="/abo/anmelden"', 'href="/archiv/feed.atom"', 'href="/fristen.ics"',
                 'href="/fristen/energy_climate.ics"', 'href="/archiv/weekly.atom"'):  # fmt: skip
        assert link in html, link
    assert "Kalender abonnieren" in text and "Outlook" in text
    assert f"{BASE}/fristen.ics" in text  # the address to paste into Outlook
    latest = world.editions["latest"]
    assert f'href="/archiv/{latest.id}/eu-wochenbrief-48-2026"' in html


def test_list_filters_by_newsletter(world: World) -> None:
    text = visible(world.text("/archiv/?newsletter=daily"))
    assert "EU-Tagesüberblick vom 24. November" in text
    assert "EU-Wochenbrief 48/2026" not in text
    missing = world.text("/archiv/?newsletter=monatlich", 404)
    assert "Diesen Newsletter gibt es nicht." in visible(missing)


def test_list_is_paginated(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_views, "PAGE_SIZE", 2)
    first = visible(world.text("/archiv/"))
    assert "Seite 1 von 2" in first and "EU-Wochenbrief 47/2026" not in first
    second = visible(world.text("/archiv/?seite=2"))
    assert "EU-Wochenbrief 47/2026" in second and "EU-Wochenbrief 48/2026" not in second
    assert "Neuere Ausgaben" in second
    assert "Seite 3 gibt es nicht" in visible(world.text("/archiv/?seite=3", 404))
    for bad in ("0", "-1", "zwei", "99999999999999999999"):
        assert "Seitenzahl ist ungültig" in visible(world.text(f"/archiv/?seite={bad}", 400))


# ---------------------------------------------------------------- one edition


def test_edition_page_has_the_whole_edition_in_order(world: World) -> None:
    html = world.page("latest")
    text = visible(html)
    assert '<html lang="de">' in html
    assert_in_order(
        text,
        "EU-Wochenbrief 48/2026",
        "Versandt am Mittwoch, 25. November 2026",
        "Liebe Leserinnen und Leser, diese Woche geht es um Wasserstoff.",
        "Fristen",
        "Im Fokus",
        "Wasserstoff-Straßenbahnen: Förderung für Städte",
        "Call for proposals: urban mobility pilots",
        "Förderung & Ausschreibungen",
        "Konsultation zur Zukunft der Kohäsionspolitik",
        "Aufruf: Städtepartnerschaften für Bürgerbeteiligung",
    )
    # the Fristen block: the call closing in two weeks, with its German date
    fristen = text.split("Fristen", 1)[1].split("Im Fokus", 1)[0]
    assert "Mi., 9. Dezember 2026 – Einreichungsschluss: Aufruf: Städtepartnerschaften" in fristen
    # the office's comment as sanitised HTML, its priority, institution, source, date
    assert "<strong>Wichtig</strong> für Esslingen und Ludwigsburg" in html
    assert "Frist" in text and "European Commission · Pressemitteilung · 25. November 2026" in text
    assert "Quelle: Presseraum EU-Kommission" in text
    assert "Themen: Energie & Klima, Mobilität & Verkehr" in text
    # the English press release links its German version, so no item needs the note
    assert "sprachigen Seite" not in text
    assert 'href="https://ec.europa.eu/commission/presscorner/detail/de/ip_26_2"' in html
    assert "/detail/en/ip_26_2" not in html
    # anchors for the feed's links
    assert f'id="meldung-{world.items["hydrogen"]}"' in html
    assert "<script" not in html  # no scripts on public archive pages (CSP)


def test_edition_address_redirects_to_its_canonical_slug(world: World) -> None:
    latest = world.editions["latest"]
    canonical = f"/archiv/{latest.id}/eu-wochenbrief-48-2026"
    for wrong in (f"/archiv/{latest.id}", f"/archiv/{latest.id}/falscher-titel"):
        response = world.get(wrong, 301)
        assert response.headers["Location"] == canonical
    assert f'<link rel="canonical" href="{BASE}{canonical}">' in world.text(canonical)


def test_editions_not_sent_and_unknown_ids_are_german_404s(world: World) -> None:
    for name in ("draft", "approved"):
        e = world.editions[name]
        for url in (f"/archiv/{e.id}", f"/archiv/{e.id}/{slugify(e.title)}"):
            html = world.text(url, 404)
            assert '<html lang="de">' in html
            assert "Diese Ausgabe gibt es im Archiv nicht" in visible(html)
            assert e.title not in html
    assert "Nicht gefunden" in visible(world.text("/archiv/999999", 404))


def test_an_edition_being_sent_has_its_page_but_is_not_listed_yet(world: World) -> None:
    """The mail's "Im Browser lesen" link works from the first mail of a long send on."""
    e = world.editions["sending"]
    page = world.text(f"/archiv/{e.id}/{slugify(e.title)}")
    assert e.title in visible(page)
    assert e.title not in world.text("/archiv/")
    assert e.title not in world.text("/archiv/feed.atom")


def test_html_in_comments_and_titles_is_sanitised(world: World) -> None:
    hydrogen = world.items["hydrogen"]
    annotate(
        world.store,
        hydrogen,
        "<b>Fett</b> & <script>alert('x')</script>",
        "Text <script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[Klick](javascript:alert(3)) <iframe src=https://evil.example></iframe>",
    )
    html = world.page("latest")
    assert_no_active_content(html, "archive page")
    for tag in ("<script", "<iframe", "<img", "<b>"):
        assert tag not in html, tag  # comment and headline HTML never becomes markup
    assert "&lt;b&gt;Fett&lt;/b&gt; &amp; &lt;script&gt;" in html  # the headline is text
    assert 'href="javascript' not in html
    assert "Text" in visible(html)  # the comment itself survives
    feed = world.text("/archiv/feed.atom")
    entry = feedparser.parse(feed).entries[0]
    assert "<script" not in entry.content[0].value


def test_archive_holds_nothing_personal(world: World, tmp_path: Path) -> None:
    """Send a real edition to a subscriber; nothing of the mail's personal parts is public."""
    store, services = world.store, world.services
    email, name, org = "anna.mueller@kommune-esslingen.de", "Anna Müller-Lüdenscheidt", "Stadt Q"
    store.subscribers.add(
        NewSubscriber(
            email=email,
            email_hash=hash_of(email),
            profile=Profile(name=name, organisation=org, newsletters=("weekly",)),
            consent_text="v1",
            consent_at=NOW,
        ),
        now=NOW,
    )
    edition = make_edition(
        store, "weekly", "Versand an echte Leser", [("Meldungen", [world.items["hydrogen"]])],
        state=EditionState.APPROVED,
    )  # fmt: skip
    report = jobs.send(services, edition.id)
    assert report.sent == 1 and store.editions.get(edition.id).state is EditionState.SENT
    [mail] = Outbox(services.settings.data_dir / "outbox").all()
    personal_links = set(re.findall(r"https?://[^\s\"<>]*/abo/[^\s\"<>]+", mail.text))
    assert personal_links, "the mail should carry the reader's own links"
    assert name in mail.text

    pages = [
        world.text("/archiv/"),
        world.text(f"/archiv/{edition.id}/versand-an-echte-leser"),
        world.text("/archiv/feed.atom"),
        world.text("/archiv/weekly.atom"),
        world.text("/fristen.ics"),
        world.text("/fristen/energy_climate.ics"),
    ]
    for body in pages:
        for secret in (email, name, org, "Müller", "%%", "Guten Tag", *personal_links):
            assert secret not in body, secret
        assert "/abo/einstellungen/" not in body and "/abo/abmelden/" not in body
        assert "unsubscribe" not in body.lower()
    assert "Wasserstoff-Straßenbahnen" in visible(pages[1])


def test_the_mails_browser_link_opens_the_editions_archive_page(world: World) -> None:
    store, services = world.store, world.services
    email = "lesen@kommune-esslingen.de"
    store.subscribers.add(
        NewSubscriber(
            email=email,
            email_hash=hash_of(email),
            profile=Profile(newsletters=("weekly",)),
            consent_text="v1",
            consent_at=NOW,
        ),
        now=NOW,
    )
    edition = make_edition(
        store, "weekly", "Im Browser gelesen", [("Meldungen", [world.items["hydrogen"]])],
        state=EditionState.APPROVED,
    )  # fmt: skip
    assert jobs.send(services, edition.id).sent == 1
    [mail] = Outbox(services.settings.data_dir / "outbox").all()
    url = f"{BASE}/archiv/{edition.id}"
    assert mail.text.startswith(f"Im Browser lesen: {url}\n")
    assert f'<a href="{url}"' in mail.html and ">Im Browser lesen</a>" in mail.html
    moved = world.get(url.removeprefix(BASE), 301)
    assert moved.location.endswith(f"/archiv/{edition.id}/im-browser-gelesen")
    assert "Wasserstoff-Straßenbahnen" in visible(world.text(moved.location))


def test_long_titles_and_headlines_render(world: World) -> None:
    # 1,000 characters without a space: an item title (no annotation); an edition title as
    # long as the schema allows on PostgreSQL (300), and 1,000 on SQLite
    word = "Förderprogramm" * 72  # 1,008 characters
    long_item = add_item(world.store, 20, title=word[:1000])
    size = 1000 if world.store.dialect == "sqlite" else 300
    title = ("Wochenbrief " + "Ü" * 1000)[:size]
    edition = make_edition(world.store, "weekly", title, [("Meldungen", [long_item])])
    html = world.text(f"/archiv/{edition.id}/{slugify(title)}")
    assert f">{title}</h1>" in html  # the whole title
    headline = re.search(r'id="meldung-\d+">.*?<h3><a [^>]+>([^<]+)</a>', html, re.S)
    assert headline is not None
    assert len(headline.group(1)) <= 160 and headline.group(1).endswith("…")
    listing = visible(world.text("/archiv/"))
    assert "Wochenbrief ÜÜÜ" in listing and title not in listing  # cut in the list
    feed = feedparser.parse(world.text("/archiv/feed.atom"))
    assert not feed.bozo
    css = (ROOT / "pipeline" / "web" / "static" / "archive.css").read_text(encoding="utf-8")
    assert "overflow-wrap: anywhere" in css  # long words wrap instead of widening the page


def test_item_without_a_german_headline_falls_back(world: World) -> None:
    store = world.store
    # annotated with a comment but no headline; English source, no German version
    # anywhere (a speech exists in English only)
    speech = add_item(
        store,
        22,
        source=EP_EN,
        title="Speech on urban mobility pilots",
        url="https://ec.europa.eu/commission/presscorner/detail/en/speech_26_22",
    )
    annotate(store, speech, "", "Für Kommunen mit **Mobilitätsplänen**.")
    empty = add_item(store, 21, title="   ")
    edition = make_edition(store, "weekly", "Rückfall", [("Meldungen", [speech, empty])])
    text = visible(world.text(f"/archiv/{edition.id}/rueckfall"))
    assert "Speech on urban mobility pilots" in text
    assert "(Link führt zu einer englischsprachigen Seite)" in text
    assert "Für Kommunen mit Mobilitätsplänen." in text
    assert "(ohne Titel)" in text


# ---------------------------------------------------------------- Atom


def test_atom_feed_lists_sent_editions_with_stable_ids(world: World) -> None:
    response = world.get("/archiv/feed.atom")
    assert response.content_type == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "EU-Newsletter – Europabüro der Region Stuttgart"
    assert feed.feed.language == "de"
    ids = [e.id for e in feed.entries]
    latest, daily, older = (world.editions[n] for n in ("latest", "daily", "older"))
    assert ids == [f"{BASE}/archiv/{e.id}" for e in (latest, daily, older)]
    first = feed.entries[0]
    assert first.title == "EU-Wochenbrief 48/2026"
    assert first.link == f"{BASE}/archiv/{latest.id}/eu-wochenbrief-48-2026"
    assert dt.datetime(*first.updated_parsed[:6], tzinfo=dt.UTC) == NOW
    assert "Wasserstoff-Straßenbahnen" in first.summary
    assert f"{BASE}/archiv/{latest.id}/eu-wochenbrief-48-2026#meldung-" in first.content[0].value
    assert feed.feed.updated_parsed[:6] == first.updated_parsed[:6]
    # per newsletter
    weekly = feedparser.parse(world.get("/archiv/weekly.atom").data)
    assert [e.id for e in weekly.entries] == [f"{BASE}/archiv/{e.id}" for e in (latest, older)]
    assert weekly.feed.title == "EU-Wochenbrief – Europabüro der Region Stuttgart"
    daily_feed = feedparser.parse(world.get("/archiv/daily.atom").data)
    assert [e.title for e in daily_feed.entries] == ["EU-Tagesüberblick vom 24. November"]
    assert "Diesen Newsletter gibt es nicht." in visible(world.text("/archiv/monatlich.atom", 404))
    # the same editions give the same bytes (ids and ETag stay put across requests)
    assert world.get("/archiv/feed.atom").data == response.data


def test_feed_is_bounded(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_views, "FEED_ENTRIES", 2)
    feed = feedparser.parse(world.get("/archiv/feed.atom").data)
    assert len(feed.entries) == 2


# ---------------------------------------------------------------- calendars


def events_of(data: bytes) -> tuple[icalendar.Calendar, dict[str, icalendar.Event]]:
    cal = icalendar.Calendar.from_ical(data)
    return cal, {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_calendar_has_the_deadlines_of_sent_editions(world: World) -> None:
    response = world.get("/fristen.ics")
    assert response.content_type == "text/calendar; charset=utf-8"
    cal, events = events_of(response.data)
    assert str(cal["X-WR-CALNAME"]) == "Fristen – Europabüro der Region Stuttgart"
    assert str(cal["VERSION"]) == "2.0" and "PRODID" in cal
    by_summary = {str(e["SUMMARY"]): e for e in events.values()}
    assert set(by_summary) == {
        "Frist: Wasserstoff-Straßenbahnen: Förderung für Städte",
        "Frist: Konsultation zur Zukunft der Kohäsionspolitik",
        "Frist: Aufruf: Städtepartnerschaften für Bürgerbeteiligung",
    }  # not the one 60 days ago, not the one only in unsent editions
    hydrogen = by_summary["Frist: Wasserstoff-Straßenbahnen: Förderung für Städte"]
    assert hydrogen.decoded("DTSTART") == dt.date(2027, 3, 15)  # all-day
    assert hydrogen.decoded("DTEND") == dt.date(2027, 3, 16)
    assert str(hydrogen["UID"]) == (
        f"frist-{world.items['hydrogen']}-20270315-deadline@newsletter.region-stuttgart.example"
    )
    description = str(hydrogen["DESCRIPTION"])
    assert "Frist: Montag, 15. März 2027" in description
    assert "Wichtig für Esslingen und Ludwigsburg" in description
    assert "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1" in description
    latest = world.editions["latest"]
    assert f"{BASE}/archiv/{latest.id}/eu-wochenbrief-48-2026" in description
    assert str(hydrogen["URL"]) == "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1"
    assert hydrogen.decoded("DTSTAMP") == NOW


def test_recent_deadlines_stay_for_thirty_days(world: World) -> None:
    world.clock.advance(days=70)  # Feb 3, 2027: the consultation (Jan 31) ended 3 days ago
    _, events = events_of(world.get("/fristen.ics").data)
    summaries = {str(e["SUMMARY"]) for e in events.values()}
    assert "Frist: Konsultation zur Zukunft der Kohäsionspolitik" in summaries
    world.clock.advance(days=40)  # 43 days after it
    _, events = events_of(world.get("/fristen.ics").data)
    summaries = {str(e["SUMMARY"]) for e in events.values()}
    assert "Frist: Konsultation zur Zukunft der Kohäsionspolitik" not in summaries
    assert "Frist: Wasserstoff-Straßenbahnen: Förderung für Städte" in summaries


def test_topic_calendars(world: World) -> None:
    cal, events = events_of(world.get("/fristen/energy_climate.ics").data)
    assert str(cal["X-WR-CALNAME"]) == "Fristen Energie & Klima – Europabüro der Region Stuttgart"
    assert str(cal["NAME"]) == str(cal["X-WR-CALNAME"])
    assert [str(e["SUMMARY"]) for e in events.values()] == [
        "Frist: Wasserstoff-Straßenbahnen: Förderung für Städte"
    ]
    _, events = events_of(world.get("/fristen/cohesion.ics").data)
    assert [str(e["SUMMARY"]) for e in events.values()] == [
        "Frist: Konsultation zur Zukunft der Kohäsionspolitik"
    ]
    _, events = events_of(world.get("/fristen/health.ics").data)
    assert events == {}  # a known topic without deadlines: an empty, valid calendar
    html = world.text("/fristen/gibtsnicht.ics", 404)
    assert "Dieses Thema gibt es nicht." in visible(html)


def test_calendar_uids_are_stable_and_umlauts_survive(world: World) -> None:
    _, before = events_of(world.get("/fristen.ics").data)
    _, again = events_of(world.get("/fristen.ics").data)
    assert before.keys() == again.keys()
    annotate(world.store, world.items["hydrogen"], "Neue Überschrift für Straßenbahnen – Ölfrei")
    world.clock.advance(hours=1)
    _, after = events_of(world.get("/fristen.ics").data)
    assert after.keys() == before.keys()  # an edit updates the event, never duplicates it
    uid = f"frist-{world.items['hydrogen']}-20270315-deadline@newsletter.region-stuttgart.example"
    assert str(after[uid]["SUMMARY"]) == "Frist: Neue Überschrift für Straßenbahnen – Ölfrei"
    raw = world.get("/fristen.ics").data
    assert "Überschrift für Straßenbahnen".encode() in raw  # UTF-8, not escaped away


# ---------------------------------------------------------------- caching


@pytest.mark.parametrize("url", ["/archiv/feed.atom", "/fristen.ics", "/fristen/cohesion.ics"])
def test_conditional_get_answers_304(world: World, url: str) -> None:
    first = world.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert (
        "public" in first.headers["Cache-Control"] and "max-age=" in first.headers["Cache-Control"]
    )
    again = world.get(url, 304, headers={"If-None-Match": etag})
    assert again.data == b""
    world.get(url, 304, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    # a new sent edition (with a new deadline for every calendar) changes the answer
    new = add_item(
        world.store, 30, title="Neue Ausschreibung Kohäsion", topics=(("cohesion", 0.9),),
        deadlines=(Deadline(NOW.date() + 30 * DAY, DeadlineKind.DEADLINE, ""),),
    )  # fmt: skip
    make_edition(
        world.store, "weekly", "EU-Wochenbrief 49/2026", [("Meldungen", [new])],
        sent_at=NOW + DAY,
    )  # fmt: skip
    changed = world.get(url, 200, headers={"If-None-Match": etag})
    assert changed.headers["ETag"] != etag


def test_archive_pages_are_cacheable_and_conditional(world: World) -> None:
    latest = world.editions["latest"]
    url = f"/archiv/{latest.id}/eu-wochenbrief-48-2026"
    first = world.get(url)
    assert "public" in first.headers["Cache-Control"]
    assert "Set-Cookie" not in first.headers  # the same page for everyone
    world.get(url, 304, headers={"If-None-Match": first.headers["ETag"]})
    world.get(url, 304, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert world.get("/archiv/999999", 404).headers["Cache-Control"] == "no-store"
    # a correction of a comment after sending shows up, and is not hidden behind a 304
    annotate(world.store, world.items["call"], "Korrigiert", now=NOW + DAY)
    again = world.get(url, 200, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert "Korrigiert" in again.get_data(as_text=True)
    assert again.headers["Last-Modified"] != first.headers["Last-Modified"]


def test_a_signed_in_staff_member_gets_private_answers(anna: Desk, store: Store) -> None:
    ids = seed_items(store)
    edition = make_edition(store, "weekly", "Für alle gleich", [("Meldungen", [ids["call"]])])
    response = anna.get(f"/archiv/{edition.id}/fuer-alle-gleich")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("private")
    assert "Cookie" in response.headers["Vary"]
    assert "anna" not in visible(response.get_data(as_text=True))  # no staff bar either


def test_links_use_the_request_host_without_base_url(
    tmp_path: Path, clock: Clock, template_db: Path
) -> None:
    settings: Settings = make_settings(tmp_path, EUDIGEST_BASE_URL="")  # none set
    services = services_from_template(settings, clock, template_db)
    try:
        populate(services.store)
        client = create_app(settings, services).test_client()
        feed = feedparser.parse(client.get("/archiv/feed.atom", base_url="http://eu.test").data)
        assert feed.entries[0].id.startswith("http://eu.test/archiv/")
        cal = icalendar.Calendar.from_ical(
            client.get("/fristen.ics", base_url="http://eu.test").data
        )
        assert all(str(e["UID"]).endswith("@eu.test") for e in cal.walk("VEVENT"))
    finally:
        services.close()


def test_calendar_speaks_german_where_the_source_labelled_in_english(world: World) -> None:
    """Labels stored as the source gave them ("Opening", "Deadline", "Stage 2 deadline")
    never reach a subscriber's calendar in English."""
    call = add_item(
        world.store, 31, title="Aufruf: Zweistufige Förderung", topics=(("cohesion", 0.9),),
        deadlines=(
            Deadline(NOW.date() + 10 * DAY, DeadlineKind.CALL_OPENING, "Opening"),
            Deadline(NOW.date() + 40 * DAY, DeadlineKind.CALL_CLOSING, "Stage 1 deadline"),
            Deadline(NOW.date() + 90 * DAY, DeadlineKind.CALL_CLOSING, "Deadline"),
        ),
    )  # fmt: skip
    make_edition(
        world.store, "weekly", "EU-Wochenbrief 49/2026", [("Meldungen", [call])], sent_at=NOW
    )
    _, events = events_of(world.get("/fristen.ics").data)
    mine = [e for e in events.values() if f"frist-{call}-" in str(e["UID"])]
    firsts = sorted(str(e["DESCRIPTION"]).splitlines()[0] for e in mine)
    assert firsts == [
        "Einreichungsschluss: Dienstag, 23. Februar 2027",
        "Einreichungsschluss: Montag, 4. Januar 2027 (Frist der 1. Stufe)",
        "Öffnung: Samstag, 5. Dezember 2026",
    ]
    text = " ".join(str(e["DESCRIPTION"]) + str(e["SUMMARY"]) for e in mine)
    assert "Opening" not in text and "Deadline" not in text and "Stage" not in text
