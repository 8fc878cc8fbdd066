"""Four eyes in few steps (issue 15, the core loop): a request for approval shows as a
notice on the colleagues' desk pages, linking to the preview; the preview offers
"Freigeben und senden …", which confirms with the audience, then approves and sends in
one step, never for the person who made the last change."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import curate
from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.model import EditionState, NewSubscriber, Profile, StaffUser
from subscribers.addresses import hash_of
from tests.subscribers.conftest import Outbox
from tests.web.conftest import NOW, Desk, make_settings, seed_items, visible
from tests.web.test_send_now import wait_for_sender

BASE = "https://newsletter.region-stuttgart.example"
READER = "leserin@example.org"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, four_eyes=True, EUDIGEST_BASE_URL=BASE)


def requested(services: Services, staff: dict[str, StaffUser]) -> int:
    """anna's draft with one reader waiting, and her request for approval."""
    store = services.store
    store.subscribers.add(
        NewSubscriber(
            email=READER,
            email_hash=hash_of(READER),
            profile=Profile(newsletters=("weekly",)),
            consent_text="v1",
            consent_at=NOW,
        ),
        now=NOW,
    )
    ids = seed_items(store).ids
    edition = store.editions.create(
        "weekly",
        title="KW 48",
        intro="",
        sections=[("Im Fokus", [ids["hydrogen"], ids["call"]])],
        actor="anna",
        now=NOW,
    )
    office, settings = services.office(), services.settings
    curate.request_review(
        store, office, edition.id, actor=staff["anna"], now=NOW, settings=settings
    )
    return edition.id


def test_the_request_shows_to_colleagues_and_they_approve_and_send_from_the_preview(
    anna: Desk, bernd: Desk, services: Services, staff: dict[str, StaffUser]
) -> None:
    edition_id = requested(services, staff)
    preview = f"/desk/editions/{edition_id}/preview"
    notice = "Freigabe angefordert von anna"
    assert notice in visible(bernd.text("/desk/"))  # any desk page
    assert f'href="{preview}"' in bernd.text("/desk/status")
    assert notice not in visible(anna.text("/desk/"))  # not to whoever must not approve

    shown = bernd.text(preview)
    assert "Freigeben und senden …" in shown and "Nur freigeben" in shown
    assert "Freigeben und senden" not in anna.text(preview)

    confirm = bernd.post(f"/desk/editions/{edition_id}/send-now", data={"approve": "1"})
    assert confirm.status_code == 200
    text = visible(confirm.text)
    assert "geht an 1 Leserin oder Leser in 1 Variante" in text
    assert "Ja, freigeben und jetzt senden" in text
    assert services.store.editions.get(edition_id).state is EditionState.DRAFT  # not yet

    sent = bernd.post(
        f"/desk/editions/{edition_id}/send-now", data={"approve": "1", "confirm": "1"}
    )
    assert sent.status_code == 303
    wait_for_sender(edition_id)
    edition = services.store.editions.get(edition_id)
    assert (edition.state, edition.approved_by) == (EditionState.SENT, "bernd")
    details = [e.detail for e in services.store.editions.audit(edition_id)]
    assert "zuletzt bearbeitet von anna, freigegeben von bernd" in details
    assert "Jetzt senden" in details
    assert [m.to for m in Outbox(services.settings.outbox_path).all()] == [READER]
    assert notice not in visible(bernd.text("/desk/"))  # the request is done


def test_the_last_editor_cannot_approve_and_send_at_once(
    anna: Desk, services: Services, staff: dict[str, StaffUser]
) -> None:
    edition_id = requested(services, staff)
    refused = anna.post(
        f"/desk/editions/{edition_id}/send-now", data={"approve": "1", "confirm": "1"}
    )
    assert refused.status_code == 303
    assert "Vier-Augen-Prinzip" in visible(anna.text(f"/desk/editions/{edition_id}"))
    assert services.store.editions.get(edition_id).state is EditionState.DRAFT
    assert not Outbox(services.settings.outbox_path).all()
