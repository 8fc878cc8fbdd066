"""The desk side of a halted send: the edition says "Versand angehalten: <Grund>", the
status page lists it under "Handlungsbedarf", "Versand fortsetzen" (CSRF, audited)
resumes it once the setting is fixed; an edition that could not be sent says so
before approval; the schedule form refuses the hour of the clock change."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from flask import Flask

from pipeline import jobs
from pipeline.bootstrap import Services
from pipeline.config import Settings
from pipeline.deliver.send import SendBlocked
from pipeline.model import EditionState
from pipeline.store import Store
from pipeline.web import create_app
from tests.web.conftest import NOW, Clock, Desk, Seeded, make_settings, visible

HTTPS = "https://newsletter.region-stuttgart.example"
HTTP = "http://newsletter.region-stuttgart.example"


@pytest.fixture
def settings(tmp_path: object) -> Settings:
    return make_settings(tmp_path, EUDIGEST_BASE_URL=HTTPS)  # type: ignore[arg-type]


def approved(store: Store, items: Seeded) -> int:
    edition = store.editions.create(
        "weekly",
        title="EU-Wochenbrief 48/2026",
        intro="",
        sections=[("Energie", [items["hydrogen"]])],
        actor="anna",
        now=NOW,
    )
    store.editions.transition(
        edition.id,
        from_states=(EditionState.DRAFT,),
        to_state=EditionState.APPROVED,
        actor="bernd",
        now=NOW,
    )
    return edition.id


def halted_by_http(services: Services, edition_id: int) -> None:
    """The scheduler's process still runs with EUDIGEST_BASE_URL on http://."""
    broken = services.derive(settings=dataclasses.replace(services.settings, base_url=HTTP))
    with pytest.raises(SendBlocked):
        jobs.send(broken, edition_id)


def test_a_halted_edition_says_why_and_resumes_from_the_desk(
    anna: Desk, services: Services, items: Seeded
) -> None:
    store = services.store
    edition_id = approved(store, items)
    halted_by_http(services, edition_id)
    url = f"/desk/editions/{edition_id}"

    page = visible(anna.text(url))
    assert "Versand angehalten: EUDIGEST_BASE_URL muss mit https:// beginnen" in page
    assert "Versand fortsetzen" in page and "Wird versandt" not in page
    assert "Versand angehalten" in visible(anna.text("/desk/editions/"))

    html = anna.text("/desk/status")
    attention = html.split('id="attention-title"')[1].split("</section>")[0]  # Handlungsbedarf
    assert 'data-check="edition_halted"' in attention and f'href="{url}"' in attention
    text = visible(attention)
    assert "Versand angehalten: Ausgabe „EU-Wochenbrief 48/2026“" in text
    assert "EUDIGEST_BASE_URL muss mit https:// beginnen" in text

    # without the form's token: refused, nothing changes
    assert anna.client.post(f"{url}/resume").status_code == 400
    assert store.editions.get(edition_id).state is EditionState.HALTED

    response = anna.post(f"{url}/resume")  # the desk runs with the fixed setting
    assert response.status_code == 303
    assert "Versand fortgesetzt" in visible(anna.text(url))
    edition = store.editions.get(edition_id)
    assert edition.state is EditionState.SENDING and edition.halt_reason is None
    trail = store.editions.audit(edition_id)
    assert (trail[0].action, trail[0].actor) == ("edition.resumed", "anna")
    assert "Versand fortgesetzt" in visible(anna.text(url))  # the history, in German
    assert "Versand angehalten" not in visible(anna.text("/desk/status"))


def test_resume_is_refused_while_the_setting_is_still_wrong(
    tmp_path: object, clock: Clock, services: Services, items: Seeded, staff: object
) -> None:
    store = services.store
    edition_id = approved(store, items)
    halted_by_http(services, edition_id)
    broken: Settings = dataclasses.replace(services.settings, base_url=HTTP)
    app: Flask = create_app(broken, services.derive(settings=broken))
    app.config["TESTING"] = True
    desk = Desk(app.test_client())
    assert desk.login("anna").status_code == 303
    url = f"/desk/editions/{edition_id}"

    response = desk.post(f"{url}/resume")
    assert response.status_code == 400
    text = visible(response.get_data(as_text=True))
    assert "noch nicht fortgesetzt" in text and "EUDIGEST_BASE_URL muss mit https://" in text
    assert store.editions.get(edition_id).state is EditionState.HALTED


def test_an_approved_edition_warns_when_it_could_not_be_sent(
    tmp_path: object, clock: Clock, services: Services, items: Seeded, staff: object
) -> None:
    edition_id = approved(services.store, items)
    broken: Settings = dataclasses.replace(services.settings, base_url=HTTP, secret_key=None)
    app: Flask = create_app(broken, services.derive(settings=broken))
    app.config["TESTING"] = True
    desk = Desk(app.test_client())
    assert desk.login("anna").status_code == 303
    html = desk.text(f"/desk/editions/{edition_id}")
    page = visible(html)
    assert "So kann diese Ausgabe nicht versandt werden" in page
    # each setting once, in the box; the checklist points there and still blocks
    assert page.count("EUDIGEST_BASE_URL muss mit https:// beginnen") == 1
    assert page.count("EUDIGEST_SECRET_KEY ist nicht gesetzt") == 1
    checklist = visible(html.split('class="preflight"', 1)[1].split("</section>", 1)[0])
    assert "Blockiert die Freigabe (1)" in checklist
    assert "Die Einstellungen des Servers, die oben stehen." in checklist
    assert re.search(r"<button[^>]*disabled[^>]*>Jetzt senden", html)


def test_the_schedule_form_refuses_the_hour_of_the_clock_change(
    anna: Desk, services: Services, items: Seeded
) -> None:
    store = services.store
    edition_id = approved(store, items)
    url = f"/desk/editions/{edition_id}/schedule"

    twice = anna.post(url, data={"send_at": "2027-10-31T02:30"})
    assert twice.status_code == 400
    text = visible(twice.get_data(as_text=True))
    assert "Den 31.10.2027, 02:30 Uhr gibt es in der Zeitzone Europe/Brussels zweimal" in text
    assert "2027-10-31T02:30+02:00" in text and "2027-10-31T02:30+01:00" in text
    assert "Bei doppelter Uhrzeit" in text

    gap = anna.post(url, data={"send_at": "2027-03-28T02:30", "occurrence": "second"})
    assert gap.status_code == 400
    assert "gibt es in der Zeitzone Europe/Brussels nicht" in visible(gap.get_data(as_text=True))
    assert store.editions.get(edition_id).state is EditionState.APPROVED

    # saying which one: the second 02:30 (winter time, +01:00) is 01:30 UTC
    page = visible(anna.text(f"/desk/editions/{edition_id}"))
    assert "Bei doppelter Uhrzeit" in page and "das zweite Mal (Winterzeit)" in page
    chosen = {"send_at": "2027-10-31T02:30", "occurrence": "second"}
    assert anna.post(url, data=chosen).status_code == 303
    assert store.editions.get(edition_id).scheduled_at == dt.datetime(
        2027, 10, 31, 1, 30, tzinfo=dt.UTC
    )
