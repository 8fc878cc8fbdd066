"""The desk's Verfahren pages: the list, one dossier, following, the office's note,
attaching and detaching items; the item page and the inbox name the dossiers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from pipeline.model import DossierEvent, DossierRecord, EventKind, ProcedureType
from pipeline.store import Store
from pipeline.store.schema import audit_log
from tests.web.conftest import NOW, Desk, Seeded, add_item, assert_no_active_content, visible

REF = "2025/0260(COD)"
PAGE = "/desk/verfahren/2025/0260(COD)"


def _events(*pairs: tuple[str, EventKind]) -> tuple[DossierEvent, ...]:
    return tuple(
        DossierEvent(dt.date.fromisoformat(day), kind, "ep-procedures", key=f"e{n}")
        for n, (day, kind) in enumerate(pairs)
    )


@pytest.fixture
def dossiers(store: Store, items: Seeded) -> dict[str, int]:
    """Two procedures: customs (at the Council, two items) and a withdrawn one."""
    store.dossiers.upsert(
        [
            DossierRecord(
                reference=REF,
                source="ep-procedures",
                title_de="Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren",
                title_en="Non-application of customs duties on imports of certain goods",
                procedure_type=ProcedureType.COD,
                lead_committee="INTA",
                rapporteur="Bernd Lange",
                aliases=("COM(2025) 471",),
                events=_events(
                    ("2025-08-21", EventKind.PROPOSAL),
                    ("2026-03-18", EventKind.COMMITTEE_APPROVE_PROVISIONAL_AGREEMENT),
                    ("2026-06-16", EventKind.PLENARY_ADOPT_POSITION),
                ),
            ),
            DossierRecord(
                reference="2024/0001(CNS)",
                source="ep-procedures",
                title_en="Only an English title",
                procedure_type=ProcedureType.CNS,
                withdrawn=True,
            ),
        ],
        now=NOW - dt.timedelta(days=1),
    )
    ids = {
        "press": add_item(
            store, 11, title="Zölle: Abgeordnete stimmen Einigung zu", references=(REF,)
        ),
        "proposal": add_item(
            store, 12, title="Kommission schlägt Zollaussetzung vor", references=("COM(2025) 471",)
        ),
    }
    store.dossiers.thread(now=NOW)
    return ids


def test_list_shows_stage_next_step_counts_and_filters(
    anna: Desk, dossiers: dict[str, int]
) -> None:
    html = anna.text("/desk/verfahren/")
    assert 'href="/desk/verfahren/"' in html and ">Verfahren</a>" in html  # in the nav
    text = visible(html)
    assert "2025/0260(COD) Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren Rat" in text
    assert "Annahme durch den Rat 24.11.2026 2 3" in text  # next step, date, counts
    assert "Only an English title zurückgezogen" in text  # English when there is no German

    only = visible(anna.text("/desk/verfahren/?stage=withdrawn"))
    assert "2024/0001(CNS)" in only and REF not in only
    assert "Keine Verfahren" in visible(anna.text("/desk/verfahren/?followed=1"))


def test_dossier_page_in_german(anna: Desk, dossiers: dict[str, int]) -> None:
    html = anna.text(PAGE)
    text = visible(html)
    for expected in (
        "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren",
        "Non-application of customs duties on imports of certain goods",
        "Ordentliches Gesetzgebungsverfahren",
        "Stufe Rat",
        "Nächster Schritt Annahme durch den Rat",
        "Federführender Ausschuss INTA",
        "Berichterstattung Bernd Lange",
        "COM(2025) 471",
        "21. August 2025: Vorschlag der Kommission",
        "Folgen niemand",
    ):
        assert expected in text, expected
    # the timeline: newest first, German dates, its source
    newest = text.index("16. Juni 2026 Parlament legt Standpunkt fest ep-procedures")
    assert newest < text.index("21. August 2025 Vorschlag der Kommission veröffentlicht")
    # links: EUR-Lex in German before English and OEIL
    assert html.index("https://eur-lex.europa.eu/procedure/DE/2025_260") < html.index(
        "https://oeil.secure.europarl.europa.eu/oeil/en/procedure-file?reference=2025/0260(COD)"
    )
    # its items, linked to their pages
    for item_id in dossiers.values():
        assert f'href="/desk/items/{item_id}"' in html


def test_alias_redirects_and_unknown_reference_is_404(anna: Desk, dossiers: dict[str, int]) -> None:
    response = anna.get("/desk/verfahren/2025/260(COD)")
    assert response.status_code == 303 and response.location.endswith(PAGE)
    missing = anna.get("/desk/verfahren/2099/0001(COD)")
    assert missing.status_code == 404
    assert "Dieses Verfahren ist nicht bekannt." in missing.get_data(as_text=True)


def test_follow_unfollow_and_the_inbox_marker(
    anna: Desk, bernd: Desk, dossiers: dict[str, int], store: Store
) -> None:
    marker = "Verfahren: 2025/0260(COD)"
    assert marker not in anna.text("/desk/?status=all")
    response = anna.post(f"{PAGE}/folgen", {"action": "follow"})
    assert response.status_code == 303
    page = visible(anna.text(PAGE))
    assert "Folgen anna" in page and "Nicht mehr folgen" in page
    assert REF in visible(anna.text("/desk/verfahren/?followed=1"))

    inbox = anna.text("/desk/?status=all")
    assert inbox.count(marker) == 2  # both items of the dossier, no other
    assert marker not in bernd.text("/desk/?status=all")  # bernd does not follow it

    assert anna.post(f"{PAGE}/folgen", {"action": "unfollow"}).status_code == 303
    assert marker not in anna.text("/desk/?status=all")
    actions = [e.action for e in store.items.audit(dossiers["press"])]
    assert "dossier.follow" not in actions  # follows are not an item's history …
    assert store.dossiers.get(REF, today=NOW.date()).followers == ()


def test_attach_detach_audited_and_item_page(
    anna: Desk, dossiers: dict[str, int], items: Seeded, store: Store
) -> None:
    other = items["hydrogen"]
    assert f'href="/desk/items/{other}"' not in anna.text(PAGE)
    assert anna.post(f"{PAGE}/meldungen", {"item_id": str(other)}).status_code == 303
    assert f'href="/desk/items/{other}"' in anna.text(PAGE)
    item_page = anna.text(f"/desk/items/{other}")
    assert f'href="{PAGE}"' in item_page and "Verfahren:" in visible(item_page)
    assert "Einem Verfahren zugeordnet: 2025/0260(COD)" in visible(item_page)

    press = dossiers["press"]
    assert anna.post(f"{PAGE}/meldungen/{press}/entfernen").status_code == 303
    assert f'href="/desk/items/{press}"' not in anna.text(PAGE)
    store.dossiers.thread(now=NOW)  # automatic threading does not bring it back
    assert f'href="/desk/items/{press}"' not in anna.text(PAGE)
    audit = [(e.actor, e.action, e.detail) for e in store.items.audit(press)]
    assert ("anna", "dossier.detach", REF) in audit

    bad = anna.post(f"{PAGE}/meldungen", {"item_id": "999999"})
    assert bad.status_code == 400 and "Nr. 999999" in bad.get_data(as_text=True)
    assert anna.post(f"{PAGE}/meldungen", {"item_id": "abc"}).status_code == 400


def test_every_form_needs_the_csrf_token(
    anna: Desk, dossiers: dict[str, int], store: Store
) -> None:
    for path, data in (
        (f"{PAGE}/folgen", {"action": "follow"}),
        (f"{PAGE}/einordnung", {"note": "x"}),
        (f"{PAGE}/meldungen", {"item_id": str(dossiers["press"])}),
        (f"{PAGE}/meldungen/{dossiers['press']}/entfernen", {}),
    ):
        response = anna.client.post(path, data=data)
        assert response.status_code == 400, path
        assert "Sicherheitsprüfung" in response.get_data(as_text=True)
    d = store.dossiers.get(REF, today=NOW.date())
    assert d.followers == () and d.item_count == 2 and store.dossiers.note(REF) is None


def test_login_required(anon: Desk, dossiers: dict[str, int]) -> None:
    for path in ("/desk/verfahren/", PAGE):
        response = anon.get(path)
        assert response.status_code in (302, 303, 401) and "/login" in (response.location or "")


def test_note_is_rendered_as_markdown_and_sanitised(
    anna: Desk, dossiers: dict[str, int], store: Store
) -> None:
    note = (
        "**Wichtig** für die Zulieferer der Region.\n\n"
        '<script>alert("x")</script> <img src=x onerror=alert(1)> '
        "[Link](javascript:alert(1))"
    )
    assert anna.post(f"{PAGE}/einordnung", {"note": note}).status_code == 303
    html = anna.text(PAGE)
    assert "<strong>Wichtig</strong> für die Zulieferer der Region." in html
    assert_no_active_content(html, "dossier note")
    assert "zuletzt anna" in visible(html)
    saved = store.dossiers.note(REF)
    assert saved is not None and saved.updated_by == "anna"
    with store.engine.connect() as conn:
        audit = set(conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)))
    assert ("anna", "dossier.note", REF) in audit


def test_a_hostile_title_is_escaped(anna: Desk, store: Store, items: Seeded) -> None:
    store.dossiers.upsert(
        [
            DossierRecord(
                reference="2026/0099(COD)",
                source="ep-procedures",
                title_de='<script>alert("t")</script><img src=x onerror=alert(1)>Titel',
                procedure_type=ProcedureType.COD,
            )
        ],
        now=NOW,
    )
    for path in ("/desk/verfahren/", "/desk/verfahren/2026/0099(COD)"):
        html = anna.text(path)
        assert_no_active_content(html, path)
        assert "&lt;script&gt;" in html


def test_the_list_has_pages_of_fifty(anna: Desk, store: Store, items: Seeded) -> None:
    store.dossiers.upsert(
        [
            DossierRecord(reference=f"2026/{n:04d}(COD)", source="ep", title_de=f"Akte {n}")
            for n in range(1, 56)
        ],
        now=NOW,
    )
    first = visible(anna.text("/desk/verfahren/"))
    assert "55 Verfahren · Seite 1 von 2" in first
    second = anna.text("/desk/verfahren/?page=2")
    assert second.count('href="/desk/verfahren/2026/') == 5
    assert "Seite 2 von 2" in visible(anna.text("/desk/verfahren/?page=99"))  # the last one


def test_the_inbox_and_the_list_mark_events_new_since_the_last_look(
    anna: Desk, bernd: Desk, dossiers: dict[str, int], store: Store
) -> None:
    """Following marks nothing new; events that arrive later are "neu" for the follower
    until they open the dossier's page, which marks them once."""
    assert anna.post(f"{PAGE}/folgen", {"action": "follow"}).status_code == 303
    inbox = visible(anna.text("/desk/?status=all"))
    assert "Verfahren: 2025/0260(COD)" in inbox
    assert "Neues in Ihren Verfahren" not in inbox and "neue" not in inbox

    more = _events(
        ("2025-08-21", EventKind.PROPOSAL),
        ("2026-03-18", EventKind.COMMITTEE_APPROVE_PROVISIONAL_AGREEMENT),
        ("2026-06-16", EventKind.PLENARY_ADOPT_POSITION),
        ("2026-07-10", EventKind.COUNCIL_ADOPTION),
        ("2026-07-20", EventKind.SIGNED),
    )
    store.dossiers.upsert(
        [DossierRecord(reference=REF, source="ep-procedures", events=more)], now=NOW
    )

    html = anna.text("/desk/?status=all")
    inbox = visible(html)
    assert "Neues in Ihren Verfahren 2025/0260(COD) 2 neue Ereignisse" in inbox
    assert "zuletzt 20. Juli 2026: Rechtsakt unterzeichnet · Stufe: angenommen" in inbox
    assert inbox.count("Verfahren: 2025/0260(COD) · 2 neue Ereignisse") == 2  # both its items
    assert "neue Ereignisse" not in visible(bernd.text("/desk/?status=all"))  # not his
    listing = visible(anna.text("/desk/verfahren/"))
    assert "2025/0260(COD) 2 neue Ereignisse Nichtanwendung" in listing
    assert "neue Ereignisse" not in visible(bernd.text("/desk/verfahren/"))
    assert "neue Ereignisse" not in visible(bernd.text(PAGE))  # his look stores nothing

    page = anna.text(PAGE)
    shown = visible(page)
    assert "2 neue Ereignisse seit Ihrem letzten Besuch" in shown
    assert "20. Juli 2026 neu Rechtsakt unterzeichnet" in shown
    assert "10. Juli 2026 neu Rat nimmt den Rechtsakt an" in shown
    assert "16. Juni 2026 neu" not in shown  # seen before
    assert page.count('class="new"') == 2

    # looked: nothing is new any more, anywhere
    assert "seit Ihrem letzten Besuch" not in visible(anna.text(PAGE))
    assert "neue Ereignis" not in visible(anna.text("/desk/?status=all"))
    assert "neue Ereignis" not in visible(anna.text("/desk/verfahren/"))
    # and one more event is "1 neues Ereignis"
    published = DossierEvent(dt.date(2026, 8, 1), EventKind.OJ_PUBLICATION, "eurlex", key="oj")
    store.dossiers.upsert(
        [DossierRecord(reference=REF, source="eurlex", events=(published,))], now=NOW
    )
    assert "Verfahren: 2025/0260(COD) · 1 neues Ereignis" in visible(anna.text("/desk/?status=all"))
