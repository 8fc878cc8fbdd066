"""The digest's HTML for people with screen readers, blocked images and weak eyes.

The contrast is computed here (WCAG 2.x formula, written again on purpose rather than
imported) from the colours the rendered HTML really uses.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import pytest
from bs4 import BeautifulSoup, Tag

from pipeline.compose.render import palette
from pipeline.model import Branding
from tests.compose.data import OFFICE, PROFILES, WEB_URL, feedback_url, render, segments


def luminance(color: str) -> float:
    color = color.lstrip("#")
    if len(color) == 3:
        color = "".join(c * 2 for c in color)
    channels = []
    for i in (0, 2, 4):
        c = int(color[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def style_of(tag: Tag, prop: str) -> str | None:
    m = re.search(rf"(?:^|;)\s*{prop}\s*:\s*(#[0-9a-fA-F]{{3,6}})", str(tag.get("style") or ""))
    return m.group(1) if m else None


def background_of(tag: Tag) -> str:
    node: Tag | None = tag
    while node is not None:
        color = style_of(node, "background-color") or node.get("bgcolor")
        if isinstance(color, str):
            return color
        node = node.parent if isinstance(node.parent, Tag) else None
    return "#ffffff"


def soup_for(profile: str, office: object = OFFICE) -> BeautifulSoup:
    """The profile's digest with everything in it, the "Im Browser lesen" link and the
    feedback links too."""
    digest = render(
        segments()[profile].sections,
        office=office,  # type: ignore[arg-type]
        web_url=WEB_URL,
        feedback_url=feedback_url,
    )
    return BeautifulSoup(digest.html, "html.parser")


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_structure_lang_headings_links(profile: str) -> None:
    soup = soup_for(profile)
    assert soup.html is not None and soup.html.get("lang") == "de"
    assert len(soup.find_all("h1")) == 1
    assert len(soup.find_all("main")) == 1  # one main landmark (axe: tests/browser)
    levels = [int(h.name[1]) for h in soup.find_all(re.compile(r"^h[1-6]$"))]
    assert levels[0] == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"heading levels skip: {levels}"
    assert 3 in levels  # items are h3 under their section's h2
    for link in soup.find_all("a"):
        assert link.get_text(strip=True), f"a link without text: {link}"
        assert link.get("href", "").startswith(("https://", "http://", "%%")), link
    for table in soup.find_all("table"):
        assert table.get("role") == "presentation"  # layout tables are not data tables
    meta = soup.find("meta", attrs={"name": "color-scheme"})
    assert meta is not None and meta.get("content") == "light dark"


def test_every_image_has_alt_text() -> None:
    office = replace(
        OFFICE,
        branding=replace(OFFICE.branding, logo_url="https://example.org/logo.png", logo_alt=""),
    )
    soup = soup_for("kommune", office)
    images = soup.find_all("img")
    assert len(images) == 1
    assert images[0].get("alt") == "Europabüro der Region Stuttgart"  # the name when alt is empty


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_coloured_text_is_readable_on_its_background(profile: str) -> None:
    soup = soup_for(profile)
    checked = 0
    for tag in soup.find_all(True):
        fg = style_of(tag, "color")
        if fg is None or not tag.get_text(strip=True):
            continue
        bg = background_of(tag)
        ratio = contrast(fg, bg)
        assert ratio >= 4.5, f"{tag.name} {fg} on {bg}: {ratio:.2f}:1 ({tag.get_text()[:40]!r})"
        checked += 1
    assert checked > 20


def test_configured_colours_and_the_dark_ones_are_readable() -> None:
    b = OFFICE.branding
    assert contrast(b.text_color, b.background_color) >= 4.5
    assert contrast(b.primary_color, b.background_color) >= 4.5  # links
    p = palette(b)
    for fg, bg in [
        (p.text, p.tint), (p.primary, p.tint), (p.muted, p.background),
        (p.dark_text, p.dark_background), (p.dark_primary, p.dark_background),
        (p.dark_primary, p.dark_tint), (p.dark_muted, p.dark_background),
        (p.dark_background, p.dark_primary),  # the Frist badge in dark mode
    ]:  # fmt: skip
        assert contrast(fg, bg) >= 4.5, (fg, bg)


def test_a_pale_brand_colour_gets_a_readable_dark_mode_link() -> None:
    p = palette(Branding(primary_color="#0b3d91"))  # dark blue: unreadable on a dark card
    assert contrast("#0b3d91", p.dark_background) < 4.5
    assert contrast(p.dark_primary, p.dark_background) >= 4.5


def test_dark_mode_rules_survive_css_inlining_and_preheader_is_hidden() -> None:
    html = render(segments()["kommune"].sections).html
    assert "@media (prefers-color-scheme: dark)" in html
    soup = BeautifulSoup(html, "html.parser")
    pre = soup.find("div", class_="preheader")
    assert pre is not None and "display:none" in str(pre.get("style")).replace(" ", "")
    assert pre.get_text().startswith("4 Meldungen, 2 Fristen: Interreg Europe")
