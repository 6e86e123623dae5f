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

from examroom.records.statistics import Rate

FONT = 13  # the charts' font size in SVG units (examroom.css)
RATE_TICKS = (0, 20, 40, 60, 80, 100)
TOP = 34  # below the legend and the category axis title
BAR = 16
BOTTOM = 46  # tick labels and the value axis title


@dataclass(frozen=True)
class Layout:
    """Where a pass-rate chart puts its parts.

    Wide: group names left of the bars. Narrow (a phone): each name above its
    bar, so the picture is narrow enough that its text stays about 11 px high
    when scaled to a 360 px screen.
    """

    name: str
    width: float
    plot_left: float
    plot_width: float
    row: float  # height of one group
    bar_dy: float  # the bar's top within its row
    label_dy: float  # the name's baseline within its row
    stacked: bool

    @property
    def label_x(self) -> float:
        return self.plot_left + 4 if self.stacked else self.plot_left - 6

    @property
    def label_room(self) -> float:
        """How wide a group name may be drawn; longer ones are shortened (the full name is the bar's tooltip)."""
        return self.width - self.plot_left - 8 if self.stacked else self.plot_left - 10

    @property
    def plot_right(self) -> float:
        return self.plot_left + self.plot_width

    @property
    def value_x(self) -> float:
        return self.plot_right + 6


WIDE = Layout("wide", 520, 156, 250, 24, 4, 16, stacked=False)
NARROW = Layout("narrow", 360, 8, 230, 38, 18, 14, stacked=True)


@dataclass(frozen=True)
class Bar:
    label: str  # as drawn beside the bar
    name: str  # in full, for the tooltip and the downloads
    rate: Rate
    y: float  # the bar's top
    label_y: float  # the name's baseline
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
    layout: Layout
    plot_top = TOP - 4
    bar_height = BAR

    @property
    def plot_bottom(self) -> float:
        return TOP + self.layout.row * len(self.bars)

    @property
    def height(self) -> float:
        return self.plot_bottom + BOTTOM

    @property
    def overall_x(self) -> float:
        return self.layout.plot_left + self.overall * self.layout.plot_width

    @property
    def ticks(self) -> list[tuple[float, int]]:
        return [(self.layout.plot_left + t / 100 * self.layout.plot_width, t) for t in RATE_TICKS]


def text_width(text: str) -> float:
    """About how wide ``text`` is drawn: Han characters a full em, Latin letters and digits about 0.6 of one."""
    return sum(FONT if ord(c) >= 0x2E80 else 0.6 * FONT for c in text)


def _short(name: str, room: float) -> str:
    if text_width(name) <= room:
        return name
    while name and text_width(name + "…") > room:
        name = name[:-1]
    return name + "…"


def rate_chart(key: str, title: str, axis: str, rates: Sequence[Rate], overall: float,
               name: Callable[[str], str] = str, layout: Layout = WIDE) -> RateChart:
    bars = []
    for i, r in enumerate(rates):
        top = TOP + layout.row * i
        bars.append(Bar(_short(name(r.key), layout.label_room), name(r.key), r, top + layout.bar_dy,
                        top + layout.label_dy, round(r.rate * layout.plot_width, 1)))
    return RateChart(key, title, axis, bars, overall, layout)


# Vertical count bars (attempts started per hour).
COUNT_LEFT, COUNT_TOP, COUNT_HEIGHT = 52, 34, 150
COUNT_SLOT = 26


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
    return CountChart(title, columns, ticks, max(COUNT_LEFT + COUNT_SLOT * len(hours) + 16, 320))
