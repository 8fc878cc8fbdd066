"""The desk shows whether a suggestion came from the rules or was learnt, and the status
page says what the learning does; staff decisions made through the desk are the labels."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.curate import staff as accounts
from pipeline.model import Role
from pipeline.store.schema import learned_models
from pipeline.web import create_app
from tests.learning.conftest import NOW
from tests.learning.corpus_desk import staff_judgement

PASSWORD = "Brüssel-Stuttgart-2026"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def client(services: Services) -> FlaskClient:
    accounts.add_user(services.store, "anna", Role.EDITOR, PASSWORD, now=NOW)
    app = create_app(services.settings, services)
    app.config["TESTING"] = True
    client = app.test_client()
    token = TOKEN.search(client.get("/login").get_data(as_text=True))
    assert token
    response = client.post(
        "/login", data={"name": "anna", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303
    return client


def decide_in_the_desk(client: FlaskClient, ids: list[int], action: str) -> None:
    page = client.get("/desk/").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token
    for start in range(0, len(ids), 200):
        response = client.post(
            "/desk/items/bulk",
            data={
                "item_id": [str(i) for i in ids[start : start + 200]],
                "action": action,
                "csrf_token": token.group(1),
            },
        )
        assert response.status_code == 303


def hints(html: str) -> set[str]:
    return set(re.findall(r'class="suggested-by" data-suggested-by="(\w+)">([^<]+)<', html))


def test_decisions_in_the_desk_teach_the_model_and_the_inbox_says_so(
    services: Services, client: FlaskClient
) -> None:
    inbox = "/desk/?order=relevance"
    assert hints(client.get(inbox).get_data(as_text=True)) == {("rules", "Vorschlag: Regeln")}
    judgement = staff_judgement(services.store)
    decide_in_the_desk(client, [i for i, ok in judgement.items() if ok], "accept")
    decide_in_the_desk(client, [i for i, ok in judgement.items() if not ok], "reject")

    assert jobs.train_model(services).evaluation.active

    assert hints(client.get(inbox).get_data(as_text=True)) == {("model", "Vorschlag: gelernt")}
    status = client.get("/desk/status").get_data(as_text=True)
    assert "Lernen am Desk" in status
    assert f"gelernt aus {len(judgement)} Entscheidungen; besser als die Regeln" in status


def test_the_status_page_says_when_a_model_is_refused(
    services: Services, client: FlaskClient
) -> None:
    from tests.learning.corpus_desk import decide

    decide(services.store, staff_judgement(services.store), now=NOW)
    jobs.train_model(services)
    with services.store.engine.begin() as conn:
        conn.execute(sa.update(learned_models).values(sklearn_version="0.24.2"))

    status = client.get("/desk/status").get_data(as_text=True)

    assert 'data-check="model_refused"' in status
    assert "Das gelernte Modell stammt von scikit-learn 0.24.2" in status
