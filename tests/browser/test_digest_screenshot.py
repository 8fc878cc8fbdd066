"""The digest's HTML as Debian's Chromium renders it, at phone and desktop width.

Screenshots go to test-artifacts/digest-phone.png and digest-desktop.png: look at them
after changing a template. Without Chromium the test skips, except with CI=true.
Playwright's sync API leaves an event loop in its thread, so it runs in a thread of its own.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pipeline.compose.render import personalize
from tests.compose.data import render, segments

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
WIDTHS = {"phone": 375, "desktop": 1200}


def _shoot(html: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    found: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, width in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": 800}, locale="de-DE")
                page.set_content(html, wait_until="load")
                page.screenshot(path=str(ARTIFACTS / f"digest-{name}.png"), full_page=True)
                found[name] = {
                    "scroll_width": page.evaluate("document.documentElement.scrollWidth"),
                    "card_width": page.evaluate(
                        "document.querySelector('table.card').getBoundingClientRect().width"
                    ),
                    "h1": page.get_by_role("heading", level=1).inner_text(),
                    "preheader_visible": page.locator(".preheader").is_visible(),
                    "frist": page.get_by_role(
                        "heading", name="Fristen in den nächsten 6 Wochen"
                    ).first.is_visible(),
                }
                page.close()
        finally:
            browser.close()
    return found


def test_digest_renders_in_chromium_at_phone_and_desktop_width() -> None:
    if not CHROMIUM.is_file():
        if IN_CI:
            pytest.fail(f"no Chromium at {CHROMIUM} (CI=true: the screenshot must be taken)")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright")
    ARTIFACTS.mkdir(exist_ok=True)
    digest = personalize(
        render(segments()["hochschule"].sections),
        greeting="Guten Tag Dr. Müller-Lüdenscheidt,",
        preferences_url="https://newsletter.example.org/abo/einstellungen/TOKEN",
        unsubscribe_url="https://newsletter.example.org/abo/abmelden/TOKEN",
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        found = pool.submit(_shoot, digest.html).result()

    for name, width in WIDTHS.items():
        assert (ARTIFACTS / f"digest-{name}.png").stat().st_size > 10_000
        got = found[name]
        assert got["scroll_width"] <= width, f"{name}: the page scrolls sideways"
        assert got["h1"] == "EU-Wochenbrief – 25.11.2026"
        assert not got["preheader_visible"]
        assert got["frist"]
    assert found["desktop"]["card_width"] == 640  # single column, at most 640 px wide
    assert found["phone"]["card_width"] <= 375
