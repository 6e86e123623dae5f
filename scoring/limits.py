"""Every comparison of a measured value with a limit, in one place, exact at the limit.

Rule thresholds (``Threshold.holds``) and the measurement settings a judge compares with
(``Context.over`` / ``Context.reached``) all come here. Both sides are turned into whole
*steps* of their unit — 1 mm, 1 ms, 1 mm/s, 0.001°, one count — and compared as integers,
so floating-point residue can never carry a value across a limit: a front axle measured
0.5000000000000036 m short of the stake line is 500 mm short, and 500 mm is not 超出50cm.

The measured value is rounded to the nearest step — the same rounding the judge uses for the
value it records with a deduction (``events.VALUE_DECIMALS``), so the verdict agrees with the
recorded figure (no deduction reads "0.500 m" for 超出50cm); a value exactly half a step from
the limit goes the candidate's way (:class:`Limit`).
Half a step (0.5 mm, 0.5 ms) is far inside the measurement's own bounds (0~+50 mm,
0~+0.5 s, GA/T 1028.3), and a limit must itself be a whole number of steps
(:func:`whole_steps`; the rule-set loader refuses one that is not).

Which comparison a limit uses follows the Chinese legal convention (domain/README.md):
超出/超过/大于 exclude the limit, 以上/以下/以内 include it. Each threshold in a rule table
names its wording (``wording = "超过"``) and the loader checks that the comparator is the
one the wording means (:data:`WORDINGS`).
"""

from __future__ import annotations

import math
import operator
from typing import Callable

# Steps per unit: a measured value is compared in whole steps (mm, ms, mm/s, millidegrees, counts).
STEPS_PER_UNIT: dict[str, int] = {"m": 1000, "s": 1000, "m/s": 1000, "deg": 1000, "count": 1}

COMPARATORS: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}

# The wording of a limit in the rule text and the comparison it means (domain/README.md,
# research.md §2.0): 超出/超过/大于/以外 exclude the limit, 以上/以下/以内/届满 include it; the
# negated forms (不超出, 未超出, 不超过) include it, 小于/不足/不满 exclude it.
WORDINGS: dict[str, str] = {
    "超出": ">", "超过": ">", "大于": ">", "以外": ">",
    "以上": ">=", "届满": ">=",
    "以下": "<=", "以内": "<=", "不超出": "<=", "未超出": "<=", "不超过": "<=",
    "小于": "<", "不足": "<", "不满": "<",
}


class Limit:
    """One limit, ready to compare with: worked out once, then one float comparison per value.

    Comparing ``round(measured × steps_per_unit)`` with the limit's steps is the same as comparing
    ``measured`` with the edge half a step beside the limit, which is what :meth:`holds` does
    (judges compare on every fix). A value exactly on that edge goes the way that does not
    trigger a lower bound (超出/以上 …) and does trigger an upper one: half a step never counts
    against the candidate, and a 不合格 rule and its minor rule (超出50cm / 不超出50cm) still
    split every value between them.
    """

    __slots__ = ("comparator", "value", "unit", "_edge", "_above")

    def __init__(self, comparator: str, value: float, unit: str) -> None:
        self.comparator, self.value, self.unit = comparator, value, unit
        scale = STEPS_PER_UNIT[unit]
        limit = round(value * scale)
        # ">": more than limit + ½ step; ">=": more than limit − ½; "<=": up to limit + ½; "<": up to limit − ½
        half = {">": 1, ">=": -1, "<=": 1, "<": -1}[comparator]
        self._edge = (limit + half / 2) / scale
        self._above = comparator in (">", ">=")

    def holds(self, measured: float) -> bool:
        """``measured <comparator> value``, compared in whole steps."""
        return measured > self._edge if self._above else measured <= self._edge


def steps(value: float, unit: str) -> int:
    """``value`` in whole steps of ``unit``, rounded to the nearest step."""
    return round(value * STEPS_PER_UNIT[unit])


def whole_steps(value: float, unit: str) -> bool:
    """True when ``value`` is a whole number of steps (a limit must be: it is compared exactly)."""
    scaled = value * STEPS_PER_UNIT[unit]
    return abs(scaled - round(scaled)) < 1e-6


def holds(measured: float, comparator: str, limit: float, unit: str) -> bool:
    """``measured <comparator> limit``, compared in whole steps of ``unit`` (see :class:`Limit`)."""
    return Limit(comparator, limit, unit).holds(measured)


def exceeds(measured: float, limit: float, unit: str) -> bool:
    """超过: ``measured`` is more than ``limit`` (a value at the limit does not exceed it)."""
    return Limit(">", limit, unit).holds(measured)


def reaches(measured: float, limit: float, unit: str) -> bool:
    """以上: ``measured`` is at least ``limit``."""
    return Limit(">=", limit, unit).holds(measured)


def point_margin(position_margin: float, lever_arm: float, heading_noise: float) -> float:
    """The noise margin of a point ``lever_arm`` metres from the GNSS antenna (metres).

    The antenna's position is known to ``position_margin``; a heading error of up to
    ``heading_noise`` degrees moves a point ``lever_arm`` away from it sideways by up to
    ``lever_arm × tan(heading_noise)`` more (measurement.line_margin, measurement.heading_noise).
    A margin is the candidate's allowance, not a limit from the rule text: it is not rounded.
    """
    return position_margin + lever_arm * math.tan(math.radians(heading_noise))
