"""The keyboard focus is visible: in real Chromium the outline drawn around the focused
element reaches 3:1 against the ground around it (WCAG 2.2), on a page and in the header."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from tests.browser.conftest import login

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let ground = el.parentElement, bg = 'rgba(0, 0, 0, 0)';
  while (ground) {
    bg = getComputedStyle(ground).backgroundColor;
    if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') break;
    ground = ground.parentElement;
  }
  if (!ground) bg = getComputedStyle(document.documentElement).backgroundColor;
  return {
    inHeader: !!el.closest('.top'),
    outline: style.outlineColor, width: parseFloat(style.outlineWidth),
    styleName: style.outlineStyle, ground: bg, text: (el.textContent || el.name || '').trim(),
  };
}"""


def _luminance(rgb: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+", rgb)[:3])
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def tab_until(page: Page, want_header: bool, limit: int = 40) -> dict[str, object]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        found: dict[str, object] = page.evaluate(FOCUSED)
        if found["inHeader"] is want_header and found["text"]:
            return found
    raise AssertionError(f"no focusable element {'in' if want_header else 'outside'} the header")


def test_focus_ring_reaches_three_to_one_on_the_page_and_in_the_header(page: Page) -> None:
    page.goto("/login")
    field = tab_until(page, want_header=False)
    assert field["styleName"] == "solid" and float(str(field["width"])) >= 2
    assert contrast(str(field["outline"]), str(field["ground"])) >= 3.0, field

    login(page, "anna")
    page.goto("/desk/status")
    link = tab_until(page, want_header=True)
    assert link["styleName"] == "solid" and float(str(link["width"])) >= 2
    assert contrast(str(link["outline"]), str(link["ground"])) >= 3.0, link
    body = tab_until(page, want_header=False)
    assert contrast(str(body["outline"]), str(body["ground"])) >= 3.0, body
