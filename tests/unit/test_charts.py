"""The arithmetic behind the status page's bar charts (pipeline.web.charts)."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.web import charts

DAYS = tuple(dt.date(2026, 11, 20) + dt.timedelta(days=n) for n in range(3))


@pytest.mark.parametrize(
    ("most", "top"), [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (11, 20), (1237, 2000)]
)
def test_the_scale_ends_at_one_two_or_five_times_ten_to_the_n(most: int, top: int) -> None:
    assert charts.nice_top(most) == top


def test_small_sources_are_summed_as_weitere() -> None:
    by_name = {f"Quelle {n}": (n, 0, 0) for n in range(1, 9)}
    series = charts.top_series(by_name, keep=3)
    assert [s.label for s in series] == ["Quelle 8", "Quelle 7", "Quelle 6", "Weitere"]
    assert series[-1].values == (15, 0, 0)  # 1 + 2 + 3 + 4 + 5
    assert [s.css for s in series] == ["c1", "c2", "c3", "c4"]


def test_stacked_bars_sit_on_the_baseline_and_reach_their_total() -> None:
    chart = charts.daily_bars(
        "c",
        "T",
        "D",
        DAYS,
        [charts.Series("A", (2, 0, 1)), charts.Series("B", (3, 0, 0), "c2")],
    )
    assert chart.top == 5 and chart.totals == (5, 0, 1) and chart.total == 6
    first_day = [b for b in chart.bars if b.x == chart.bars[0].x]
    assert [b.value for b in first_day] == [2, 3]
    assert first_day[0].y + first_day[0].height == pytest.approx(chart.baseline)
    assert first_day[1].y == pytest.approx(charts.TOP, abs=0.1)  # 5 of 5: the full height
    assert chart.day_labels[-1].day == DAYS[-1]
    with pytest.raises(ValueError, match="one value per day"):
        charts.daily_bars("c", "T", "D", DAYS, [charts.Series("A", (1,))])
