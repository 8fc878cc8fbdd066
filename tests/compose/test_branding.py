"""office.yaml `branding:`: loaded with defaults, checked with file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.catalog import load_office
from pipeline.errors import ConfigError
from pipeline.model import Branding
from tests.compose.data import OFFICE, render, segments

ROOT = Path(__file__).resolve().parents[2]
BASE = """\
office:
  name: Europabüro Musterregion
newsletters:
  - id: weekly
    name: EU-Wochenbrief
"""


def load(tmp_path: Path, branding: str) -> Branding:
    path = tmp_path / "office.yaml"
    path.write_text(BASE + branding, encoding="utf-8")
    return load_office(path).branding


def test_the_repositorys_office_yaml_has_the_region_stuttgart_colours() -> None:
    b = load_office(ROOT / "office.yaml").branding
    assert b.primary_color == "#00549f"
    assert b.logo_alt == "Europabüro der Region Stuttgart"


def test_without_a_branding_section_the_defaults_apply(tmp_path: Path) -> None:
    assert load(tmp_path, "") == Branding()


def test_colours_are_normalised(tmp_path: Path) -> None:
    b = load(tmp_path, 'branding:\n  primary_color: "#A00"\n  logo_url: https://x.example/l.png\n')
    assert b.primary_color == "#aa0000" and b.logo_url == "https://x.example/l.png"
    assert b.text_color == Branding().text_color


@pytest.mark.parametrize(
    ("branding", "message"),
    [
        ('branding:\n  primary_color: "blue"\n', r"office.yaml:7: branding.primary_color: 'blue'"),
        ('branding:\n  text_color: "#12345"\n', r"office.yaml:7: branding.text_color"),
        ('branding:\n  primary_color: "#9bc4ff"\n', r"office.yaml:7: .*contrast 1\.\d\d:1"),
        (
            'branding:\n  background_color: "#101010"\n',
            r"office.yaml:7: branding.text_color: contrast",
        ),
        ("branding:\n  logo_url: http://x.example/l.png\n", r"office.yaml:7: .*https://"),
        ("branding:\n  logo_url: javascript:alert(1)\n", r"branding.logo_url: must be an https"),
        ('branding:\n  colour: "#000000"\n', r"office.yaml:7: branding.colour: unknown field"),
        ("branding: yes\n", r"office.yaml:6: branding: must be a mapping"),
    ],
)
def test_bad_branding_is_refused_with_file_and_line(
    tmp_path: Path, branding: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, branding)


def test_another_offices_colours_and_logo_reach_the_mail() -> None:
    from dataclasses import replace

    office = replace(
        OFFICE,
        name="Europabüro Musterland",
        branding=Branding(
            primary_color="#7a1f5c", logo_url="https://musterland.example/logo.png",
            logo_alt="Logo Musterland",
        ),
    )  # fmt: skip
    html = render(segments()["kommune"].sections, office=office).html
    assert "#7a1f5c" in html and "#00549f" not in html
    assert 'src="https://musterland.example/logo.png"' in html and 'alt="Logo Musterland"' in html
    assert "Europabüro Musterland" in html and "Region Stuttgart</p>" not in html
