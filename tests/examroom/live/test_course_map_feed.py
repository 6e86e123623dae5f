"""What the controller publishes for the live course map: poses with placed outlines, the item
each vehicle is in, and course sensors' states, on the readings' own clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pymap3d
import pytest

from devices.readings import CourseInputs, GnssFix
from examroom.live.controller import Controller, VehicleInfo
from examroom.live.course_view import CourseView
from examroom.live.feed import LiveFeed
from examroom.records.attempt_log import CandidateInfo
from examroom.simulation.scenarios import default_ruleset, demo_course
from scoring.observations import CourseSensor, FixQuality, Pose

T0 = datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)


class FixedClock:
    """The controller's clock held still: every stamp in these tests comes from the readings."""

    def now(self):
        return 100.0, T0


def fix(course, device: str, mono: float, x: float, y: float, heading: float) -> GnssFix:
    o = course.origin
    lat, lon, alt = pymap3d.enu2geodetic(x, y, 0.0, o.latitude, o.longitude, o.altitude)
    return GnssFix(mono=mono, utc=T0 + timedelta(seconds=mono), device=device, latitude=float(lat),
                   longitude=float(lon), altitude=float(alt), quality=4, satellites=18, hdop=0.7,
                   correction_age=1.0, speed=1.5, course=heading, heading=heading)


def pose(mono: float, x: float, y: float, heading: float | None = 90.0) -> Pose:
    return Pose(t=mono, utc=T0, vehicle="V1", x=x, y=y, heading=heading, speed=1.0, fix=FixQuality.RTK_FIXED)


def test_a_pose_is_placed_as_the_judge_places_it_and_due_once_per_interval():
    course = demo_course()
    view = CourseView(course, {"V1": "E-01"}, interval=0.25)
    first = view.pose(pose(10.0, 5.0, 0.0))
    placed = course.vehicle("E-01").place(5.0, 0.0, 90.0).outline
    assert first["outline"] == [[round(x, 3), round(y, 3)] for x, y in placed.exterior.coords]
    assert (first["x"], first["y"], first["heading"], first["zone"]) == (5.0, 0.0, 90.0, "e_pile")
    assert view.pose(pose(10.1, 5.5, 0.0)) is None  # too soon for the feed ...
    assert view.latest("V1")["x"] == 5.5  # ... but kept for the next state event
    due = view.pose(pose(10.3, 25.0, 0.0))
    assert due["zone"] == "e_hill" and due["x"] == 25.0
    off_course = view.pose(pose(10.6, 5.0, 10.0, heading=None))
    assert off_course["zone"] is None and off_course["outline"] is None  # no heading: no outline to draw


def test_a_sensor_state_is_news_only_when_it_changes():
    view = CourseView(demo_course(), {})
    reading = CourseSensor(t=3.0, utc=T0, element="e_pile.pole2", active=False)
    assert view.sensor(reading, "board1") == {"element": "e_pile.pole2", "item": "e_pile", "active": False,
                                              "device": "board1", "t": 3.0}
    assert view.sensor(CourseSensor(t=3.1, utc=T0, element="e_pile.pole2", active=False), "board1") is None
    assert view.sensor(CourseSensor(t=3.2, utc=T0, element="e_pile.pole2", active=True), "board1")["active"]


@pytest.fixture
def controller(records):
    course = demo_course()
    records.ensure_vehicle("V1", "甘K·3071学", "E", "E-01")
    made = Controller(course, default_ruleset(), records, LiveFeed(), FixedClock(),
                      [VehicleInfo("V1", "甘K·3071学", "E", "E-01")],
                      board_inputs={"board1": ["e_pile.pole1", "e_bridge.A", None]})
    made.attach_device("V1.gnss", "V1")
    made.start()
    yield made
    made.stop()


def next_event(sub, kind: str) -> dict:
    while True:
        event = sub.get(timeout=5)
        assert event is not None, f"no {kind} event on the feed"
        if event["type"] == kind:
            return event


def test_the_controller_publishes_poses_and_sensor_states(controller):
    course = controller.course
    with controller.feed.subscribe() as sub:
        assert next_event(sub, "state")["sensors"] == {}
        for mono, x in [(1.0, 3.0), (1.1, 3.2), (1.3, 3.6)]:  # the middle fix is within the interval
            controller.submit(fix(course, "V1.gnss", mono, x, 0.0, 90.0))
        controller.submit(CourseInputs(mono=1.4, utc=T0, device="board1", unit=1, inputs=(False, True, True)))
        controller.submit(CourseInputs(mono=1.5, utc=T0, device="board1", unit=1, inputs=(True, True, False)))

        poses = [next_event(sub, "pose") for _ in range(2)]
        assert [p["vehicle_state"]["pose"]["t"] for p in poses] == [1.0, 1.3]
        shown = poses[1]["vehicle_state"]
        assert shown["status"] == "idle" and shown["pose"]["zone"] == "e_pile"
        assert shown["pose"]["x"] == pytest.approx(3.6, abs=0.01) and shown["pose"]["heading"] == 90.0
        assert len(shown["pose"]["outline"]) == len(course.vehicle("E-01").outline) + 1

        changes = [next_event(sub, "sensor")["sensor_state"] for _ in range(3)]
        assert [(c["element"], c["active"], c["t"]) for c in changes] == [
            ("e_pile.pole1", False, 1.4), ("e_bridge.A", True, 1.4), ("e_pile.pole1", True, 1.5)]

    with controller.feed.subscribe() as late:  # a page opened now sees the same
        state = late.get(timeout=5)
        assert state["sensors"]["e_pile.pole1"]["active"] is True
        assert state["sensors"]["e_bridge.A"]["device"] == "board1"
        assert state["vehicles"]["V1"]["pose"]["x"] == pytest.approx(3.6, abs=0.01)


def test_a_judged_vehicle_s_pose_carries_the_judge_s_item_and_keeps_its_result(controller, records):
    candidate = records.ensure_candidate(CandidateInfo("张伟", "62120219900101123X", "62000001", "E"))
    with controller.feed.subscribe() as sub:
        attempt = controller.begin_attempt("V1", candidate, "张伟")
        controller.submit(fix(controller.course, "V1.gnss", 2.0, 5.0, 0.0, 90.0))
        shown = next_event(sub, "pose")["vehicle_state"]
        assert shown["attempt"] == attempt and shown["status"] == "running" and shown["pose"]["x"] == pytest.approx(5.0, abs=0.01)
        controller.stop_attempt("V1", "wang", "考生身体不适")
        assert next_event(sub, "finished")["vehicle_state"]["status"] == "aborted"
        controller.submit(fix(controller.course, "V1.gnss", 3.0, 6.0, 0.0, 90.0))
        after = next_event(sub, "pose")["vehicle_state"]
        assert after["status"] == "aborted" and after["attempt"] == attempt  # the card keeps the result
        assert after["pose"]["x"] == pytest.approx(6.0, abs=0.01)
