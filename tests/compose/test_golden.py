"""Golden files: the digest of one fixed edition for three subscriber profiles.

Regenerate after an intended change with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/compose`,
then read the diff (and the files) before committing them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.compose.data import (
    PROFILES,
    SECOND_KOMMUNE,
    WEB_URL,
    feedback_url,
    render,
    segments,
)

GOLDEN = Path(__file__).parent / "golden"


def flat(text: str) -> str:
    """Text with its line wrapping undone."""
    return " ".join(text.split())


UPDATE = os.environ.get("UPDATE_GOLDEN", "") not in ("", "0")


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize(
    ("part", "suffix"), [("subject", ".subject.txt"), ("text", ".txt"), ("html", ".html")]
)
def test_digest_matches_golden_file(profile: str, part: str, suffix: str) -> None:
    # One profile with the "Im Browser lesen" link (jobs.send adds it when a base URL is set)
    # and the feedback links (issue 17; jobs.send adds them to every mail).
    web_url = WEB_URL if profile == "hochschule" else None
    segment = segments()[profile]
    links = feedback_url if profile == "hochschule" else None
    digest = render(
        segment.sections, web_url=web_url, applicant=segment.applicant, feedback_url=links
    )
    actual = getattr(digest, part) + ("\n" if part == "subject" else "")
    path = GOLDEN / f"{profile}{suffix}"
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run with UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.name} differs (UPDATE_GOLDEN=1 after reviewing the change)"


def test_each_profile_gets_exactly_its_items() -> None:
    """What the golden files hold, said in words: the right items for each reader."""
    segs = segments()
    texts = {name: flat(render(seg.sections).text) for name, seg in segs.items()}
    kommune, unternehmen, hochschule = texts["kommune"], texts["unternehmen"], texts["hochschule"]
    assert "Interreg Europe: Letzte Runde" in kommune  # for Kommunen, funding + cohesion
    assert "Interreg Europe: Letzte" not in unternehmen
    assert "Interreg Europe: Letzte" not in hochschule
    assert (
        "Pilotlinien für Halbleiter" in unternehmen and "Pilotlinien für Halbleiter" in hochschule
    )
    assert "Pilotlinien für Halbleiter" not in kommune
    assert "Digital Networks Act" in unternehmen and "Digital Networks Act" not in kommune
    assert "Kohäsionspolitik nach 2027" in kommune and "Kohäsionspolitik nach 2027" in hochschule
    assert "Kohäsionspolitik nach 2027" not in unternehmen
    for text in texts.values():  # the office's own news (no topic) goes to everyone
        assert "Stuttgarter Tag in Brüssel" in text
    assert SECOND_KOMMUNE in segs["kommune"].subscribers  # same content, one rendering


def test_sections_keep_the_editions_order_and_items_appear_once() -> None:
    text = flat(render(segments()["hochschule"].sections).text)
    order = ["IM FOKUS", "FÖRDERUNG & AUSSCHREIBUNGEN", "POLITIK & GESETZGEBUNG", "AUS DEM BÜRO"]
    positions = [text.index(title) for title in order]
    assert positions == sorted(positions)
    kommune = flat(render(segments()["kommune"].sections).text)
    # Interreg is placed in two sections of the edition: shown once, in the first.
    assert (
        kommune.count("Interreg Europe: Letzte Runde für Kooperationsprojekte") == 2
    )  # Fristen + item
    assert kommune.index("Interreg Europe: Letzte Runde") < kommune.index("FÖRDERUNG")
