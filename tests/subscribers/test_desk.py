"""The subscriber list of the desk: login, filters, counts; data and erasure for admins."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from pipeline.bootstrap import Services
from pipeline.model import SuppressionReason
from subscribers.addresses import hash_of
from tests.subscribers.conftest import Outbox, new_visitor, visible
from tests.web.conftest import Desk, csrf_token


@pytest.fixture
def people(app: Flask, services: Services, outbox: Outbox) -> None:
    """Two confirmed subscribers and one who has not confirmed yet."""
    signups = [
        ("anna.schmid@stadt-esslingen.de", "Anna Schmid", "Stadt Esslingen", "kommune",
         ["funding"], True),
        ("bernd.mueller@landratsamt-bb.de", "Bernd Müller", "Landratsamt Böblingen", "landkreis",
         ["mobility"], True),
        ("petra.weiss@uni-hohenheim.de", "Petra Weiß", "Universität Hohenheim", "hochschule",
         [], False),
    ]  # fmt: skip
    for n, (address, name, org, org_type, topics, confirm) in enumerate(signups):
        visitor = new_visitor(app, f"192.0.2.{n + 1}")
        visitor.sign_up(address, name=name, organisation=org, org_type=org_type, topics=topics)
        if confirm:
            visitor.confirm(outbox.last(address).link("/abo/bestaetigen/"))


def _login(app: Flask, name: str) -> Desk:
    desk = Desk(app.test_client())
    assert desk.login(name).status_code == 303
    return desk


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [visible(r) for r in body.split("<tr>")[1:]]


def test_the_list_needs_a_login(app: Flask, people: None) -> None:
    response = app.test_client().get("/desk/subscribers/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_list_counts_search_and_filters(app: Flask, people: None) -> None:
    anna = _login(app, "anna")
    html = anna.text("/desk/subscribers/")
    assert "2 bestätigt · 1 unbestätigt · 0 abgemeldet · 0 Adressen gesperrt" in visible(html)
    assert len(_rows(html)) == 3
    assert "Daten (JSON)" not in html  # an editor sees no GDPR actions

    rows = _rows(anna.text("/desk/subscribers/?q=B%C3%B6blingen"))
    assert len(rows) == 1 and "Bernd Müller" in rows[0] and "Landkreis" in rows[0]
    rows = _rows(anna.text("/desk/subscribers/?org_type=hochschule"))
    assert len(rows) == 1 and "Petra Weiß" in rows[0] and "unbestätigt" in rows[0]
    rows = _rows(anna.text("/desk/subscribers/?status=confirmed&topic=funding"))
    assert len(rows) == 1 and "Anna Schmid" in rows[0]  # Petra (all topics) is not confirmed
    rows = _rows(anna.text("/desk/subscribers/?topic=funding"))
    assert sorted(r.split()[0] for r in rows) == [
        "anna.schmid@stadt-esslingen.de",
        "petra.weiss@uni-hohenheim.de",  # no topics chosen: all topics
    ]
    rows = _rows(anna.text("/desk/subscribers/?newsletter=daily"))
    assert rows == ["Keine Abonnenten gefunden."]
    # Unknown filter values are ignored, not errors.
    assert len(_rows(anna.text("/desk/subscribers/?status=evil&org_type=%3Cscript%3E&page=x"))) == 3


def test_an_editor_may_not_export_or_erase(app: Flask, services: Services, people: None) -> None:
    anna = _login(app, "anna")
    bernd = services.store.subscribers.by_hash(hash_of("bernd.mueller@landratsamt-bb.de"))
    assert bernd is not None
    assert anna.get(f"/desk/subscribers/{bernd.id}/daten.json").status_code == 403
    assert anna.get("/desk/subscribers/export.csv").status_code == 403
    assert anna.post(f"/desk/subscribers/{bernd.id}/loeschen").status_code == 403
    assert services.store.subscribers.get(bernd.id) == bernd


def test_an_admin_exports_one_subscribers_data_and_all(
    app: Flask, services: Services, people: None
) -> None:
    admin = _login(app, "admin")
    bernd = services.store.subscribers.by_hash(hash_of("bernd.mueller@landratsamt-bb.de"))
    assert bernd is not None
    response = admin.get(f"/desk/subscribers/{bernd.id}/daten.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="abonnent-{bernd.id}.json"'
    )
    data = json.loads(response.get_data(as_text=True))
    assert data["subscriber"]["organisation"] == "Landratsamt Böblingen"
    assert data["topics"] == [{"id": "mobility", "label": "Mobilität & Verkehr"}]
    csv_text = admin.get("/desk/subscribers/export.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("email,name,organisation,organisation_type")
    assert "Bernd Müller,Landratsamt Böblingen,landkreis" in csv_text
    assert admin.get("/desk/subscribers/99999/daten.json").status_code == 404


def test_an_admin_erases_after_a_confirm_step_with_csrf(
    app: Flask, services: Services, people: None
) -> None:
    admin = _login(app, "admin")
    store = services.store.subscribers
    bernd = store.by_hash(hash_of("bernd.mueller@landratsamt-bb.de"))
    assert bernd is not None
    url = f"/desk/subscribers/{bernd.id}/loeschen"
    ask = admin.text(url)
    assert "Abonnent löschen?" in visible(ask)
    assert 'data-confirm="Daten von bernd.mueller@landratsamt-bb.de endgültig löschen?"' in ask
    assert store.get(bernd.id) == bernd  # asking changed nothing
    refused = admin.client.post(url, data={"csrf_token": "forged"})
    assert refused.status_code == 400
    assert store.get(bernd.id) == bernd

    response = admin.post(url)
    assert response.status_code == 303
    page = visible(admin.text("/desk/subscribers/"))
    assert f"Die Daten von Abonnent Nr. {bernd.id} sind gelöscht" in page
    assert "1 bestätigt · 1 unbestätigt · 0 abgemeldet · 1 Adressen gesperrt" in page
    assert store.by_hash(hash_of("bernd.mueller@landratsamt-bb.de")) is None
    assert store.suppression(hash_of("bernd.mueller@landratsamt-bb.de")) is SuppressionReason.ERASED


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/desk/subscribers/"),
        ("GET", "/desk/subscribers/export.csv"),
        ("GET", "/desk/subscribers/1/daten.json"),
        ("GET", "/desk/subscribers/1/loeschen"),
        ("POST", "/desk/subscribers/1/loeschen"),
    ],
)
def test_every_desk_subscriber_url_needs_a_login(
    app: Flask, services: Services, people: None, method: str, url: str
) -> None:
    client = app.test_client()
    if method == "GET":
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    else:  # with a valid token of an anonymous session: the login check refuses
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 302
        assert response.headers["Location"] == "/login"
    assert services.store.subscribers.counts()["confirmed"] == 2


def test_a_long_list_says_ueber_where_counting_stopped(
    app: Flask, people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.store import subscribers as subscribers_store
    from pipeline.web import subscribers_desk

    monkeypatch.setattr(subscribers_store, "COUNT_CAP", 2)
    monkeypatch.setattr(subscribers_desk, "PER_PAGE", 1)
    anna = _login(app, "anna")
    text = visible(anna.text("/desk/subscribers/"))
    assert "über 2 Abonnenten · Seite 1 von über 2" in text
    assert "2 bestätigt · 1 unbestätigt" in text  # the counts per status stay exact
    assert "nächste Seite" in text
    # The last page is counted to its end: exact again, no further page.
    text = visible(anna.text("/desk/subscribers/?page=3"))
    assert "3 Abonnenten · Seite 3 von 3" in text
    assert "nächste Seite" not in text
