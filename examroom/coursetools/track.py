"""An attempt's track from its journal: poses over time, and the outline at any moment."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterable

from scoring.course import Course
from scoring.observations import Command, CommandAction, Pose, read_jsonl


@dataclass(frozen=True)
class Track:
    vehicle_model: str | None
    start_t: float | None
    poses: list[Pose]

    def at(self, t: float) -> Pose | None:
        """The last pose at or before ``t`` (what the judge knew then)."""
        times = [p.t for p in self.poses]
        index = bisect.bisect_right(times, t) - 1
        return self.poses[index] if index >= 0 else None


def track_of(lines: Iterable[str]) -> Track:
    model, start, poses = None, None, []
    for obs in read_jsonl(lines, "journal"):
        if isinstance(obs, Command) and obs.action == CommandAction.START and start is None:
            model, start = obs.vehicle_model, obs.t
        elif isinstance(obs, Pose):
            poses.append(obs)
    return Track(model, start, poses)


def outline_at(track: Track, course: Course, t: float) -> list[list[float]] | None:
    """The vehicle's outline (course metres) at time ``t``, placed as the judge placed it."""
    pose = track.at(t)
    if pose is None or track.vehicle_model is None or pose.heading is None:
        return None
    placed = course.vehicle(track.vehicle_model).place(pose.x, pose.y, pose.heading)
    return [[round(x, 3), round(y, 3)] for x, y in placed.outline.exterior.coords]
