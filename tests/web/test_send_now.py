""" "Jetzt senden" (issue 15): only an approved edition, first a confirmation naming the
audience, the preflight again before sending, refused while anything blocks; the send
runs in the desk's process, once per reader."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.model import EditionState, NewSubscriber, Profile
from pipeline.web.editions import SEND_THREAD
from subscribers.addresses import hash_of
from tests.subscribers.conftest import Outbox
from tests.web.conftest import NOW, Desk, make_settings, seed_items, visible

BASE = "https://newsletter.region-stuttgart.example"
READERS = ["a@example.org", "b@example.org", "c@example.org"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)


def approved(services: Services, *, sections: list[tuple[str, list[int]]] | None = None) -> int:
    for address in READERS:
        services.store.subscribers.add(
            NewSubscriber(
                email=address,
                email_hash=hash_of(address),
                profile=Profile(newsletters=("weekly",)),
                consent_text="v1",
                consent_at=NOW,
            ),
            now=NOW,
        )
    ids = seed_items(services.store).ids
    edition = services.store.editions.create(
        "weekly",
        title="KW 48",
        intro="",
        sections=sections or [("Im Fokus", [ids["hydrogen"], ids["call"]])],
        actor="anna",
        now=NOW,
    )
    services.store.editions.transition(
        edition.id,
        from_states=(EditionState.DRAFT,),
        to_state=EditionState.APPROVED,
        actor="bernd",
        now=NOW,
    )
    return edition.id


def wait_for_sender(edition_id: int) -> None:
    """Join the desk's sender thread of this edition (no sleeping)."""
    for thread in threading.enumerate():
        if thread.name == SEND_THREAD.format(edition_id):
            thread.join()


def test_send_now_confirms_with_the_audience_then_sends_once(
    anna: Desk, services: Services, settings: Settings
) -> None:
    edition_id = approved(services)
    url = f"/desk/editions/{edition_id}"
    assert "Jetzt senden …" in anna.text(url)
    confirm = anna.post(f"{url}/send-now")
    assert confirm.status_code == 200
    shown = visible(confirm.text)
    assert "Jetzt senden?" in shown
    assert "geht an 3 Leserinnen und Leser in 1 Variante" in shown
    assert 'name="confirm" value="1"' in confirm.text
    assert services.store.editions.get(edition_id).state is EditionState.APPROVED  # not yet
    assert not Outbox(settings.data_dir / "outbox").all()

    response = anna.post(f"{url}/send-now", data={"confirm": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{url}#state-title"
    wait_for_sender(edition_id)
    edition = services.store.editions.get(edition_id)
    assert edition.state is EditionState.SENT
    assert Counter(m.to for m in Outbox(settings.data_dir / "outbox").all()) == Counter(READERS)
    assert "Versand gestartet." in visible(anna.text(url))
    assert any(e.detail == "Jetzt senden" for e in services.store.editions.audit(edition_id))

    # a second click (a stale page) sends nothing again
    again = anna.post(f"{url}/send-now", data={"confirm": "1"})
    assert again.status_code == 400
    wait_for_sender(edition_id)
    assert len(Outbox(settings.data_dir / "outbox").all()) == len(READERS)


def test_send_now_is_refused_while_the_preflight_blocks(
    anna: Desk, services: Services, settings: Settings
) -> None:
    ids_before = approved(services, sections=[("Im Fokus", []), ("Leer", [])])
    url = f"/desk/editions/{ids_before}"
    for data in ({}, {"confirm": "1"}):
        refused = anna.post(f"{url}/send-now", data=data)
        assert refused.status_code == 400
        assert "Nicht gesendet: Die Prüfliste blockiert den Versand" in visible(refused.text)
    assert services.store.editions.get(ids_before).state is EditionState.APPROVED
    assert not Outbox(settings.data_dir / "outbox").all()
    assert "Jetzt senden …" in anna.text(url) and "disabled" in anna.text(url)


def test_send_now_only_for_an_approved_edition(anna: Desk, services: Services) -> None:
    edition = services.store.editions.create(
        "weekly", title="Entwurf", intro="", sections=[("A", [])], actor="anna", now=NOW
    )
    refused = anna.post(f"/desk/editions/{edition.id}/send-now", data={"confirm": "1"})
    assert refused.status_code == 400
    assert "nur für eine freigegebene Ausgabe" in visible(refused.text)
    assert services.store.editions.get(edition.id).state is EditionState.DRAFT
