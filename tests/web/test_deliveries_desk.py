"""Deliveries on the edition page: counts, failed and unknown ones, and staff's decision.

A real send (jobs.send over the outbox) whose mailer leaves two recipients unknown
and refuses one for good; staff then decide on the desk, and `send-due` resends
exactly the re-queued ones. The ledger's own part (problems, resolve) is in
tests/store/test_deliveries.py.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.curate import deliveries as decide
from pipeline.deliver.outbox import OutboxMailer
from pipeline.errors import Forbidden, InvalidInput
from pipeline.model import (
    Batch,
    DeliveryState,
    EditionState,
    NewSubscriber,
    Profile,
    RecipientResult,
    Role,
    StaffUser,
)
from pipeline.store import Store
from subscribers.addresses import hash_of
from tests.subscribers.conftest import Outbox
from tests.web.conftest import NOW, Desk, make_settings, seed_items, visible

BASE = "https://newsletter.region-stuttgart.example"
OK = ["ok1@kommune-esslingen.de", "ok2@uni-stuttgart.de"]
UNKNOWN = ["offen1@ihk-stuttgart.de", "offen2@landkreis-boeblingen.de"]
FAILED = "abgelehnt@example.org"
ALL = [*OK, *UNKNOWN, FAILED]


class FlakyMailer(OutboxMailer):
    """The outbox, except that UNKNOWN recipients time out and FAILED is refused."""

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        results = []
        for r in batch.recipients:
            if r.email in UNKNOWN:
                results.append(
                    RecipientResult(r.email, ok=False, unknown=True, error="timeout after send")
                )
            elif r.email == FAILED:
                results.append(
                    RecipientResult(r.email, ok=False, permanent=True, error="550 mailbox unknown")
                )
            else:
                results.extend(super().send_batch(replace(batch, recipients=(r,))))
        return results


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=BASE)


@pytest.fixture
def outbox(settings: Settings) -> Outbox:
    return Outbox(settings.data_dir / "outbox")


@pytest.fixture
def sent(services: Services, staff: dict[str, StaffUser]) -> int:
    """An edition sent to five subscribers: two delivered, two unknown, one failed."""
    for address in ALL:
        new = NewSubscriber(
            email=address,
            email_hash=hash_of(address),
            profile=Profile(newsletters=("weekly",)),
            consent_text="v1",
            consent_at=NOW,
        )
        services.store.subscribers.add(new, now=NOW)
    ids = seed_items(services.store).ids
    edition = services.store.editions.create(
        "weekly",
        title="KW 48",
        intro="",
        sections=[("Im Fokus", [ids["hydrogen"], ids["call"]])],
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
    real = services.mailer
    services.mailer = FlakyMailer(services.settings.data_dir / "outbox")
    try:
        report = jobs.send(services, edition.id)
    finally:
        services.mailer = real
    assert (report.sent, report.unknown, report.failed, report.finished) == (2, 2, 1, True)
    assert services.store.editions.get(edition.id).state is EditionState.SENT
    return edition.id


def unknown_ids(store: Store, edition_id: int) -> dict[str, int]:
    """Address → delivery id of the edition's unknown deliveries."""
    return {
        p.email or "": p.delivery.id
        for p in store.deliveries.problems(edition_id)
        if p.delivery.state is DeliveryState.UNKNOWN
    }


def per_address(outbox: Outbox) -> Counter[str]:
    return Counter(m.to for m in outbox.all())


# ---------------------------------------------------------------- the edition page


def test_edition_page_shows_counts_failed_and_unknown(anna: Desk, sent: int) -> None:
    html = anna.text(f"/desk/editions/{sent}")
    text = visible(html)
    assert "Zustellungen" in text
    assert re.search(r'<td data-state="sent">2</td>', html)
    assert re.search(r'<td data-state="unknown">2</td>', html)
    assert re.search(r'<td data-state="failed">1</td>', html)
    assert FAILED in text and "550 mailbox unknown" in text
    for address in UNKNOWN:
        assert address in text
    assert "timeout after send" in text
    assert "Als zugestellt werten" in text and "Erneut senden" in text
    assert html.count('name="delivery_id"') == 2  # only unknown ones can be chosen


def test_a_draft_shows_no_delivery_section(anna: Desk, store: Store) -> None:
    edition = store.editions.create(
        "weekly", title="Leer", intro="", sections=[("A", [])], actor="anna", now=NOW
    )
    assert "deliveries-title" not in anna.text(f"/desk/editions/{edition.id}")


# ---------------------------------------------------------------- unknown → sent


def test_treat_all_as_sent_asks_first_then_changes_nothing_but_the_ledger(
    anna: Desk, sent: int, store: Store, services: Services, outbox: Outbox
) -> None:
    url = f"/desk/editions/{sent}/deliveries/resolve"
    before = store.deliveries.counts(sent)
    ask = anna.post(url, data={"action": "sent", "scope": "all"})
    assert ask.status_code == 200
    page = visible(ask.get_data(as_text=True))
    assert "Als zugestellt werten?" in page and "2 ungeklärte Zustellungen" in page
    assert all(a in page for a in UNKNOWN)
    assert store.deliveries.counts(sent) == before  # asking changes nothing

    done = anna.post(url, data={"action": "sent", "scope": "all", "confirm": "1"})
    assert done.status_code == 303
    counts = store.deliveries.counts(sent)
    assert (counts["sent"], counts["unknown"], counts["failed"]) == (4, 0, 1)
    assert store.editions.get(sent).state is EditionState.SENT
    entry = store.editions.audit(sent)[0]
    assert (entry.actor, entry.action) == ("anna", "deliveries.sent")
    assert "2 Zustellungen" in entry.detail
    page = visible(anna.text(f"/desk/editions/{sent}"))
    assert "2 Zustellungen als zugestellt gewertet" in page
    assert "Ungeklärte Zustellungen als zugestellt gewertet" in page  # the audit trail
    mails = outbox.count()
    assert jobs.send_due(services) == []  # nothing is due, nothing resent
    assert outbox.count() == mails


# ---------------------------------------------------------------- unknown → queued


def test_resend_one_moves_a_sent_edition_back_and_send_due_sends_exactly_it_once(
    bernd: Desk, sent: int, store: Store, services: Services, outbox: Outbox
) -> None:
    chosen = unknown_ids(store, sent)[UNKNOWN[0]]
    url = f"/desk/editions/{sent}/deliveries/resolve"
    ask = bernd.post(url, data={"action": "resend", "scope": "selected", "delivery_id": chosen})
    assert ask.status_code == 200
    page = visible(ask.get_data(as_text=True))
    assert "Erneut senden?" in page and "1 ungeklärte Zustellung" in page
    assert UNKNOWN[0] in page and UNKNOWN[1] not in page
    assert f'name="delivery_id" value="{chosen}"' in ask.get_data(as_text=True)

    done = bernd.post(
        url,
        data={"action": "resend", "scope": "selected", "delivery_id": chosen, "confirm": "1"},
    )
    assert done.status_code == 303
    assert store.editions.get(sent).state is EditionState.SENDING
    counts = store.deliveries.counts(sent)
    assert (counts["queued"], counts["unknown"], counts["sent"]) == (1, 1, 2)
    actions = [(e.actor, e.action) for e in store.editions.audit(sent)[:2]]
    assert actions == [("bernd", "edition.sending"), ("bernd", "deliveries.resend")]
    assert "wieder im Versand" in visible(bernd.text(f"/desk/editions/{sent}"))

    before = per_address(outbox)
    reports = jobs.send_due(services)
    assert [r.edition_id for r in reports] == [sent] and reports[0].finished
    assert per_address(outbox) - before == Counter({UNKNOWN[0]: 1})
    edition = store.editions.get(sent)
    assert edition.state is EditionState.SENT
    counts = store.deliveries.counts(sent)
    assert (counts["sent"], counts["unknown"], counts["failed"], counts["queued"]) == (3, 1, 1, 0)
    assert jobs.send_due(services) == []  # once
    assert per_address(outbox) - before == Counter({UNKNOWN[0]: 1})


def test_resend_all_then_send_due(
    admin: Desk, sent: int, store: Store, services: Services, outbox: Outbox
) -> None:
    url = f"/desk/editions/{sent}/deliveries/resolve"
    done = admin.post(url, data={"action": "resend", "scope": "all", "confirm": "1"})
    assert done.status_code == 303
    before = per_address(outbox)
    jobs.send_due(services)
    assert per_address(outbox) - before == Counter({a: 1 for a in UNKNOWN})
    assert store.editions.get(sent).state is EditionState.SENT


# ---------------------------------------------------------------- refused requests


def test_without_csrf_token_nothing_changes(anna: Desk, sent: int, store: Store) -> None:
    url = f"/desk/editions/{sent}/deliveries/resolve"
    before = store.deliveries.counts(sent)
    for token in ("", "forged"):
        response = anna.client.post(
            url, data={"action": "sent", "scope": "all", "confirm": "1", "csrf_token": token}
        )
        assert response.status_code == 400
        assert "Sicherheitsprüfung" in response.get_data(as_text=True)
    assert store.deliveries.counts(sent) == before
    assert store.editions.get(sent).state is EditionState.SENT


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "delete", "scope": "all", "confirm": "1"}, "Unbekannte Aktion."),
        ({"action": "sent", "scope": "selected", "confirm": "1"}, "Bitte zuerst Zustellungen"),
        ({"action": "sent", "delivery_id": "abc", "confirm": "1"}, "Ungültige Zustellungsnummer"),
        ({"action": "resend", "delivery_id": "999999", "confirm": "1"}, "nicht (mehr) ungeklärt"),
        ({"action": "resend", "delivery_id": "999999"}, "nicht (mehr) ungeklärt"),  # asking
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(
    anna: Desk, sent: int, store: Store, data: dict[str, str], message: str
) -> None:
    before = store.deliveries.counts(sent)
    response = anna.post(f"/desk/editions/{sent}/deliveries/resolve", data=data)
    assert response.status_code == 400
    assert message in visible(response.get_data(as_text=True))
    assert store.deliveries.counts(sent) == before
    assert store.editions.get(sent).state is EditionState.SENT


def test_a_sent_or_failed_delivery_cannot_be_chosen(anna: Desk, sent: int, store: Store) -> None:
    delivered = store.deliveries.list(sent, DeliveryState.SENT)[0].id
    failed = store.deliveries.list(sent, DeliveryState.FAILED)[0].id
    mixed = [unknown_ids(store, sent)[UNKNOWN[0]], delivered]
    url = f"/desk/editions/{sent}/deliveries/resolve"
    before = store.deliveries.counts(sent)
    for ids in (mixed, [failed]):
        data = {"action": "resend", "delivery_id": [str(i) for i in ids], "confirm": "1"}
        response = anna.post(url, data=data)
        assert response.status_code == 400
        assert "nicht (mehr) ungeklärt" in visible(response.get_data(as_text=True))
    assert store.deliveries.counts(sent) == before  # the unknown one of `mixed` too


def test_deciding_twice_is_refused(anna: Desk, sent: int, store: Store) -> None:
    url = f"/desk/editions/{sent}/deliveries/resolve"
    data = {"action": "sent", "scope": "all", "confirm": "1"}
    assert anna.post(url, data=data).status_code == 303
    again = anna.post(url, data=data)
    assert again.status_code == 400
    assert "keine ungeklärten Zustellungen" in visible(again.get_data(as_text=True))


def test_missing_edition_is_a_404(anna: Desk, sent: int) -> None:
    response = anna.post(
        "/desk/editions/4242/deliveries/resolve", data={"action": "sent", "scope": "all"}
    )
    assert response.status_code == 404


def test_anonymous_is_sent_to_the_login(anon: Desk, sent: int, store: Store) -> None:
    before = store.deliveries.counts(sent)
    response = anon.client.post(
        f"/desk/editions/{sent}/deliveries/resolve", data={"action": "sent", "scope": "all"}
    )
    assert response.status_code in (302, 400)  # CSRF first, or the login
    assert store.deliveries.counts(sent) == before


def test_only_active_editors_and_admins_decide(sent: int, store: Store) -> None:
    editor = StaffUser(7, "eva", Role.EDITOR)
    assert decide.may_decide(editor) and decide.may_decide(StaffUser(8, "adm", Role.ADMIN))
    gone = StaffUser(9, "alt", Role.EDITOR, active=False)
    with pytest.raises(Forbidden):
        decide.resolve_unknown(store, sent, delivery_ids=None, resend=False, actor=gone, now=NOW)
    with pytest.raises(InvalidInput):
        decide.resolve_unknown(store, sent, delivery_ids=[], resend=False, actor=editor, now=NOW)
    assert store.deliveries.counts(sent)["unknown"] == 2
