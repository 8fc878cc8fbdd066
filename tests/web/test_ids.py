"""An id past anything the store holds is a 404 on every route, never a 500 (issue 14)."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.web.conftest import Desk

HUGE = "99999999999999999999999"


def id_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, URL) of every route with an id in it, the ids made huge."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<int:\w+>", HUGE, rule.rule)
        url = re.sub(r"<(?:\w+:)?\w+>", "2024-0001", url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_every_route_with_an_id_answers_404_for_a_huge_one(app: Flask, anna: Desk) -> None:
    routes = id_routes(app)
    paths = {url for _, url in routes}
    # the routes the finding names are among them
    assert f"/archiv/{HUGE}" in paths
    assert f"/desk/items/{HUGE}" in paths
    assert f"/desk/editions/{HUGE}" in paths
    assert f"/desk/subscribers/{HUGE}/loeschen" in paths
    answers = {}
    for method, url in routes:
        response = anna.get(url) if method == "GET" else anna.post(url)
        answers[(method, url)] = response.status_code
    assert {k: v for k, v in answers.items() if v != 404} == {}


@pytest.mark.parametrize("value", [HUGE, "-" + HUGE, str(2**31)])
def test_a_huge_id_in_a_form_is_a_400(anna: Desk, value: str) -> None:
    response = anna.post("/desk/editions/1/items", data={"item_id": value})
    assert response.status_code == 400


def test_a_huge_archive_id_is_the_archive_404(anon: Desk) -> None:
    response = anon.client.get(f"/archiv/{HUGE}")
    assert response.status_code == 404
    assert "Diese Seite gibt es nicht." in response.get_data(as_text=True)
