"""Focus indicators reach 3:1 against the ground they sit on (WCAG 2.2, 1.4.11 and 2.4.13).

The colours are read from the stylesheet itself, so a change of a custom property is checked.
"""

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "pipeline" / "web" / "static" / "desk.css"


def _properties() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS.read_text(encoding="utf-8"), re.S)
    assert root is not None
    return dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\b", root.group(1)))


def _luminance(colour: str) -> float:
    hexa = colour.lstrip("#")
    if len(hexa) == 3:
        hexa = "".join(c * 2 for c in hexa)
    channels = [int(hexa[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_known_pairs() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffcc00", "#ffffff") < 1.7  # the old ring: about 1.5:1 on white


def test_focus_ring_on_page_ground_reaches_three_to_one() -> None:
    props = _properties()
    for ground in ("--bg", "--soft"):
        assert contrast(props["--focus"], props[ground]) >= 3.0, ground


def test_focus_ring_in_the_header_reaches_three_to_one() -> None:
    text = CSS.read_text(encoding="utf-8")
    assert re.search(r"\.top :focus-visible\s*\{[^}]*var\(--focus-on-accent\)", text)
    props = _properties()
    assert contrast(props["--focus-on-accent"], props["--accent"]) >= 3.0


def test_every_focus_rule_uses_a_checked_colour() -> None:
    text = CSS.read_text(encoding="utf-8")
    for rule in re.findall(r":focus(?:-visible)?[^{]*\{([^}]*)\}", text):
        for colour in re.findall(r"outline[^;]*?(#[0-9a-fA-F]{3,6}|var\(--[\w-]+\))", rule):
            assert colour in ("var(--focus)", "var(--focus-on-accent)"), colour
