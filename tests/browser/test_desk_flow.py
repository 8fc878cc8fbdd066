"""The issue's acceptance, in a real browser: log in, filter, accept, annotate, build an edition.

One long test on purpose: it is the story of a morning at the desk, and each step
starts from what the one before left. It ends by checking the database and leaves
screenshots of the inbox, the item page and the edition editor in test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from pipeline.model import Audience, EditionState, ItemStatus, Priority
from tests.browser.conftest import LiveDesk, Watch, flash, item_id, login

# Real titles of the corpus (feeds/ec-presscorner-en.xml, July 2026).
STATE_AID_GUIDANCE = (
    "EU State aid rules enable social support and investments, new Commission guidance shows"
)
RESCUE_GUIDELINES = (
    "Commission invites comments on draft new rescue and restructuring State aid guidelines"
)
LUXEMBOURG_AID = (
    "Commission approves €54 million Luxembourgish State aid for road and rail transport "
    "firms facing increased fuel prices"
)
BELGIUM_RRF = (
    "Commission greenlights Belgium's fifth payment request for €225 million under NextGenerationEU"
)
SWEDEN_RRF = (
    "Commission greenlights Sweden's payment request for €1.47 billion under NextGenerationEU"
)
PRESSCORNER = "Corpus feeds/ec-presscorner-en.xml"  # the source's name in the corpus sources.yaml

HEADLINE = "Belgien erhält fünfte Zahlung aus NextGenerationEU – Signal für Förderanträge"
COMMENT = (
    "Fördermittel für Kommunen in Baden-Württemberg – Frist beachten!\n"
    "\n"
    "- **Antragsfrist** im Förderportal prüfen\n"
    "- Rückfragen an das Europabüro in Brüssel"
)
EDITION_TITLE = "EU-Wochenbrief 48/2026"
EDITION_INTRO = "Liebe Leserinnen und Leser, diese Woche geht es um Beihilfen und Fördergelder."


def inbox_titles(page: Page) -> list[str]:
    return page.get_by_role("table", name="Meldungen").get_by_role("link").all_inner_texts()


def summary(page: Page) -> Locator:
    """The line above the inbox table: "3 Meldungen · Seite 1 von 1", or in the default
    order "60 Vorschläge, 1.200 wahrscheinlich nicht relevant · Seite 1 von 2"."""
    return page.get_by_role("paragraph").filter(
        has_text=re.compile(r"(Meldung(en)?|nicht relevant)\s+·\s+Seite")
    )


def section(page: Page, title: str) -> Locator:
    """A section of the edition editor, by its heading ("Im Fokus (2)")."""
    return page.get_by_role("region", name=re.compile("^" + re.escape(title) + r" \(\d+\)$"))


def section_links(page: Page, title: str) -> Locator:
    """The items of a section of the edition editor, in their order."""
    return section(page, title).get_by_role("list").get_by_role("link")


def test_staff_member_curates_and_approves_an_edition(
    page: Page, live: LiveDesk, watch: Watch, artifacts: Path
) -> None:
    ids = {
        t: item_id(live, t)
        for t in (STATE_AID_GUIDANCE, RESCUE_GUIDELINES, LUXEMBOURG_AID, BELGIUM_RRF, SWEDEN_RRF)
    }

    # The desk is behind the login; after signing in, the inbox opens.
    page.goto("/desk/")
    expect(page.get_by_role("heading", name="Anmeldung Redaktion")).to_be_visible()
    login(page, "anna")
    expect(page.get_by_role("heading", level=1)).to_have_text("Eingang")
    expect(summary(page)).to_have_text(
        re.compile(
            r"^\s*[\d.]+ Vorschläge,\s+(über )?[\d.]+ wahrscheinlich nicht relevant"
            r"\s+·\s+Seite 1 von \d+\s*$"
        )
    )
    assert 0 < len(inbox_titles(page)) <= 50  # the suggestions; the rest folded (own test)
    page.screenshot(path=artifacts / "inbox.png", full_page=True)

    # Full-text search plus a topic: the three State aid items of the Commission.
    page.get_by_label("Volltextsuche").fill("State aid")
    page.get_by_label("Thema", exact=True).select_option(label="Kommunen, Vergabe & Beihilfen")
    page.get_by_role("button", name="Filtern").click()
    expect(summary(page)).to_have_text("3 Meldungen · Seite 1 von 1")
    assert sorted(inbox_titles(page)) == sorted(
        [STATE_AID_GUIDANCE, RESCUE_GUIDELINES, LUXEMBOURG_AID]
    )
    expect(page.get_by_label("Volltextsuche")).to_have_value("State aid")
    page.screenshot(path=artifacts / "inbox-filtered.png", full_page=True)

    # Bulk: accept two of them; the third stays in the (filtered) inbox.
    page.get_by_label(f"Auswählen: {STATE_AID_GUIDANCE}").check()
    page.get_by_label(f"Auswählen: {RESCUE_GUIDELINES}").check()
    page.get_by_role("button", name="Übernehmen", exact=True).click()
    # the bulk bar posts with fetch: the rows change in place, the summary says so
    expect(page.locator("p.summary")).to_contain_text("2 Meldungen übernommen.")
    expect(page.locator('tr[data-status="accepted"]')).to_have_count(2)
    page.reload()  # the new inbox no longer lists them
    expect(summary(page)).to_have_text("1 Meldung · Seite 1 von 1")
    assert inbox_titles(page) == [LUXEMBOURG_AID]

    # Another search, by source this time: the NextGenerationEU payments.
    page.get_by_label("Volltextsuche").fill("NextGenerationEU")
    page.get_by_label("Thema", exact=True).select_option(value="")
    page.get_by_label("Quelle").select_option(label=PRESSCORNER)
    page.get_by_label("Sortierung").select_option(label="Neueste zuerst")
    page.get_by_role("button", name="Filtern").click()
    expect(summary(page)).to_have_text("2 Meldungen · Seite 1 von 1")
    assert inbox_titles(page) == [BELGIUM_RRF, SWEDEN_RRF]  # newest first
    page.get_by_label(f"Auswählen: {SWEDEN_RRF}").check()
    page.get_by_role("button", name="Übernehmen", exact=True).click()
    expect(page.locator("p.summary")).to_contain_text("1 Meldung übernommen.")

    # The item page: accept there, then write the office's view in German.
    page.get_by_role("link", name=BELGIUM_RRF).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(BELGIUM_RRF)
    page.get_by_role("button", name="Übernehmen", exact=True).click()
    flash(page, "Meldung übernommen.")
    expect(page.get_by_role("button", name="Übernehmen", exact=True)).to_be_disabled()
    page.get_by_label("Überschrift").fill(HEADLINE)
    page.get_by_label("Einordnung für die Region").fill(COMMENT)
    page.get_by_role("radio", name="Frist").check()
    page.get_by_role("checkbox", name="Kommune", exact=True).check()
    page.get_by_role("checkbox", name="Landkreis", exact=True).check()
    page.get_by_role("button", name="Speichern", exact=True).click()
    flash(page, "Einordnung gespeichert.")
    saved = page.get_by_role("region", name="Gespeicherte Einordnung")
    expect(saved).to_contain_text(HEADLINE)
    expect(saved).to_contain_text(
        "Fördermittel für Kommunen in Baden-Württemberg – Frist beachten!"
    )
    expect(saved.locator("strong")).to_have_text("Antragsfrist")  # Markdown rendered
    expect(saved.get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_label("Einordnung für die Region")).to_have_value(COMMENT)
    expect(page.get_by_role("radio", name="Frist")).to_be_checked()
    expect(page.get_by_role("region", name="Verlauf")).to_contain_text("anna")
    page.screenshot(path=artifacts / "item.png", full_page=True)

    # A new edition of the weekly newsletter.
    page.get_by_role("navigation", name="Redaktion").get_by_role("link", name="Ausgaben").click()
    page.get_by_label("Newsletter").select_option(label="EU-Wochenbrief")
    page.get_by_label("Titel").fill(EDITION_TITLE)
    page.get_by_label("Einleitung").fill(EDITION_INTRO)
    page.get_by_role("button", name="Anlegen").click()
    flash(page, "Ausgabe angelegt.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{EDITION_TITLE} Entwurf")

    # Add the four accepted items into two sections (the annotated one shows its headline).
    candidates = page.get_by_role("region", name="Übernommene Meldungen hinzufügen")
    for shown, target in (
        (HEADLINE, "Im Fokus"),
        (STATE_AID_GUIDANCE, "Im Fokus"),
        (RESCUE_GUIDELINES, "Förderung & Ausschreibungen"),
        (SWEDEN_RRF, "Förderung & Ausschreibungen"),
    ):
        row = candidates.get_by_role("row").filter(has=page.get_by_role("link", name=shown))
        row.get_by_role("combobox").select_option(label=target)
        row.get_by_role("button", name="Hinzufügen").click()
        # The same message four times: wait for the item in its section (the new page).
        expect(section_links(page, target).filter(has_text=shown)).to_have_count(1)
        flash(page, "Meldung hinzugefügt.")
    expect(section_links(page, "Im Fokus")).to_have_text([HEADLINE, STATE_AID_GUIDANCE])
    expect(section_links(page, "Förderung & Ausschreibungen")).to_have_text(
        [RESCUE_GUIDELINES, SWEDEN_RRF]
    )

    # Reorder: the headline item down in the first section, Sweden up in the second.
    fokus = section(page, "Im Fokus").get_by_role("listitem").filter(has_text=HEADLINE)
    fokus.get_by_role("button", name="nach unten").click()
    expect(section_links(page, "Im Fokus")).to_have_text([STATE_AID_GUIDANCE, HEADLINE])
    flash(page, "Reihenfolge geändert.")
    foerderung = section(page, "Förderung & Ausschreibungen").get_by_role("listitem")
    foerderung.filter(has_text=SWEDEN_RRF).get_by_role("button", name="nach oben").click()
    expect(section_links(page, "Förderung & Ausschreibungen")).to_have_text(
        [SWEDEN_RRF, RESCUE_GUIDELINES]
    )
    flash(page, "Reihenfolge geändert.")
    expect(section_links(page, "Im Fokus")).to_have_text([STATE_AID_GUIDANCE, HEADLINE])
    page.screenshot(path=artifacts / "edition-draft.png", full_page=True)

    # The checklist: the two default sections left empty block the approval.
    checklist = page.get_by_role("region", name="Prüfliste vor dem Versand")
    expect(checklist.locator(".check-blocking li")).to_have_text(
        [
            "✗ Der Abschnitt „Politik & Gesetzgebung“ ist leer: Meldungen hinzufügen oder den "
            "Abschnitt entfernen.",
            "✗ Der Abschnitt „Termine“ ist leer: Meldungen hinzufügen oder den Abschnitt "
            "entfernen.",
        ]
    )
    expect(page.get_by_role("button", name="Freigeben")).to_be_disabled()
    watch.accept_dialogs = True
    for empty in ("Politik & Gesetzgebung", "Termine"):
        section(page, empty).get_by_role("button", name="Abschnitt entfernen").click()
        expect(section(page, empty)).to_have_count(0)
        flash(page, "Abschnitt entfernt.")
    expect(checklist).not_to_contain_text("Blockiert die Freigabe")

    page.get_by_role("button", name="Freigeben").click()
    flash(page, "Ausgabe freigegeben.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{EDITION_TITLE} Freigegeben")
    expect(page.get_by_role("button", name="nach oben")).to_have_count(0)  # no edits now
    page.screenshot(path=artifacts / "edition.png", full_page=True)

    assert watch.dialogs == [  # only the two removals asked first
        f"confirm: Abschnitt „{title}“ entfernen? Seine Meldungen kommen in den ersten "
        "anderen Abschnitt."
        for title in ("Politik & Gesetzgebung", "Termine")
    ]

    # What the database holds.
    store = live.store
    for title in (STATE_AID_GUIDANCE, RESCUE_GUIDELINES, BELGIUM_RRF, SWEDEN_RRF):
        assert store.items.get(ids[title]).status is ItemStatus.ACCEPTED, title
    assert store.items.get(ids[LUXEMBOURG_AID]).status is ItemStatus.NEW
    annotation = store.items.get(ids[BELGIUM_RRF]).annotation
    assert annotation is not None
    assert annotation.comment_md == COMMENT  # umlauts, dash, and \n (not the browser's \r\n)
    assert annotation.headline == HEADLINE
    assert annotation.priority is Priority.DEADLINE
    assert set(annotation.audiences) == {Audience.KOMMUNE, Audience.LANDKREIS}
    assert annotation.updated_by == "anna"
    (edition,) = store.editions.list(newsletter_id="weekly")
    assert edition.title == EDITION_TITLE
    assert edition.intro == EDITION_INTRO
    assert edition.state is EditionState.APPROVED
    assert edition.approved_by == "anna"
    assert [
        (s.title, list(s.item_ids)) for s in sorted(edition.sections, key=lambda s: s.position)
    ] == [
        ("Im Fokus", [ids[STATE_AID_GUIDANCE], ids[BELGIUM_RRF]]),
        ("Förderung & Ausschreibungen", [ids[SWEDEN_RRF], ids[RESCUE_GUIDELINES]]),
    ]
