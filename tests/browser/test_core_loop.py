"""The core loop counted (issue 15): triage 20 items from the keyboard at one key each, then
from the accepted items to the edition leaving in at most 6 actions, four eyes on (the
walk and what counts as an action: desk_loop.py). The counts are printed (`-s`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import OFFICE_YAML, LiveDesk, Watch, serve_copy
from tests.browser.desk_loop import TRIAGED, prepare, walk

BASE = "https://newsletter.region-stuttgart.example"  # mailed links need https


@pytest.fixture(scope="module")
def four_eyes(tmp_path_factory: pytest.TempPathFactory, corpus_db: Path) -> Iterator[LiveDesk]:
    folder = tmp_path_factory.mktemp("core-loop")
    office = folder / "office-four-eyes.yaml"
    office.write_text(OFFICE_YAML.replace("four_eyes: false", "four_eyes: true"), "utf-8")
    yield from serve_copy(folder, corpus_db, office_path=office, base_url=BASE)


def test_triage_at_one_key_per_item_and_the_loop_in_six_actions(
    browser: Browser, four_eyes: LiveDesk, watch: Watch
) -> None:
    prepare(four_eyes)
    result = walk(browser, four_eyes, watch, "short")
    print("\n" + result.summary())
    actions = result.actions
    assert actions.count("triage") == TRIAGED
    assert actions.kinds("triage") == {"key": TRIAGED}
    assert actions.count("loop") <= 6, result.summary()
    assert not watch.errors, watch.errors
