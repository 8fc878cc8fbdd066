"""The desk's preview: the real digest (compose.render) as one kind of subscriber gets it.

    profile (organisation type, topics or "alle Themen", language, followed dossiers)
      from the query/form
      → a sample Subscriber with that profile
      → the news of the dossiers it follows (store.dossiers.preview_news: read only, so
        a preview never freezes a window nor marks anything reported)
      → compose.segments.resolve_segments (the sender's rule of who gets what)
      → compose.render.render_digest (the sender's renderer, same arguments as jobs.send)
      → personalize() with sample values ("Guten Tag," and "#" links, the feedback links
        too), never a real reader's

The HTML carries inline styles, which the desk's CSP forbids: the web shell serves it
from a route of its own with MAIL_CSP and shows it in a sandboxed iframe.

A test send (`build_test_mail`) is that sample digest with "[TEST] " before the subject,
to one staff member's own address; it never touches the delivery ledger.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from pipeline.compose.render import RenderedDigest, greeting, personalize, render_digest
from pipeline.compose.segments import resolve_segments
from pipeline.model import (
    ORG_TYPE_LABELS,
    DossierNews,
    Edition,
    Item,
    Office,
    OrgType,
    OutgoingEmail,
    Source,
    Subscriber,
    SubscriberStatus,
    TopicOrigin,
)
from pipeline.model.glossary import EMPTY_GLOSSARY, Glossary
from subscribers.mails import sender_headers

LANGUAGES = {"de": "Deutsch", "en": "Englisch"}
PRESET_ALL = "alle"  # every topic (what a subscriber who chose none gets)
PRESET_CHOSEN = "auswahl"
PRESETS = {PRESET_ALL: "Alle Themen", PRESET_CHOSEN: "Nur die gewählten Themen"}
DEFAULT_ORG_TYPE = OrgType.KOMMUNE
SAMPLE_URL = "#"
TEST_PREFIX = "[TEST] "
TEST_CATEGORY = "test-send"
# Content-Security-Policy of the mail HTML route: inline styles (the mail's own), images
# (an https logo), nothing else; framed only by the desk itself.
MAIL_CSP = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src https: data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
    ]
)


def item_topics(item: Item) -> tuple[str, ...]:
    """Staff-confirmed topics if there are any, else the automatic ones (the item page)."""
    staff = tuple(t.topic_id for t in item.topics if t.origin is TopicOrigin.STAFF)
    return staff or tuple(t.topic_id for t in item.topics)


@dataclass(frozen=True, slots=True)
class PreviewProfile:
    """The kind of subscriber the preview shows the edition for."""

    org_type: OrgType = DEFAULT_ORG_TYPE
    topics: tuple[str, ...] = ()  # empty: all topics
    language: str = "de"
    dossiers: tuple[str, ...] = ()  # references of published dossiers it follows

    @property
    def preset(self) -> str:
        return PRESET_CHOSEN if self.topics else PRESET_ALL

    def args(self) -> dict[str, Any]:
        """The profile as query arguments (url_for(**profile.args()))."""
        out: dict[str, Any] = {
            "org_type": self.org_type.value,
            "language": self.language,
            "preset": self.preset,
        }
        if self.topics:
            out["topics"] = list(self.topics)
        if self.dossiers:
            out["dossiers"] = list(self.dossiers)
        return out

    def describe(self, topic_labels: Mapping[str, str]) -> str:
        """'Kommune, Themen: Energie & Klima, Deutsch' (German, for flashes and the audit)."""
        topics = (
            "Themen: " + ", ".join(topic_labels.get(t, t) for t in self.topics)
            if self.topics
            else "alle Themen"
        )
        follows = f", folgt {', '.join(self.dossiers)}" if self.dossiers else ""
        return f"{ORG_TYPE_LABELS[self.org_type]}, {topics}, {LANGUAGES[self.language]}{follows}"


def parse_profile(
    values: MultiDict[str, str], topic_ids: Collection[str], dossier_refs: Collection[str] = ()
) -> PreviewProfile:
    """The profile of a query string or form; unknown values fall back to the defaults,
    dossiers not in `dossier_refs` (the published ones) are dropped."""
    raw_org = values.get("org_type") or ""
    org_type = OrgType(raw_org) if raw_org in {o.value for o in OrgType} else DEFAULT_ORG_TYPE
    language = values.get("language") or "de"
    if language not in LANGUAGES:
        language = "de"
    topics: tuple[str, ...] = ()
    if values.get("preset") != PRESET_ALL:
        chosen = values.getlist("topics")[:200]
        topics = tuple(sorted({t for t in chosen if t in topic_ids}))
    followed = tuple(sorted({r for r in values.getlist("dossiers")[:200] if r in dossier_refs}))
    return PreviewProfile(org_type=org_type, topics=topics, language=language, dossiers=followed)


def sample_subscriber(profile: PreviewProfile, newsletter_id: str, now: dt.datetime) -> Subscriber:
    """A stand-in reader with the profile: no real subscriber's data ever enters a preview."""
    return Subscriber(
        id=0,
        email="vorschau@example.invalid",
        status=SubscriberStatus.CONFIRMED,
        created_at=now,
        org_type=profile.org_type,
        language=profile.language,
        topics=profile.topics,
        newsletters=(newsletter_id,),
    )


def render_for_profile(
    edition: Edition,
    items: Mapping[int, Item],
    profile: PreviewProfile,
    *,
    office: Office,
    topic_labels: Mapping[str, str],
    sources: Mapping[str, Source],
    tz: ZoneInfo,
    now: dt.datetime,
    web_url: str | None = None,
    news: Sequence[DossierNews] = (),
    base_url: str | None = None,
    glossary: Glossary = EMPTY_GLOSSARY,
) -> RenderedDigest | None:
    """The digest this profile would get, with sample values; None when it gets nothing.

    `web_url` is the edition's archive page ("Im Browser lesen"), as the sender links it;
    `news` the block "Neues in Ihren Verfahren" of the dossiers the profile follows,
    linked with `base_url` as the sender does."""
    newsletter = office.newsletter(edition.newsletter_id)
    if newsletter is None:
        return None
    sections = [
        (s.title, [items[i] for i in s.item_ids if i in items])
        for s in sorted(edition.sections, key=lambda s: s.position)
    ]
    reader = sample_subscriber(profile, edition.newsletter_id, now)
    segments = resolve_segments(sections, [reader], edition.newsletter_id, {reader.id: tuple(news)})
    if not segments:
        return None
    digest = render_digest(
        edition,
        newsletter,
        segments[0].sections,
        office=office,
        branding=office.branding,
        topic_labels=topic_labels,
        language=segments[0].language,
        tz=tz,
        today=now.astimezone(tz).date(),
        sources=sources,
        web_url=web_url,
        dossiers=segments[0].dossiers,
        base_url=base_url,
        feedback_url=_sample_feedback,  # the lines readers see, with sample links
        glossary=glossary,
        applicant=segments[0].applicant,
    )
    return personalize(
        digest, greeting=greeting(""), preferences_url=SAMPLE_URL, unsubscribe_url=SAMPLE_URL
    )


def _sample_feedback(item_id: int, answer: str) -> str:
    """Feedback links of a preview or test send: "#", never a link that could count."""
    return SAMPLE_URL


def framed_html(html: str) -> str:
    """The mail HTML for the preview iframe: its links open outside the (sandboxed) frame."""
    base = '<base target="_blank">'
    if "<head>" in html:
        return html.replace("<head>", "<head>" + base, 1)
    return base + html


def build_test_mail(
    digest: RenderedDigest, *, office: Office, to: str, edition_id: int, user_id: int
) -> OutgoingEmail:
    """The test mail: the sample digest to a staff member, subject prefixed "[TEST] "."""
    return OutgoingEmail(
        to=to,
        subject=TEST_PREFIX + digest.subject,
        text=digest.text,
        html=digest.html,
        headers=sender_headers(office),
        category=TEST_CATEGORY,
        reference=f"test-e{edition_id}-u{user_id}-{secrets.token_hex(4)}",
    )
