"""office.yaml: the office, its newsletters and the branding of its mails (WCAG contrast)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Newsletter:
    id: str
    name: str
    description: str = ""
    cadence: str = "weekly"  # weekly | daily
    curated: bool = True  # weekly digest is curated; the daily one lists accepted items


def _hex_channels(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    if len(value) != 6:
        raise ValueError(f"not a #rgb or #rrggbb colour: {color!r}")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb (or #rgb) colour, 0 (black) … 1 (white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else float(((c + 0.055) / 1.055) ** 2.4)

    r, g, b = (linear(c) for c in _hex_channels(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 … 21 (body text needs ≥ 4.5)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True, slots=True)
class Branding:
    """office.yaml `branding:`: how the office's mails look (colours as #rrggbb).

    primary_color is used for links, headings' accents and badges on background_color,
    so it must be as readable as text_color (contrast ≥ 4.5, checked when loading).
    """

    primary_color: str = "#003399"
    text_color: str = "#1d2330"
    background_color: str = "#ffffff"
    logo_url: str = ""  # https only; the mail is complete without it
    logo_alt: str = ""  # required with a logo: the office's name is used when empty


@dataclass(frozen=True, slots=True)
class Office:
    """office.yaml: who runs this installation, its newsletters and desk rules."""

    name: str
    newsletters: tuple[Newsletter, ...]
    four_eyes: bool = True  # approval needs a second person (the default, issue 14)
    # Inbox "Vorschläge": new items below this relevance are folded into "Wahrscheinlich
    # nicht relevant" (never hidden from search or filters).
    inbox_threshold: float = 0.2
    sender_email: str = "newsletter@example.org"  # From: of every mail
    sender_name: str = ""
    reply_to: str = ""
    imprint: str = ""  # Impressum, plain text lines, in the footer of every mail
    privacy_url: str = ""  # Datenschutzerklärung
    default_sections: tuple[str, ...] = ("Meldungen",)  # sections a new edition starts with
    branding: Branding = field(default_factory=lambda: Branding())
    # archive.dossiers: "public" shows every dossier in the public archive (until staff
    # publish dossiers one by one), "none" (default) shows none.
    archive_dossiers: str = "none"

    def newsletter(self, newsletter_id: str) -> Newsletter | None:
        return next((n for n in self.newsletters if n.id == newsletter_id), None)
