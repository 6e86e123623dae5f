"""Checks shared by the items judged against painted areas (the C3 items, the bay-shift course)."""

from __future__ import annotations

from shapely.geometry import Point, Polygon
from shapely.ops import nearest_points

from .base import Frame


def wheels_on_lines(frame: Frame, wheels: tuple[str, ...], area: Polygon) -> list[tuple[str, float]]:
    """Wheels whose contact point is on or past the judging reference of ``area``'s lines, with how far."""
    found = []
    for wheel in wheels:
        point = Point(frame.placement.point(wheel))
        if not area.contains(point):  # on the boundary counts: the tyre is on the line
            found.append((wheel, area.exterior.distance(point) if not area.covers(point) else 0.0))
    return found


def body_outside(frame: Frame, area: Polygon) -> tuple[float, Point] | None:
    """How far the outline reaches past ``area`` and where, or None when it is wholly inside."""
    outline = frame.placement.outline
    if area.contains(outline):
        return None
    outside = outline.difference(area)
    if outside.is_empty:  # touching the boundary from inside
        return 0.0, nearest_points(outline.exterior, area.exterior)[0]
    depth = max(area.distance(Point(p)) for geom in getattr(outside, "geoms", [outside])
                for p in geom.exterior.coords)
    return depth, outside.representative_point()


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
