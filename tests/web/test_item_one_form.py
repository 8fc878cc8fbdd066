"""The item page's one form (issue 15): topics and the annotation are saved together, a
refused save or a preview keeps the ticks, and the form asks before unsaved work is left."""

from __future__ import annotations

from pipeline.model import TopicOrigin
from pipeline.store import Store
from tests.web.conftest import Desk, Seeded, checked, visible
from tests.web.test_item import annotation


def staff_topics(store: Store, item_id: int) -> set[str]:
    item = store.items.get(item_id)
    return {t.topic_id for t in item.topics if t.origin is TopicOrigin.STAFF}


def test_one_form_holds_topics_and_annotation(anna: Desk, items: Seeded) -> None:
    html = anna.text(f"/desk/items/{items['hydrogen']}")
    form = html.split(f'action="/desk/items/{items["hydrogen"]}/annotation"', 1)[1]
    form = form[: form.index("</form>")]
    assert 'name="topics"' in form and 'name="comment"' in form
    assert 'name="topics_shown" value="1"' in form and "data-unsaved-warning" in html
    assert "Themen speichern" not in html  # no second form that loses the other's changes


def test_ticking_a_topic_and_saving_keeps_both(anna: Desk, items: Seeded, store: Store) -> None:
    url = f"/desk/items/{items['hydrogen']}"
    data = annotation(topics_shown="1", topics=["energy_climate", "municipalities"])
    response = anna.post(f"{url}/annotation", data=data)
    assert response.status_code == 303
    assert staff_topics(store, items["hydrogen"]) == {"energy_climate", "municipalities"}
    saved = store.items.get(items["hydrogen"]).annotation
    assert saved is not None and saved.headline == "Wasserstoff für Stuttgarter Stadtbahnen"
    html = anna.text(url)
    assert "Themen und Einordnung gespeichert." in visible(html)
    assert checked(html, "topics") == {"energy_climate", "municipalities"}


def test_untouched_topics_are_not_confirmed_by_saving_the_annotation(
    anna: Desk, items: Seeded, store: Store
) -> None:
    url = f"/desk/items/{items['hydrogen']}"
    shown = checked(anna.text(url), "topics")  # the automatic ones, preselected
    anna.post(f"{url}/annotation", data=annotation(topics_shown="1", topics=sorted(shown)))
    assert staff_topics(store, items["hydrogen"]) == set()
    assert "Einordnung gespeichert." in visible(anna.text(url))


def test_a_refused_save_or_a_preview_keeps_the_ticks_and_saves_nothing(
    anna: Desk, items: Seeded, store: Store
) -> None:
    url = f"/desk/items/{items['hydrogen']}"
    ticks = ["cohesion", "funding"]
    preview = anna.post(
        f"{url}/annotation", data=annotation(topics_shown="1", topics=ticks, preview="1", save="")
    )
    assert preview.status_code == 200 and checked(preview.text, "topics") == set(ticks)
    too_long = anna.post(
        f"{url}/annotation", data=annotation(topics_shown="1", topics=ticks, headline="x" * 500)
    )
    assert too_long.status_code == 400 and checked(too_long.text, "topics") == set(ticks)
    stale = anna.post(
        f"{url}/annotation", data=annotation(version=7, topics_shown="1", topics=ticks)
    )
    assert stale.status_code == 409 and checked(stale.text, "topics") == set(ticks)
    unknown = anna.post(f"{url}/annotation", data=annotation(topics_shown="1", topics=["astro"]))
    assert unknown.status_code == 400
    assert staff_topics(store, items["hydrogen"]) == set()
    assert store.items.get(items["hydrogen"]).annotation is None
