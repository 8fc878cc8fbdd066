"""What must hold in a real browser besides the main flow: the login wall, German errors,
pages without JavaScript, comments that cannot run script, and the confirm dialogs."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from playwright.sync_api import Browser, Page, expect

from pipeline import curate
from pipeline.model import EditionState, ItemStatus
from tests.browser.conftest import (
    PASSWORD,
    LiveDesk,
    Watch,
    flash,
    item_id,
    login,
    new_context,
    watched_page,
)

# Real titles of the corpus (ECB press feed, EBA news feed).
ECB_APP = "Digital euro app to incorporate highest accessibility standards"
ECB_LANE = "Philip R. Lane: Outlook for the euro area economy"
EBA_CALL = "Call for papers - 13th Annual Research Workshop - Boundaries of Banking Regulation"
ECB_SOURCE = "Corpus feeds/ecb-press-en.xml"


def test_anonymous_visit_to_the_desk_lands_on_the_login_and_comes_back(page: Page) -> None:
    page.goto("/desk/editions/")
    expect(page).to_have_url(re.compile(r"/login\?"))
    url = urlsplit(page.url)
    assert (url.path, parse_qs(url.query)) == ("/login", {"next": ["/desk/editions/"]})
    expect(page.get_by_role("heading", name="Anmeldung Redaktion")).to_be_visible()
    expect(page.get_by_role("navigation", name="Redaktion")).to_have_count(0)
    page.get_by_label("Name", exact=True).fill("anna")
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ausgaben")  # where she wanted to go


def test_wrong_password_shows_the_german_error_and_no_desk(page: Page, artifacts: Path) -> None:
    login(page, "carla", "Stuttgart-Brüssel-2026")  # not her password
    expect(page.get_by_role("alert")).to_have_text("Anmeldung fehlgeschlagen")
    page.screenshot(path=artifacts / "login-error.png", full_page=True)
    expect(page.get_by_label("Name", exact=True)).to_have_value("carla")
    expect(page.get_by_label("Passwort", exact=True)).to_have_value("")  # never echoed back
    page.goto("/desk/")
    expect(page.get_by_role("heading", name="Anmeldung Redaktion")).to_be_visible()


def test_the_desk_works_without_javascript(browser: Browser, live: LiveDesk, watch: Watch) -> None:
    context = new_context(browser, live, javascript=False)
    try:
        page = watched_page(context, watch)
        login(page, "bernd")
        expect(page.get_by_role("heading", level=1)).to_have_text("Eingang")
        # desk.js did not run: the select-all box it would reveal stays hidden.
        expect(page.get_by_label("Alle auf dieser Seite auswählen")).to_be_hidden()

        # A GET form (filters) and a POST form (bulk reject) work as plain HTML.
        page.get_by_label("Quelle").select_option(label=ECB_SOURCE)
        page.get_by_label("Volltextsuche").fill("accessibility")
        page.get_by_role("button", name="Filtern").click()
        links = page.get_by_role("table", name="Meldungen").get_by_role("link")
        expect(links).to_have_text([ECB_APP])
        page.get_by_label(f"Auswählen: {ECB_APP}").check()
        page.get_by_role("button", name="Ablehnen", exact=True).click()
        flash(page, "1 Meldung abgelehnt.")

        # The item page's annotation form, too.
        page.goto(f"/desk/items/{item_id(live, ECB_LANE)}")
        page.get_by_label("Einordnung für die Region").fill(
            "Zinsausblick – wichtig für Stadtwerke."
        )
        page.get_by_role("button", name="Speichern", exact=True).click()
        flash(page, "Einordnung gespeichert.")
    finally:
        context.close()
    assert not watch.errors, watch.errors
    assert live.store.items.get(item_id(live, ECB_APP)).status is ItemStatus.REJECTED
    saved = live.store.items.get(item_id(live, ECB_LANE)).annotation
    assert saved is not None and saved.comment_md == "Zinsausblick – wichtig für Stadtwerke."
    assert saved.updated_by == "bernd"


def test_script_in_a_comment_is_shown_as_text_and_never_runs(
    page: Page, live: LiveDesk, watch: Watch
) -> None:
    comment = '<script>alert("xss")</script> <img src=x onerror="alert(1)"> Förderfähig?'
    headline = '<b onmouseover="alert(2)">Überschrift</b>'
    item = item_id(live, EBA_CALL)
    login(page, "anna")
    page.goto(f"/desk/items/{item}")
    page.get_by_label("Überschrift").fill(headline)
    page.get_by_label("Einordnung für die Region").fill(comment)
    page.get_by_role("button", name="Vorschau").click()  # the preview renders it too
    preview = page.get_by_role("region", name="Vorschau (noch nicht gespeichert)")
    expect(preview).to_contain_text('<script>alert("xss")</script>')
    page.get_by_role("button", name="Speichern", exact=True).click()
    flash(page, "Einordnung gespeichert.")

    saved = page.get_by_role("region", name="Gespeicherte Einordnung")
    expect(saved).to_contain_text('<script>alert("xss")</script>')
    expect(saved).to_contain_text('<img src=x onerror="alert(1)"> Förderfähig?')
    expect(saved).to_contain_text(headline)
    expect(page.locator("main script, main img, main [onerror], main [onmouseover]")).to_have_count(
        0
    )
    saved.get_by_text(headline).hover()
    # The inbox shows the headline in place of the title: as text there too.
    page.goto("/desk/?status=all&q=" + quote("Boundaries of Banking Regulation"))
    link = page.get_by_role("table", name="Meldungen").get_by_role("link", name=headline)
    expect(link).to_be_visible()
    link.hover()
    page.wait_for_timeout(200)  # give a (wrongly) injected handler a moment to fire
    assert watch.dialogs == []
    annotation = live.store.items.get(item).annotation
    assert annotation is not None
    assert annotation.comment_md == comment  # stored as typed, made harmless when shown
    assert annotation.headline == headline


def test_removing_a_section_asks_first(page: Page, live: LiveDesk, watch: Watch) -> None:
    bernd = live.store.users.by_name("bernd")
    assert bernd is not None
    edition = curate.create_edition(
        live.store,
        live.services.office(),
        "weekly",
        title="EU-Wochenbrief 49/2026",
        intro="",
        actor=bernd,
        now=live.services.clock(),
    )
    login(page, "anna")
    page.goto(f"/desk/editions/{edition.id}")
    termine = page.get_by_role("region", name=re.compile(r"^Termine \(\d+\)$"))
    with page.expect_event("dialog"):
        termine.get_by_role("button", name="Abschnitt entfernen").click()
    assert watch.dialogs == [
        "confirm: Abschnitt „Termine“ entfernen? Seine Meldungen kommen in den ersten "
        "anderen Abschnitt."
    ]
    expect(termine).to_be_visible()  # "Abbrechen": nothing sent
    assert len(live.store.editions.get(edition.id).sections) == 4

    watch.accept_dialogs = True
    termine.get_by_role("button", name="Abschnitt entfernen").click()
    flash(page, "Abschnitt entfernt.")
    expect(termine).to_have_count(0)
    after = live.store.editions.get(edition.id)
    assert [s.title for s in sorted(after.sections, key=lambda s: s.position)] == [
        "Im Fokus",
        "Förderung & Ausschreibungen",
        "Politik & Gesetzgebung",
    ]
    assert after.state is EditionState.DRAFT
