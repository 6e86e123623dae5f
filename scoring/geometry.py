"""Plane geometry in the course frame.

Course frame: metres, x east, y north. Headings are degrees clockwise from
north (the GNSS convention), so a heading of 90 points east. "Left" of a
direction is the counter-clockwise side, as a driver sees it.

An item frame is a local frame of one item: ``u`` along the item's travel
heading, ``v`` to the left of it, origin at a point the item chooses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shapely.geometry import LineString, Point

Vec = tuple[float, float]

REFERENCES = ("centre", "inner_edge")
ON_LINE = 1e-6  # metres: a point this close to a line is on it (float round-off, not measurement)


def forward(heading: float) -> Vec:
    """Unit vector of a heading (degrees clockwise from north)."""
    r = math.radians(heading)
    return (math.sin(r), math.cos(r))


def leftward(heading: float) -> Vec:
    """Unit vector pointing to the left of a heading."""
    r = math.radians(heading)
    return (-math.cos(r), math.sin(r))


def bearing(a: Vec, b: Vec) -> float:
    """The heading of the direction from ``a`` to ``b`` (degrees clockwise from north, 0 ≤ h < 360)."""
    return math.degrees(math.atan2(b[0] - a[0], b[1] - a[1])) % 360.0


def opposite(heading: float) -> float:
    """The heading pointing the other way."""
    return (heading + 180.0) % 360.0


def same_way(a: float, b: float) -> bool:
    """Whether two headings point within 90° of each other (the same half-plane)."""
    return math.cos(math.radians(a - b)) > 0


def mean_heading(headings) -> float:
    """The circular mean of headings (359° and 1° average to 0°, not 180°); one heading is itself."""
    first = headings[0]
    if all(h == first for h in headings):
        return first
    radians = [math.radians(h) for h in headings]
    s = sum(math.sin(r) for r in radians)
    c = sum(math.cos(r) for r in radians)
    return math.degrees(math.atan2(s, c)) % 360.0


def to_course(origin: Vec, heading: float, u: float, v: float) -> Vec:
    """Item-frame (u along heading, v to its left) to course coordinates."""
    f, l = forward(heading), leftward(heading)
    return (origin[0] + u * f[0] + v * l[0], origin[1] + u * f[1] + v * l[1])


def to_local(origin: Vec, heading: float, p: Vec) -> Vec:
    """Course coordinates to the item frame of ``origin`` and ``heading``."""
    f, l = forward(heading), leftward(heading)
    dx, dy = p[0] - origin[0], p[1] - origin[1]
    return (dx * f[0] + dy * f[1], dx * l[0] + dy * l[1])


def lerp(a: Vec, b: Vec, k: float) -> Vec:
    return (a[0] + (b[0] - a[0]) * k, a[1] + (b[1] - a[1]) * k)


def _segment_signed_distance(a: Vec, b: Vec, p: Vec) -> tuple[float, float]:
    """(distance to the segment, signed distance to its infinite line; + on the left of a→b)."""
    ax, ay = b[0] - a[0], b[1] - a[1]
    length_sq = ax * ax + ay * ay
    px, py = p[0] - a[0], p[1] - a[1]
    k = 0.0 if length_sq == 0 else max(0.0, min(1.0, (px * ax + py * ay) / length_sq))
    dist = math.hypot(px - k * ax, py - k * ay)
    side = (ax * py - ay * px) / math.sqrt(length_sq) if length_sq else 0.0
    return dist, side


def signed_distance(points: tuple[Vec, ...], p: Vec) -> float:
    """Signed distance from a polyline, positive on the left of its point order.

    The magnitude is the distance to the nearest segment; the sign is the side
    of that segment's line.
    """
    best = None
    for a, b in zip(points, points[1:]):
        dist, side = _segment_signed_distance(a, b, p)
        if best is None or dist < best[0]:
            best = (dist, side)
    assert best is not None
    dist, side = best
    return math.copysign(dist, side) if side != 0 else 0.0


@dataclass(frozen=True)
class Line:
    """A painted line of the course with its judging reference (research.md §3.5).

    ``inside`` is +1 when the positive side (where the vehicle belongs for a
    boundary line, or the travel direction for a transverse line) is on the
    left of the point order, −1 when it is on the right. ``reference`` says
    whether the judging reference is the line's centre or its inner edge
    (the edge on the positive side).
    """

    name: str
    points: tuple[Vec, ...]
    width: float = 0.15
    reference: str = "centre"
    inside: int = 1
    geometry: LineString = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "geometry", LineString(self.points))

    def oriented_towards(self, p: Vec) -> "Line":
        """The same line with its positive side on the side of ``p``."""
        sign = 1 if signed_distance(self.points, p) >= 0 else -1
        return Line(self.name, self.points, self.width, self.reference, sign)

    def side(self, p: Vec) -> float:
        """Signed distance of ``p`` from the line centre, positive on the positive side."""
        return self.inside * signed_distance(self.points, p)

    def reference_offset(self) -> float:
        """How far the judging reference lies from the centre toward the positive side."""
        return self.width / 2 if self.reference == "inner_edge" else 0.0

    def beyond(self, p: Vec) -> float:
        """How far ``p`` is past the judging reference on the negative side (> 0: over the line)."""
        return self.reference_offset() - self.side(p)

    def over(self, p: Vec) -> float:
        """How far ``p`` is past the judging reference on the negative side, within the line's extent.

        Unlike :meth:`beyond`, only the perpendicular distance to a segment that ``p`` lies
        alongside counts: a point past the line's end is not over it (-inf), and a point beside
        the line is measured across it, not to its end point.
        """
        best = None
        for (ax, ay), (bx, by) in zip(self.points, self.points[1:]):
            dx, dy = bx - ax, by - ay
            length_sq = dx * dx + dy * dy
            if length_sq == 0:
                continue
            k = ((p[0] - ax) * dx + (p[1] - ay) * dy) / length_sq
            if not 0 <= k <= 1:
                continue
            perp = (dx * (p[1] - ay) - dy * (p[0] - ax)) / math.sqrt(length_sq)  # + on the left of a→b
            if best is None or abs(perp) < abs(best):
                best = perp
        if best is None:
            return -math.inf
        return self.reference_offset() - self.inside * best

    def crossed(self, a: Vec, b: Vec, margin: float = 0.0) -> float | None:
        """Fraction in (0, 1] along a→b at which the path is ``margin`` past the line, else None.

        The crossing must fall within the line's extent. The fraction comes
        from linear interpolation between the two fixes; with ``margin`` at the
        position noise bound, the crossing is never placed before it really
        happened.
        """
        s0, s1 = self.side(a) - margin, self.side(b) - margin
        if not (s0 < 0 <= s1):
            return None
        k = -s0 / (s1 - s0)
        # Within the line's extent: the interpolated crossing point lies on the line. (A segment
        # intersection test misses a fix that lands exactly on the line by float round-off, and
        # the next step then starts on the line and is no crossing either.)
        if self.geometry.distance(Point(lerp(a, b, k))) > margin + ON_LINE:
            return None
        return k
