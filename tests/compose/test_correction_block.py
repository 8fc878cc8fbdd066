"""The block "Korrektur" at the top of a digest (issue 14): the same bytes block by block
as the whole document, first before the Fristen, awkward text escaped."""

from __future__ import annotations

import datetime as dt

from pipeline.compose.render import DigestRenderer
from pipeline.model import CorrectionNote
from tests.compose.data import (
    CHIPS,
    EDITION,
    INTERREG,
    NEWSLETTER,
    OFFICE,
    SOURCES,
    TODAY,
    TOPIC_LABELS,
    TZ,
)

BASE = "https://newsletter.region-stuttgart.example"
NOTE = CorrectionNote(
    correction_id=3,
    edition_id=41,
    item_id=7,
    edition_title="EU-Wochenbrief 47/2026",
    edition_sent=dt.date(2026, 11, 18),
    headline='Zölle & Quoten: <b>"Made in EU"</b>',
    lines=("Überschrift: alt → neu", "Frist: 15. März 2027 → 22. März 2027"),
    reason="Die Frist wurde verlängert <sic> & bestätigt.",
    corrected_on=dt.date(2026, 12, 6),
)
OTHER = CorrectionNote(
    correction_id=4,
    edition_id=41,
    item_id=8,
    edition_title="EU-Wochenbrief 47/2026",
    edition_sent=dt.date(2026, 11, 18),
    headline="Konsultation",
    lines=("Die Meldung wurde zurückgezogen: bitte nicht mehr berücksichtigen.",),
    reason="Doppelt gemeldet.",
    corrected_on=dt.date(2026, 12, 6),
    withdrawn=True,
)


def renderer() -> DigestRenderer:
    return DigestRenderer(
        EDITION,
        NEWSLETTER,
        office=OFFICE,
        branding=OFFICE.branding,
        topic_labels=TOPIC_LABELS,
        tz=TZ,
        today=TODAY,
        sources=SOURCES,
        base_url=BASE,
    )


def test_the_block_comes_first_and_matches_the_whole_document() -> None:
    fast, reference = renderer(), renderer()
    cases = [
        ([("Im Fokus", [INTERREG, CHIPS])], (NOTE,)),
        ([("Im Fokus", [CHIPS])], (NOTE, OTHER)),
        ([("Im Fokus", [])], (OTHER,)),  # the block alone
        ([("Im Fokus", [INTERREG])], ()),
    ]
    for sections, notes in cases:
        whole = reference.render_whole(sections, language="de", corrections=notes)
        assert fast.render(sections, language="de", corrections=notes) == whole
    digest = fast.render([("Im Fokus", [INTERREG])], language="de", corrections=(NOTE,))
    assert digest.text.index("KORREKTUR") < digest.text.index("IM FOKUS")
    assert "Korrigiert am 6. Dezember 2026 · in „EU-Wochenbrief 47/2026“ vom" in digest.text
    assert f"{BASE}/archiv/41#meldung-7" in digest.text
    assert "&lt;sic&gt; &amp; bestätigt" in digest.html and "<sic>" not in digest.html
    assert "&lt;b&gt;" in digest.html
    alone = fast.render([("Im Fokus", [])], language="de", corrections=(OTHER,))
    assert "Korrektur" in alone.subject
    assert "Meldung wurde zurückgezogen" in alone.text
