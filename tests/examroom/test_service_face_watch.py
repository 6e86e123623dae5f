"""The course service watches a vehicle's in-car camera during its attempts (site setting ``watches_rider``)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from devices.camera import CameraSpec, Frame, FrameFanout
from examroom.faces.watch import face_flags
from examroom.records.attempt_log import CandidateInfo
from examroom.station.service import CourseService
from examroom.site.settings import SerialSettings, SettingsError, SiteSettings, VehicleSettings
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.site.cameras import VideoSettings
from scoring.rules import default_ruleset_path
from tests.examroom.face_pictures import no_face, one_face

CAMERA = "car-V1"


def site(tmp_path, riders: dict[str, str]) -> SiteSettings:
    """One vehicle on loop ports (no device answers: its attempts are started and stopped by hand)."""
    vehicle = VehicleSettings(id="V1", plate="甘K·0001学", model="E-01", gnss=SerialSettings("loop://"),
                              signals=SerialSettings("loop://"))
    video = VideoSettings(cameras=[CameraSpec(CAMERA, f"sim:{CAMERA}", roles=("analyse",), mode="encode")],
                          recordings_dir=tmp_path / "rec", cache_dir=tmp_path / "cache", exports_dir=tmp_path / "exp",
                          riders=riders, face_interval=0.05)
    return SiteSettings(database_url=f"sqlite:///{tmp_path / 'course.sqlite3'}", course_file=DEMO_COURSE_PATH,
                        rule_set_file=default_ruleset_path(), vehicles=[vehicle], require_selfcheck=False,
                        video=video, data_dir=tmp_path)


@pytest.fixture
def course(tmp_path):
    fanout = FrameFanout()
    service = CourseService(site(tmp_path, {"V1": CAMERA}), frame_sources={CAMERA: fanout}).start()
    try:
        yield service, fanout
    finally:
        service.stop()


def _until(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _attempt(service: CourseService, fanout: FrameFanout, picture, checks: int = 3) -> int:
    """An attempt on V1 during which the in-car camera shows ``picture``; returns its id once finished."""
    candidate = service.records.ensure_candidate(CandidateInfo("张三", "620102199001010012", "62000001", "E"))
    attempt_id = service.controller.begin_attempt("V1", candidate, "张三")
    _until(lambda: fanout.consumers == 1, "the face watch to subscribe to the camera")
    watch = service.face_watch.watches[attempt_id]
    deadline = time.monotonic() + 20
    for seq in range(10**6):
        if watch.checked >= checks or time.monotonic() > deadline:
            break
        fanout.publish(Frame(picture, datetime.now(timezone.utc), time.monotonic(), seq))
        time.sleep(0.06)  # longer than the sampling interval: most frames are checked
    assert watch.checked >= checks
    service.controller.stop_attempt("V1", "考试员 王", "测试结束")
    _until(lambda: fanout.consumers == 0, "the face watch to let go of the camera")
    return attempt_id


def test_frames_without_a_face_during_an_attempt_are_flagged(course):
    service, fanout = course
    attempt_id = _attempt(service, fanout, no_face())
    flags = face_flags(service.sessions, attempt_id)
    assert len(flags) >= 3 and {(f.faces, f.source) for f in flags} == {(0, CAMERA)}
    assert service.face_watch.watches == {}  # the finished attempt's watch let go of the camera


def test_the_candidate_alone_in_the_picture_raises_no_flag(course):
    service, fanout = course
    attempt_id = _attempt(service, fanout, one_face())
    assert face_flags(service.sessions, attempt_id) == []


def test_shutdown_stops_a_running_watch(tmp_path):
    fanout = FrameFanout()
    service = CourseService(site(tmp_path, {"V1": CAMERA}), frame_sources={CAMERA: fanout}).start()
    try:
        candidate = service.records.ensure_candidate(CandidateInfo("李四", "620102199001010020", "62000002", "E"))
        service.controller.begin_attempt("V1", candidate, "李四")
        _until(lambda: fanout.consumers == 1, "the face watch to subscribe to the camera")
    finally:
        service.stop()
    assert fanout.consumers == 0 and service.face_watch.watches == {}


def test_without_a_rider_camera_nothing_is_watched(tmp_path):
    fanout = FrameFanout()
    service = CourseService(site(tmp_path, {}), frame_sources={CAMERA: fanout})
    try:
        assert service.face_watch is None
        assert not any(type(listener).__name__ == "AttemptFaceWatch"
                       for listener in service.controller.attempt_listeners)
    finally:
        service.engine.dispose()


def test_a_rider_camera_of_an_unknown_vehicle_is_refused(tmp_path):
    with pytest.raises(SettingsError, match=r"camera car-V1 watches vehicle 'V7', which is not in vehicles"):
        CourseService(site(tmp_path, {"V7": CAMERA}), frame_sources={CAMERA: FrameFanout()})
