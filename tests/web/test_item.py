"""The item page: decide, topics, the annotation (with conflicts), own items, no XSS."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask

from pipeline.model import (
    OWN_SOURCE_ID,
    Audience,
    DeadlineKind,
    ItemStatus,
    Priority,
    TopicOrigin,
)
from pipeline.store import Store
from pipeline.store.items import InboxQuery
from tests.web.conftest import Desk, Seeded, assert_no_active_content, checked, visible

XSS = '<script>alert("x")</script>'
XSS_IMG = '<img src=x onerror="alert(1)">'


def annotation(version: int = 0, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "headline": "Wasserstoff für Stuttgarter Stadtbahnen",
        "comment": "Für **Kommunen** mit Nahverkehr: Fördersätze bis 60 %.",
        "priority": "action",
        "audiences": ["kommune", "landkreis"],
        "version": str(version),
        "save": "1",
    }
    data.update(fields)
    return data


def test_item_page_shows_everything_about_the_item(anna: Desk, items: Seeded) -> None:
    html = anna.text(f"/desk/items/{items['hydrogen']}")
    text = visible(html)
    assert "Kommission fördert Wasserstoffprojekte in Straßenbahnen der Region" in text
    assert "Sprachfassungen" in text and "Deutsch:" in text
    assert 'href="https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1"' in html
    assert "<p>Förderaufruf für Wasserstoff im Nahverkehr; Anträge bis März 2027.</p>" in html
    assert "Frist: 15.03.2027" in text and "IP/26/100" in text
    assert "Energie & Klima 0,74" in text
    assert "Pressemitteilung · Presseraum EU-Kommission · 25.11.2026, 07:30" in text
    words = ["Überschrift", "Einordnung für die Region", "Priorität", "Zielgruppen"]
    words += ["Zur Information", "Handlungsbedarf", "Hochschule/Forschung", "Verlauf"]
    assert all(word in text for word in words), [w for w in words if w not in text]
    assert 'name="version" value="0"' in html


def test_english_press_release_shows_its_german_version(anna: Desk, items: Seeded) -> None:
    html = anna.text(f"/desk/items/{items['call']}")
    text = visible(html)
    assert "Deutsch: Deutsche Fassung des Dokuments" in text
    assert 'href="https://ec.europa.eu/commission/presscorner/detail/de/ip_26_2"' in html
    # a German item has its own German version: no second line
    html = anna.text(f"/desk/items/{items['hydrogen']}")
    assert "Deutsche Fassung des Dokuments" not in html


def test_missing_item_is_a_german_404(anna: Desk) -> None:
    response = anna.get("/desk/items/999999")
    assert response.status_code == 404
    assert "Diese Meldung gibt es nicht (mehr)." in response.text


def test_accept_and_reject_from_the_item_page(anna: Desk, items: Seeded, store: Store) -> None:
    url = f"/desk/items/{items['call']}"
    response = anna.post(f"{url}/status", data={"action": "accept"})
    assert response.status_code == 303 and response.headers["Location"] == url
    assert store.items.get(items["call"]).status is ItemStatus.ACCEPTED
    assert "Meldung übernommen." in anna.text(url)
    anna.post(f"{url}/status", data={"action": "reject"})
    assert store.items.get(items["call"]).status is ItemStatus.REJECTED
    text = visible(anna.text(url))
    assert "anna Abgelehnt" in text and "anna Übernommen" in text  # the audit trail
    assert anna.post(f"{url}/status", data={"action": "nonsense"}).status_code == 400


def test_confirm_topics(anna: Desk, items: Seeded, store: Store) -> None:
    url = f"/desk/items/{items['hydrogen']}"
    html = anna.text(url)
    assert checked(html, "topics") == {"energy_climate", "mobility"}  # the automatic ones
    response = anna.post(f"{url}/topics", data={"topics": ["energy_climate", "municipalities"]})
    assert response.status_code == 303
    staff = [t.topic_id for t in store.items.get(items["hydrogen"]).topics
             if t.origin is TopicOrigin.STAFF]  # fmt: skip
    assert sorted(staff) == ["energy_climate", "municipalities"]
    html = anna.text(url)
    assert checked(html, "topics") == {"energy_climate", "municipalities"}
    assert "Themen gespeichert." in visible(html) and "Energie & Klima ✓" in visible(html)
    # the history names the topics in German (the stored detail keeps the ids)
    assert "Themen gesetzt: Energie & Klima, Kommunen" in visible(html)
    assert "energy_climate, municipalities" not in visible(html)
    assert anna.post(f"{url}/topics", data={"topics": ["astrology"]}).status_code == 400


def test_save_annotation(anna: Desk, items: Seeded, store: Store) -> None:
    url = f"/desk/items/{items['hydrogen']}"
    response = anna.post(f"{url}/annotation", data=annotation())
    assert response.status_code == 303 and response.headers["Location"] == url
    saved = store.items.get(items["hydrogen"]).annotation
    assert saved is not None
    assert saved.headline == "Wasserstoff für Stuttgarter Stadtbahnen"
    assert saved.comment_md == "Für **Kommunen** mit Nahverkehr: Fördersätze bis 60 %."
    assert saved.priority is Priority.ACTION
    assert set(saved.audiences) == {Audience.KOMMUNE, Audience.LANDKREIS}
    assert saved.version == 1 and saved.updated_by == "anna"
    html = anna.text(url)
    assert "Einordnung gespeichert." in html
    assert "<strong>Kommunen</strong>" in html  # the rendered comment
    assert 'name="version" value="1"' in html
    assert checked(html, "priority") == {"action"}
    assert checked(html, "audiences") == {"kommune", "landkreis"}
    assert "Einordnung gespeichert: " in visible(html)  # audit trail


def test_preview_renders_without_saving(anna: Desk, items: Seeded, store: Store) -> None:
    url = f"/desk/items/{items['hydrogen']}"
    data = annotation(comment="## Bewertung\n\n*Wichtig* für die Region")
    del data["save"]
    data["preview"] = "1"
    response = anna.post(f"{url}/annotation", data=data)
    assert response.status_code == 200
    assert "Vorschau (noch nicht gespeichert)" in response.text
    assert ">Bewertung</h" in response.text and "<em>Wichtig</em>" in response.text
    assert "## Bewertung" in response.text  # the textarea keeps the Markdown
    assert store.items.get(items["hydrogen"]).annotation is None


def test_concurrent_edit_keeps_the_users_text_and_shows_the_saved_one(
    anna: Desk, bernd: Desk, items: Seeded, store: Store
) -> None:
    url = f"/desk/items/{items['hydrogen']}"
    # both open the form at version 0; Bernd saves first
    assert (
        bernd.post(f"{url}/annotation", data=annotation(comment="Bernds Einschätzung")).status_code
        == 303
    )
    mine = "Annas längere Einordnung mit Umlauten: Größe, Übersicht, Maß."
    response = anna.post(f"{url}/annotation", data=annotation(comment=mine, headline="Annas Titel"))
    assert response.status_code == 409
    text = visible(response.text)
    assert "Inzwischen von bernd geändert – bitte prüfen und erneut speichern" in text
    assert mine in response.text and 'value="Annas Titel"' in response.text  # kept
    assert "Bernds Einschätzung" in text  # the saved version is shown
    assert 'name="version" value="1"' in response.text  # saving again is a deliberate overwrite
    saved = store.items.get(items["hydrogen"]).annotation
    assert saved is not None and saved.comment_md == "Bernds Einschätzung"
    again = anna.post(f"{url}/annotation", data=annotation(version=1, comment=mine))
    assert again.status_code == 303
    saved = store.items.get(items["hydrogen"]).annotation
    assert saved is not None and saved.comment_md == mine and saved.version == 2


def test_too_long_headline_keeps_the_text_and_saves_nothing(
    anna: Desk, items: Seeded, store: Store
) -> None:
    url = f"/desk/items/{items['hydrogen']}"
    response = anna.post(
        f"{url}/annotation", data=annotation(headline="Ü" * 301, comment="bleibt erhalten")
    )
    assert response.status_code == 400
    assert "Höchstens 300 Zeichen." in response.text
    assert "bleibt erhalten" in response.text
    assert store.items.get(items["hydrogen"]).annotation is None


@pytest.mark.parametrize("payload", [XSS, XSS_IMG, "[klick](javascript:alert(1))"])
def test_script_in_annotation_never_reaches_a_page_unescaped(
    anna: Desk, items: Seeded, payload: str
) -> None:
    item_id = items["hydrogen"]
    anna.post(
        f"/desk/items/{item_id}/annotation",
        data=annotation(headline=f"Titel {payload}", comment=f"Text {payload}"),
    )
    anna.post("/desk/items/bulk", data={"item_id": [item_id], "action": "accept"})
    edition = anna.post("/desk/editions/", data={"newsletter": "weekly", "title": "KW 48"})
    edition_url = edition.headers["Location"]
    anna.post(f"{edition_url}/items", data={"item_id": str(item_id)})
    pages = [
        f"/desk/items/{item_id}",
        "/desk/?status=all",
        edition_url,
        f"{edition_url}/preview",
    ]
    for page in pages:
        # the preview's one iframe (sandboxed, our own mail route) is checked on its own
        html = re.sub(r'<iframe class="mail-frame"[^>]*></iframe>', "", anna.text(page))
        assert_no_active_content(html, page)
    mail = anna.text(f"{edition_url}/preview/mail.html")
    assert_no_active_content(mail, "mail")
    item_page = anna.text(f"/desk/items/{item_id}")
    assert "Titel &lt;" in item_page or "javascript" in payload  # shown as text


def test_own_item(anna: Desk, store: Store) -> None:
    html = anna.text("/desk/items/new")
    assert "Eigene Meldung" in html and "Datum/Termin" in html and "Frist" in html
    response = anna.post(
        "/desk/items/new",
        data={
            "title": "Netzwerktreffen Wasserstoff im Europabüro",
            "url": "https://www.region-stuttgart.de/termine",
            "text": "Wir laden ein: **Brüssel**, Rue Père de Deken 19.",
            "event_date": "2026-12-10",
            "deadline": "2026-12-01",
            "topics": ["energy_climate"],
        },
    )
    assert response.status_code == 303
    item_id = int(response.headers["Location"].rsplit("/", 1)[1])
    item = store.items.get(item_id)
    assert item.source_id == OWN_SOURCE_ID and item.status is ItemStatus.ACCEPTED
    assert item.title == "Netzwerktreffen Wasserstoff im Europabüro"
    assert {(d.kind, d.date) for d in item.deadlines} == {
        (DeadlineKind.EVENT, dt.date(2026, 12, 10)),
        (DeadlineKind.DEADLINE, dt.date(2026, 12, 1)),
    }
    assert [t.topic_id for t in item.topics] == ["energy_climate"]
    page = anna.text(response.headers["Location"])
    assert "<strong>Brüssel</strong>" in page
    assert "Termin: 10.12.2026" in visible(page) and "Frist: 01.12.2026" in visible(page)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "Bitte ausfüllen."),
        (
            {"title": "x", "url": "javascript:alert(1)"},
            "Bitte einen Link mit http:// oder https://.",
        ),
        ({"title": "x", "event_date": "morgen"}, "Kein gültiges Datum."),
        ({"title": "T" * 301}, "Höchstens 300 Zeichen."),
    ],
)
def test_own_item_bad_input(anna: Desk, store: Store, data: dict[str, str], message: str) -> None:
    accepted = InboxQuery(statuses=(ItemStatus.ACCEPTED,))
    response = anna.post("/desk/items/new", data=data)
    assert response.status_code == 400
    assert message in visible(response.text)
    assert store.items.search(accepted).total == 0


def test_script_in_own_item_is_escaped(anna: Desk, app: Flask) -> None:
    response = anna.post(
        "/desk/items/new",
        data={"title": f"Treffen {XSS}", "text": f"Einladung {XSS} {XSS_IMG}"},
    )
    assert response.status_code == 303
    for page in (response.headers["Location"], "/desk/?status=all"):
        html = anna.text(page)
        assert_no_active_content(html, page)
        assert "Treffen &lt;script&gt;" in html
