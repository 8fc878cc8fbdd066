"""The inbox at a larger office's size: the count stops at a cap ("über …"), the pager
goes on past it, and the pages at their boundaries list every item once."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from pipeline.store import Store, items_desk
from tests.web.conftest import NOW, Desk, add_item, visible

ROW = re.compile(r'id="sel-(\d+)"')


@pytest.fixture
def sixty(store: Store) -> list[int]:
    return [
        add_item(store, n, title=f"Förderaufruf {n}", published=NOW - dt.timedelta(hours=n))
        for n in range(1, 61)
    ]


def test_past_the_cap_the_inbox_says_ueber_and_pages_on(
    anna: Desk, sixty: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(items_desk, "COUNT_CAP", 55)
    html = anna.text("/desk/?order=published")
    text = visible(html)
    assert "über 55 Meldungen · Seite 1 von über 2" in text
    assert "Weiter ›" in text and "Letzte »" not in text
    first = ROW.findall(html)
    assert len(first) == 50
    # Page 2 is counted to its end: the count is exact there.
    html = anna.text("/desk/?order=published&page=2")
    assert "60 Meldungen · Seite 2 von 2" in visible(html)
    second = ROW.findall(html)
    assert len(second) == 10
    assert sorted(int(i) for i in first + second) == sorted(sixty)


def test_below_the_cap_the_count_is_exact(anna: Desk, sixty: list[int]) -> None:
    text = visible(anna.text("/desk/?order=published"))
    assert "60 Meldungen · Seite 1 von 2" in text
    assert "über" not in text.split("Meldungen")[0]
    assert "Letzte »" in text
