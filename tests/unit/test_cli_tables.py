"""RankedTable: which columns a narrow terminal keeps, and the note naming the others."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.cli.output import Column, Console, RankedTable


def table() -> RankedTable:
    t = RankedTable(
        "T",
        [
            Column("id"),
            Column("rare", rank=3),
            Column("useful", rank=1),
            Column("title", flex=True, min_width=10),
        ],
    )
    t.add_row("1", "x" * 20, "y" * 20, "ein langer Titel " * 5)
    return t


def test_the_highest_rank_goes_first() -> None:
    t = table()
    assert t.fit(200) == [0, 1, 2, 3]
    assert t.fit(50) == [0, 2, 3]  # "rare" out, "useful" stays
    assert t.fit(30) == [0, 3]


def test_rank_zero_stays_however_narrow() -> None:
    assert table().fit(5) == [0, 3]


def test_the_note_names_what_was_left_out(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    table().print(Console())
    out = capsys.readouterr().out
    assert all(len(line) <= 50 for line in out.splitlines())
    assert "rare: left out at 50 columns; --wide or --json shows it." in " ".join(out.split())
    assert "useful" in out and "Titel" in out
    table().print(Console(), wide=True)
    out = capsys.readouterr().out
    assert "rare" in out and "left out" not in out


def test_a_status_line_is_shown_only_at_a_terminal_and_when_asked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Piped (or with --json), a long job's status line writes nothing and its updates
    are no-ops; at a terminal it is rich's spinner (tests/deliver/test_exit_codes.py
    drives that one in a pseudo-terminal)."""
    err = Console(stderr=True)  # captured: not a terminal
    for show in (True, False):
        with err.status_line("sending…", show=show) as update:
            update("sending… edition 1: 5 of 10 done (50 %), 5 sent")
    assert capsys.readouterr() == ("", "")
