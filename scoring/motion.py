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
        self.speed = 0.0

    def update(self, t: float, speed: float) -> None:
        self.speed = speed
        if self.stopped and speed >= self.moving_speed:
            self.stopped, self.since = False, None
        elif not self.stopped and speed <= self.stop_speed:
            self.stopped, self.since = True, t

    def stopped_for(self, t: float) -> float:
        return t - self.since if self.stopped and self.since is not None else 0.0


class StopCounter:
    """Applies a 中途停车 rule once per stop that lasts longer than its limit."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self._counted_since: float | None = None

    def check(self, t: float, stops: StopTracker) -> float | None:
        """The stop's duration when it has just become long enough to count, else None."""
        if not stops.stopped or stops.since == self._counted_since:
            return None
        duration = stops.stopped_for(t)
        if self.rule.triggered_by(duration):
            self._counted_since = stops.since
            return duration
        return None


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
