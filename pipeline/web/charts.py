"""Bar charts per day for the status page, drawn as inline SVG by templates/web/_charts.html.

`daily_bars` does the arithmetic (pure): one column per day, the series stacked in it, a
scale rounded up to a readable top. The template draws the rectangles and, for people who
cannot see them, the same numbers as a table. No JavaScript, no library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 480  # viewBox units; the SVG scales to its container
HEIGHT = 200
LEFT = 40  # room for the scale's numbers
BOTTOM = 24  # room for the day labels
TOP = 8
RIGHT = 20  # room for today's label
PALETTE = ("c1", "c2", "c3", "c4", "c5", "c6")  # CSS classes, colours in desk.css
MAX_SERIES = 6  # more sources than this: the rest are drawn as one "Weitere"


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: tuple[int, ...]
    css: str = "c1"

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str  # "<series>: <value>", the rectangle's tooltip
    value: int


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True, slots=True)
class DayLabel:
    x: float
    day: dt.date


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    desc: str  # what the chart shows, in a sentence: the text alternative's summary
    days: tuple[dt.date, ...]
    series: tuple[Series, ...]
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    day_labels: tuple[DayLabel, ...]
    top: int
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: float = HEIGHT - BOTTOM

    @property
    def totals(self) -> tuple[int, ...]:
        return tuple(sum(s.values[i] for s in self.series) for i in range(len(self.days)))

    @property
    def total(self) -> int:
        return sum(self.totals)


def nice_top(most: int) -> int:
    """The scale's top: at least `most`, a 1, 2 or 5 times a power of ten (at least 1)."""
    if most <= 1:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if most <= m * step:
                return m * step
        step *= 10


def top_series(
    by_name: Mapping[str, Sequence[int]], *, keep: int = MAX_SERIES - 1, rest: str = "Weitere"
) -> tuple[Series, ...]:
    """The `keep` biggest series by total (ties by name), the others summed as `rest`."""
    ranked = sorted(by_name.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    head, tail = ranked[:keep], ranked[keep:]
    if len(tail) == 1:
        head, tail = ranked, []
    out = [Series(name, tuple(v)) for name, v in head]
    if tail:
        out.append(Series(rest, tuple(map(sum, zip(*(v for _, v in tail), strict=True)))))
    return tuple(replace_css(s, PALETTE[n % len(PALETTE)]) for n, s in enumerate(out))


def replace_css(s: Series, css: str) -> Series:
    return Series(s.label, s.values, css)


def daily_bars(
    chart_id: str,
    title: str,
    desc: str,
    days: Sequence[dt.date],
    series: Sequence[Series],
    *,
    label_every: int = 0,
) -> Chart:
    """Stacked columns, one per day; the first series at the bottom."""
    n = len(days)
    if any(len(s.values) != n for s in series):
        raise ValueError("every series needs one value per day")
    totals = [sum(s.values[i] for s in series) for i in range(n)]
    top = nice_top(max(totals, default=0))
    baseline = HEIGHT - BOTTOM
    plot_h = baseline - TOP
    slot = (WIDTH - LEFT - RIGHT) / max(n, 1)
    width = slot * 0.72
    bars: list[Bar] = []
    for i in range(n):
        x = LEFT + i * slot + (slot - width) / 2
        y: float = baseline
        for s in series:
            v = s.values[i]
            if v <= 0:
                continue
            h = plot_h * v / top
            y -= h
            bars.append(
                Bar(
                    round(x, 1),
                    round(y, 1),
                    round(width, 1),
                    round(h, 1),
                    s.css,
                    f"{s.label}: {v}",
                    v,
                )
            )
    ticks = tuple(
        Tick(round(baseline - plot_h * f, 1), round(top * f))
        for f in (0, 0.5, 1)
        if f == 0 or top * f == int(top * f)
    )
    every = label_every or (1 if n <= 7 else 2 if n <= 14 else 5)
    labels = tuple(
        DayLabel(round(LEFT + i * slot + slot / 2, 1), days[i])
        for i in range(n)
        if (n - 1 - i) % every == 0  # today is always labelled
    )
    return Chart(
        id=chart_id,
        title=title,
        desc=desc,
        days=tuple(days),
        series=tuple(series),
        bars=tuple(bars),
        ticks=ticks,
        day_labels=labels,
        top=top,
    )
