"""Dossiers in the public archive: a page, an Atom feed and a calendar per published dossier,
German, with nothing personal (no followers, no staff)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import feedparser  # type: ignore[import-untyped]
import icalendar
import pytest
from flask.testing import FlaskClient

from pipeline.bootstrap import build
from pipeline.catalog import load_office, load_taxonomy
from pipeline.errors import ConfigError
from pipeline.model import DossierEvent, DossierRecord, EventKind, ProcedureType
from pipeline.store import Store
from pipeline.web import create_app
from tests.conftest import _pg_store
from tests.web.conftest import (
    EC_DE,
    EP_EN,
    NOW,
    ROOT,
    Clock,
    add_item,
    make_settings,
    services_from_template,
    visible,
)
from tests.web.test_archive import make_edition

BASE = "https://newsletter.region-stuttgart.example"
PAGE = "/archiv/verfahren/2025-0260-cod"


def record(**kw: object) -> DossierRecord:
    values: dict[str, object] = dict(
        reference="2025/0260(COD)",
        source="ep-procedures",
        title_de="Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren",
        title_en="Non-application of customs duties on imports of certain goods",
        procedure_type=ProcedureType.COD,
        lead_committee="INTA",
        rapporteur="Bernd Lange",
        aliases=("COM(2025) 123", "32026R0101", "A10-0070/2026"),
        events=(
            DossierEvent(dt.date(2025, 10, 20), EventKind.REFERRAL, "ep-procedures", key="e1"),
            DossierEvent(
                dt.date(2026, 3, 19),
                EventKind.COMMITTEE_ADOPTING_REPORT,
                "ep-procedures",
                key="e2",
                document="A10-0070/2026",
            ),
            DossierEvent(
                dt.date(2026, 12, 16),
                EventKind.PLENARY_VOTE,
                "ep-procedures",
                key="f1",
                forecast=True,
            ),
        ),
    )
    values.update(kw)
    return DossierRecord(**values)  # type: ignore[arg-type]


@dataclass
class Site:
    client: FlaskClient
    store: Store


def site(
    tmp_path: Path, clock: Clock, template_db: Path, setting: str | None, backend: str = "sqlite"
) -> Iterator[Site]:
    settings = make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)
    if setting is not None:
        with (tmp_path / "office.yaml").open("a", encoding="utf-8") as f:
            f.write(f"archive:\n  dossiers: {setting}\n")
    pg: Iterator[Store] | None = None
    if backend == "sqlite":
        services = services_from_template(settings, clock, template_db)
    else:
        pg = _pg_store()
        services = build(settings)
        services.store.close()
        services.store = next(pg)
        services.clock = clock
        services.store.topics.sync(load_taxonomy(settings.taxonomy_path))
        services.store.sources.register([EC_DE, EP_EN], now=NOW)
    store = services.store
    store.dossiers.upsert([record(), record(reference="2024/0258(COD)", aliases=())], now=NOW)
    store.dossiers.follow("2025/0260(COD)", "anna", now=NOW)
    sent = add_item(store, 31, source=EP_EN, title="Customs duties: committee backs report")
    internal = add_item(store, 32, title="Nur intern: Entwurf zur Zollfrage")
    for item_id in (sent, internal):
        store.dossiers.attach("2025/0260(COD)", item_id, actor="anna", now=NOW)
    make_edition(store, "weekly", "EU-Wochenbrief 48/2026", [("Politik", [sent])])
    app = create_app(settings, services)
    app.config["TESTING"] = True
    yield Site(app.test_client(), store)
    if pg is not None:
        with pytest.raises(StopIteration):
            next(pg)  # drops the schema
    else:
        services.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def public(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock, template_db: Path
) -> Iterator[Site]:
    yield from site(tmp_path, clock, template_db, "public", request.param)


@pytest.fixture
def hidden(tmp_path: Path, clock: Clock, template_db: Path) -> Iterator[Site]:
    yield from site(tmp_path, clock, template_db, None)


def test_dossier_page_in_german_without_personal_data(public: Site) -> None:
    response = public.client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = visible(html)
    assert "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren" in text
    assert "Stand im Ausschuss" in text  # the stage in German
    assert "Ordentliches Gesetzgebungsverfahren (COD)" in text
    assert "16. Dezember 2026 – Voraussichtlich: Abstimmung im Plenum" in text  # ahead
    assert "19. März 2026 – Abstimmung im Ausschuss (A10-0070/2026)" in text
    assert "20. Oktober 2025 – Überweisung an den Ausschuss angekündigt" in text
    assert "Abstimmung im Plenum (voraussichtlich 16. Dezember 2026)" in text  # next step
    # German first: the act in German on EUR-Lex without a note; OEIL is English, so noted
    assert 'href="https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32026R0101"' in html
    assert text.count("Link führt zu einer englischsprachigen Seite") == 1
    # nobody's name but the rapporteur's (a public office): not who follows it in the desk
    assert "anna" not in text.lower()
    assert "Bernd Lange" in text
    assert response.headers["Cache-Control"].startswith("public")
    listing = visible(public.client.get("/archiv/verfahren/").get_data(as_text=True))
    assert "2025/0260(COD) · Stand: im Ausschuss" in listing
    assert "2024/0258(COD)" in listing
    # its items that a sent edition carried, with the German version of their link
    assert "Customs duties: committee backs report – EU-Wochenbrief 48/2026, 25. November 2026" in (
        text
    )
    assert 'href="https://ec.europa.eu/commission/presscorner/detail/de/ip_26_31"' in html
    assert "Nur intern" not in text
    # the archive's navigation leads there
    assert 'href="/archiv/verfahren/"' in public.client.get("/archiv/").get_data(as_text=True)


def test_unknown_unpublished_or_odd_addresses_are_german_404s(public: Site, hidden: Site) -> None:
    for url in (
        "/archiv/verfahren/2099-0001-cod",
        "/archiv/verfahren/2099-0001-cod.atom",
        "/archiv/verfahren/2099-0001-cod.ics",
        "/archiv/verfahren/com-2025-123",
        "/archiv/verfahren/2025-260-cod",
    ):
        response = public.client.get(url)
        assert response.status_code == 404, url
        assert "Dieses Verfahren gibt es im Archiv nicht" in response.get_data(as_text=True)
    # office.yaml says nothing: no dossier is public
    for url in (PAGE, f"{PAGE}.atom", f"{PAGE}.ics"):
        assert hidden.client.get(url).status_code == 404, url
    listing = visible(hidden.client.get("/archiv/verfahren/").get_data(as_text=True))
    assert "Noch keine Verfahren im Archiv." in listing
    assert "/archiv/verfahren/" not in hidden.client.get("/archiv/").get_data(as_text=True)


def test_a_dossier_staff_publish_is_public_without_the_office_setting(hidden: Site) -> None:
    assert hidden.client.get(PAGE).status_code == 404
    hidden.store.dossiers.publish("2025/0260(COD)", True, actor="anna", now=NOW)

    for url in (PAGE, f"{PAGE}.atom", f"{PAGE}.ics"):
        assert hidden.client.get(url).status_code == 200, url
    listing = visible(hidden.client.get("/archiv/verfahren/").get_data(as_text=True))
    assert "2025/0260(COD)" in listing and "2024/0258(COD)" not in listing
    hidden.store.dossiers.publish("2025/0260(COD)", False, actor="anna", now=NOW)
    assert hidden.client.get(PAGE).status_code == 404


def test_dossier_feed_validates_and_names_the_events(public: Site) -> None:
    response = public.client.get(f"{PAGE}.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.get_data())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title.startswith("2025/0260(COD): Nichtanwendung von Zöllen")
    assert feed.feed.language == "de"
    titles = [e.title for e in feed.entries]
    assert titles == [
        "19. März 2026: Abstimmung im Ausschuss",  # newest first, forecasts are no news
        "20. Oktober 2025: Überweisung an den Ausschuss angekündigt",
    ]
    assert all(e.link == f"{BASE}{PAGE}#verlauf" for e in feed.entries)
    assert len({e.id for e in feed.entries}) == 2
    assert public.client.get(f"{PAGE}.atom").get_data() == response.get_data()  # stable


def test_dossier_calendar_round_trips(public: Site) -> None:
    response = public.client.get(f"{PAGE}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(response.get_data())
    assert cal.to_ical() == response.get_data()
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [(e.decoded("dtstart"), str(e["summary"])) for e in events] == [
        (dt.date(2025, 10, 20), "Überweisung an den Ausschuss angekündigt – 2025/0260(COD)"),
        (dt.date(2026, 3, 19), "Abstimmung im Ausschuss – 2025/0260(COD)"),
        (dt.date(2026, 12, 16), "Voraussichtlich: Abstimmung im Plenum – 2025/0260(COD)"),
    ]
    assert all(e.decoded("dtend") - e.decoded("dtstart") == dt.timedelta(days=1) for e in events)
    assert "Stand des Verfahrens: im Ausschuss" in str(events[0]["description"])
    assert len({str(e["uid"]) for e in events}) == 3
    assert "anna" not in response.get_data(as_text=True).lower()


OFFICE = "office:\n  name: Europabüro Musterregion\nnewsletters:\n  - id: weekly\n    name: W\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [("", "none"), ("archive:\n  dossiers: public\n", "public"), ("archive: {}\n", "none")],
)
def test_office_yaml_archive_dossiers(tmp_path: Path, extra: str, expected: str) -> None:
    path = tmp_path / "office.yaml"
    path.write_text(OFFICE + extra, encoding="utf-8")
    assert load_office(path).archive_dossiers == expected


def test_office_yaml_archive_dossiers_refuses_other_words(tmp_path: Path) -> None:
    path = tmp_path / "office.yaml"
    path.write_text(OFFICE + "archive:\n  dossiers: all\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"archive\.dossiers: must be public or none"):
        load_office(path)


def test_the_repositorys_office_yaml_publishes_no_dossier() -> None:
    assert load_office(ROOT / "office.yaml").archive_dossiers == "none"
