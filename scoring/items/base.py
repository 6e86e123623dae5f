"""What an item judge sees of the attempt, and the interface every item judge has."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Callable, NamedTuple

from .. import limits
from ..events import VALUE_DECIMALS
from ..geometry import Line, forward
from ..item_geometry import Item
from ..motion import StopCounter, StopTracker, passed_at
from ..observations import CourseSensor, Signals
from ..rules import Rule, RuleSet
from ..vehicle import Placement, VehicleModel

# The point that finishes an item by crossing its exit line, unless the item says otherwise:
# the rear wheels must be through, so nothing they do inside the item escapes it.
EXIT_POINT = "rear_axle"


class Frame(NamedTuple):
    """One GNSS fix with the vehicle placed on the course, and the fix before it (a named tuple: the
    judge makes one per fix)."""

    t: float
    utc: datetime
    speed: float
    placement: Placement
    previous: Placement | None
    position: tuple[float, float]  # antenna, course frame
    previous_t: float | None = None  # when the previous fix was taken
    previous_utc: datetime | None = None
    fixes: int = 1  # what the position counts for toward a line touch's confirmation (pose_reading)
    reached: tuple[float, datetime] | None = None  # a standstill mean: (t, utc) the vehicle got there

    def path(self, point: str) -> tuple[tuple[float, float] | None, tuple[float, float]]:
        """Where a named point was at the previous fix (or None) and is now."""
        before = self.previous.point(point) if self.previous is not None else None
        return before, self.placement.point(point)


def crossing(frame: Frame, previous: Frame | None, point: str, line: Line,
             margin: float = 0.0) -> tuple[float, datetime] | None:
    """Interpolated (t, utc) at which ``point`` got ``margin`` past ``line`` between the last fix and this one."""
    before, now = frame.path(point)
    if before is None or previous is None:
        return None
    k = line.crossed(before, now, margin)
    if k is None:
        return None
    return previous.t + (frame.t - previous.t) * k, previous.utc + (frame.utc - previous.utc) * k


def motion_direction(frame: Frame, direction_speed: float) -> int:
    """+1 moving forward, −1 moving backward, 0 too slow to tell (rear-axle travel along the heading)."""
    if frame.previous is None or frame.speed < direction_speed:
        return 0
    (x0, y0), (x1, y1) = frame.previous.point("rear_axle"), frame.placement.point("rear_axle")
    f = forward(frame.placement.heading)
    along = (x1 - x0) * f[0] + (y1 - y0) * f[1]
    return 0 if along == 0 else (1 if along > 0 else -1)


def at_time(t: float, utc: datetime, at: float) -> tuple[float, datetime]:
    """(t, utc) of an earlier moment ``at``, given the pair (t, utc) of now."""
    return at, utc - timedelta(seconds=t - at)


def line_event(frame: Frame, depth_before: float | None, depth_now: float, margin: float) -> tuple[float, datetime]:
    """When a point went ``margin`` past a line reference, interpolated between the previous fix and this one.

    ``depth_*`` are how far past the reference the point was (negative: short of it). With no
    usable fix before, the event is placed at this fix: later, never earlier, than it happened.
    A standstill mean's position was reached when the standstill began (``Frame.reached``), not
    at its latest fix: the interpolation ends there.
    """
    t, utc = frame.t, frame.utc
    if frame.reached is not None and (frame.previous_t is None or frame.reached[0] > frame.previous_t):
        t, utc = frame.reached
    if frame.previous_t is None or frame.previous_utc is None or depth_before is None \
            or not math.isfinite(depth_before) or depth_before > margin or depth_now <= depth_before:
        return t, utc
    k = (margin - depth_before) / (depth_now - depth_before)
    return (frame.previous_t + (t - frame.previous_t) * k,
            frame.previous_utc + (utc - frame.previous_utc) * k)


class Context:
    """Rules, settings, the vehicle and the motion state, plus the one way to deduct."""

    def __init__(self, ruleset: RuleSet, vehicle: VehicleModel, vehicle_class: str, stops: StopTracker,
                 deduct: Callable[[Rule, float, datetime, float | None, str | None, str], None]) -> None:
        self.ruleset = ruleset
        self.vehicle = vehicle
        self.vehicle_class = vehicle_class
        self.stops = stops
        self._deduct = deduct
        self.signals: Signals | None = None  # the latest signal snapshot
        self.last_fix_t: float | None = None  # the latest GNSS fix: item timers count up to it
        self._over: dict[str, limits.Limit] = {}  # the settings' limits, worked out once (judges compare per fix)
        self._reached: dict[str, limits.Limit] = {}

    def confirmed(self, t: float) -> float:
        """``t``, or the last fix if that is earlier: the vehicle's place is known only up to it."""
        return t if self.last_fix_t is None else min(t, self.last_fix_t)

    def rule(self, rule_id: str) -> Rule:
        return self.ruleset.rule(rule_id)

    def measure(self, name: str) -> float:
        return self.ruleset.measure(name)

    def point_margin(self, point: str) -> float:
        """How far ``point`` (a wheel, a reference point) must be measured past a line to touch it: the
        position noise bound plus what the heading noise adds at its lever arm (limits.point_margin)."""
        return limits.point_margin(self.measure("line_margin"), self.vehicle.lever_arm(point),
                                   self.measure("heading_noise"))

    def body_margin(self) -> float:
        """The same for the outline: its furthest corner's lever arm (every corner gets this margin)."""
        return limits.point_margin(self.measure("line_margin"), self.vehicle.outline_lever_arm,
                                   self.measure("heading_noise"))

    def confirm_fixes(self) -> int:
        """How many consecutive fixes over its margin make a touch (measurement.line_confirm_fixes)."""
        return max(int(self.measure("line_confirm_fixes")), 1)

    def over(self, name: str, measured: float) -> bool:
        """``measured`` is more than the measurement setting ``name`` (exact, scoring.limits)."""
        limit = self._over.get(name) or self._setting(self._over, ">", name)
        return limit.holds(measured)

    def reached(self, name: str, measured: float) -> bool:
        """``measured`` is at least the measurement setting ``name`` (exact, scoring.limits)."""
        limit = self._reached.get(name) or self._setting(self._reached, ">=", name)
        return limit.holds(measured)

    def _setting(self, cache: dict[str, limits.Limit], comparator: str, name: str) -> limits.Limit:
        setting = self.ruleset.measurement[name]
        cache[name] = limits.Limit(comparator, setting.value, setting.unit)
        return cache[name]

    def applies(self, rule_id: str) -> bool:
        return self.rule(rule_id).applies_to(self.vehicle_class)

    def deduct(self, rule_id: str, t: float, utc: datetime, value: float | None = None, unit: str | None = None,
               detail: str = "") -> None:
        """Apply a rule if it applies to this class (and is enabled)."""
        rule = self.rule(rule_id)
        if rule.applies_to(self.vehicle_class):
            measured = None if value is None else round(value, VALUE_DECIMALS)
            self._deduct(rule, t, utc, measured, unit, detail)


class ItemJudge:
    """Base of the item judges; the attempt judge calls these hooks while the vehicle is in the item."""

    owns_rollback = False  # True when the item judges rollback itself (the hill)
    reverses = False  # True when reversing is part of the item (no rollback judged in it)
    exit_point = EXIT_POINT

    def __init__(self, item: Item, ctx: Context, started_t: float) -> None:
        self.item = item
        self.ctx = ctx
        self.started_t = started_t

    def on_pose(self, frame: Frame) -> None:
        pass

    def on_signals(self, signals: Signals) -> None:
        pass

    def on_sensor(self, sensor: CourseSensor) -> None:
        pass

    def on_tick(self, t: float, utc: datetime) -> None:
        pass

    def deduct_stop(self, stops: StopCounter, t: float, utc: datetime) -> None:
        """Apply the item's 中途停车 rule once the counter has found a standstill long enough to count."""
        stopped = stops.check(t, self.ctx.stops)
        if stopped is not None:
            duration, at = stopped
            self.ctx.deduct(stops.rule.id, *at_time(t, utc, at), value=duration, unit="s")

    def deduct_time_limit(self, rule_id: str, started: float | None, t: float, utc: datetime) -> bool:
        """Apply the item's time limit once the time since ``started`` passes it; True when it did."""
        if started is None:
            return False
        elapsed = self.ctx.confirmed(t) - started
        rule = self.ctx.rule(rule_id)
        if not rule.triggered_by(elapsed):
            return False
        self.ctx.deduct(rule.id, *at_time(t, utc, passed_at(rule, started, t)), value=elapsed, unit="s")
        return True

    def exit_crossing(self, frame: Frame, previous: Frame | None) -> tuple[float, datetime] | None:
        """When the vehicle finished the item between ``previous`` and ``frame``, else None."""
        return crossing(frame, previous, self.exit_point, self.item.exit, self.ctx.measure("line_margin"))

    def finish(self, t: float, utc: datetime) -> None:
        """The vehicle has left the item over its exit line."""
