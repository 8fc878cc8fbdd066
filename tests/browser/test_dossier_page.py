"""The Verfahren pages in a real browser: a procedure ingested from the corpus's EP Open
Data API answer (served by the loopback FeedServer, as `eudigest fetch` reads it), found in
the list, opened, followed, and given a note that is rendered from Markdown."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipeline import jobs
from pipeline.bootstrap import build
from tests.browser.conftest import CORPUS, LiveDesk, flash, login, serve_copy, settings_for
from tests.support.feedserver import FeedServer
from tests.support.fetching import allow_server

PROCEDURE = "api/ep-opendata-procedure-2025-0260-cod.json"
TITLE_DE = "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren"


def _ingest_procedure(folder: Path, corpus_db: Path) -> list[str]:
    """The corpus database plus the one procedure, fetched over loopback HTTP."""
    settings = settings_for(folder)
    target = settings.data_dir / "eudigest.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(corpus_db, target)
    services = build(settings)
    try:
        with FeedServer(CORPUS) as server:
            allow_server(services, server)
            sources = folder / "dossier-sources.yaml"
            sources.write_text(
                "sources:\n"
                "  - id: ep-procedures\n"
                "    name: EP Open Data – Verfahren\n"
                "    institution: Europäisches Parlament\n"
                f"    url: {server.url(PROCEDURE)}\n"
                "    language: en\n"
                "    kind: api\n"
                "    adapter: ep_procedures\n",
                encoding="utf-8",
            )
            report = jobs.fetch(services, sources_file=sources)
    finally:
        services.close()
    return [r.source_id for r in report.failed]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, corpus_db: Path) -> Iterator[LiveDesk]:
    """The desk over the corpus database with the procedure 2025/0260(COD) ingested."""
    folder = tmp_path_factory.mktemp("dossier-ingest")
    # Playwright's event loop runs in this thread; ingest runs its own: another thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        failed = pool.submit(_ingest_procedure, folder, corpus_db).result()
    assert not failed, failed
    yield from serve_copy(tmp_path_factory.mktemp("dossier-live"), folder / "var" / "eudigest.db")


def test_open_follow_and_annotate_a_dossier(page: Page, live: LiveDesk, artifacts: Path) -> None:
    login(page, "anna")
    page.get_by_role("navigation", name="Redaktion").get_by_role("link", name="Verfahren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verfahren")
    row = page.get_by_role("row").filter(has_text="2025/0260(COD)")
    expect(row).to_contain_text(TITLE_DE)
    expect(row).to_contain_text("Rat")
    expect(row).to_contain_text("Annahme durch den Rat")

    row.get_by_role("link", name="2025/0260(COD)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE_DE)
    expect(page.locator("article.dossier header")).to_contain_text(
        "Ordentliches Gesetzgebungsverfahren"
    )
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Nächster Schritt")
    expect(facts).to_contain_text("Annahme durch den Rat")
    timeline = page.locator("table.timeline tbody tr")
    expect(timeline).to_have_count(23)
    expect(timeline.first).to_contain_text("2026")  # newest first
    eurlex_de = page.get_by_role("link", name="EUR-Lex: Verfahren (deutsch)")
    expect(eurlex_de).to_have_attribute("href", "https://eur-lex.europa.eu/procedure/DE/2025_260")

    page.get_by_role("button", name="Verfahren folgen").click()
    flash(page, "Sie folgen jetzt dem Verfahren 2025/0260(COD).")
    expect(page.locator("dd.followers")).to_have_text("anna")
    expect(page.get_by_role("button", name="Nicht mehr folgen")).to_be_visible()

    page.get_by_label("Einordnung (Markdown)").fill(
        "**Wichtig** für die Zulieferer im Landkreis.\n\n- Zölle entfallen\n- <b>kein HTML</b>"
    )
    page.get_by_role("button", name="Einordnung speichern").click()
    flash(page, "Einordnung gespeichert.")
    note = page.locator("#einordnung .rendered")
    expect(note.locator("strong")).to_have_text("Wichtig")
    expect(note.locator("li")).to_have_count(2)
    expect(note.locator("b")).to_have_count(0)  # raw HTML stays text
    page.screenshot(path=str(artifacts / "dossier-page.png"), full_page=True)

    page.get_by_role("link", name="Verfahren", exact=True).first.click()
    page.get_by_label("nur gefolgte").check()
    page.get_by_role("button", name="Filtern").click()
    expect(page.get_by_role("row").filter(has_text="2025/0260(COD)")).to_have_count(1)
    assert live.store.dossiers.get(
        "2025/0260(COD)", today=live.services.clock().date()
    ).followers == ("anna",)

    # a new step arrives (made up here: the Official Journal, from another source): the
    # inbox tells her, the page marks it once, then nothing is new any more
    import datetime as dt

    from pipeline.model import DossierEvent, DossierRecord, EventKind

    step = DossierEvent(dt.date(2026, 7, 20), EventKind.OJ_PUBLICATION, "eurlex-oj", key="oj")
    live.store.dossiers.upsert(
        [DossierRecord(reference="2025/0260(COD)", source="eurlex-oj", events=(step,))],
        now=live.services.clock(),
    )
    page.get_by_role("navigation", name="Redaktion").get_by_role("link", name="Eingang").click()
    news = page.get_by_role("region", name="Neues in Ihren Verfahren")
    expect(news).to_contain_text("2025/0260(COD)")
    expect(news).to_contain_text("1 neues Ereignis")
    expect(news).to_contain_text("20. Juli 2026: Im Amtsblatt veröffentlicht")
    page.screenshot(path=str(artifacts / "dossier-inbox-news.png"), full_page=False)
    news.get_by_role("link", name="2025/0260(COD)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE_DE)
    expect(page.get_by_text("1 neues Ereignis seit Ihrem letzten Besuch")).to_be_visible()
    expect(page.locator("table.timeline tbody tr.new")).to_have_count(1)
    expect(page.locator("table.timeline tbody tr.new")).to_contain_text("Im Amtsblatt")
    page.get_by_role("navigation", name="Redaktion").get_by_role("link", name="Eingang").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Eingang")
    expect(page.get_by_role("region", name="Neues in Ihren Verfahren")).to_have_count(0)
