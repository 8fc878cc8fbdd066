"""Forged or missing CSRF tokens: 400, a German page, and nothing changed."""

from __future__ import annotations

import pytest
from flask import Flask

from pipeline import curate
from pipeline.model import EditionState, ItemStatus, StaffUser
from pipeline.store import Store
from tests.web.conftest import Clock, Desk, Seeded, visible

FORGED = "IjdkNzQ2ZjMwYjE5YTQ1ZDg3YzM1ZWE0NTFmNWU0ZjQ1NGU4ZWFmNzQi.Z0Qw.forged"


@pytest.mark.parametrize("token", [None, "", FORGED])
def test_login_without_a_valid_token_is_refused(
    anon: Desk, store: Store, token: str | None
) -> None:
    anon.client.get("/login")
    data = {"name": "anna", "password": "Brüssel-Stuttgart-2026"}
    if token is not None:
        data["csrf_token"] = token
    response = anon.client.post("/login", data=data)
    assert response.status_code == 400
    assert "Sicherheitsprüfung fehlgeschlagen" in visible(response.text)
    assert anon.client.get("/desk/").status_code == 302
    user = store.users.by_name("anna")
    assert user is not None and user.last_login is None


@pytest.mark.parametrize("token", [None, FORGED])
def test_bulk_accept_without_a_valid_token_changes_nothing(
    anna: Desk, items: Seeded, store: Store, token: str | None
) -> None:
    data: dict[str, object] = {"item_id": list(items.ids.values()), "action": "accept"}
    if token is not None:
        data["csrf_token"] = token
    response = anna.client.post("/desk/items/bulk", data=data)
    assert response.status_code == 400
    assert "Es wurde nichts geändert." in visible(response.text)
    assert {i.status for i in store.items.get_many(items.ids.values()).values()} == {ItemStatus.NEW}


def test_annotation_without_token_changes_nothing(anna: Desk, items: Seeded, store: Store) -> None:
    response = anna.client.post(
        f"/desk/items/{items['hydrogen']}/annotation",
        data={"headline": "Gefälscht", "comment": "", "priority": "fyi", "version": "0"},
    )
    assert response.status_code == 400
    assert store.items.get(items["hydrogen"]).annotation is None
    assert store.items.audit(items["hydrogen"]) == []


def test_a_token_of_another_session_is_refused(
    app: Flask, anna: Desk, items: Seeded, store: Store
) -> None:
    bernd = Desk(app.test_client())
    assert bernd.login("bernd").status_code == 303
    assert anna.token and bernd.token and anna.token != bernd.token
    response = bernd.client.post(
        "/desk/items/bulk",
        data={"item_id": [items["call"]], "action": "reject", "csrf_token": anna.token},
    )
    assert response.status_code == 400
    assert store.items.get(items["call"]).status is ItemStatus.NEW


def test_edition_approve_without_token_changes_nothing(
    anna: Desk, items: Seeded, store: Store, staff: dict[str, StaffUser], clock: Clock
) -> None:
    topics = {"energy_climate", "mobility"}
    curate.accept(store, [items["hydrogen"]], actor=staff["anna"], now=clock(), topic_ids=topics)
    edition = curate.create_edition(
        store,
        anna_office(anna),
        "weekly",
        title="KW 48",
        intro="",
        actor=staff["anna"],
        now=clock(),
    )
    curate.place_item(
        store, edition.id, items["hydrogen"], section_id=None, actor=staff["anna"], now=clock()
    )
    for url in ("approve", "meta", "sections"):
        response = anna.client.post(
            f"/desk/editions/{edition.id}/{url}", data={"title": "x", "version": "99"}
        )
        assert response.status_code == 400
    after = store.editions.get(edition.id)
    assert after.state is EditionState.DRAFT and after.title == "KW 48"
    assert len(after.sections) == 2


def test_admin_action_without_token_changes_nothing(admin: Desk, store: Store) -> None:
    bernd = store.users.by_name("bernd")
    assert bernd is not None
    response = admin.client.post(f"/desk/users/{bernd.id}/active", data={"active": "0"})
    assert response.status_code == 400
    assert store.users.get(bernd.id).active


def anna_office(desk: Desk):  # type: ignore[no-untyped-def]
    app = desk.client.application
    return app.extensions["eudigest"].office
