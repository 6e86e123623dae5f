"""Checks shared by the items judged against painted lines and areas.

Every check gives the candidate the benefit of the measurement noise
(``measurement.line_margin``, the GNSS position noise bound): a wheel or the
body touches a line only when it is measured more than the margin past the
line's judging reference, so noise never touches a line the vehicle has not
reached; and the moment of a wheel's touch is interpolated between fixes
(GA/T 1028.3: 0~+50 mm past the reference, never before it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from shapely.geometry import Point, Polygon
from shapely.ops import nearest_points

from ..geometry import Vec
from .base import Frame, line_event


def signed_depth(area: Polygon, p: Vec) -> float:
    """How far ``p`` is outside ``area`` (negative: how far inside)."""
    point = Point(p)
    distance = area.exterior.distance(point)
    return -distance if area.contains(point) else distance


class WheelLines:
    """Watches wheels against lines; reports each wheel's touch once per touch, at the interpolated moment."""

    def __init__(self, wheels: tuple[str, ...], depth: Callable[[Vec], float], margin: float) -> None:
        self.wheels = wheels
        self.depth = depth
        self.margin = margin
        self._over: dict[str, bool] = {}

    @classmethod
    def outside(cls, wheels: tuple[str, ...], area: Polygon, margin: float) -> "WheelLines":
        return cls(wheels, lambda p: signed_depth(area, p), margin)

    def update(self, frame: Frame) -> list[tuple[str, float, float, datetime]]:
        """Wheels that have just touched: (wheel, depth now, t, utc of the touch)."""
        touched = []
        for wheel in self.wheels:
            depth = self.depth(frame.placement.point(wheel))
            over = depth > self.margin
            if over and not self._over.get(wheel, False):
                before = self.depth(frame.previous.point(wheel)) if frame.previous is not None else None
                t, utc = line_event(frame, before, depth, self.margin)
                touched.append((wheel, depth, t, utc))
            self._over[wheel] = over
        return touched


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
    def depth(outline) -> float:
        return max(signed_depth(area, p) for p in outline.exterior.coords)

    before = depth(frame.previous.outline) if frame.previous is not None else None
    return line_event(frame, before, depth(frame.placement.outline), margin)


def with_margin(area: Polygon, margin: float) -> Polygon:
    """The area grown by the line margin: what the body may reach before it counts as out."""
    return area.buffer(margin, join_style="mitre")


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
