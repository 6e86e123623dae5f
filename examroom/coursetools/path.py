"""Driven paths: polylines with rounded corners, parametrised by arc length.

A scripted vehicle follows a :class:`Path` with its antenna. The heading is the
path tangent, so corners are blended with circular arcs first
(:func:`blend_corners`): a raw polyline would make the heading jump at every
vertex, which no real vehicle (and no GNSS heading) does. Straight runs stay
exactly straight, which matters where a wheel must track a 20 cm bridge deck or
stop square to a stake line.

Headings are degrees clockwise from north (the GNSS convention of the
observation stream); positions are course-frame metres (x east, y north).
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

Point = tuple[float, float]
_HEADING_BLEND = 0.05  # m either side of a vertex over which the heading turns


def heading_of(dx: float, dy: float) -> float:
    """Heading in degrees clockwise from north of the direction (dx, dy), in [0, 360)."""
    return math.degrees(math.atan2(dx, dy)) % 360.0


def direction(heading: float) -> tuple[float, float]:
    """Unit vector (east, north) of a heading in degrees clockwise from north."""
    rad = math.radians(heading)
    return math.sin(rad), math.cos(rad)


def blend_corners(points: Sequence[Point], radius: float, spacing: float = 0.05) -> list[Point]:
    """Replace every interior corner of a polyline with a tangent circular arc.

    ``radius`` is the wanted arc radius; it shrinks where the neighbouring
    segments are too short to hold the arc (each corner may use at most half of
    a shared segment, and all of a first or last one), so the result always
    passes through the first and last points. Arcs are sampled every
    ``spacing`` metres so the heading changes in small, even steps.
    """
    pts = _dedupe(points)
    if len(pts) < 3 or radius <= 0:
        return [tuple(p) for p in pts]
    out: list[Point] = [tuple(pts[0])]
    n = len(pts)
    for i in range(1, n - 1):
        prev, here, nxt = pts[i - 1], pts[i], pts[i + 1]
        d1 = here - prev
        d2 = nxt - here
        l1, l2 = float(np.hypot(*d1)), float(np.hypot(*d2))
        u1, u2 = d1 / l1, d2 / l2
        cross = u1[0] * u2[1] - u1[1] * u2[0]
        turn = math.atan2(cross, float(np.dot(u1, u2)))  # signed, counter-clockwise positive
        if abs(turn) < 1e-6:
            continue  # collinear: nothing to round
        if abs(abs(turn) - math.pi) < 1e-6:
            raise ValueError(f"path reverses on itself at {tuple(here)}; use a rollback step instead")
        half = math.tan(abs(turn) / 2.0)
        room1 = l1 if i == 1 else l1 / 2.0
        room2 = l2 if i == n - 2 else l2 / 2.0
        tangent_len = min(radius * half, room1, room2)
        r = tangent_len / half
        start = here - u1 * tangent_len
        # Centre lies on the inner side of the turn, perpendicular to the incoming segment.
        normal = np.array([-u1[1], u1[0]]) * math.copysign(1.0, turn)
        centre = start + normal * r
        a0 = math.atan2(start[1] - centre[1], start[0] - centre[0])
        steps = max(2, int(math.ceil(abs(turn) * r / spacing)))
        for k in range(steps + 1):
            a = a0 + turn * k / steps
            out.append((float(centre[0] + r * math.cos(a)), float(centre[1] + r * math.sin(a))))
    out.append(tuple(map(float, pts[-1])))
    return [tuple(p) for p in _dedupe(out)]


def _dedupe(points: Iterable[Point], eps: float = 1e-9) -> np.ndarray:
    kept: list[np.ndarray] = []
    for p in points:
        q = np.asarray(p, dtype=float)
        if not kept or float(np.hypot(*(q - kept[-1]))) > eps:
            kept.append(q)
    return np.array(kept)


class Path:
    """A polyline followed at a known arc length ``s`` (metres from its start)."""

    def __init__(self, points: Sequence[Point]) -> None:
        pts = _dedupe(points)
        if len(pts) < 2:
            raise ValueError("a path needs at least two distinct points")
        self.points = pts
        seg = np.diff(pts, axis=0)
        self._seg_len = np.hypot(seg[:, 0], seg[:, 1])
        self.s = np.concatenate([[0.0], np.cumsum(self._seg_len)])
        seg_heading = np.unwrap(np.arctan2(seg[:, 0], seg[:, 1]))  # radians clockwise from north
        # Heading nodes: each segment keeps its own heading except within a few centimetres of
        # a vertex, where it blends to the vertex tangent (the mean of both neighbours). The
        # heading is then continuous along a sampled arc and exact along a straight run.
        node_s: list[float] = [0.0]
        node_h: list[float] = [float(seg_heading[0])]
        for k, length in enumerate(self._seg_len):
            blend = min(_HEADING_BLEND, length / 2.0)
            node_s += [self.s[k] + blend, self.s[k + 1] - blend]
            node_h += [float(seg_heading[k])] * 2
            if k + 1 < len(self._seg_len):
                node_s.append(self.s[k + 1])
                node_h.append(float(seg_heading[k] + seg_heading[k + 1]) / 2.0)
        node_s.append(self.s[-1])
        node_h.append(float(seg_heading[-1]))
        self._node_s = np.array(node_s)
        self._node_h = np.array(node_h)

    @classmethod
    def smooth(cls, points: Sequence[Point], radius: float = 1.5) -> "Path":
        """A path through ``points`` with every corner rounded (see :func:`blend_corners`)."""
        return cls(blend_corners(points, radius))

    @property
    def length(self) -> float:
        return float(self.s[-1])

    @property
    def start(self) -> Point:
        return float(self.points[0][0]), float(self.points[0][1])

    @property
    def end(self) -> Point:
        return float(self.points[-1][0]), float(self.points[-1][1])

    def point_at(self, s: float) -> Point:
        s = min(max(s, 0.0), self.length)
        return float(np.interp(s, self.s, self.points[:, 0])), float(np.interp(s, self.s, self.points[:, 1]))

    def heading_at(self, s: float) -> float:
        """Tangent heading at ``s``, degrees clockwise from north in [0, 360)."""
        s = min(max(s, 0.0), self.length)
        return math.degrees(float(np.interp(s, self._node_s, self._node_h))) % 360.0

    def curvature_at(self, s: float, window: float = 0.3) -> float:
        """Signed curvature (1/m, right turn positive) from the heading change over ``window``."""
        a = max(0.0, s - window / 2.0)
        b = min(self.length, s + window / 2.0)
        if b - a < 1e-6:
            return 0.0
        ha = float(np.interp(a, self._node_s, self._node_h))
        hb = float(np.interp(b, self._node_s, self._node_h))
        return (hb - ha) / (b - a)

    def split(self, s: float) -> tuple["Path", "Path"]:
        """Two paths meeting at arc length ``s``; together they trace this one."""
        if not 0.0 < s < self.length:
            raise ValueError(f"split point {s} is outside (0, {self.length})")
        cut = self.point_at(s)
        i = int(np.searchsorted(self.s, s, side="right"))
        head = [tuple(p) for p in self.points[:i]] + [cut]
        tail = [cut] + [tuple(p) for p in self.points[i:]]
        return Path(head), Path(tail)

    def project(self, point: Point) -> float:
        """Arc length of the path point nearest to ``point``."""
        p = np.asarray(point, dtype=float)
        a = self.points[:-1]
        d = np.diff(self.points, axis=0)
        lens2 = np.maximum(self._seg_len**2, 1e-18)
        u = np.clip(np.einsum("ij,ij->i", p - a, d) / lens2, 0.0, 1.0)
        nearest = a + d * u[:, None]
        dist = np.hypot(*(nearest - p).T)
        k = int(np.argmin(dist))
        return float(self.s[k] + u[k] * self._seg_len[k])
