"""One fixed edition and three subscriber profiles, built from model objects (no store).

Dates are fixed: the edition goes out on Wednesday 25 November 2026 (Europe/Berlin).
Titles and comments are written for these tests in the style of the office's desk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from pipeline.catalog import load_glossary
from pipeline.compose import Segment, resolve_segments
from pipeline.compose.render import RenderedDigest, render_digest
from pipeline.config import PROJECT_ROOT
from pipeline.model import (
    OWN_SOURCE_ID,
    Annotation,
    Audience,
    Branding,
    Deadline,
    DeadlineKind,
    DocType,
    Edition,
    EditionSection,
    EditionState,
    Item,
    ItemStatus,
    ItemVersion,
    Newsletter,
    Office,
    OrgType,
    Priority,
    Source,
    SourceKind,
    Subscriber,
    SubscriberStatus,
    TopicAssignment,
)
from pipeline.model.eligibility import Applicant, Eligibility
from pipeline.model.glossary import Glossary

GLOSSARY = load_glossary(PROJECT_ROOT / "glossary.yaml")  # the shipped glossary
TZ = ZoneInfo("Europe/Berlin")
TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 7, 0, tzinfo=dt.UTC)
BRANDING = Branding(
    primary_color="#00549f",
    text_color="#1d2330",
    background_color="#ffffff",
    logo_alt="Europabüro der Region Stuttgart",
)
NEWSLETTER = Newsletter(id="weekly", name="EU-Wochenbrief")
# The edition's public archive page ("Im Browser lesen"), as jobs.send builds it.
WEB_URL = "https://newsletter.region-stuttgart.example/archiv/47"


def feedback_url(item_id: int, answer: str) -> str:
    """Stands for subscribers.feedback.FeedbackLinks (signed tokens in real mails)."""
    return (
        f"https://newsletter.region-stuttgart.example/feedback/t47-{item_id}-{answer}/%%feedback%%"
    )


OFFICE = Office(
    name="Europabüro der Region Stuttgart",
    newsletters=(NEWSLETTER,),
    sender_email="europabuero@region-stuttgart.de",
    imprint="Wirtschaftsförderung Region Stuttgart GmbH – Europabüro Brüssel\n"
    "Rue de Trèves 59–61, 1040 Brüssel",
    privacy_url="https://wrs.region-stuttgart.de/datenschutz",
    branding=BRANDING,
)
TOPIC_LABELS = {
    "funding": "Förderprogramme",
    "cohesion": "Kohäsionspolitik & Regionalpolitik",
    "industry": "Industrie & Binnenmarkt",
    "digital": "Digitales & KI",
    "research": "Forschung & Innovation",
}
SOURCES = {
    s.id: s
    for s in (
        Source("ec-de", "Pressecorner der Kommission (deutsch)", "Europäische Kommission",
               "https://ec.europa.eu/commission/presscorner/api/rss?language=de", "de",
               SourceKind.FEED),
        Source("ec-en", "Commission press corner (English)", "Europäische Kommission",
               "https://ec.europa.eu/commission/presscorner/api/rss?language=en", "en",
               SourceKind.FEED),
        Source("ftop", "Funding & Tenders – offene und angekündigte Ausschreibungen",
               "Europäische Kommission", "https://ec.europa.eu/info/funding-tenders/", "en",
               SourceKind.API, adapter="ftop"),
        Source("haveyoursay", "„Ihre Meinung zählt“ – Initiativen und Konsultationen",
               "Europäische Kommission", "https://ec.europa.eu/info/law/better-regulation/",
               "de", SourceKind.API, adapter="haveyoursay"),
    )
}  # fmt: skip


def make_item(
    item_id: int,
    title: str,
    *,
    source_id: str = "ec-de",
    language: str = "de",
    topics: Sequence[str] = (),
    headline: str = "",
    comment: str = "",
    priority: Priority = Priority.FYI,
    audiences: Sequence[Audience] = (),
    deadlines: Sequence[Deadline] = (),
    doc_type: DocType = DocType.PRESS_RELEASE,
    url: str | None = None,
    published: dt.datetime = dt.datetime(2026, 11, 24, 10, 15, tzinfo=dt.UTC),
    versions: Sequence[ItemVersion] = (),
    eligibility: Eligibility | None = None,
) -> Item:
    url = url or f"https://ec.europa.eu/commission/presscorner/detail/{language}/ip_26_{item_id}"
    annotation = None
    if headline or comment or priority is not Priority.FYI or audiences:
        annotation = Annotation(
            item_id, headline=headline, comment_md=comment, priority=priority,
            audiences=tuple(audiences),
        )  # fmt: skip
    return Item(
        id=item_id,
        source_id=source_id,
        title=title,
        url=url,
        summary_html="",
        language=language,
        published=published,
        fetched_at=published,
        updated_at=published,
        doc_type=doc_type,
        status=ItemStatus.ACCEPTED,
        relevance=0.7,
        topics=tuple(TopicAssignment(t, 0.9) for t in topics),
        deadlines=tuple(deadlines),
        versions=tuple(versions)
        or (ItemVersion(f"id-{item_id}", source_id, language, title, url, "", "h"),),
        annotation=annotation,
        eligibility=eligibility,
    )


INTERREG = make_item(
    101,
    "Interreg Europe: vierte Aufforderung zur Einreichung von Projektvorschlägen",
    source_id="ftop",
    topics=("funding", "cohesion"),
    headline="Interreg Europe: Letzte Runde für Kooperationsprojekte – Einreichung bis 4. Januar",
    comment=(
        "Für **Kommunen und Landkreise** der Region interessant: gefördert werden"
        " Partnerschaften zu Innovation, Klima und Governance.\n\n"
        "- Kofinanzierung bis 80 %\n- mindestens drei Länder\n\n"
        "Wir beraten gern bei der Partnersuche: [Kontakt](https://wrs.region-stuttgart.de/europa)."
    ),
    priority=Priority.DEADLINE,
    audiences=(Audience.KOMMUNE, Audience.LANDKREIS),
    deadlines=(Deadline(dt.date(2027, 1, 4), DeadlineKind.CALL_CLOSING),),
    doc_type=DocType.FUNDING_CALL,
    url="https://www.interregeurope.eu/news-and-events/news/fourth-call",
    published=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
    # Interreg Europe: public authorities and non-profit bodies; 80 % co-financing
    eligibility=Eligibility(
        programme="Interreg Europe",
        applicants=(Applicant.KOMMUNEN, Applicant.VEREINE, Applicant.OEFFENTLICHE),
        action_type="Kooperationsprojekt",
        budget_eur=133_000_000,
        funding_rate=80,
        german_applicants=True,
    ),
)
CHIPS = make_item(
    102,
    "Chips Act: Commission selects new pilot lines for advanced semiconductors",
    source_id="ec-en",
    language="en",
    topics=("digital", "industry"),
    headline="Chips-Gesetz: Neue Pilotlinien für Halbleiter – auch Baden-Württemberg beteiligt",
    comment="Unternehmen und Hochschulen können sich an den Pilotlinien beteiligen.",
    priority=Priority.ACTION,
    audiences=(Audience.UNTERNEHMEN, Audience.HOCHSCHULE),
)
DNA = make_item(  # no German headline: its English title is shown
    103,
    "Commission opens consultation on the Digital Networks Act",
    source_id="ec-en",
    language="en",
    topics=("digital",),
    deadlines=(
        Deadline(dt.date(2026, 11, 1), DeadlineKind.DEADLINE),  # past: not in the Fristen
        Deadline(dt.date(2026, 12, 18), DeadlineKind.CONSULTATION_END),
    ),
    doc_type=DocType.CONSULTATION,
)
COHESION = make_item(
    104,
    "Konsultation zur Zukunft der Kohäsionspolitik nach 2027",
    source_id="haveyoursay",
    topics=("cohesion",),
    comment="Die Region bereitet eine gemeinsame Stellungnahme vor;"
    " Beiträge bitte bis Ende Januar.",
    deadlines=(Deadline(dt.date(2027, 2, 20), DeadlineKind.CONSULTATION_END),),  # > 6 weeks
    doc_type=DocType.CONSULTATION,
    url="https://ec.europa.eu/info/law/better-regulation/have-your-say/initiatives/14567",
)
SINGLE_MARKET = make_item(
    105,
    "Binnenmarkt: Kommission schlägt einfachere Regeln für Produktkennzeichnung vor",
    topics=("industry",),
    doc_type=DocType.LEGISLATIVE_PROPOSAL,
)
HORIZON = make_item(
    106,
    "Horizont Europa: Arbeitsprogramm 2027 veröffentlicht",
    topics=("research", "funding"),
    headline="Horizont Europa: Das Arbeitsprogramm 2027 ist da",
    comment="Neue Themen für Wasserstoff und Mobilität;"
    " die ersten Ausschreibungen öffnen im Frühjahr.",
)
OWN = make_item(  # no topic: everyone gets it
    107,
    "Stuttgarter Tag in Brüssel",
    source_id=OWN_SOURCE_ID,
    headline="Einladung: Stuttgarter Tag in Brüssel am 3. Dezember",
    comment="Treffen Sie Abgeordnete und die Kommission in der Vertretung des Landes.",
    deadlines=(Deadline(dt.date(2026, 12, 3), DeadlineKind.EVENT),),
    doc_type=DocType.EVENT,
    url="https://wrs.region-stuttgart.de/europa/stuttgarter-tag",
)

EDITION_SECTIONS: list[tuple[str, list[Item]]] = [
    ("Im Fokus", [INTERREG, CHIPS]),
    ("Förderung & Ausschreibungen", [HORIZON, INTERREG]),  # INTERREG again: shown once
    ("Politik & Gesetzgebung", [DNA, COHESION, SINGLE_MARKET]),
    ("Aus dem Büro", [OWN]),
    ("Termine", []),  # empty: left out
]
EDITION = Edition(
    id=47,
    newsletter_id="weekly",
    title="EU-Wochenbrief – 25.11.2026",
    intro=(
        "Diese Woche: eine **letzte Förderrunde** für Interreg, die Pilotlinien des"
        " Chips-Gesetzes und unsere Einladung nach Brüssel. Mehr Termine finden Sie im"
        " [Veranstaltungskalender](https://wrs.region-stuttgart.de/europa/termine)."
    ),
    state=EditionState.APPROVED,
    created_at=NOW,
    created_by="anna",
    sections=tuple(
        EditionSection(n + 1, title, n, tuple(i.id for i in items))
        for n, (title, items) in enumerate(EDITION_SECTIONS)
    ),
)


def subscriber(sid: int, org: OrgType, topics: Sequence[str], name: str = "") -> Subscriber:
    return Subscriber(
        id=sid,
        email=f"leser{sid}@example.org",
        status=SubscriberStatus.CONFIRMED,
        created_at=NOW,
        name=name,
        org_type=org,
        topics=tuple(topics),
        newsletters=("weekly",),
    )


PROFILES = {
    "kommune": subscriber(1, OrgType.KOMMUNE, ("funding", "cohesion"), "Jürgen Weiß"),
    "unternehmen": subscriber(2, OrgType.UNTERNEHMEN, ("digital", "industry")),
    "hochschule": subscriber(3, OrgType.HOCHSCHULE, ()),
}
# Same content as the Kommune profile: shares its segment.
SECOND_KOMMUNE = subscriber(4, OrgType.KOMMUNE, ("cohesion", "funding"))


def segments() -> dict[str, Segment]:
    """The profile name → its segment (resolved from all four subscribers)."""
    found = resolve_segments(
        EDITION_SECTIONS, [*PROFILES.values(), SECOND_KOMMUNE], EDITION.newsletter_id
    )
    by_subscriber = {s.id: seg for seg in found for s in seg.subscribers}
    return {name: by_subscriber[sub.id] for name, sub in PROFILES.items()}


def render(
    sections: Sequence[tuple[str, Sequence[Item]]],
    *,
    edition: Edition = EDITION,
    office: Office = OFFICE,
    language: str = "de",
    web_url: str | None = None,
    feedback_url: Callable[[int, str], str] | None = None,
    applicant: Applicant | None = None,
    glossary: Glossary = GLOSSARY,
) -> RenderedDigest:
    return render_digest(
        edition,
        NEWSLETTER,
        sections,
        office=office,
        branding=office.branding,
        topic_labels=TOPIC_LABELS,
        language=language,
        tz=TZ,
        today=TODAY,
        sources=SOURCES,
        web_url=web_url,
        feedback_url=feedback_url,
        applicant=applicant,
        glossary=glossary,
    )
