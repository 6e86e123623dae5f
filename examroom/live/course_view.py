"""What the live course map shows: each vehicle's placed outline and the course sensors' states.

The controller owns the poses and the sensor states; this keeps the latest of
each in the form the map draws (course metres, outline placed exactly as the
judge places it) and says when a vehicle's pose is due on the feed again. A
receiver gives 10-20 fixes a second per vehicle; the feed carries at most one
per ``POSE_INTERVAL`` of the fixes' own clock, so a slow page never falls
behind and a test that stamps its fixes gets the same feed every time.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point

from scoring.course import Course
from scoring.observations import CourseSensor, Pose

# Seconds (of the readings' clock) between two poses of one vehicle on the feed: often
# enough for a supervisor's eye, rare enough for the pages' queues.
POSE_INTERVAL = 0.25


class CourseView:
    def __init__(self, course: Course, models: dict[str, str], interval: float = POSE_INTERVAL) -> None:
        self.course = course
        self._models = models  # vehicle id -> vehicle model
        self._interval = interval
        self._poses: dict[str, Pose] = {}  # vehicle id -> its last pose
        self._shown: dict[str, tuple[Pose, dict[str, Any]]] = {}  # ... and that pose placed, once
        self._sent_t: dict[str, float] = {}
        self._sensors: dict[str, dict[str, Any]] = {}

    def pose(self, pose: Pose, force: bool = False) -> dict[str, Any] | None:
        """Keep ``pose``; answer what the feed should carry if the vehicle is due, else None."""
        self._poses[pose.vehicle] = pose
        last = self._sent_t.get(pose.vehicle)
        if not force and last is not None and 0 <= pose.t - last < self._interval:
            return None  # placed only when shown: most fixes never are
        self._sent_t[pose.vehicle] = pose.t
        return self.latest(pose.vehicle)

    def latest(self, vehicle: str) -> dict[str, Any] | None:
        """The vehicle's last known pose (sent or not), placed: what a state event carries."""
        pose = self._poses.get(vehicle)
        if pose is None:
            return None
        cached = self._shown.get(vehicle)
        if cached is not None and cached[0] is pose:
            return cached[1]
        out: dict[str, Any] = {"t": round(pose.t, 3), "x": round(pose.x, 3), "y": round(pose.y, 3),
                               "heading": None if pose.heading is None else round(pose.heading, 1),
                               "speed": round(pose.speed, 2), "fix": pose.fix.value, "outline": None}
        model = self._models.get(pose.vehicle)
        if model is not None and pose.heading is not None:
            placed = self.course.vehicle(model).place(pose.x, pose.y, pose.heading)
            out["outline"] = [[round(x, 3), round(y, 3)] for x, y in placed.outline.exterior.coords]
        # Where the antenna is on the plan, judged or not: the judge's item is the vehicle state's.
        here = Point(pose.x, pose.y)
        out["zone"] = next((item.id for item in self.course.items.values() if item.zone.contains(here)), None)
        self._shown[vehicle] = (pose, out)
        return out

    def sensor(self, obs: CourseSensor, device: str) -> dict[str, Any] | None:
        """Keep a course sensor's reading; answer its new state if it changed, else None."""
        old = self._sensors.get(obs.element)
        if old is not None and old["active"] == obs.active and old["device"] == device:
            return None
        item_id = obs.element.split(".", 1)[0]
        state = {"element": obs.element, "item": item_id, "active": bool(obs.active), "device": device,
                 "t": round(obs.t, 3)}
        self._sensors[obs.element] = state
        return state
