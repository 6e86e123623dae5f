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
from tests.examroom.faces.test_face_watch import told_when_checked

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


def _attempt(service: CourseService, fanout: FrameFanout, picture, checks: int = 3) -> int:
    """An attempt on V1 during which the in-car camera shows ``picture``; returns its id once finished."""
    candidate = service.records.ensure_candidate(CandidateInfo("张三", "620102199001010012", "62000001", "E"))
    attempt_id = service.controller.begin_attempt("V1", candidate, "张三")
    # begin_attempt returns once the controller ran the attempt listeners: the watch is subscribed.
    assert fanout.consumers == 1
    watch = service.face_watch.watches[attempt_id]
    checked = told_when_checked(watch)
    for seq in range(checks):
        # Frames a sampling interval apart on the camera's clock: each one is checked.
        fanout.publish(Frame(picture, datetime.now(timezone.utc), 1000.0 + seq * 2 * watch.interval, seq))
        assert checked.get(timeout=20) is not None
    assert watch.checked >= checks
    service.controller.stop_attempt("V1", "考试员 王", "测试结束")
    assert fanout.consumers == 0  # the finish's listeners ran before stop_attempt returned
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
        assert fanout.consumers == 1
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


@pytest.mark.skipif(not __import__("tests.examroom.face_photos", fromlist=["available"]).available(),
                    reason="the face photos are not in EXAMROOM_FACE_PHOTOS")
def test_a_different_rider_warns_the_console_and_the_face_data_is_deleted_after_its_retention(course):
    """The booking's face (from its check-in) against the in-car camera: a stand-in's run of mismatches
    reaches the live feed; past the retention the service's job deletes the face data, audit-logged."""
    from datetime import timedelta

    from examroom.faces.identity import set_reference
    import json

    from examroom.records.models import AuditEntry, Booking, IdentityCheck, Seal, Sitting
    from examroom.records.verify import verify
    from tests.examroom.face_photos import encoded, fit_area, on_frame, photo

    service, fanout = course
    candidate = service.records.ensure_candidate(CandidateInfo("王五", "620102199001010039", "62000003", "E"))
    ended = datetime(2026, 1, 5, 3, 0, tzinfo=timezone.utc)
    with service.sessions.begin() as session:
        sitting = Sitting(code="S-OLD", course_code="", checkin_opens_utc=ended, starts_utc=ended, ends_utc=ended,
                          status="running")
        session.add(sitting)
        session.flush()
        booking = Booking(sitting_id=sitting.id, candidate_id=candidate, vehicle_class="E", state="on_vehicle",
                          serial_number="", school="", exam_reason="初考", confirmed_by="考试员 王", photo_sha256="",
                          tries=0, outcome="")
        session.add(booking)
        session.flush()
        set_reference(booking, encoded(fit_area(photo("obama_2012_official_portrait.jpg"), 640, 480)), "checkin",
                      "考试员 王")
        booking_id = booking.id
    heard = service.feed.subscribe()
    attempt_id = service.controller.begin_attempt("V1", candidate, "王五", booking_id=booking_id)
    watch = service.face_watch.watches[attempt_id]
    assert watch.reference is not None
    checked = told_when_checked(watch)
    stand_in = on_frame(photo("biden_2010_blue_room.jpg"))
    for seq in range(3):
        fanout.publish(Frame(stand_in, datetime.now(timezone.utc), 1000.0 + seq * 2 * watch.interval, seq))
        assert checked.get(timeout=30) is not None
    service.controller.stop_attempt("V1", "考试员 王", "测试结束")
    events = []
    while (event := heard.get(timeout=0)) is not None:
        events.append(event)
    warning, = [e for e in events if e["type"] == "identity"]
    assert (warning["vehicle"], warning["attempt"], warning["frames"]) == ("V1", attempt_id, 3)
    with service.sessions() as session:
        run, = session.query(IdentityCheck).filter_by(attempt_id=attempt_id).all()
        assert (run.kind, run.outcome, run.frames) == ("in_cab", "mismatch", 3)
        assert session.get(Booking, booking_id).face_descriptor is not None
        sealed = json.loads(session.get(Seal, attempt_id).payload)["record"]["identity"]
    assert [(c["kind"], c["frames"]) for c in sealed["checks"]] == [("in_cab", 3)]
    # frames the camera shows after the finish are nobody's: the watch stopped before the seal
    fanout.publish(Frame(stand_in, datetime.now(timezone.utc), 1010.0, 10))
    assert verify(service.sessions, attempts=[attempt_id]).ok

    assert datetime.now(timezone.utc) - ended > timedelta(days=90)  # the service runs on the system clock
    assert service.delete_expired_faces() == [booking_id]
    with service.sessions() as session:
        booking = session.get(Booking, booking_id)
        assert (booking.reference_photo, booking.face_descriptor) == (None, None)
        entry, = session.query(AuditEntry).filter_by(action="face_data_deleted").all()
        assert (entry.actor, entry.target) == ("system", f"booking {booking_id}") and "retention 90 days" in entry.detail
    assert service.delete_expired_faces() == []
