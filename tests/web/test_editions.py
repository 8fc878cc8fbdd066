"""Editions: create, propose, the editor, the lifecycle (with four eyes) and the preview."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from pipeline import curate
from pipeline.model import Audience, EditionState, Priority, StaffUser
from pipeline.store import Store
from pipeline.web import create_app
from tests.web.conftest import (
    Clock,
    Desk,
    Seeded,
    assert_no_active_content,
    make_settings,
    services_from_template,
    visible,
)

TOPICS = {"energy_climate", "mobility", "funding", "cohesion", "municipalities"}


@pytest.fixture
def accepted(store: Store, items: Seeded, staff: dict[str, StaffUser], clock: Clock) -> Seeded:
    curate.accept(
        store, list(items.ids.values()), actor=staff["anna"], now=clock(), topic_ids=TOPICS
    )
    return items


def new_edition(desk: Desk, title: str = "EU-Wochenbrief 48/2026") -> int:
    response = desk.post(
        "/desk/editions/",
        data={"newsletter": "weekly", "title": title, "intro": "Liebe Leserinnen und Leser,"},
    )
    assert response.status_code == 303, response.text
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def section_ids(store: Store, edition_id: int) -> list[int]:
    return [s.id for s in sorted(store.editions.get(edition_id).sections, key=lambda s: s.position)]


def ready(desk: Desk, store: Store, edition_id: int) -> None:
    """Remove the edition's empty sections: the preflight blocks approval while one stands."""
    for section in store.editions.get(edition_id).sections:
        if not section.item_ids:
            url = f"/desk/editions/{edition_id}/sections/{section.id}/remove"
            assert desk.post(url).status_code == 303


def layout(store: Store, edition_id: int) -> list[tuple[str, tuple[int, ...]]]:
    edition = store.editions.get(edition_id)
    return [(s.title, s.item_ids) for s in sorted(edition.sections, key=lambda s: s.position)]


def test_editions_page_lists_newsletters_and_creates_an_edition(anna: Desk, store: Store) -> None:
    html = anna.text("/desk/editions/")
    assert "EU-Wochenbrief" in html and "EU-Tagesüberblick" in html
    assert "Entwurf vorschlagen" in html
    edition_id = new_edition(anna)
    edition = store.editions.get(edition_id)
    assert edition.state is EditionState.DRAFT and edition.created_by == "anna"
    assert [t for t, _ in layout(store, edition_id)] == ["Im Fokus", "Förderung & Ausschreibungen"]
    page = visible(anna.text(f"/desk/editions/{edition_id}"))
    assert "Ausgabe angelegt." in page and "Entwurf" in page and "Freigeben" in page
    assert "EU-Wochenbrief 48/2026" in visible(anna.text("/desk/editions/"))


def test_create_with_unknown_newsletter_or_no_title_creates_nothing(
    anna: Desk, store: Store
) -> None:
    bad = anna.post("/desk/editions/", data={"newsletter": "monthly", "title": "x"})
    assert bad.status_code == 400 and "Keine gültige Auswahl." in visible(bad.text)
    empty = anna.post("/desk/editions/", data={"newsletter": "weekly", "title": ""})
    assert empty.status_code == 400 and "Bitte ausfüllen." in empty.text
    assert store.editions.list() == []


def test_propose_draft_from_accepted_items(anna: Desk, accepted: Seeded, store: Store) -> None:
    response = anna.post("/desk/editions/propose", data={"newsletter": "weekly"})
    assert response.status_code == 303
    edition_id = int(response.headers["Location"].rsplit("/", 1)[1])
    edition = store.editions.get(edition_id)
    assert set(edition.item_ids) == set(accepted.ids.values())
    titles = [t for t, _ in layout(store, edition_id)]
    assert "Energie & Klima" in titles  # sections by topic, with German labels
    page = visible(anna.text(response.headers["Location"]))
    assert "Entwurf mit 3 Meldungen vorgeschlagen, aus den übernommenen Meldungen" in page
    assert "Kommission fördert Wasserstoffprojekte" in page
    unknown = anna.post("/desk/editions/propose", data={"newsletter": "nope"})
    assert unknown.status_code == 400 and len(store.editions.list()) == 1


def test_build_an_edition_add_move_reorder_remove(
    anna: Desk, accepted: Seeded, store: Store
) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    focus, funding = section_ids(store, edition_id)
    page = anna.text(url)
    assert "Übernommene Meldungen hinzufügen" in page
    assert f'name="item_id" value="{accepted["call"]}"' in page
    for name in ("hydrogen", "call", "cohesion"):
        response = anna.post(f"{url}/items", data={"item_id": accepted[name], "section_id": focus})
        assert response.status_code == 303
        assert response.headers["Location"] == f"{url}#item-{accepted[name]}"
    h, c, k = accepted["hydrogen"], accepted["call"], accepted["cohesion"]
    assert layout(store, edition_id)[0] == ("Im Fokus", (h, c, k))
    # an item in the edition is no longer offered
    assert f'name="item_id" value="{c}"' not in anna.text(url)
    anna.post(f"{url}/items/{k}/move", data={"delta": "-1"})
    assert layout(store, edition_id)[0][1] == (h, k, c)
    anna.post(f"{url}/items/{h}/move", data={"delta": "1"})
    assert layout(store, edition_id)[0][1] == (k, h, c)
    anna.post(f"{url}/items/{c}/move", data={"section_id": str(funding)})
    assert layout(store, edition_id) == [
        ("Im Fokus", (k, h)),
        ("Förderung & Ausschreibungen", (c,)),
    ]
    anna.post(f"{url}/items/{k}/remove")
    assert layout(store, edition_id)[0] == ("Im Fokus", (h,))
    html = anna.text(url)
    assert "Meldung aus der Ausgabe entfernt." in html
    text = visible(html)
    assert "In Ausgabe eingefügt/verschoben" in text and "Aus Ausgabe entfernt" in text  # Verlauf
    bad = anna.post(f"{url}/items/{h}/move", data={"delta": "5"})
    assert bad.status_code == 400


def test_only_accepted_items_go_into_an_edition(anna: Desk, items: Seeded, store: Store) -> None:
    edition_id = new_edition(anna)
    response = anna.post(f"/desk/editions/{edition_id}/items", data={"item_id": items["call"]})
    assert response.status_code == 400
    assert "Nur übernommene Meldungen können in eine Ausgabe." in visible(response.text)
    assert store.editions.get(edition_id).item_ids == ()


def test_sections_add_rename_remove(anna: Desk, accepted: Seeded, store: Store) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    focus, funding = section_ids(store, edition_id)
    anna.post(f"{url}/items", data={"item_id": accepted["call"], "section_id": funding})
    assert (
        anna.post(f"{url}/sections", data={"title": "Termine & Veranstaltungen"}).status_code == 303
    )
    assert [t for t, _ in layout(store, edition_id)][-1] == "Termine & Veranstaltungen"
    anna.post(f"{url}/sections/{focus}/rename", data={"title": "Schwerpunkt Wasserstoff"})
    assert layout(store, edition_id)[0][0] == "Schwerpunkt Wasserstoff"
    anna.post(f"{url}/sections/{funding}/remove")
    # its items moved to the first other section
    assert layout(store, edition_id)[0] == ("Schwerpunkt Wasserstoff", (accepted["call"],))
    assert len(layout(store, edition_id)) == 2
    empty = anna.post(f"{url}/sections", data={"title": "   "})
    assert empty.status_code == 400 and len(layout(store, edition_id)) == 2


def test_title_and_intro_with_a_conflict(anna: Desk, bernd: Desk, store: Store) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    version = store.editions.get(edition_id).version
    ok = bernd.post(
        f"{url}/meta",
        data={"title": "Wochenbrief KW 48", "intro": "Bernds Einleitung", "version": version},
    )
    assert ok.status_code == 303
    mine = "Annas Einleitung über Förderungen für Städte – länger und gründlicher."
    stale = anna.post(
        f"{url}/meta", data={"title": "Annas Titel", "intro": mine, "version": version}
    )
    assert stale.status_code == 409
    assert mine in stale.text and 'value="Annas Titel"' in stale.text
    assert "Inzwischen von jemand anderem geändert" in visible(stale.text)
    assert "Bernds Einleitung" in visible(stale.text)
    current = store.editions.get(edition_id)
    assert current.title == "Wochenbrief KW 48" and current.intro == "Bernds Einleitung"
    assert f'name="version" value="{current.version}"' in stale.text
    again = anna.post(
        f"{url}/meta", data={"title": "Annas Titel", "intro": mine, "version": current.version}
    )
    assert again.status_code == 303
    assert store.editions.get(edition_id).intro == mine


def test_lifecycle_approve_schedule_unschedule_reopen(
    anna: Desk, bernd: Desk, accepted: Seeded, store: Store, clock: Clock
) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    anna.post(f"{url}/items", data={"item_id": accepted["hydrogen"]})
    ready(anna, store, edition_id)
    assert bernd.post(f"{url}/approve").status_code == 303
    edition = store.editions.get(edition_id)
    assert edition.state is EditionState.APPROVED and edition.approved_by == "bernd"
    assert "Ausgabe freigegeben." in visible(bernd.text(url))
    page = visible(anna.text(url))
    assert "Planen" in page and "Zurück in Entwurf" in page and "freigegeben" in page
    # 27.11.2026 09:00 in Brussels is 08:00 UTC
    assert anna.post(f"{url}/schedule", data={"send_at": "2026-11-27T09:00"}).status_code == 303
    edition = store.editions.get(edition_id)
    assert edition.state is EditionState.SCHEDULED
    assert edition.scheduled_at == dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
    page = visible(anna.text(url))
    assert "Versand geplant für 27.11.2026, 09:00" in page and "Versand stoppen" in page
    assert anna.post(f"{url}/unschedule").status_code == 303
    edition = store.editions.get(edition_id)
    assert edition.state is EditionState.DRAFT
    assert edition.scheduled_at is None and edition.approved_by is None
    bernd.post(f"{url}/approve")
    assert anna.post(f"{url}/reopen").status_code == 303
    assert store.editions.get(edition_id).state is EditionState.DRAFT
    text = visible(anna.text(url))
    assert "Versand gestoppt" in text and "Freigegeben" in text  # Verlauf


def test_schedule_needs_a_future_time(anna: Desk, accepted: Seeded, store: Store) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    anna.post(f"{url}/items", data={"item_id": accepted["hydrogen"]})
    ready(anna, store, edition_id)
    anna.post(f"{url}/approve")
    past = anna.post(f"{url}/schedule", data={"send_at": "2026-11-24T09:00"})
    assert past.status_code == 400 and "in der Zukunft" in visible(past.text)
    garbage = anna.post(f"{url}/schedule", data={"send_at": "bald"})
    assert garbage.status_code == 400
    assert store.editions.get(edition_id).state is EditionState.APPROVED


def test_empty_edition_cannot_be_approved(anna: Desk, store: Store) -> None:
    edition_id = new_edition(anna)
    response = anna.post(f"/desk/editions/{edition_id}/approve")
    assert response.status_code == 303  # back to the edition, its checklist says why
    page = visible(anna.text(f"/desk/editions/{edition_id}"))
    assert "Nicht freigegeben: 1 Punkt der Prüfliste blockiert die Freigabe" in page
    assert "leere Ausgabe" in page.split("Blockiert die Freigabe")[1]
    assert store.editions.get(edition_id).state is EditionState.DRAFT


def test_illegal_transitions_are_409_and_change_nothing(
    anna: Desk, accepted: Seeded, store: Store
) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    focus, _ = section_ids(store, edition_id)
    anna.post(f"{url}/items", data={"item_id": accepted["hydrogen"]})
    anna.post(f"{url}/items", data={"item_id": accepted["call"]})
    for action in ("unschedule", "reopen"):
        response = anna.post(f"{url}/{action}")
        assert response.status_code == 409
        assert "im Zustand „Entwurf“" in visible(response.text)
    ready(anna, store, edition_id)
    anna.post(f"{url}/approve")
    before = store.editions.get(edition_id)
    again = anna.post(f"{url}/approve")
    assert again.status_code == 409
    assert "Die Ausgabe ist bereits im Zustand „Freigegeben“" in visible(again.text)
    # structure changes only in draft
    for path, data in [
        (f"{url}/items/{accepted['call']}/move", {"delta": "-1"}),
        (f"{url}/items/{accepted['call']}/remove", {}),
        (f"{url}/items", {"item_id": accepted["cohesion"]}),
        (f"{url}/sections", {"title": "Neu"}),
        (f"{url}/sections/{focus}/rename", {"title": "Neu"}),
        (f"{url}/meta", {"title": "Neu", "intro": "", "version": before.version}),
    ]:
        response = anna.post(path, data=data)
        assert response.status_code == 409, path
        assert "nur im Entwurf" in visible(response.text)
    assert store.editions.get(edition_id) == before


def test_a_sent_edition_cannot_change(
    anna: Desk, accepted: Seeded, store: Store, clock: Clock
) -> None:
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    anna.post(f"{url}/items", data={"item_id": accepted["hydrogen"]})
    anna.post(f"{url}/items", data={"item_id": accepted["call"]})
    ready(anna, store, edition_id)
    anna.post(f"{url}/approve")
    anna.post(f"{url}/schedule", data={"send_at": "2026-11-27T09:00"})
    for state in (EditionState.SENDING, EditionState.SENT):
        store.editions.transition(
            edition_id,
            from_states=[EditionState.SCHEDULED, EditionState.SENDING],
            to_state=state,
            actor="system",
            now=clock(),
        )
        before = store.editions.get(edition_id)
        for action, data in (("unschedule", {}), ("approve", {}), ("reopen", {})):
            assert anna.post(f"{url}/{action}", data=data).status_code == 409
        move = anna.post(f"{url}/items/{accepted['call']}/move", data={"delta": "-1"})
        assert move.status_code == 409
        assert store.editions.get(edition_id) == before
    text = visible(anna.text(url))
    assert "Versandt" in text and "Freigeben" not in text.split("Titel und Einleitung")[0]


# ---------------------------------------------------------------- four eyes


@pytest.fixture
def four_eyes_app(tmp_path: Path, clock: Clock, template_db: Path) -> Iterator[Flask]:
    settings = make_settings(tmp_path / "four-eyes", four_eyes=True)
    services = services_from_template(settings, clock, template_db)
    app = create_app(settings, services)
    yield app
    services.close()


def test_four_eyes_the_author_requests_and_a_colleague_approves(four_eyes_app: Flask) -> None:
    from tests.web.conftest import seed_items

    store = four_eyes_app.extensions["eudigest"].store
    items = seed_items(store)
    anna, bernd = Desk(four_eyes_app.test_client()), Desk(four_eyes_app.test_client())
    anna.login("anna")
    bernd.login("bernd")
    anna.post("/desk/items/bulk", data={"item_id": [items["hydrogen"]], "action": "accept"})
    edition_id = new_edition(anna)
    url = f"/desk/editions/{edition_id}"
    anna.post(f"{url}/items", data={"item_id": items["hydrogen"]})
    # an empty section blocks: no request either (nobody could approve it)
    assert anna.post(f"{url}/request-review").status_code == 303
    assert "Erst die blockierenden Punkte" in visible(anna.text(url))
    assert store.approvals.open_requests() == []
    ready(anna, store, edition_id)
    mine = anna.text(url)
    assert "Freigabe anfordern" in mine and ">Freigeben</button>" not in mine
    assert "Vier-Augen-Prinzip" in visible(mine)
    # a stale page's "Freigeben" from the author: no bare 403, the page says why
    response = anna.post(f"{url}/approve")
    assert response.status_code == 303
    assert "Vier-Augen-Prinzip" in visible(anna.text(url))
    assert store.editions.get(edition_id).state is EditionState.DRAFT
    assert "Zur Freigabe angefordert" not in visible(bernd.text("/desk/editions/"))
    assert anna.post(f"{url}/request-review").status_code == 303
    waiting = visible(bernd.text("/desk/editions/"))
    assert "Zur Freigabe angefordert (1)" in waiting and "angefordert von anna" in waiting
    theirs = bernd.text(url)
    assert ">Freigeben</button>" in theirs and "Freigabe angefordert von anna" in visible(theirs)
    assert bernd.post(f"{url}/approve").status_code == 303
    edition = store.editions.get(edition_id)
    assert edition.state is EditionState.APPROVED and edition.approved_by == "bernd"
    approval = next(a for a in store.editions.audit(edition_id) if a.action == "edition.approved")
    assert approval.actor == "bernd"
    assert approval.detail == "zuletzt bearbeitet von anna, freigegeben von bernd"
    assert "Zur Freigabe angefordert" not in visible(bernd.text("/desk/editions/"))


# ---------------------------------------------------------------- preview


@pytest.fixture
def preview_edition(
    anna: Desk, accepted: Seeded, store: Store, staff: dict[str, StaffUser], clock: Clock
) -> int:
    curate.annotate(
        store,
        accepted["hydrogen"],
        headline="Wasserstoff für Stuttgarter Stadtbahnen",
        comment_md="Für **Kommunen** mit Straßenbahn: jetzt Anträge vorbereiten.",
        priority=Priority.DEADLINE,
        audiences=[Audience.KOMMUNE, Audience.LANDKREIS],
        expected_version=0,
        actor=staff["anna"],
        now=clock(),
    )
    edition_id = new_edition(anna)
    focus, funding = section_ids(store, edition_id)
    url = f"/desk/editions/{edition_id}"
    anna.post(f"{url}/items", data={"item_id": accepted["hydrogen"], "section_id": focus})
    anna.post(f"{url}/items", data={"item_id": accepted["call"], "section_id": funding})
    anna.post(f"{url}/items", data={"item_id": accepted["cohesion"], "section_id": funding})
    return edition_id


def preview_headlines(html: str) -> list[str]:
    """The item headlines of the rendered mail (compose puts them in <h3>)."""
    return [visible(h) for h in re.findall(r"<h3\b[^>]*>(.*?)</h3>", html, re.S)]


def mail_html(desk: Desk, edition_id: int, query: str = "") -> str:
    """The preview's mail HTML (the iframe's source) for a profile query."""
    page = desk.text(f"/desk/editions/{edition_id}/preview{query}")
    src = re.search(r'<iframe class="mail-frame"[^>]* src="([^"]+)"', page)
    assert src, "no mail iframe in the preview page"
    return desk.text(src.group(1).replace("&amp;", "&"))


def test_preview_for_everyone(anna: Desk, preview_edition: int) -> None:
    html = mail_html(anna, preview_edition)  # default profile: Kommune, alle Themen, Deutsch
    assert preview_headlines(html) == [
        "Wasserstoff für Stuttgarter Stadtbahnen",
        "Call for proposals: urban mobility pilots",
        "Konsultation zur Zukunft der Kohäsionspolitik",
    ]
    text = visible(html)
    assert "Im Fokus" in text and "Förderung & Ausschreibungen" in text
    assert "Liebe Leserinnen und Leser," in text
    assert "Kommunen</strong>" in html
    assert "Guten Tag," in text and "%%" not in html


def test_preview_filters_by_audience(anna: Desk, preview_edition: int) -> None:
    business = mail_html(anna, preview_edition, "?org_type=unternehmen")
    assert preview_headlines(business) == [
        "Call for proposals: urban mobility pilots",
        "Konsultation zur Zukunft der Kohäsionspolitik",
    ]
    assert "Im Fokus" not in visible(business)  # a section left empty is not shown
    town = mail_html(anna, preview_edition, "?org_type=kommune")
    assert len(preview_headlines(town)) == 3
    page = anna.text(f"/desk/editions/{preview_edition}/preview?org_type=landkreis")
    assert '<option value="landkreis" selected>' in page


def test_preview_filters_by_topic(anna: Desk, preview_edition: int) -> None:
    energy = mail_html(anna, preview_edition, "?topics=energy_climate")
    assert preview_headlines(energy) == ["Wasserstoff für Stuttgarter Stadtbahnen"]
    two = mail_html(anna, preview_edition, "?topics=funding&topics=cohesion&org_type=kommune")
    assert preview_headlines(two) == [
        "Call for proposals: urban mobility pilots",
        "Konsultation zur Zukunft der Kohäsionspolitik",
    ]
    url = f"/desk/editions/{preview_edition}/preview"
    none = anna.text(f"{url}?topics=health")
    assert "Für diese Auswahl enthält die Ausgabe keine Meldungen" in visible(none)
    assert "mail-frame" not in none


def test_preview_in_english_uses_the_english_titles(
    anna: Desk,
    preview_edition: int,
    accepted: Seeded,
    store: Store,
    staff: dict[str, StaffUser],
    clock: Clock,
) -> None:
    curate.annotate(
        store,
        accepted["call"],
        headline="Aufruf: Pilotprojekte für urbane Mobilität",
        comment_md="",
        priority=Priority.FYI,
        audiences=[],
        expected_version=0,
        actor=staff["anna"],
        now=clock(),
    )
    german = mail_html(anna, preview_edition, "?language=de")
    assert preview_headlines(german)[1] == "Aufruf: Pilotprojekte für urbane Mobilität"
    html = mail_html(anna, preview_edition, "?language=en")
    # the call's English version gives the title; the hydrogen item has none: office's headline
    assert preview_headlines(html)[:2] == [
        "Wasserstoff für Stuttgarter Stadtbahnen",
        "Call for proposals: urban mobility pilots",
    ]
    page = anna.text(f"/desk/editions/{preview_edition}/preview?language=en")
    assert '<option value="en" selected>' in page
    assert_no_active_content(re.sub(r"<iframe\b[^>]*></iframe>", "", page))


def test_missing_edition_is_a_german_404(anna: Desk) -> None:
    response = anna.get("/desk/editions/4242")
    assert response.status_code == 404
    assert "Diese Ausgabe gibt es nicht (mehr)." in response.text
