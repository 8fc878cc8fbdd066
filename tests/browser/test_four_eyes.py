"""Four eyes and the preflight checklist in a real browser: the author fixes what blocks,
acknowledges a warning and asks for approval; a colleague sees the request and approves;
the history names both."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from pipeline import curate
from pipeline.model import EditionState, Role, StaffUser
from tests.browser.conftest import (
    OFFICE_YAML,
    LiveDesk,
    Watch,
    flash,
    item_id,
    login,
    new_context,
    serve_copy,
    watched_page,
)

ECB_APP = "Digital euro app to incorporate highest accessibility standards"


@pytest.fixture(scope="module")
def four_eyes(tmp_path_factory: pytest.TempPathFactory, corpus_db: Path) -> Iterator[LiveDesk]:
    folder = tmp_path_factory.mktemp("four-eyes")
    office = folder / "office-four-eyes.yaml"
    office.write_text(OFFICE_YAML.replace("four_eyes: false", "four_eyes: true"), "utf-8")
    yield from serve_copy(folder, corpus_db, office_path=office)


def session(browser: Browser, live: LiveDesk, watch: Watch, name: str) -> Page:
    page = watched_page(new_context(browser, live), watch)
    login(page, name)
    return page


def test_the_author_requests_approval_and_a_colleague_gives_it(
    browser: Browser, four_eyes: LiveDesk, watch: Watch, artifacts: Path
) -> None:
    store = four_eyes.store
    anna = StaffUser(0, "anna", Role.EDITOR)
    now = dt.datetime.now(dt.UTC)
    item = item_id(four_eyes, ECB_APP)
    curate.accept(store, [item], actor=anna, now=now)
    edition = store.editions.create(
        "weekly", title="EU-Wochenbrief 49", intro="Die Themen der Woche.",
        sections=[("Im Fokus", [item]), ("Termine", [])], actor="anna", now=now,
    )  # fmt: skip
    url = f"/desk/editions/{edition.id}"
    watch.accept_dialogs = True  # "Abschnitt entfernen?"

    author = session(browser, four_eyes, watch, "anna")
    author.goto(url)
    checklist = author.get_by_role("region", name="Prüfliste vor dem Versand")
    expect(checklist).to_contain_text("Der Abschnitt „Termine“ ist leer")
    request = author.get_by_role("button", name="Freigabe anfordern")
    expect(request).to_be_disabled()  # something blocks
    expect(author.get_by_role("button", name="Freigeben", exact=True)).to_have_count(0)

    # fix what blocks: remove the empty section
    author.get_by_role("region", name=re.compile(r"^Termine")).get_by_role(
        "button", name="Abschnitt entfernen"
    ).click()
    flash(author, "Abschnitt entfernt.")
    expect(checklist).not_to_contain_text("Blockiert die Freigabe")
    # acknowledge a warning: how many readers get what
    warning = checklist.locator("li", has_text="Kein bestätigter Leser")
    warning.get_by_role("button", name="Gesehen, so lassen").click()
    flash(author, "Hinweis als gesehen bestätigt.")
    expect(checklist.locator(".check-acknowledged")).to_contain_text("bestätigt von anna")
    author.screenshot(path=artifacts / "four-eyes-author.png", full_page=True)

    author.get_by_role("button", name="Freigabe anfordern").click()
    flash(author, "Freigabe angefordert: Die Kolleginnen")
    expect(author.get_by_text("Freigabe angefordert von anna")).to_be_visible()
    assert store.editions.get(edition.id).state is EditionState.DRAFT

    colleague = session(browser, four_eyes, watch, "bernd")
    colleague.goto("/desk/editions/")
    waiting = colleague.get_by_role("region", name="Zur Freigabe angefordert (1)")
    expect(waiting).to_contain_text("angefordert von anna")
    waiting.get_by_role("link", name="EU-Wochenbrief 49").click()
    expect(colleague.get_by_text("Freigabe angefordert von anna")).to_be_visible()
    colleague.get_by_role("button", name="Freigeben", exact=True).click()
    flash(colleague, "Ausgabe freigegeben.")
    history = colleague.get_by_role("region", name="Verlauf")
    expect(history).to_contain_text("zuletzt bearbeitet von anna, freigegeben von bernd")
    colleague.screenshot(path=artifacts / "four-eyes-approved.png", full_page=True)
    found = store.editions.get(edition.id)
    assert (found.state, found.approved_by) == (EditionState.APPROVED, "bernd")
    colleague.goto("/desk/editions/")
    expect(colleague.get_by_role("region", name="Zur Freigabe angefordert (1)")).to_have_count(0)
    assert not watch.errors, watch.errors


def test_api_tokens_are_made_shown_once_and_revoked(
    browser: Browser, four_eyes: LiveDesk, watch: Watch
) -> None:
    page = session(browser, four_eyes, watch, "carla")
    page.goto("/desk/konto")
    tokens = page.get_by_role("region", name="Persönliche API-Tokens")
    tokens.get_by_label("Bezeichnung").fill("Laptop")
    tokens.get_by_role("button", name="Token anlegen").click()
    shown = page.get_by_label("Neuer Token")
    expect(shown).to_have_value(re.compile(r"^eud_[A-Za-z0-9_-]{40,}$"))
    token = shown.input_value()
    carla = four_eyes.store.users.by_name("carla")
    assert carla is not None
    (stored,) = four_eyes.store.tokens.list(carla.id)
    assert stored.label == "Laptop" and token not in repr(stored)
    page.goto("/desk/konto")  # shown once only
    expect(page.get_by_label("Neuer Token")).to_have_count(0)
    watch.accept_dialogs = True
    page.get_by_role("region", name="Persönliche API-Tokens").get_by_role(
        "button", name="Widerrufen"
    ).click()
    flash(page, "Token widerrufen")
    assert not four_eyes.store.tokens.list(carla.id)[0].active
    assert not watch.errors, watch.errors
