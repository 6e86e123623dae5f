"""Chart geometry for the statistics page: server-drawn SVG with axes, units and legends.

The page draws SVG from these numbers in its template; no script runs, so a
Content-Security-Policy without inline script changes nothing and a printed
page shows the same charts. Coordinates are in the SVG's own units (its
viewBox); the browser scales the picture to the screen's width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from examroom.statistics import Rate

# Horizontal pass-rate bars: group names left, bars in the middle, figures right.
WIDTH = 520
LABEL_RIGHT = 150  # group names end here (text-anchor end)
PLOT_LEFT, PLOT_WIDTH = 156, 250
TOP = 34  # below the legend and the category axis title
ROW = 24
BAR = 16
BOTTOM = 46  # tick labels and the value axis title
RATE_TICKS = (0, 20, 40, 60, 80, 100)
LABEL_CHARS = 10  # longer group names are shortened on the chart; the full name is the bar's tooltip

# Vertical count bars (attempts started per hour).
COUNT_LEFT, COUNT_TOP, COUNT_HEIGHT = 52, 34, 150
COUNT_SLOT = 26


@dataclass(frozen=True)
class Bar:
    label: str  # as drawn beside the bar
    name: str  # in full, for the tooltip and the downloads
    rate: Rate
    y: float
    width: float

    @property
    def percent(self) -> int:
        return round(self.rate.rate * 100)


@dataclass(frozen=True)
class RateChart:
    """A pass rate per group, drawn as horizontal bars against a 0–100 % axis with the overall rate marked."""

    key: str  # the chart's id in the page and its section in the downloads
    title: str
    axis: str  # what the groups are (考试项目, 准驾车型, ...)
    bars: list[Bar]
    overall: float
    height: float

    label_right = LABEL_RIGHT
    plot_left = PLOT_LEFT
    plot_right = PLOT_LEFT + PLOT_WIDTH
    value_x = PLOT_LEFT + PLOT_WIDTH + 6
    plot_top = TOP - 4
    width = WIDTH

    @property
    def plot_bottom(self) -> float:
        return TOP + ROW * len(self.bars)

    @property
    def overall_x(self) -> float:
        return PLOT_LEFT + self.overall * PLOT_WIDTH

    @property
    def ticks(self) -> list[tuple[float, int]]:
        return [(PLOT_LEFT + t / 100 * PLOT_WIDTH, t) for t in RATE_TICKS]


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"


def rate_chart(key: str, title: str, axis: str, rates: Sequence[Rate], overall: float,
               name: Callable[[str], str] = str) -> RateChart:
    bars = [Bar(_short(name(r.key)), name(r.key), r, TOP + ROW * i + (ROW - BAR) / 2, round(r.rate * PLOT_WIDTH, 1))
            for i, r in enumerate(rates)]
    return RateChart(key, title, axis, bars, overall, TOP + ROW * len(bars) + BOTTOM)


@dataclass(frozen=True)
class Column:
    label: str
    count: int
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class CountChart:
    """Counts per hour as vertical bars on a count axis with round ticks."""

    title: str
    columns: list[Column]
    ticks: list[tuple[float, int]]  # (y, value)
    width: float
    height: float = COUNT_TOP + COUNT_HEIGHT + 44
    plot_left = COUNT_LEFT
    plot_top = COUNT_TOP - 4
    column_width = COUNT_SLOT - 8

    @property
    def plot_bottom(self) -> float:
        return COUNT_TOP + COUNT_HEIGHT

    @property
    def plot_right(self) -> float:
        return self.width - 8


def tick_step(most: int) -> int:
    """A round step (1, 2, 5, 10, 20, ...) giving at most five ticks above zero up to ``most``."""
    if most <= 5:
        return 1
    magnitude = 10 ** int(math.log10(most / 5))
    return next(magnitude * m for m in (1, 2, 5, 10) if magnitude * m * 5 >= most)


def count_chart(title: str, counts: Sequence[tuple[int, int]], hour_label: Callable[[int], str]) -> CountChart:
    """Attempts started per local hour, every hour from the first to the last shown (an empty hour is a zero)."""
    if counts:
        by_hour = dict(counts)
        hours = list(range(min(by_hour), max(by_hour) + 1))
    else:
        by_hour, hours = {}, []
    most = max(by_hour.values(), default=0)
    step = tick_step(max(most, 1))
    top = step * math.ceil(max(most, 1) / step)
    scale = COUNT_HEIGHT / top
    bottom = COUNT_TOP + COUNT_HEIGHT
    columns = []
    for i, hour in enumerate(hours):
        n = by_hour.get(hour, 0)
        h = round(n * scale, 1)
        columns.append(Column(hour_label(hour), n, COUNT_LEFT + COUNT_SLOT * i + 4, bottom - h, h))
    ticks = [(round(bottom - v * scale, 1), v) for v in range(0, top + 1, step)]
    return CountChart(title, columns, ticks, max(COUNT_LEFT + COUNT_SLOT * len(hours) + 16, 240))
