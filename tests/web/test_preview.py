"""The desk's preview: the real digest (compose.render) for a chosen kind of subscriber.

Pure parts against tests/compose/data.py (the golden edition); the routes through the
Flask test client: the page, the mail HTML with its own CSP, the plain-text part.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from werkzeug.datastructures import MultiDict

from pipeline import curate
from pipeline.bootstrap import Services
from pipeline.compose.render import greeting, personalize
from pipeline.model import (
    Item,
    OrgType,
    StaffUser,
    TopicAssignment,
    TopicOrigin,
)
from pipeline.store import Store
from pipeline.web.preview import (
    MAIL_CSP,
    PRESET_ALL,
    PreviewProfile,
    build_test_mail,
    framed_html,
    item_topics,
    parse_profile,
    render_for_profile,
)
from tests.compose import data
from tests.web.conftest import Clock, Desk, Seeded, assert_no_active_content, visible

TOPIC_IDS = frozenset(data.TOPIC_LABELS) | {"energy_climate", "mobility"}
ITEMS: dict[int, Item] = {i.id: i for _, items in data.EDITION_SECTIONS for i in items}


def render(profile: PreviewProfile) -> tuple[str, str, str] | None:
    digest = render_for_profile(
        data.EDITION,
        ITEMS,
        profile,
        office=data.OFFICE,
        topic_labels=data.TOPIC_LABELS,
        sources=data.SOURCES,
        tz=data.TZ,
        now=data.NOW,
        glossary=data.GLOSSARY,  # as the desk passes the office's glossary.yaml
    )
    return None if digest is None else (digest.subject, digest.text, digest.html)


# ---------------------------------------------------------------- pure


def test_the_preview_is_exactly_the_senders_digest_with_sample_values() -> None:
    kommune = data.PROFILES["kommune"]
    profile = PreviewProfile(OrgType.KOMMUNE, kommune.topics, "de")
    segment = data.segments()["kommune"]
    sender = personalize(  # the feedback links are samples too ("#", never counting)
        data.render(
            segment.sections,
            applicant=segment.applicant,
            feedback_url=lambda item, answer: "#",
        ),
        greeting=greeting(""),
        preferences_url="#",
        unsubscribe_url="#",
    )
    assert render(profile) == (sender.subject, sender.text, sender.html)
    subject, text, html = render(profile) or ("", "", "")
    assert "Guten Tag," in text and "Jürgen" not in text + html  # never a real reader's name
    assert "%%" not in subject + text + html
    assert 'href="#"' in html


def test_two_profiles_get_different_items() -> None:
    kommune = render(PreviewProfile(OrgType.KOMMUNE, ("funding", "cohesion")))
    company = render(PreviewProfile(OrgType.UNTERNEHMEN, ("digital", "industry")))
    assert kommune and company
    assert "Interreg Europe: Letzte" in kommune[2] and "Interreg Europe: Letzte" not in company[2]
    assert "Neue Pilotlinien" in company[2] and "Neue Pilotlinien" not in kommune[2]
    assert "Stuttgarter Tag" in kommune[1] and "Stuttgarter Tag" in company[1]  # for everyone


def test_a_profile_that_gets_nothing_has_no_digest() -> None:
    only_own = render(PreviewProfile(OrgType.SONSTIGE, ("health",)))  # untagged OWN item only
    assert only_own and "Stuttgarter Tag" in only_own[1]
    empty = replace(data.EDITION, sections=())
    assert (
        render_for_profile(
            empty,
            ITEMS,
            PreviewProfile(),
            office=data.OFFICE,
            topic_labels=data.TOPIC_LABELS,
            sources=data.SOURCES,
            tz=data.TZ,
            now=data.NOW,
        )
        is None
    )


def test_parse_profile_keeps_known_values_and_falls_back_for_others() -> None:
    args = MultiDict(
        [
            ("org_type", "hochschule"),
            ("language", "en"),
            ("topics", "digital"),
            ("topics", "nonsense"),
            ("topics", "cohesion"),
        ]
    )
    assert parse_profile(args, TOPIC_IDS) == PreviewProfile(
        OrgType.HOCHSCHULE, ("cohesion", "digital"), "en"
    )
    bad = MultiDict([("org_type", "<script>"), ("language", "fr")])
    assert parse_profile(bad, TOPIC_IDS) == PreviewProfile(OrgType.KOMMUNE, (), "de")
    preset = MultiDict([("preset", PRESET_ALL), ("topics", "digital")])
    assert parse_profile(preset, TOPIC_IDS).topics == ()  # "Alle Themen" wins
    profile = PreviewProfile(OrgType.KAMMER, ("digital",), "de")
    assert parse_profile(MultiDict(_pairs(profile.args())), TOPIC_IDS) == profile
    assert profile.describe(data.TOPIC_LABELS) == (
        f"Kammer/Verband, Themen: {data.TOPIC_LABELS['digital']}, Deutsch"
    )


def _pairs(args: dict[str, object]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in args.items():
        for v in value if isinstance(value, list) else [value]:
            out.append((key, str(v)))
    return out


def test_framed_html_opens_links_outside_the_frame() -> None:
    assert framed_html("<html><head><title>x</title></head></html>") == (
        '<html><head><base target="_blank"><title>x</title></head></html>'
    )


def test_test_mail_is_marked_and_carries_no_personal_data_outside_to() -> None:
    digest = render_for_profile(
        data.EDITION,
        ITEMS,
        PreviewProfile(),
        office=data.OFFICE,
        topic_labels=data.TOPIC_LABELS,
        sources=data.SOURCES,
        tz=data.TZ,
        now=data.NOW,
    )
    assert digest is not None
    mail = build_test_mail(
        digest, office=data.OFFICE, to="anna@region-stuttgart.de", edition_id=47, user_id=3
    )
    assert mail.subject == "[TEST] " + digest.subject
    assert mail.to == "anna@region-stuttgart.de"
    assert mail.headers["From"].endswith("<europabuero@region-stuttgart.de>")
    assert mail.category == "test-send"
    assert re.fullmatch(r"test-e47-u3-[0-9a-f]{8}", mail.reference)


def test_staff_topics_win_over_automatic_ones_on_the_item_page() -> None:
    auto = TopicAssignment("energy_climate", 0.7)
    staff = TopicAssignment("funding", 1.0, TopicOrigin.STAFF)
    item = ITEMS[101]
    assert item_topics(item) == ("funding", "cohesion")
    assert item_topics(_with_topics(item, (auto, staff))) == ("funding",)


def _with_topics(item: Item, topics: tuple[TopicAssignment, ...]) -> Item:
    return replace(item, topics=topics)


# ---------------------------------------------------------------- routes


@pytest.fixture
def edition_id(
    anna: Desk, items: Seeded, store: Store, staff: dict[str, StaffUser], clock: Clock
) -> int:
    curate.accept(store, list(items.ids.values()), actor=staff["anna"], now=clock())
    edition = curate.create_edition(
        store,
        anna.client.application.extensions["eudigest"].office,
        "weekly",
        title="EU-Wochenbrief 48/2026",
        intro="Liebe Leserinnen und Leser,",
        actor=staff["anna"],
        now=clock(),
    )
    focus = sorted(edition.sections, key=lambda s: s.position)[0].id
    for name in ("hydrogen", "call", "cohesion"):
        curate.place_item(
            store, edition.id, items[name], section_id=focus, actor=staff["anna"], now=clock()
        )
    return edition.id


def test_preview_page_shows_subject_frame_and_text_tab(anna: Desk, edition_id: int) -> None:
    url = f"/desk/editions/{edition_id}/preview?org_type=unternehmen&preset=auswahl&topics=funding"
    page = anna.text(url)
    text = visible(page)
    assert "Betreff: EU-Wochenbrief 48/2026" in text
    assert "Mail für: Unternehmen, Themen: Förderprogramme, Deutsch" in text
    frame = re.search(r"<iframe\b[^>]*>", page)
    assert frame
    tag = frame.group(0)
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in tag
    assert "allow-scripts" not in tag and "allow-same-origin" not in tag
    assert f"/desk/editions/{edition_id}/preview/mail.html?" in tag
    assert "org_type=unternehmen" in tag and "topics=funding" in tag
    assert '<option value="unternehmen" selected>' in page
    assert_no_active_content(re.sub(r"<iframe\b[^>]*></iframe>", "", page))
    text_tab = anna.text(f"{url}&part=text")
    assert "mail-frame" not in text_tab
    assert '<pre class="digest-preview mail-text" lang="de">' in text_tab
    assert "Guten Tag," in visible(text_tab)


def test_mail_route_has_its_own_strict_csp_and_the_real_html(anna: Desk, edition_id: int) -> None:
    response = anna.get(f"/desk/editions/{edition_id}/preview/mail.html?org_type=kommune")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == MAIL_CSP
    assert "script-src" not in MAIL_CSP and "frame-ancestors 'self'" in MAIL_CSP
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert 'style="' in html  # the mail's inlined CSS is there (the desk's CSP forbids it)
    assert '<base target="_blank">' in html
    assert "Guten Tag," in html and "%%" not in html
    assert_no_active_content(html)
    desk_page = anna.get(f"/desk/editions/{edition_id}")
    assert "frame-ancestors 'none'" in desk_page.headers["Content-Security-Policy"]


def test_text_route_is_plain_text(anna: Desk, edition_id: int) -> None:
    response = anna.get(f"/desk/editions/{edition_id}/preview/mail.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    body = response.get_data(as_text=True)
    assert body.startswith("Guten Tag,") or "Guten Tag," in body
    assert "<" not in body.split("\n", 1)[0]


def test_preview_for_two_profiles_shows_different_items(anna: Desk, edition_id: int) -> None:
    url = f"/desk/editions/{edition_id}/preview/mail.html"
    energy = anna.text(f"{url}?preset=auswahl&topics=energy_climate")
    funding = anna.text(f"{url}?preset=auswahl&topics=funding")
    assert "Wasserstoffprojekte" in energy and "urban mobility pilots" not in energy
    assert "urban mobility pilots" in funding and "Wasserstoffprojekte" not in funding


def test_nothing_for_the_profile_and_bad_ids(anna: Desk, edition_id: int) -> None:
    page = anna.text(f"/desk/editions/{edition_id}/preview?preset=auswahl&topics=health")
    assert "enthält die Ausgabe keine Meldungen" in visible(page)
    assert "mail-frame" not in page
    for part in ("mail.html", "mail.txt"):
        response = anna.get(f"/desk/editions/{edition_id}/preview/{part}?topics=health")
        assert response.status_code == 404
        assert "keine Meldungen" in visible(response.get_data(as_text=True))
    for url in ("/desk/editions/4242/preview", "/desk/editions/4242/preview/mail.html"):
        response = anna.get(url)
        assert response.status_code == 404
        assert "Diese Ausgabe gibt es nicht (mehr)." in response.get_data(as_text=True)
    assert anna.get("/desk/editions/abc/preview").status_code == 404


def test_anonymous_gets_no_mail_html(anon: Desk, edition_id: int) -> None:
    response = anon.get(f"/desk/editions/{edition_id}/preview/mail.html")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_preview_of_a_reader_who_follows_a_dossier_marks_nothing_reported(
    anna: Desk,
    edition_id: int,
    store: Store,
    clock: Clock,
    staff: dict[str, StaffUser],
    services: Services,
) -> None:
    """The block "Neues in Ihren Verfahren" for a chosen variant that follows a published
    dossier; only published dossiers are offered; nothing is frozen or reported."""
    import datetime as dt

    from sqlalchemy import func, select

    from pipeline.model import DossierEvent, DossierRecord, EventKind, ProcedureType
    from pipeline.store.schema import dossier_reports

    def record(reference: str, title: str) -> DossierRecord:
        return DossierRecord(
            reference=reference,
            source="ep-procedures",
            title_de=title,
            procedure_type=ProcedureType.COD,
            events=(
                DossierEvent(
                    dt.date(2026, 6, 2),
                    EventKind.COMMITTEE_APPROVE_PROVISIONAL_AGREEMENT,
                    "ep-procedures",
                    key="a",
                ),
                DossierEvent(
                    dt.date(2026, 6, 16), EventKind.PLENARY_ADOPT_POSITION, "ep-procedures", key="b"
                ),
            ),
        )

    store.dossiers.upsert(
        [record("2025/0260(COD)", "Zölle auf Waren"), record("2026/0010(COD)", "Nur intern")],
        now=clock(),
    )
    store.dossiers.publish("2025/0260(COD)", True, actor="anna", now=clock())
    base = f"/desk/editions/{edition_id}/preview"

    page = anna.text(base)
    assert "Verfahren, denen diese Leserin folgt" in visible(page)
    assert 'name="dossiers" value="2025/0260(COD)"' in page
    assert "2026/0010(COD)" not in page  # not published: not offered
    assert "Neues in Ihren Verfahren" not in anna.text(f"{base}/mail.txt")  # follows none

    query = "?dossiers=2025/0260(COD)&dossiers=2026/0010(COD)"
    text = anna.text(f"{base}/mail.txt{query}")
    assert text.count("NEUES IN IHREN VERFAHREN") == 1
    assert "Zölle auf Waren" in text and "Nur intern" not in text  # unpublished: dropped
    assert "- 16. Juni 2026: Parlament legt Standpunkt fest" in text
    assert "Stand jetzt: Rat" in text and "Als Nächstes: Annahme durch den Rat" in text
    html = anna.text(f"{base}/mail.html{query}")
    assert "Neues in Ihren Verfahren" in html and "Parlament legt Standpunkt fest" in html
    shown = visible(anna.text(f"{base}{query}"))
    assert "folgt 2025/0260(COD)" in shown  # "Mail für: …"
    store.users.set_email(staff["anna"].id, "anna.schmid@region-stuttgart.de")
    assert 'type="hidden" name="dossiers" value="2025/0260(COD)"' in anna.text(f"{base}{query}")
    sent = anna.post(f"{base}/test", {"dossiers": "2025/0260(COD)", "preset": "alle"})
    assert sent.status_code == 303 and "dossiers=2025" in sent.headers["Location"]
    from tests.subscribers.conftest import Outbox

    [mail] = Outbox(services.settings.data_dir / "outbox").all()
    assert mail.subject.startswith("[TEST]") and "NEUES IN IHREN VERFAHREN" in mail.text

    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dossier_reports)).scalar() == 0
    # a real follower's digest of this edition still has the news the preview showed
    from pipeline.model import NewSubscriber, Profile

    sub = store.subscribers.add(
        NewSubscriber(
            email="leserin@example.org",
            email_hash="h-leserin",
            profile=Profile(newsletters=("weekly",)),
            consent_text="v1",
            consent_at=clock(),
        ),
        now=clock(),
    )
    store.dossiers.set_reader_follows(sub.id, ["2025/0260(COD)"], now=clock())
    store.dossiers.upsert(
        [
            DossierRecord(
                reference="2025/0260(COD)",
                source="council",
                events=(
                    DossierEvent(
                        dt.date(2026, 7, 13), EventKind.COUNCIL_ADOPTION, "council", key="c"
                    ),
                ),
            )
        ],
        now=clock(),
    )
    preview = anna.text(f"{base}/mail.txt{query}")
    assert "13. Juli 2026: Rat nimmt den Rechtsakt an" in preview
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dossier_reports)).scalar() == 0
    [news] = store.dossiers.news_for(edition_id, [sub.id], today=clock().date())[sub.id]
    assert [e.kind for e in news.events] == [EventKind.COUNCIL_ADOPTION]
