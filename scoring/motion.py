"""Motion state from the GNSS stream: stops (with hysteresis) and rollback after a stop."""

from __future__ import annotations

from dataclasses import dataclass

from .geometry import Vec, forward
from .rules import Rule


class StopTracker:
    """Stopped or moving, with hysteresis so speed noise does not split one stop in two.

    A stop begins at the first fix at or below ``stop_speed − noise`` and ends at the
    first fix at or above ``moving_speed − noise``: with speed noise up to ``noise``
    the vehicle is really at or below ``stop_speed`` when a stop begins, and a stop
    never lasts longer than the vehicle really stood (the timer never runs early).
    """

    def __init__(self, stop_speed: float, moving_speed: float, noise: float = 0.0) -> None:
        self.stop_speed = stop_speed - noise
        self.moving_speed = moving_speed - noise
        self.stopped = False
        self.since: float | None = None  # when the current stop began
        self.confirmed: float | None = None  # the last fix that showed the vehicle still stopped
        self.speed = 0.0

    def update(self, t: float, speed: float) -> None:
        self.speed = speed
        if self.stopped and speed >= self.moving_speed:
            self.stopped, self.since = False, None
        elif not self.stopped and speed <= self.stop_speed:
            self.stopped, self.since = True, t
        if self.stopped:
            self.confirmed = t

    def stopped_for(self, t: float) -> float:
        """How long the vehicle has stood, as far as fixes confirm it (never longer than it did).

        Between fixes the vehicle may already have moved off: time after the last fix that
        showed it stopped does not count until a fix confirms it.
        """
        if not self.stopped or self.since is None or self.confirmed is None:
            return 0.0
        return min(t, self.confirmed) - self.since


class StopCounter:
    """Applies a 中途停车 rule once per stop that lasts longer than its limit."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self._counted_since: float | None = None

    def check(self, t: float, stops: StopTracker) -> tuple[float, float] | None:
        """(duration, when it passed the limit) once a stop has become long enough to count, else None.

        The moment is the stop's start plus the limit: the stop timer's reading, which fixes
        confirm only a little later (the record is exact, the announcement a fix behind).
        """
        if not stops.stopped or stops.since is None or stops.since == self._counted_since:
            return None
        duration = stops.stopped_for(t)
        if self.rule.triggered_by(duration):
            self._counted_since = stops.since
            return duration, passed_at(self.rule, stops.since, t)
        return None


def passed_at(rule: Rule, since: float, t: float) -> float:
    """When a timer started at ``since`` passed the rule's (single) duration limit; ``t`` if it has none."""
    limits = [p.value for p in rule.params.values() if p.unit == "s" and p.value is not None]
    return min(since + limits[0], t) if len(limits) == 1 else t


@dataclass
class Rollback:
    """Backward travel along ``heading`` from the furthest point reached while stopped.

    The episode ends when the vehicle, moving again, is past that point by more
    than ``floor`` (it has moved off).
    """

    heading: float
    floor: float
    furthest: float
    worst: float = 0.0
    ended: bool = False

    @classmethod
    def begin(cls, position: Vec, heading: float, floor: float) -> "Rollback":
        return cls(heading=heading, floor=floor, furthest=cls._along(position, heading))

    @staticmethod
    def _along(p: Vec, heading: float) -> float:
        f = forward(heading)
        return p[0] * f[0] + p[1] * f[1]

    def update(self, position: Vec, stopped: bool) -> None:
        along = self._along(position, self.heading)
        if stopped:
            self.furthest = max(self.furthest, along)  # still settling into the stop
        self.worst = max(self.worst, self.furthest - along)
        if not stopped and along > self.furthest + self.floor:
            self.ended = True

    @property
    def measured(self) -> float:
        """The rollback worth judging: 0 below the measurement floor (noise)."""
        return self.worst if self.worst >= self.floor else 0.0
