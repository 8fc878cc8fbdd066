"""A filled-in office for tests: the shipped office.yaml with a real imprint.

The shipped imprint's line "(… hier eintragen)" is a placeholder, and the preflight
refuses approval while it stands (issue 14); tests that approve use these instead.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.model import Newsletter, Office

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "(Anschrift, Vertretungsberechtigte und Registergericht hier eintragen)"
IMPRINT = (
    "Wirtschaftsförderung Region Stuttgart GmbH – Europabüro Brüssel\n"
    "Friedrichstraße 10, 70174 Stuttgart · Geschäftsführer: Max Muster · "
    "Amtsgericht Stuttgart HRB 12345"
)
# For test offices written by hand: the settings every mail needs (YAML, under office:)
OFFICE_FIELDS_YAML = """\
  sender_email: europabuero@region-stuttgart.de
  privacy_url: https://wrs.region-stuttgart.de/datenschutz
  imprint: |
    Wirtschaftsförderung Region Stuttgart GmbH – Europabüro Brüssel
    Friedrichstraße 10, 70174 Stuttgart · Amtsgericht Stuttgart HRB 12345
"""


def office_yaml(*, four_eyes: bool) -> str:
    """The shipped office.yaml, imprint filled in, four eyes as the test needs."""
    text = (ROOT / "office.yaml").read_text(encoding="utf-8")
    assert PLACEHOLDER in text and "four_eyes: true" in text
    imprint = IMPRINT.split("\n")[1]
    text = text.replace(PLACEHOLDER, imprint)
    return text.replace("four_eyes: true", f"four_eyes: {'true' if four_eyes else 'false'}")


def office(**changes: object) -> Office:
    """An Office dataclass with everything a mail needs filled in."""
    values: dict[str, object] = {
        "name": "Europabüro",
        "newsletters": (Newsletter("weekly", "EU-Wochenbrief"),),
        "four_eyes": False,
        "sender_email": "europabuero@region-stuttgart.de",
        "privacy_url": "https://wrs.region-stuttgart.de/datenschutz",
        "imprint": IMPRINT,
    }
    values.update(changes)
    return Office(**values)  # type: ignore[arg-type]
