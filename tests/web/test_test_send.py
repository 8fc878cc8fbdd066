"""Testversand an mich: the previewed digest to the staff member's own address.

Through the outbox (the configured backend in tests): one .eml to the staff member,
"[TEST] " before the subject, nothing in the delivery ledger, an audit entry, at most
five per ten minutes. And where the address comes from: "Mein Konto", the admin's
users page, the CLI.
"""

from __future__ import annotations

import pytest
from werkzeug.test import TestResponse

from pipeline import curate
from pipeline.bootstrap import Services
from pipeline.cli import main
from pipeline.model import StaffUser
from pipeline.store import Store
from tests.subscribers.conftest import Outbox
from tests.web.conftest import ROOT, SECRET, Clock, Desk, Seeded, visible

ANNA = "anna.schmid@region-stuttgart.de"


@pytest.fixture
def outbox(services: Services) -> Outbox:
    return Outbox(services.settings.data_dir / "outbox")


@pytest.fixture
def edition_id(
    app: object, items: Seeded, store: Store, staff: dict[str, StaffUser], clock: Clock
) -> int:
    curate.accept(store, list(items.ids.values()), actor=staff["anna"], now=clock())
    edition = store.editions.create(
        "weekly",
        title="EU-Wochenbrief 48/2026",
        intro="Liebe Leserinnen und Leser,",
        sections=[("Im Fokus", [items["hydrogen"]]), ("Förderung", [items["call"]])],
        actor="anna",
        now=clock(),
    )
    return edition.id


@pytest.fixture
def with_address(store: Store, staff: dict[str, StaffUser]) -> str:
    store.users.set_email(staff["anna"].id, ANNA)
    return ANNA


def send(desk: Desk, edition_id: int, **profile: str | list[str]) -> TestResponse:
    return desk.post(f"/desk/editions/{edition_id}/preview/test", data=profile)


# ---------------------------------------------------------------- the test send


def test_test_send_writes_one_marked_mail_to_me_and_leaves_the_ledger_alone(
    anna: Desk, edition_id: int, with_address: str, store: Store, outbox: Outbox
) -> None:
    page = anna.text(f"/desk/editions/{edition_id}/preview?preset=auswahl&topics=funding")
    assert "Testversand an mich" in page and ANNA in visible(page)
    response = anna.post(
        f"/desk/editions/{edition_id}/preview/test",
        data={"org_type": "unternehmen", "preset": "auswahl", "topics": "funding"},
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(f"/desk/editions/{edition_id}/preview?")
    assert "topics=funding" in location and "org_type=unternehmen" in location

    mails = outbox.all()
    assert len(mails) == 1
    mail = mails[0]
    assert mail.to == ANNA
    assert mail.subject.startswith("[TEST] EU-Wochenbrief")
    assert "urban mobility pilots" in mail.text  # the funding profile's item …
    assert "Wasserstoffprojekte" not in mail.text  # … and not the other one
    assert "Guten Tag," in mail.text and "%%" not in mail.text + mail.html
    assert store.deliveries.counts(edition_id) == {k: 0 for k in store.deliveries.counts(0)}
    assert store.deliveries.list(edition_id) == []
    entry = store.editions.audit(edition_id)[0]
    assert (entry.actor, entry.action) == ("anna", "edition.test_send")
    assert "Unternehmen, Themen: Förderprogramme, Deutsch" in entry.detail
    assert ANNA not in entry.detail  # no address in the audit trail
    followed = visible(anna.text(location))
    assert f"Testversand an {ANNA} ist unterwegs" in followed
    assert "Testversand" in visible(anna.text(f"/desk/editions/{edition_id}"))  # the trail


def test_without_an_address_a_german_message_and_a_link(
    anna: Desk, edition_id: int, outbox: Outbox, store: Store
) -> None:
    page = anna.text(f"/desk/editions/{edition_id}/preview")
    assert "keine E-Mail-Adresse hinterlegt" in visible(page)
    assert 'href="/desk/konto"' in page
    assert "Testversand an mich</button>" not in page
    response = send(anna, edition_id)
    assert response.status_code == 303
    followed = anna.text(response.headers["Location"])
    assert "Bitte zuerst unter „Mein Konto“ eine Adresse eintragen." in visible(followed)
    assert 'href="/desk/konto"' in followed
    assert outbox.count() == 0
    assert store.editions.audit(edition_id)[0].action != "edition.test_send"


def test_five_test_sends_per_ten_minutes(
    anna: Desk, edition_id: int, with_address: str, outbox: Outbox, clock: Clock
) -> None:
    for _ in range(5):
        assert send(anna, edition_id).status_code == 303
    refused = send(anna, edition_id)
    assert refused.status_code == 429
    text = visible(refused.get_data(as_text=True))
    assert "Höchstens 5 Testversände in 10 Minuten" in text
    assert outbox.count() == 5
    clock.advance(minutes=10)
    assert send(anna, edition_id).status_code == 303
    assert outbox.count() == 6


def test_the_limit_is_per_staff_member(
    anna: Desk,
    bernd: Desk,
    edition_id: int,
    with_address: str,
    store: Store,
    staff: dict[str, StaffUser],
    outbox: Outbox,
) -> None:
    store.users.set_email(staff["bernd"].id, "bernd@region-stuttgart.de")
    for _ in range(5):
        send(anna, edition_id)
    assert send(bernd, edition_id).status_code == 303
    assert [m.to for m in outbox.all()].count("bernd@region-stuttgart.de") == 1


def test_refused_test_sends_send_nothing(
    anna: Desk, edition_id: int, with_address: str, outbox: Outbox
) -> None:
    no_token = anna.client.post(f"/desk/editions/{edition_id}/preview/test", data={})
    assert no_token.status_code == 400
    assert send(anna, 4242).status_code == 404
    nothing = send(anna, edition_id, preset="auswahl", topics="health")
    assert nothing.status_code == 400
    body = visible(nothing.get_data(as_text=True))
    assert "keine Meldungen; es wurde nichts gesendet" in body
    assert outbox.count() == 0


def test_a_failed_send_is_shown_and_audited(
    anna: Desk, edition_id: int, with_address: str, store: Store, services: Services
) -> None:
    services.settings.data_dir.mkdir(parents=True, exist_ok=True)
    (services.settings.data_dir / "outbox").write_text("not a folder", encoding="utf-8")
    response = send(anna, edition_id)
    assert response.status_code == 303
    page = visible(anna.text(response.headers["Location"]))
    assert "Der Testversand ist fehlgeschlagen" in page
    entry = store.editions.audit(edition_id)[0]
    assert entry.action == "edition.test_send" and entry.detail.endswith("fehlgeschlagen")


# ---------------------------------------------------------------- the address


def test_mein_konto_has_a_plain_title_and_its_sections_once(anna: Desk) -> None:
    """The page's <title> once held the whole token section (markup in the tab's name)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(anna.text("/desk/konto"), "html.parser")
    assert soup.title is not None and soup.title.get_text().startswith("Mein Konto")
    assert "API-Tokens" not in soup.title.get_text() and "<" not in soup.title.get_text()
    assert len(soup.find_all(id="tokens-title")) == 1


def test_mein_konto_sets_checks_and_clears_my_address(
    anna: Desk, store: Store, staff: dict[str, StaffUser]
) -> None:
    page = anna.text("/desk/konto")
    assert "Mein Konto" in page and "E-Mail-Adresse für Testversände" in visible(page)
    saved = anna.post("/desk/konto", data={"email": " Anna.Schmid@Region-Stuttgart.DE "})
    assert saved.status_code == 303
    assert store.users.get(staff["anna"].id).email == ANNA
    assert ANNA in anna.text("/desk/konto")
    bad = anna.post("/desk/konto", data={"email": "anna@"})
    assert bad.status_code == 400
    assert "Bitte eine gültige E-Mail-Adresse angeben" in visible(bad.get_data(as_text=True))
    assert store.users.get(staff["anna"].id).email == ANNA  # unchanged
    forged = anna.client.post("/desk/konto", data={"email": "x@example.org", "csrf_token": "x"})
    assert forged.status_code == 400
    assert store.users.get(staff["anna"].id).email == ANNA
    cleared = anna.post("/desk/konto", data={"email": ""})
    assert cleared.status_code == 303
    assert store.users.get(staff["anna"].id).email is None


def test_admins_set_addresses_on_the_users_page_editors_may_not(
    admin: Desk, anna: Desk, store: Store, staff: dict[str, StaffUser]
) -> None:
    bernd = staff["bernd"].id
    page = admin.text("/desk/users")
    assert f'action="/desk/users/{bernd}/email"' in page
    assert admin.post(f"/desk/users/{bernd}/email", data={"email": "B@X.de"}).status_code == 303
    assert store.users.get(bernd).email == "b@x.de"
    assert 'value="b@x.de"' in admin.text("/desk/users")
    bad = admin.post(f"/desk/users/{bernd}/email", data={"email": "kein-at"})
    assert bad.status_code == 400
    assert admin.post("/desk/users/4242/email", data={"email": "a@b.de"}).status_code == 404
    refused = anna.post(f"/desk/users/{bernd}/email", data={"email": "anna@x.de"})
    assert refused.status_code == 403
    assert store.users.get(bernd).email == "b@x.de"


def test_cli_sets_and_clears_an_address(
    services: Services,
    store: Store,
    staff: dict[str, StaffUser],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = services.settings.data_dir.parent
    monkeypatch.chdir(folder)
    monkeypatch.delenv("EUDIGEST_DATABASE_URL", raising=False)
    for name, value in {
        "EUDIGEST_DATA_DIR": str(services.settings.data_dir),
        "EUDIGEST_SECRET_KEY": SECRET,
        "EUDIGEST_OFFICE": str(folder / "office.yaml"),
        "EUDIGEST_TAXONOMY": str(ROOT / "taxonomy.yaml"),
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["users", "email", "bernd", "Bernd@Region-Stuttgart.de"]) == 0
    assert store.users.get(staff["bernd"].id).email == "bernd@region-stuttgart.de"
    assert main(["users", "email", "bernd", "kaputt@"]) == 2
    assert main(["users", "email", "bernd"]) == 2  # neither an address nor --clear
    assert main(["users", "email", "niemand", "a@b.de"]) == 2
    assert store.users.get(staff["bernd"].id).email == "bernd@region-stuttgart.de"
    assert main(["users", "email", "bernd", "--clear"]) == 0
    assert store.users.get(staff["bernd"].id).email is None
    monkeypatch.setattr("sys.stdin", _Lines("Ein-langes-Passwort-2026\n"))
    assert main(["users", "add", "carla", "--email", "Carla@Region-Stuttgart.de"]) == 0
    carla = store.users.by_name("carla")
    assert carla is not None and carla.email == "carla@region-stuttgart.de"
    capsys.readouterr()


class _Lines:
    def __init__(self, text: str) -> None:
        self._lines = text.splitlines(keepends=True)

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return self._lines.pop(0) if self._lines else ""
