"""The mails to the letter (issue 17): the digest and every service mail (confirmation,
link to the preferences, correction) have one main landmark and one h1, pass axe-core in
Chromium with no violation (WCAG 2.x A/AA and axe's best practices), in light and dark
mode (`prefers-color-scheme: dark` emulated: axe's colour contrast then checks the dark
colours), and reflow at 320 CSS px (1280 px at 400 %, 640 px at 200 % zoom) without
scrolling sideways.

Each mail is rendered by the real composer (tests/compose/data.py, subscribers/mails.py,
compose/corrections.py) with the placeholders filled as the outbox fills them, and loaded
into one page with `set_content`. One browser context per colour scheme, one page each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import cache

import pytest
from playwright.sync_api import Browser, Page

from pipeline.catalog import load_taxonomy
from pipeline.compose.corrections import render_correction_mail
from pipeline.compose.render import personalize
from pipeline.model import CorrectionNote, SubscriberStatus
from subscribers import mails
from tests.browser.conftest import ROOT
from tests.compose.data import NEWSLETTER, OFFICE, PROFILES, WEB_URL, render, segments
from tests.support.axe import axe, report

BASE = "https://newsletter.region-stuttgart.example"
PREFERENCES = f"{BASE}/abo/einstellungen/WzEsMSwiMDIyZWZjMDM1OTUwYzE0YiJd.axVj4w.UxJyAJ6AM"
UNSUBSCRIBE = f"{BASE}/abo/abmelden/WzEsMSwiMDIyZWZjMDM1OTUwYzE0YiJd.axVj4w.UxJyAJ6AM"
NOTES = (
    CorrectionNote(
        correction_id=3,
        edition_id=41,
        item_id=7,
        edition_title="EU-Wochenbrief 47/2026",
        edition_sent=dt.date(2026, 11, 18),
        headline="Interreg Europe: Letzte Runde für Kooperationsprojekte",
        lines=("Frist: 15. März 2027 → 22. März 2027",),
        reason="Die Frist wurde verlängert.",
        corrected_on=dt.date(2026, 12, 6),
    ),
    CorrectionNote(
        correction_id=4,
        edition_id=41,
        item_id=8,
        edition_title="EU-Wochenbrief 47/2026",
        edition_sent=dt.date(2026, 11, 18),
        headline="Konsultation zur Zukunft der Kohäsionspolitik nach 2027",
        lines=("Die Meldung wurde zurückgezogen: bitte nicht mehr berücksichtigen.",),
        reason="Doppelt gemeldet.",
        corrected_on=dt.date(2026, 12, 6),
        withdrawn=True,
    ),
)


@cache
def the_mails() -> dict[str, str]:
    """Every mail a reader can get, by name → its HTML part, as it reaches the reader."""
    found: dict[str, str] = {}
    filled = {
        "greeting": "Guten Tag Jürgen Weiß,",
        "preferences_url": PREFERENCES,
        "unsubscribe_url": UNSUBSCRIBE,
    }
    for profile, segment in segments().items():
        digest = render(segment.sections, web_url=WEB_URL)
        found[f"digest-{profile}"] = personalize(digest, **filled).html
    taxonomy = load_taxonomy(ROOT / "taxonomy.yaml")
    reader = PROFILES["kommune"]
    pending = reader.__class__(**{**_fields(reader), "status": SubscriberStatus.PENDING})
    confirm_url = f"{BASE}/abo/bestaetigen/WzEsMSwiMDIyZWZjMDM1OTUwYzE0YiJd.axVj4w"
    found["confirm"] = mails.confirmation(OFFICE, taxonomy, pending, confirm_url).html
    found["confirm-imported"] = mails.confirmation(
        OFFICE, taxonomy, pending, confirm_url, imported=True
    ).html
    found["manage"] = mails.manage_link(OFFICE, reader, PREFERENCES).html
    for n in (1, 2):
        mail = render_correction_mail(
            NOTES[:n], office=OFFICE, newsletter=NEWSLETTER, base_url=BASE
        )
        found[f"correction-{n}"] = personalize(mail, **filled).html
    return found


def _fields(obj: object) -> dict[str, object]:
    return {f: getattr(obj, f) for f in obj.__dataclass_fields__}  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=["light", "dark"])
def mail_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="de-DE",
        color_scheme=request.param,
        viewport={"width": 800, "height": 900},
        java_script_enabled=True,  # for axe only: a mail carries no script
    )
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("name", sorted(the_mails()))
def test_the_mail_passes_axe_and_reflows(mail_page: Page, name: str) -> None:
    page = mail_page
    page.set_viewport_size({"width": 800, "height": 900})
    page.set_content(the_mails()[name], wait_until="load")
    assert page.locator("main").count() == 1, "one <main> landmark"
    assert page.locator("h1").count() == 1, "one <h1>"
    dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    if name.startswith("digest"):  # the colours axe checks are the scheme's own
        card = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
        assert card == ("rgb(23, 25, 30)" if dark else "rgb(255, 255, 255)"), card
    violations = axe(page, best_practice=True)
    assert not violations, report(violations, name)
    # 200 % zoom of a 640 px window, 400 % of 1280 px: 320 CSS px, no sideways scrolling
    page.set_viewport_size({"width": 320, "height": 640})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{name}: {width} px wide at a 320 px viewport (scrolls sideways)"
