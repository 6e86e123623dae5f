"""Motion state from the GNSS stream: standstills, the 中途停车 count, and rollback after a stop."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from . import limits
from .geometry import Vec, forward
from .rules import Rule


class StopTracker:
    """Standstill or moving, from the GNSS fixes (measurement settings ``stop_speed``,
    ``speed_noise``, ``standstill_radius``; docs/rule-sets.md).

    The vehicle is at a standstill while its speed is at most ``stop_speed`` and it stays
    where it stopped. From the fixes:

    - a standstill begins at the first fix whose speed is at most ``stop_speed − speed_noise``
      (so the vehicle really was at most ``stop_speed``: a standstill never begins early);
    - it goes on while fixes show that speed and lie within ``standstill_radius`` of the
      standstill's mean position (±2 cm position noise stays well inside it, so noise never
      ends a standstill, and a vehicle creeping away leaves it);
    - it ends at a fix beyond the radius, or at the second fix in a row over the speed: one
      fix over it, still in place, is doubtful (a speed spike) and does not end it, nor does
      it count as standing.

    ``confirmed`` is the last fix that showed the vehicle standing: a standstill never lasts
    longer than fixes confirm (:meth:`stopped_for`), so no timer runs early. Rolling at any
    speed above ``stop_speed`` (walking pace, a creep) is no standstill.
    """

    def __init__(self, stop_speed: float, noise: float, radius: float) -> None:
        self.stop_speed = stop_speed - noise  # the fix speed at or below which the vehicle stands
        self.radius = radius
        self._slow = limits.Limit("<=", self.stop_speed, "m/s")
        self._away = limits.Limit(">", radius, "m")
        self.stopped = False
        self.since: float | None = None  # when the current standstill began
        self.confirmed: float | None = None  # the last fix that showed the vehicle still standing
        self.speed = 0.0
        self._doubtful = False  # the last fix was over the speed but still in place
        self._sum = (0.0, 0.0)
        self._count = 0

    def update(self, t: float, speed: float, position: Vec | None = None) -> None:
        self.speed = speed
        slow = self._slow.holds(speed)
        if self.stopped:
            if not self._in_place(position):
                self._end()
            elif not slow:
                if self._doubtful:
                    self._end()
                else:
                    self._doubtful = True
                    return
            else:
                self._doubtful = False
        if slow and not self.stopped:
            self.stopped, self.since = True, t
            self._sum, self._count = (0.0, 0.0), 0
        if self.stopped:
            self.confirmed = t
            if position is not None:
                self._sum = (self._sum[0] + position[0], self._sum[1] + position[1])
                self._count += 1

    def _in_place(self, position: Vec | None) -> bool:
        if position is None or not self._count:
            return True
        cx, cy = self._sum[0] / self._count, self._sum[1] / self._count
        distance = math.hypot(position[0] - cx, position[1] - cy)
        return not self._away.holds(distance)

    def _end(self) -> None:
        self.stopped, self.since, self._doubtful = False, None, False

    def stopped_for(self, t: float) -> float:
        """How long the vehicle has stood, as far as fixes confirm it (never longer than it did).

        Between fixes the vehicle may already have moved off: time after the last fix that
        showed it stopped does not count until a fix confirms it.
        """
        if not self.stopped or self.since is None or self.confirmed is None:
            return 0.0
        return min(t, self.confirmed) - self.since


class StopCounter:
    """Applies a 中途停车 rule once per standstill that lasts longer than its limit.

    ``prescribed`` (optional) says whether a standstill is one the item prescribes (the stop
    to change direction, the stop in the bay): it is asked once per standstill, where the
    vehicle stands, and a prescribed standstill is never counted, however long it lasts —
    even after the vehicle has begun the next movement of the route.
    """

    def __init__(self, rule: Rule, prescribed: Callable[[], bool] | None = None) -> None:
        self.rule = rule
        self.prescribed = prescribed
        self._judged_since: float | None = None  # the standstill already counted or found prescribed

    def check(self, t: float, stops: StopTracker) -> tuple[float, float] | None:
        """(duration, when it passed the limit) once a standstill has become long enough to count, else None.

        Decided at the first fix that shows the vehicle standing more than the limit (never
        earlier); the moment recorded is the standstill's start plus the limit.
        """
        if not stops.stopped or stops.since is None or stops.since == self._judged_since:
            return None
        if self.prescribed is not None and self.prescribed():
            self._judged_since = stops.since
            return None
        duration = stops.stopped_for(t)
        if self.rule.triggered_by(duration):
            self._judged_since = stops.since
            return duration, passed_at(self.rule, stops.since, t)
        return None


class Turns:
    """Which way the vehicle travels (+1 forward, −1 backward), and where it turned, proof against noise.

    Sums the travel along the body's heading from fix to fix (the sum telescopes, so position
    noise does not accumulate), and decides that the vehicle has turned round only when it has
    come back more than ``radius`` from the furthest point of its current movement: position
    noise (±2 cm) never turns it, however slowly the vehicle moves. The turning point is the
    fix at that furthest point — where the movement really ended — not the fix that showed the
    turn. ``at`` is the travel so far, for measuring how far the vehicle went on after a halt.
    """

    def __init__(self, radius: float, direction: int = 1) -> None:
        self.radius = radius
        self.direction = direction
        self.at = 0.0  # travel along the heading so far (m, + forward)
        self._point: Vec | None = None
        self._extreme = 0.0
        self._extreme_payload: object = None

    def update(self, point: Vec, heading: float, payload: object) -> object:
        """Add a fix; returns the payload of the turning point when the vehicle has just turned round."""
        if self._point is not None:
            f = forward(heading)
            self.at += (point[0] - self._point[0]) * f[0] + (point[1] - self._point[1]) * f[1]
        self._point = point
        if self._extreme_payload is None or (self.at - self._extreme) * self.direction >= 0:
            self._extreme, self._extreme_payload = self.at, payload
            return None
        if limits.exceeds((self._extreme - self.at) * self.direction, self.radius, "m"):
            turned = self._extreme_payload
            self.direction = -self.direction
            self._extreme, self._extreme_payload = self.at, payload
            return turned
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
