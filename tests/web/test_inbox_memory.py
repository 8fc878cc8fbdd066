"""The inbox remembers: saved views ("Meine Ansichten"), "Später" stored per item, and the
bulk bar answering the script with JSON. The first tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.bootstrap import build
from pipeline.catalog import load_taxonomy
from pipeline.curate import inbox as inbox_memory
from pipeline.curate import staff as accounts
from pipeline.model import ItemStatus, Role
from pipeline.store import Store
from pipeline.web import create_app
from tests.conftest import _pg_store
from tests.web.conftest import (
    EC_DE,
    EP_EN,
    NOW,
    PASSWORD,
    Clock,
    Desk,
    Seeded,
    make_settings,
    seed_items,
    services_from_template,
    visible,
)

JSON = {"Accept": "application/json"}


class World:
    def __init__(self, store: Store, anna: Desk, bernd: Desk, items: Seeded, clock: Clock) -> None:
        self.store, self.anna, self.bernd, self.items, self.clock = store, anna, bernd, items, clock


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path, template_db: Path) -> Iterator[World]:
    clock = Clock()
    settings = make_settings(tmp_path)
    pg: Iterator[Store] | None = None
    if request.param == "sqlite":
        services = services_from_template(settings, clock, template_db)
    else:
        pg = _pg_store()
        services = build(settings)
        services.store.close()
        services.store = next(pg)
        services.clock = clock
        services.store.topics.sync(load_taxonomy(settings.taxonomy_path))
        services.store.sources.register([EC_DE, EP_EN], now=NOW)
        for name in ("anna", "bernd"):
            accounts.add_user(services.store, name, Role.EDITOR, PASSWORD, now=NOW)
    items = seed_items(services.store)
    app = create_app(settings, services)
    app.config["TESTING"] = True
    anna, bernd = Desk(app.test_client()), Desk(app.test_client())
    assert anna.login("anna").status_code == 303 and bernd.login("bernd").status_code == 303
    yield World(services.store, anna, bernd, items, clock)
    if pg is not None:
        with pytest.raises(StopIteration):
            next(pg)  # drops the schema
    else:
        services.close()


def shown(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'name="item_id" value="(\d+)"', html)}


def view_links(html: str) -> dict[str, str]:
    """Name → link of the saved views above the list."""
    return {
        visible(name): href
        for href, name in re.findall(r'<li><a href="(/desk/ansichten/\d+)">(.*?)</a></li>', html)
    }


# ---------------------------------------------------------------- saved views


def test_saved_views_are_per_user_renamed_deleted_and_refuse_duplicates(world: World) -> None:
    anna, store = world.anna, world.store
    response = anna.post(
        "/desk/ansichten",
        data={"name": "  Energie,   neu ", "query": "topic=energy_climate&page=3&bogus=1&q="},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/desk/?topic=energy_climate"  # no page, no junk
    page = anna.text(response.headers["Location"])
    assert "Ansicht „Energie, neu“ gespeichert." in visible(page)
    links = view_links(page)
    assert list(links) == ["Energie, neu"]

    opened = anna.get(links["Energie, neu"])
    assert opened.status_code == 303
    assert shown(anna.text(opened.headers["Location"])) == {world.items["hydrogen"]}

    duplicate = anna.post("/desk/ansichten", data={"name": "energie, NEU", "query": "q=x"})
    assert duplicate.status_code == 400
    assert "Es gibt schon eine Ansicht „energie, NEU“" in visible(duplicate.text)
    too_long = anna.post("/desk/ansichten", data={"name": "x" * 81, "query": ""})
    assert too_long.status_code == 400 and "höchstens 80 Zeichen" in visible(too_long.text)
    assert anna.post("/desk/ansichten", data={"name": "   ", "query": ""}).status_code == 400

    # bernd sees none of anna's views and cannot open, rename or delete them
    assert view_links(world.bernd.text("/desk/")) == {}
    view_id = int(links["Energie, neu"].rsplit("/", 1)[1])
    assert world.bernd.get(f"/desk/ansichten/{view_id}").status_code == 404
    assert world.bernd.post(f"/desk/ansichten/{view_id}/delete").status_code == 404
    assert (
        world.bernd.post(f"/desk/ansichten/{view_id}/rename", data={"name": "x"}).status_code == 404
    )
    # … and may use the same name for his own
    assert world.bernd.post("/desk/ansichten", data={"name": "Energie, neu"}).status_code == 303

    anna.post("/desk/ansichten", data={"name": "Förderung", "query": "doc_type=funding_call"})
    clash = anna.post(f"/desk/ansichten/{view_id}/rename", data={"name": "förderung"})
    assert clash.status_code == 400
    renamed = anna.post(f"/desk/ansichten/{view_id}/rename", data={"name": "Wasserstoff"})
    assert renamed.status_code == 303
    assert list(view_links(anna.text("/desk/"))) == ["Förderung", "Wasserstoff"]
    assert anna.post(f"/desk/ansichten/{view_id}/delete").status_code == 303
    assert list(view_links(anna.text("/desk/"))) == ["Förderung"]
    users = {u.name: u.id for u in store.users.list()}
    assert [v.name for v in store.views.list(users["bernd"])] == ["Energie, neu"]
    assert [v.name for v in store.views.list(users["anna"])] == ["Förderung"]


def test_a_view_whose_topic_is_gone_still_opens_without_it(world: World) -> None:
    anna = world.anna
    anna.post(
        "/desk/ansichten", data={"name": "Alt", "query": "topic=space_policy&doc_type=funding_call"}
    )
    (link,) = view_links(anna.text("/desk/")).values()
    opened = anna.get(link)
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/desk/?doc_type=funding_call"
    page = visible(anna.text(opened.headers["Location"]))
    assert "Thema „space_policy“ gibt es nicht mehr" in page
    assert shown(anna.text(opened.headers["Location"])) == {world.items["call"]}


def test_saving_a_view_needs_the_csrf_token(world: World) -> None:
    response = world.anna.client.post("/desk/ansichten", data={"name": "Ohne Token"})
    assert response.status_code == 400
    assert all(world.store.views.list(u.id) == [] for u in world.store.users.list())


# ---------------------------------------------------------------- later


def test_later_is_stored_until_tomorrow_in_the_office_zone_and_undone(world: World) -> None:
    anna, items, store = world.anna, world.items, world.store
    hydrogen = items["hydrogen"]
    response = anna.post(f"/desk/items/{hydrogen}/later", data={"action": "later"}, headers=JSON)
    assert response.status_code == 200
    assert "auf später gelegt (bis 26.11.2026)" in response.json["message"]
    default = anna.text("/desk/")
    assert hydrogen not in shown(default) and len(shown(default)) == 2
    assert "Später (1)" in visible(default)
    later = anna.text("/desk/?later=1")
    assert shown(later) == {hydrogen} and "Wieder in den Eingang" in visible(later)
    assert hydrogen in shown(anna.text("/desk/?status=all"))  # other views still show it

    undone = anna.post("/desk/items/undo", headers=JSON)
    assert undone.json["restored"] == {str(hydrogen): "new"}
    assert hydrogen in shown(anna.text("/desk/")) and "Später (0)" in visible(anna.text("/desk/"))

    anna.post("/desk/items/bulk", data={"item_id": [hydrogen, items["call"]], "action": "later"})
    assert shown(anna.text("/desk/")) == {items["cohesion"]}
    world.clock.advance(hours=14)  # 23:30 in Brussels: still today
    assert shown(anna.text("/desk/")) == {items["cohesion"]}
    world.clock.advance(minutes=31)  # past midnight in Brussels (23:00 UTC)
    assert shown(anna.text("/desk/")) == {hydrogen, items["call"], items["cohesion"]}
    assert "Später (0)" in visible(anna.text("/desk/"))
    assert store.items.get(hydrogen).status is ItemStatus.NEW  # never a status change
    assert [e.action for e in store.items.audit(hydrogen)][:1] == ["deferred"]


def test_later_without_the_script_redirects_back_and_brings_back(world: World) -> None:
    anna, cohesion = world.anna, world.items["cohesion"]
    response = anna.post(
        f"/desk/items/{cohesion}/later", data={"action": "later", "back": "order=published"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/desk/?order=published"
    assert "auf später gelegt" in visible(anna.text(response.headers["Location"]))
    back = anna.post(f"/desk/items/{cohesion}/later", data={"action": "back", "back": "later=1"})
    assert back.headers["Location"] == "/desk/?later=1"
    assert cohesion in shown(anna.text("/desk/"))


def test_later_until_is_the_start_of_the_next_local_day() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Brussels")
    assert inbox_memory.later_until(NOW, tz) == dt.datetime(2026, 11, 25, 23, 0, tzinfo=dt.UTC)
    summer_late = dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)  # 00:30 on 2 July there
    assert inbox_memory.later_until(summer_late, tz) == dt.datetime(
        2026, 7, 2, 22, 0, tzinfo=dt.UTC
    )
