"""End to end: an edition through the outbox, a reader follows a feedback link from the
.eml, answers, changes the answer; staff see the counts in the desk and `items --json`.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

import pytest

from pipeline import bootstrap, jobs
from pipeline.cli import main
from pipeline.store.schema import feedback_answers, rate_limits
from tests.feedback.conftest import KOMMUNE, UNI, Sent, links, path
from tests.web.conftest import visible

ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def counts(sent: Sent, item_id: int) -> dict[str, int]:
    found = sent.services.store.feedback.counts_by_item([item_id]).get(item_id)
    return found.as_dict() if found else {"useful": 0, "not_useful": 0, "more": 0}


def test_a_reader_answers_changes_the_answer_and_staff_see_it(
    sent: Sent, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mail = sent.outbox.last(KOMMUNE)
    found = links(mail)
    hydrogen = sent.ids["hydrogen"]  # the first item of the mail
    yes, no, more = found["Hilfreich? Ja"][0], found["Nein"][0], found["Mehr dazu bitte"][0]
    reader = sent.client()

    # A mail scanner (or the reader) opens the link: a question and a button, nothing counted.
    page = reader.get(path(yes))
    assert page.status_code == 200
    text = visible(page.get_data(as_text=True))
    assert "War diese Meldung hilfreich?" in text and "Ja, hilfreich" in text
    assert "Wasserstoffprojekte" in text
    assert "Set-Cookie" not in page.headers  # no cookie for readers
    assert counts(sent, hydrogen)["useful"] == 0

    # The button: counted, then thanks with a way to change the answer.
    answered = reader.post(path(yes))
    assert answered.status_code == 303
    assert "Set-Cookie" not in answered.headers
    thanks = reader.get(answered.headers["Location"])
    assert thanks.status_code == 200
    words = visible(thanks.get_data(as_text=True))
    assert "Vielen Dank" in words and "Antwort ändern: Nein, nicht hilfreich" in words
    assert counts(sent, hydrogen) == {"useful": 1, "not_useful": 0, "more": 0}

    change = ACTION.search(thanks.get_data(as_text=True))
    assert change is not None
    assert reader.post(change.group(1)).status_code == 303
    assert counts(sent, hydrogen) == {"useful": 0, "not_useful": 1, "more": 0}

    # The same answer again (a replay, or the mail's own "Nein" link): not counted twice.
    again = reader.post(path(no))
    assert again.status_code == 409
    assert "bereits gezählt" in visible(again.get_data(as_text=True))
    assert counts(sent, hydrogen) == {"useful": 0, "not_useful": 1, "more": 0}

    assert reader.post(path(more)).status_code == 303
    # Another reader's answer counts on its own.
    other = links(sent.outbox.last(UNI))
    assert reader.post(path(other["Hilfreich? Ja"][0])).status_code == 303
    assert counts(sent, hydrogen) == {"useful": 1, "not_useful": 1, "more": 1}

    # "Was fehlt Ihnen?": a form; the text is stored as text.
    wish = path(found["wish"][0])
    form = reader.get(wish)
    assert form.status_code == 200 and "Was fehlt Ihnen?" in form.get_data(as_text=True)
    posted = reader.post(wish, data={"text": "Mehr zu <b>Förderung</b> für Vereine"})
    assert posted.status_code == 303

    # The desk: per edition, section, topic and item; the suggestion, escaped, erasable.
    staff = sent.staff()
    page_html = staff.text(f"/desk/editions/{sent.edition_id}")
    shown = visible(page_html)
    assert "Rückmeldungen der Leser" in shown
    assert "Ganze Ausgabe 1 1 1" in shown
    assert "Abschnitt „Energie“ 1 1 1" in shown
    assert "Thema Energie & Klima 1 1 1" in shown
    assert "Mehr zu &lt;b&gt;Förderung&lt;/b&gt; für Vereine" in page_html
    assert "<b>Förderung</b>" not in page_html
    item_page = visible(staff.text(f"/desk/items/{hydrogen}"))
    assert "Hilfreich: 1 × „Ja“, 1 × „Nein“ · 1 × „Mehr dazu bitte“" in item_page
    suggestion = sent.services.store.feedback.suggestions(sent.edition_id)[0]
    erased = staff.post(f"/desk/editions/{sent.edition_id}/rueckmeldungen/{suggestion.id}/loeschen")
    assert erased.status_code == 303
    assert sent.services.store.feedback.suggestions(sent.edition_id) == []
    history = visible(staff.text(f"/desk/editions/{sent.edition_id}"))
    assert "Leser-Hinweis gelöscht: Hinweis" in history and "Vereine" not in history
    no_token = staff.client.post(
        f"/desk/editions/{sent.edition_id}/rueckmeldungen/{suggestion.id}/loeschen"
    )
    assert no_token.status_code == 400  # CSRF

    # `eudigest items --json`
    monkeypatch.setattr(bootstrap, "build", lambda settings: sent.services)
    monkeypatch.setattr(sent.services, "close", lambda: None, raising=False)
    assert main(["items", "--json"]) == 0
    by_id = {i["id"]: i for i in json.loads(capsys.readouterr().out)}
    assert by_id[hydrogen]["feedback"] == {"useful": 1, "not_useful": 1, "more": 1}
    assert by_id[sent.ids["call"]]["feedback"] == {"useful": 0, "not_useful": 0, "more": 0}


def test_no_table_links_a_reader_and_hashes_go_after_30_days(sent: Sent) -> None:
    reader = sent.client()
    for address in (KOMMUNE, UNI):
        assert reader.post(path(links(sent.outbox.last(address))["Nein"][0])).status_code == 303
    store = sent.services.store
    with store.engine.connect() as conn:
        rows = conn.execute(feedback_answers.select()).mappings().all()
    assert {c.name for c in feedback_answers.columns} == {
        "id", "edition_id", "item_id", "question", "value", "org_type", "reader_hash",
        "answered_on",
    }  # fmt: skip
    assert sorted(r["org_type"] for r in rows) == ["hochschule", "kommune"]
    assert all(r["reader_hash"] and len(r["reader_hash"]) == 64 for r in rows)
    ids = {str(s.id) for s in store.subscribers.confirmed_for("weekly")}
    assert not any(r["reader_hash"] in ids for r in rows)
    assert all(r["answered_on"].hour == 0 and r["answered_on"].minute == 0 for r in rows)

    sent.clock.advance(days=30)
    jobs.purge(sent.services)
    with store.engine.connect() as conn:
        assert all(r["reader_hash"] for r in conn.execute(feedback_answers.select()).mappings())
    sent.clock.advance(days=2)
    jobs.purge(sent.services)
    with store.engine.connect() as conn:
        keys = conn.execute(rate_limits.select()).mappings().all()
    assert not [k for k in keys if k["key"].startswith("feedback:")]
    with store.engine.connect() as conn:
        after = conn.execute(feedback_answers.select()).mappings().all()
    assert len(after) == 2 and all(r["reader_hash"] is None for r in after)  # anonymous counts
    hydrogen = sent.ids["hydrogen"]
    assert store.feedback.counts_by_item([hydrogen])[hydrogen].not_useful == 2
    # By then the links have expired: no answer can come in without its hash.
    late = reader.post(path(links(sent.outbox.last(KOMMUNE))["Hilfreich? Ja"][0]))
    assert late.status_code == 410
    assert "abgelaufen" in visible(late.get_data(as_text=True))
