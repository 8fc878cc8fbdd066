"""Corrections as readers see them (pure): the note, the short mail, the archive line.

    correction_note(correction, item, edition, tz)  → CorrectionNote (German lines)
    render_correction_mail(notes, …)                → RenderedDigest: subject, text, HTML of
                                                      templates/email/correction.*, with the
                                                      per-reader placeholders of the digest
                                                      (%%greeting%%, %%unsubscribe_url%%, …)

The block "Korrektur" of a digest is rendered by compose.render (DigestRenderer) from
the same notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from pipeline.compose.render import (
    GREETING,
    MAX_SUBJECT,
    PREFERENCES_URL,
    UNSUBSCRIBE_URL,
    RenderedDigest,
    cut_at_word,
    digest_corrections,
    headline,
    palette,
)
from pipeline.email_templates import environment
from pipeline.model import (
    Correction,
    CorrectionField,
    CorrectionNote,
    Edition,
    Item,
    Newsletter,
    Office,
)
from pipeline.text import TEXT_WIDTH, html_to_paragraphs, render_markdown

MAX_COMMENT = 400  # characters of a corrected comment quoted in a notice


def correction_note(
    correction: Correction, item: Item | None, edition: Edition, tz: ZoneInfo
) -> CorrectionNote:
    """The German note of a correction: what changed, in the reader's words."""
    lines: list[str] = []
    if correction.withdrawn:
        lines.append("Die Meldung wurde zurückgezogen: bitte nicht mehr berücksichtigen.")
    for change in correction.changes:
        if change.field is CorrectionField.COMMENT:
            text = " ".join(html_to_paragraphs(render_markdown(change.new)).split())
            lines.append(f"Neue Einordnung: {cut_at_word(text, MAX_COMMENT)}" if text else
                         "Die Einordnung wurde entfernt.")  # fmt: skip
        elif change.field is CorrectionField.LINK:
            lines.append(f"Richtiger Link: {change.new}")
        else:
            lines.append(change.label)
    sent = edition.sent_at or edition.updated_at or edition.created_at
    title = headline(item, "de") if item is not None else f"Meldung {correction.item_id}"
    return CorrectionNote(
        correction_id=correction.id,
        edition_id=edition.id,
        item_id=correction.item_id,
        edition_title=edition.title,
        edition_sent=_local(sent, tz),
        headline=title,
        lines=tuple(lines),
        reason=correction.reason,
        corrected_on=_local(correction.created_at, tz),
        withdrawn=correction.withdrawn,
    )


def _local(when: dt.datetime, tz: ZoneInfo) -> dt.date:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(tz).date()


def render_correction_mail(
    notes: Sequence[CorrectionNote],
    *,
    office: Office,
    newsletter: Newsletter,
    base_url: str | None,
) -> RenderedDigest:
    """The short mail of a correction ("sofort als kurze Mail"), placeholders kept."""
    fixes = digest_corrections(notes, base_url)
    context = {
        "corrections": fixes,
        "office": office,
        "newsletter": newsletter,
        "palette": palette(office.branding),
        "greeting": GREETING,
        "preferences_url": PREFERENCES_URL,
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "width": TEXT_WIDTH,
    }
    env = environment()
    subject = " ".join(env.get_template("correction.subject.txt").render(context).split())
    subject = cut_at_word(subject, MAX_SUBJECT)
    return RenderedDigest(
        subject=subject,
        text=env.get_template("correction.text.j2").render(context).strip() + "\n",
        html=env.get_template("correction.html.j2").render(context),
    )
