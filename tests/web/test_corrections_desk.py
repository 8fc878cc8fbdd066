"""The desk's "Korrigieren" on a sent edition (issue 14): the form, CSRF, the rules."""

from __future__ import annotations

from pipeline.model import CorrectionDelivery, EditionState
from pipeline.store import Store
from tests.web.conftest import NOW, Desk, Seeded, visible


def sent_edition(store: Store, items: Seeded) -> int:
    edition = store.editions.create(
        "weekly",
        title="KW 48",
        intro="",
        sections=[("Energie", [items.ids["hydrogen"]]), ("Förderung", [items.ids["call"]])],
        actor="anna",
        now=NOW,
    )
    for frm, to in (
        (EditionState.DRAFT, EditionState.APPROVED),
        (EditionState.APPROVED, EditionState.SENDING),
        (EditionState.SENDING, EditionState.SENT),
    ):
        store.editions.transition(edition.id, from_states=(frm,), to_state=to, actor="x", now=NOW)
    return edition.id


def test_a_sent_edition_offers_korrigieren_and_records_the_correction(
    anna: Desk, store: Store, items: Seeded
) -> None:
    edition_id = sent_edition(store, items)
    call = items.ids["call"]
    page = anna.text(f"/desk/editions/{edition_id}")
    url = f"/desk/editions/{edition_id}/korrektur/{call}"
    assert f'href="{url}"' in page and "Korrigieren" in page

    form = anna.text(url)
    assert 'name="csrf_token"' in form and "im nächsten Newsletter oben" in form

    refused = anna.client.post(url, data={"headline": "Neu", "reason": "Falsch."})
    assert refused.status_code == 400  # no CSRF token
    assert store.corrections.for_edition(edition_id) == []

    empty = anna.post(url, data={"headline": "Neu", "reason": " ", "delivery": "mail"})
    assert empty.status_code == 400
    assert "Bitte den Grund der Korrektur angeben" in visible(empty.get_data(as_text=True))
    assert 'value="Neu"' in empty.get_data(as_text=True)  # what was typed stays

    done = anna.post(
        url,
        data={
            "headline": "Aufruf: Pilotprojekte für städtische Mobilität",
            "comment": "",
            "reason": "Die Überschrift nannte den falschen Fonds.",
            "delivery": "mail",
        },
    )
    assert done.status_code == 303
    [correction] = store.corrections.for_edition(edition_id)
    assert correction.delivery is CorrectionDelivery.MAIL
    assert correction.created_by == "anna"
    assert correction.summary.startswith("Überschrift: ")
    after = anna.text(f"/desk/editions/{edition_id}")
    assert "Korrektur gespeichert" in visible(after)
    assert "korrigiert am" in after
    assert (
        'id="corrections-title"' in after and "Die Überschrift nannte den falschen Fonds." in after
    )


def test_a_deadline_is_moved_from_the_form(anna: Desk, store: Store, items: Seeded) -> None:
    edition_id = sent_edition(store, items)
    url = f"/desk/editions/{edition_id}/korrektur/{items.ids['hydrogen']}"
    form = anna.text(url)
    assert '<option value="2027-03-15 deadline">Frist: 15. März 2027</option>' in form
    done = anna.post(
        url,
        data={
            "deadline_old": "2027-03-15 deadline",
            "deadline_new": "2027-03-22",
            "reason": "Die Kommission hat die Frist verlängert.",
            "delivery": "next",
        },
    )
    assert done.status_code == 303
    [c] = store.corrections.for_edition(edition_id)
    assert c.summary == "Frist: 15. März 2027 → 22. März 2027"
    assert c.delivery is CorrectionDelivery.NEXT
    again = anna.text(url)
    assert '<option value="2027-03-22 deadline">Frist: 22. März 2027</option>' in again


def test_a_draft_has_no_korrigieren(anna: Desk, store: Store, items: Seeded) -> None:
    edition = store.editions.create(
        "weekly", title="KW 49", intro="", sections=[("A", [items.ids["call"]])],
        actor="anna", now=NOW,
    )  # fmt: skip
    assert "/korrektur/" not in anna.text(f"/desk/editions/{edition.id}")
    response = anna.get(f"/desk/editions/{edition.id}/korrektur/{items.ids['call']}")
    assert response.status_code in (302, 303, 400)
