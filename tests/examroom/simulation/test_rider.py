"""The simulated in-car camera: a real face the detector finds, and scripted moments without one."""

from __future__ import annotations

import pytest

from devices.readings import ScaledClock
from examroom.records.database import session_factory
from examroom.faces.watch import FaceWatch, face_flags
from examroom.faces.detection import FaceDetector
from examroom.simulation.cameras import DemoCameras, SimCamera
from examroom.simulation.rider import LookAway, RiderRenderer
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from scoring.course import load_course
from tests.examroom.attempts import finished_attempt
from tests.waiting import wait_for


def nobody(_mono: float) -> dict:
    """No vehicle in the picture, at any time (the in-car camera films the rider, not the course)."""
    return {}


def test_the_rider_shows_one_face_except_while_looking_away():
    renderer = RiderRenderer(480, 270, LookAway(period=50.0, duration=6.0), start=7.0)
    detector = FaceDetector()
    counts = {}
    for t in (0.0, 20.0, 43.9, 44.5, 49.9, 50.0, 95.0):
        counts[t] = detector.check(renderer.render({}, "car-V2", 7.0 + t)).count
    assert counts == {0.0: 1, 20.0: 1, 43.9: 1, 44.5: 0, 49.9: 0, 50.0: 1, 95.0: 0}


def test_a_look_away_is_shorter_than_its_period():
    with pytest.raises(ValueError, match="shorter"):
        LookAway(period=5.0, duration=5.0)


def test_the_face_watch_flags_the_look_aways_of_a_running_camera(engine, records):
    """A SimCamera on the rider renderer, watched like the demo does: flags come only from the look-aways."""
    sessions = session_factory(engine)
    attempt_id = finished_attempt(records)
    clock = ScaledClock(1.0)
    start, start_utc = clock.now()
    script = LookAway(period=1.6, duration=0.8)
    camera = SimCamera("car-V2", RiderRenderer(480, 270, script, start=start), nobody, clock,
                       fps=10).start()
    watch = FaceWatch(sessions, camera.fanout, attempt_id, camera.id, interval=0.2)
    watch.start()
    try:
        wait_for(lambda: watch.checked >= 16, timeout=30, interval=0.05, what="16 checks of the face watch")
    finally:
        watch.stop()
        camera.stop()
    flags = face_flags(sessions, attempt_id)
    assert watch.checked >= 16 and 0 < watch.flagged < watch.checked
    assert {f.faces for f in flags} == {0} and len(flags) == watch.flagged
    # every flag is a frame of a look-away (its UTC back on the script's clock; rendering lags a few ms)
    for flag in flags:
        phase = (flag.utc.replace(tzinfo=start_utc.tzinfo) - start_utc).total_seconds() % script.period
        assert phase >= script.period - script.duration - 0.1 or phase < 0.1, phase


def test_the_demo_cameras_give_the_in_car_camera_to_the_face_watch():
    course = load_course(DEMO_COURSE_PATH)
    models = {"V1": course.vehicle("E-01"), "V2": course.vehicle("C4-01")}
    cameras = DemoCameras(course, models, nobody, ScaledClock(1.0), rider="V2")
    specs = {spec.id: spec for spec in cameras.specs()}
    assert cameras.riders() == {"V2": "car-V2"}
    # watched for faces, and recorded as the V2 attempts' in-cab evidence (issue 14: each vehicle's own cameras)
    assert specs["car-V2"].has("analyse") and specs["car-V2"].has("record")
    assert "car-V2" in cameras.frame_sources()
    assert DemoCameras(course, models, nobody, ScaledClock(1.0)).riders() == {}
    with pytest.raises(ValueError, match="unknown vehicle"):
        DemoCameras(course, models, nobody, ScaledClock(1.0), rider="V9")
