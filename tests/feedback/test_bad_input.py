"""Bad input: forged, expired and replayed tokens, a flood from one address, HTML and 100 KB
of free text. Each gets a clear German page and records nothing."""

from __future__ import annotations

import pytest

from pipeline.model.feedback import Answer
from subscribers.feedback import IP_LIMIT, READER_LIMIT, FeedbackTokens
from tests.feedback.conftest import KOMMUNE, UNI, Sent, links, path
from tests.web.conftest import visible


def nothing_counted(sent: Sent) -> bool:
    found = sent.services.store.feedback.counts_by_item(sent.ids.values())
    return not found and not sent.services.store.feedback.suggestions(sent.edition_id)


def reader_part(url: str) -> str:
    return path(url).rsplit("/", 1)[1]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_forged_tokens_record_nothing(sent: Sent) -> None:
    reader = sent.client()
    yes = path(links(sent.outbox.last(KOMMUNE))["Hilfreich? Ja"][0])
    _, _, item_token, reader_token = yes.split("/")
    other_key = FeedbackTokens("another-installation-key-0123456789abcdef")
    ours = FeedbackTokens(sent.settings.secret_key)
    other_edition = ours.item_token(sent.edition_id + 1, sent.ids["call"], Answer.YES)
    as_wish = ours.item_token(sent.edition_id, sent.ids["call"], Answer.WISH)
    forged = [
        f"/feedback/{item_token[:-2]}xy/{reader_token}",  # damaged signature
        f"/feedback/{item_token}/{reader_token[:-2]}xy",
        # a token of another installation, for the same edition and item
        f"/feedback/{other_key.item_token(sent.edition_id, sent.ids['call'], Answer.YES)}/"
        f"{reader_token}",
        # an item token of another edition with this reader token
        f"/feedback/{other_edition}/{reader_token}",
        # an answer link used as "Was fehlt Ihnen?"
        f"/feedback/{as_wish}/{reader_token}",
        f"/feedback/{'a' * 5000}/{reader_token}",
    ]
    for url in forged:
        for answer in (reader.get(url), reader.post(url), reader.post(url, data={"text": "x"})):
            assert answer.status_code in (400, 404), (url, answer.status_code)
            if answer.status_code == 400:
                words = visible(answer.get_data(as_text=True))
                assert "Dieser Link ist ungültig" in words and "nichts gespeichert" in words
    assert nothing_counted(sent)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_an_expired_link_records_nothing(sent: Sent) -> None:
    reader = sent.client()
    found = links(sent.outbox.last(KOMMUNE))
    sent.clock.advance(days=30, seconds=1)
    for url in (found["Nein"][0], found["wish"][0]):
        for answer in (reader.get(path(url)), reader.post(path(url), data={"text": "spät"})):
            assert answer.status_code == 410
            words = visible(answer.get_data(as_text=True))
            assert "abgelaufen" in words and "30 Tage" in words
    assert nothing_counted(sent)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_thousand_answers_from_one_address_in_a_minute_are_cut_off(sent: Sent) -> None:
    reader = sent.client()
    flood = {"REMOTE_ADDR": "198.51.100.7"}
    yes = path(links(sent.outbox.last(KOMMUNE))["Hilfreich? Ja"][0])
    statuses = [reader.post(yes, environ_base=flood).status_code for _ in range(1000)]
    assert statuses[0] == 303
    assert set(statuses[1:READER_LIMIT]) == {409}  # replays: counted once
    assert set(statuses[READER_LIMIT:]) == {429}  # the reader's limit, then the address's
    assert READER_LIMIT < IP_LIMIT < 1000
    hydrogen = sent.ids["hydrogen"]
    assert sent.services.store.feedback.counts_by_item([hydrogen])[hydrogen].useful == 1
    limited = reader.post(yes, environ_base=flood)
    assert "Zu viele Rückmeldungen" in visible(limited.get_data(as_text=True))
    # The address is limited for every token now (keyed hash of the address).
    other = path(links(sent.outbox.last(UNI))["Hilfreich? Ja"][0])
    assert reader.post(other, environ_base=flood).status_code == 429
    # Nothing else is slowed: another reader at another address, and the other pages.
    assert reader.post(other, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 303
    assert reader.get(yes, environ_base=flood).status_code == 200  # a GET counts nothing
    assert reader.get("/abo/anmelden", environ_base=flood).status_code == 200
    # A minute later the address may answer again.
    sent.clock.advance(minutes=1)
    nein = path(links(sent.outbox.last(KOMMUNE))["Nein"][0])
    assert reader.post(nein, environ_base=flood).status_code == 303


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_free_text_is_bounded_and_kept_as_text(sent: Sent) -> None:
    reader = sent.client()
    wish = path(links(sent.outbox.last(KOMMUNE))["wish"][0])
    big = reader.post(wish, data={"text": "ä" * 100_000})
    assert big.status_code == 400
    words = visible(big.get_data(as_text=True))
    assert "Ihr Text ist zu lang (100.000 Zeichen; höchstens 2.000)" in words
    assert "nichts gespeichert" in words
    assert len(big.get_data(as_text=True)) < 30_000  # the text is not echoed whole
    empty = reader.post(wish, data={"text": "  \r\n "})
    assert empty.status_code == 400
    assert "Bitte schreiben Sie, was Ihnen fehlt" in visible(empty.get_data(as_text=True))
    assert nothing_counted(sent)

    html = '<script>alert(1)</script><img src=x onerror=alert(2)> Mehr zu "EFRE" & ESF+'
    assert reader.post(wish, data={"text": html}).status_code == 303
    stored = sent.services.store.feedback.suggestions(sent.edition_id)
    assert [s.text for s in stored] == [html]  # as text, exactly
    page = sent.staff().text(f"/desk/editions/{sent.edition_id}")
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
