"""Checks shared by the items judged against painted lines and areas.

Every check gives the candidate the benefit of the measurement noise:

* **Margin.** A wheel or the body touches a line only when it is measured more than its margin
  past the line's judging reference. The antenna's position is known to
  ``measurement.line_margin`` (the GNSS position noise bound); a heading error of up to
  ``measurement.heading_noise`` swings a point ``L`` metres from the antenna sideways by up to
  ``L × tan(heading_noise)`` more, so each wheel's margin is ``line_margin + L × tan(heading_noise)``
  with its own lever arm (``Context.point_margin``) and the body's uses its furthest outline corner
  (``Context.body_margin``). The E motorcycle's front wheel (0.70 m from the antenna) gets
  21.2 mm, a C3's front wheels (1.57 m) 22.7 mm, its body (2.50 m) 24.4 mm.
* **Confirmation.** A Gaussian tail exceeds any fixed margin (σ = 1 cm: 2.3 % of single fixes
  are beyond 2 cm), so one fix over the margin is not a touch: it counts only when
  ``measurement.line_confirm_fixes`` (2) consecutive fixes are over it; a standstill's mean of n
  fixes (scoring/pose_reading.py) counts as n − 1 of them, so a mean of 3 or more confirms by
  itself. The touch is placed where the first of them got over the margin, interpolated from the
  fix before it (GA/T 1028.3: 0~+50 mm past the reference, never before it; a standstill mean's
  position counts from the standstill's first fix, ``Frame.reached``); it is decided one fix
  later (0.1 s at 10 Hz, 0.2 s at 5 Hz). A point that is over at a single fix and back inside at
  the next is not judged on that line; nor is one whose confirming fix never comes (the item or
  the stream ends first).

With bounded noise (position within a 2 cm disc, heading within heading_noise) a point never
touches a line it has not reached, and one that gets more than twice its margin past the
reference (at most 50 mm for lever arms up to 2.8 m at 0.1°) is caught at the second fix it
stays there. tests/scoring/test_line_noise.py and bench/line_noise.py measure both under disc
and Gaussian noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Generic, Iterable, TypeVar

from shapely.geometry import Point, Polygon
from shapely.ops import nearest_points

from ..geometry import Vec
from ..item_geometry import Pole
from ..observations import CourseSensor
from .base import Context, Frame, line_event

T = TypeVar("T")


def signed_depth(area: Polygon, p: Vec) -> float:
    """How far ``p`` is outside ``area`` (negative: how far inside)."""
    point = Point(p)
    distance = area.exterior.distance(point)
    return -distance if area.contains(point) else distance


class Confirmation(Generic[T]):
    """Consecutive fixes over a line, per key: a touch counts once ``fixes`` fixes in a row are over.

    :meth:`update` is told at each judged frame whether the key is over its margin and what the
    frame counts for (``Frame.fixes``: 1, or n − 1 for a standstill mean of n fixes); at the first
    frame of a run it takes the event (the interpolated moment, and anything else the caller
    wants kept from that frame) and returns it at the frame that confirms the run.
    """

    def __init__(self, fixes: int) -> None:
        self.fixes = max(int(fixes), 1)
        self._run: dict[str, int] = {}
        self._first: dict[str, T] = {}

    def update(self, key: str, over: bool, event: Callable[[], T], fixes: int = 1) -> T | None:
        if not over:
            self.clear(key)
            return None
        before = self._run.get(key, 0)
        self._run[key] = before + max(fixes, 1)
        if before == 0:
            self._first[key] = event()
        return self._first[key] if before < self.fixes <= self._run[key] else None

    def clear(self, key: str) -> None:
        """``key`` is not over its margin at this frame: its run, if any, is over."""
        if key in self._run:
            del self._run[key]
            self._first.pop(key, None)

    def confirmed(self, key: str) -> bool:
        """``key`` has been over its margin for at least ``fixes`` fixes in a row, up to now."""
        return self._run.get(key, 0) >= self.fixes


class WheelLines:
    """Watches wheels against lines; reports each wheel's touch once per touch, at the interpolated moment.

    Each wheel has its own margin (its lever arm from the antenna), and a touch is confirmed by
    consecutive fixes (module docstring).
    """

    def __init__(self, wheels: tuple[str, ...], depth: Callable[[Vec], float], margins: dict[str, float],
                 confirm_fixes: int) -> None:
        self.wheels = wheels
        self.depth = depth
        self.margins = margins
        self._confirm: Confirmation[tuple[float, datetime]] = Confirmation(confirm_fixes)

    @classmethod
    def of(cls, ctx: Context, depth: Callable[[Vec], float]) -> "WheelLines":
        """The vehicle's wheels, with the rule set's margins and confirmation."""
        wheels = ctx.vehicle.wheel_names
        return cls(wheels, depth, {w: ctx.point_margin(w) for w in wheels}, ctx.confirm_fixes())

    @classmethod
    def outside(cls, ctx: Context, area: Polygon) -> "WheelLines":
        return cls.of(ctx, lambda p: signed_depth(area, p))

    def update(self, frame: Frame) -> list[tuple[str, float, float, datetime]]:
        """Wheels whose touch this fix confirms: (wheel, depth now, t, utc of the touch)."""
        touched = []
        for wheel in self.wheels:
            depth = self.depth(frame.placement.point(wheel))
            margin = self.margins[wheel]
            if depth <= margin:
                self._confirm.clear(wheel)
                continue

            def event(wheel: str = wheel, depth: float = depth, margin: float = margin) -> tuple[float, datetime]:
                before = self.depth(frame.previous.point(wheel)) if frame.previous is not None else None
                return line_event(frame, before, depth, margin)

            first = self._confirm.update(wheel, True, event, frame.fixes)
            if first is not None:
                touched.append((wheel, depth, *first))
        return touched

    def any_over(self) -> bool:
        """Some wheel's touch is confirmed and it is still over its margin."""
        return any(self._confirm.confirmed(w) for w in self.wheels)


def body_outside(frame: Frame, area: Polygon) -> tuple[float, Point] | None:
    """How far the outline reaches past ``area`` and where, or None when it is wholly inside.

    Pass the area grown by the line margin (:func:`with_margin`) so noise never puts the body out.
    """
    outline = frame.placement.outline
    if area.contains(outline):
        return None
    outside = outline.difference(area)
    if outside.is_empty:  # touching the boundary from inside
        return 0.0, nearest_points(outline.exterior, area.exterior)[0]
    depth = max(area.distance(Point(p)) for geom in getattr(outside, "geoms", [outside])
                for p in geom.exterior.coords)
    return depth, outside.representative_point()


def body_event_time(frame: Frame, area: Polygon, margin: float) -> tuple[float, datetime]:
    """When the body got ``margin`` past the lines of ``area`` (the area itself, not grown), interpolated.

    Uses the outline's corners: how far the furthest one was past the lines at the previous fix
    and now. Call it once the body is known to be out (:func:`body_outside`).
    """
    def depth(placement) -> float:
        return max(signed_depth(area, p) for p in placement.corners)

    before = depth(frame.previous) if frame.previous is not None else None
    return line_event(frame, before, depth(frame.placement), margin)


def with_margin(area: Polygon, margin: float) -> Polygon:
    """The area grown by the line margin: what the body may reach before it counts as out."""
    return area.buffer(margin, join_style="mitre")


@dataclass(frozen=True)
class BodyOut:
    """The outline's first confirmed reach past an item's area: how far past its lines, where, when."""

    depth: float  # metres past the area's lines (margin included)
    where: Point
    t: float
    utc: datetime


class BodyInArea:
    """Watches the vehicle's outline stay inside an item's area (车身出线); says so once.

    The area is grown by the outline's ``margin`` (:func:`with_margin`) and a reach over it counts
    at the rule set's confirmation fixes (:class:`Confirmation`), timed where the body got
    ``margin`` past the area's own lines (:func:`body_event_time`).
    """

    def __init__(self, area: Polygon, margin: float, confirm_fixes: int) -> None:
        self.area = area
        self.margin = margin
        self._grown = with_margin(area, margin)
        self._confirm: Confirmation[tuple[float, datetime]] = Confirmation(confirm_fixes)
        self.out = False

    def check(self, frame: Frame) -> BodyOut | None:
        """The body's first confirmed reach out of the area at this frame, or None (also once it was out)."""
        if self.out:
            return None
        out = body_outside(frame, self._grown)
        first = self._confirm.update("body", out is not None,
                                     lambda: body_event_time(frame, self.area, self.margin), frame.fixes)
        if out is None or first is None:
            return None
        self.out = True
        t, utc = first
        return BodyOut(out[0] + self.margin, out[1], t, utc)


class PoleTouches:
    """Which poles the outline has touched (碰擦桩杆), each counted once, by GNSS or by a pole's sensor.

    The outline touches a pole when it is measured closer to the pole's centre than the pole's radius
    less the outline's ``margin``, at the rule set's confirmation fixes in a row (:class:`Confirmation`):
    one fix in the Gaussian tail of the position noise is not a touch, as for lines. The touch is
    placed at the first of those fixes. A pole's own sensor (a switch on the pole, on the course
    board) is a measurement of the contact itself and counts at once.
    """

    def __init__(self, poles: Iterable[Pole], margin: float, confirm_fixes: int) -> None:
        self.poles = tuple(poles)
        self.margin = margin
        self._confirm: Confirmation[tuple[float, datetime]] = Confirmation(confirm_fixes)
        self._by_element = {pole.element: pole for pole in self.poles}
        self.touched: set[int] = set()

    def by_outline(self, frame: Frame) -> list[tuple[Pole, float, datetime]]:
        """The poles whose touch this frame confirms, with the moment each was first reached."""
        outline = frame.placement.outline
        found = []
        for pole in self.poles:
            if pole.number in self.touched:
                continue
            reached = outline.distance(Point(pole.position)) < pole.radius - self.margin
            first = self._confirm.update(pole.element, reached, lambda: (frame.t, frame.utc), frame.fixes)
            if first is not None:
                self.touched.add(pole.number)
                found.append((pole, *first))
        return found

    def by_sensor(self, sensor: CourseSensor) -> Pole | None:
        """The pole this sensor reading touches for the first time, or None."""
        pole = self._by_element.get(sensor.element)
        if pole is None or not sensor.active or pole.number in self.touched:
            return None
        self.touched.add(pole.number)
        return pole


class Episodes:
    """Counts separate occurrences of a condition (an each-time rule counts each one once)."""

    def __init__(self) -> None:
        self._active: set[str] = set()

    def update(self, key: str, active: bool) -> bool:
        """True when ``key`` has just become active (a new occurrence)."""
        if not active:
            self._active.discard(key)
            return False
        if key in self._active:
            return False
        self._active.add(key)
        return True
