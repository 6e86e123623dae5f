"""A vision line sensor running live on a simulated camera, its readings turned into observations."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from devices.camera.zones import VisionRunner, VisionSensor
from devices.readings import ScaledClock
from examroom.live.observing import CourseInputTracker
from examroom.simulation.cameras import CourseRenderer, SimCamera
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.simulation.vision_truth import regions_for
from examroom.simulation.world import VehicleTruth
from scoring.course import load_course
from tests.waiting import wait_for

pytestmark = pytest.mark.slow
SPEED = 2.0  # m/s
APPEARS = 1.5  # s: the course is empty while the sensor learns it


def test_a_vehicle_driving_over_a_line_turns_the_element_on_and_off_at_the_right_moments():
    course = load_course(DEMO_COURSE_PATH)
    model = course.vehicle("E-01")
    line = course.items["e_pile"].entry
    x_line = line.points[0][0]
    clock = ScaledClock(1.0)
    start_mono = clock.now()[0]

    def truths(mono):
        t = mono - start_mono
        if t < APPEARS:
            return {}
        return {"V1": VehicleTruth(x=x_line - 5.0 + SPEED * (t - APPEARS), y=0.0, heading=90.0, speed=SPEED)}

    renderer = CourseRenderer(course, {"V1": model}, 640, 360, labels=False)
    camera = SimCamera("top", renderer, truths, clock, fps=15).start()
    readings = []
    runner = VisionRunner(VisionSensor("vision-top", regions_for({"e_pile.entry": line}, renderer._top)),
                          camera.fanout, readings.append, clock, learn_frames=10).start()
    try:
        # Front bumper to the line, then the whole vehicle past it.
        front = model.length - model.rear_overhang - model.antenna[0]
        on_at = APPEARS + (5.0 - front - line.width / 2) / SPEED
        off_at = APPEARS + (5.0 + model.rear_overhang + model.antenna[0] + line.width / 2) / SPEED
        # Until the sensor has read a frame taken 1 s after the vehicle left the line: counted on
        # the camera's clock, so a busy machine that processes late still gets to see it.
        wait_for(lambda: readings and readings[-1].mono - start_mono >= off_at + 1.0,
                 timeout=off_at + 30, interval=0.05, what="a reading 1 s after the vehicle left the line")
    finally:
        runner.stop()
        camera.stop()
    tracker = CourseInputTracker(["e_pile.entry"])
    changes = [obs for reading in readings for obs in tracker.changes(reading)]
    assert [c.active for c in changes] == [False, True, False], changes
    assert all(c.element == "e_pile.entry" for c in changes)
    started = changes[0].utc - timedelta(seconds=changes[0].t - start_mono)
    on = (changes[1].utc - started).total_seconds()
    off = (changes[2].utc - started).total_seconds()
    assert abs(on - on_at) <= 0.2, (on, on_at)
    assert abs(off - off_at) <= 0.2, (off, off_at)
    assert abs((changes[1].t - start_mono) - on) < 0.05, "observation t and utc agree"
    assert runner.sensor.health().alive and runner.sensor.health().rate > 10
