"""The digest's HTML as Debian's Chromium renders it, at phone and desktop width.

The edition and profiles of tests/compose (`data.py`), rendered as readers get them.
Screenshots go to test-artifacts/digest-phone.png and digest-desktop.png: look at them
after changing a template.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from pipeline.compose.render import personalize
from tests.compose.data import render, segments

WIDTHS = {"phone": 375, "desktop": 1200}


def test_digest_renders_in_chromium_at_phone_and_desktop_width(
    browser: Browser, artifacts: Path
) -> None:
    digest = personalize(
        render(segments()["hochschule"].sections),
        greeting="Guten Tag Dr. Müller-Lüdenscheidt,",
        preferences_url="https://newsletter.example.org/abo/einstellungen/TOKEN",
        unsubscribe_url="https://newsletter.example.org/abo/abmelden/TOKEN",
    )
    for name, width in WIDTHS.items():
        page = browser.new_page(viewport={"width": width, "height": 800}, locale="de-DE")
        try:
            page.set_content(digest.html, wait_until="load")
            shot = artifacts / f"digest-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= width, f"{name}: the page scrolls sideways"
            card_width = page.evaluate(
                "document.querySelector('table.card').getBoundingClientRect().width"
            )
            if name == "desktop":
                assert card_width == 640  # single column, at most 640 px wide
            else:
                assert card_width <= width
            assert page.get_by_role("heading", level=1).inner_text() == (
                "EU-Wochenbrief – 25.11.2026"
            )
            assert not page.locator(".preheader").is_visible()
            assert page.get_by_role(
                "heading", name="Fristen in den nächsten 6 Wochen"
            ).first.is_visible()
        finally:
            page.close()
