"""Check-in by ID number with photo and confirmation; assignment and the call-up queue."""

from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from examroom.examday.callup import CallUp, CallUpError, hall, release
from examroom.records.people import public_name
from examroom.examday.checkin import CheckIn, CheckInError
from examroom.records.database import session_factory
from examroom.records.models import AttemptStatus, Booking, Sitting
from examroom.records.attempt_log import Records
from examroom.examday.roster import RosterImport
from examroom.examday.sittings import SittingPlan, create_sitting
from tests.examroom.attempts import id_number
from tests.examroom.examday.test_roster import write_csv

PHOTO = cv2.imencode(".jpg", np.full((120, 90, 3), 128, np.uint8))[1].tobytes()


@pytest.fixture
def day(engine, tmp_path):
    sessions = session_factory(engine)
    records = Records(sessions)
    records.ensure_vehicle("V1", "甘K·3071学", "E", "E-01")
    records.ensure_vehicle("V2", "甘K·3072学", "C4", "C4-01")
    records.ensure_vehicle("V3", "甘K·3073学", "E", "E-01")
    now = datetime.now(timezone.utc)
    s1 = create_sitting(sessions, SittingPlan("S1", now, now + timedelta(minutes=30), now + timedelta(hours=2)))
    s2 = create_sitting(sessions, SittingPlan("S2", now + timedelta(hours=3), now + timedelta(hours=4),
                                              now + timedelta(hours=5)))
    rows = [["王建国", id_number(11), "620100000011", "E", "S1", "初考"],
            ["李秀英", id_number(12), "620100000012", "C4", "S1", "初考"],
            ["张伟", id_number(13), "620100000013", "E", "S1", "补考"],
            ["刘芳", id_number(14), "620100000014", "E", "S2", "初考"]]
    path = tmp_path / "r.csv"
    write_csv(path, [["", r[0], r[1], r[2], "", r[3], "", r[4], r[5]] for r in rows])
    assert not RosterImport(sessions, {"E", "C4"}).run(path, commit=True).bad
    with sessions.begin() as session:
        session.get(Sitting, s1).status = "running"
    return sessions, s1, s2


def _checked_in(sessions, sitting, n):
    checkin = CheckIn(sessions)
    arrival = checkin.identify(sitting, id_number(n))
    return arrival.booking_id, checkin.confirm(arrival.booking_id, PHOTO, "考试员甲")


def test_identify_shows_the_booking_masked_and_confirm_queues(day):
    sessions, s1, _ = day
    checkin = CheckIn(sessions)
    arrival = checkin.identify(s1, " " + id_number(11).lower() + " ")
    assert (arrival.name, arrival.vehicle_class, arrival.masked_id) == ("王建国", "E", "620***********" + id_number(11)[-4:])
    assert checkin.confirm(arrival.booking_id, PHOTO, "考试员甲") == 1
    with sessions() as session:
        booking = session.get(Booking, arrival.booking_id)
        assert (booking.state, booking.confirmed_by, booking.photo) == ("checked_in", "考试员甲", PHOTO)
    with pytest.raises(CheckInError, match="已签到或已考完"):
        checkin.identify(s1, id_number(11))


def test_check_in_refusals_say_why(day):
    sessions, s1, s2 = day
    checkin = CheckIn(sessions)
    with pytest.raises(CheckInError, match="身份证明号码无效：校验码为"):
        checkin.identify(s1, id_number(11)[:17] + ("1" if id_number(11)[17] != "1" else "2"))
    with pytest.raises(CheckInError, match="场次S1没有身份证明号码为620"):
        checkin.identify(s1, id_number(14))
    with pytest.raises(CheckInError, match="场次S2尚未开始签到"):
        checkin.identify(s2, id_number(14))
    arrival = checkin.identify(s1, id_number(12))
    with pytest.raises(CheckInError, match="照片不是可识别的图像"):
        checkin.confirm(arrival.booking_id, b"not a picture", "考试员甲")
    with pytest.raises(CheckInError, match="须由考试员确认"):
        checkin.confirm(arrival.booking_id, PHOTO, " ")


def test_wrong_class_and_two_vehicles_at_once_are_refused(day):
    sessions, s1, _ = day
    wang, _ = _checked_in(sessions, s1, 11)
    li, _ = _checked_in(sessions, s1, 12)
    callup = CallUp(sessions)
    with pytest.raises(CallUpError, match="预约的准驾车型为E，车辆甘K·3072学考C4"):
        callup.assign(wang, "V2")
    callup.assign(wang, "V1")
    with pytest.raises(CallUpError, match="王建国已在车辆V1上"):
        callup.assign(wang, "V3")
    zhang, _ = _checked_in(sessions, s1, 13)
    with pytest.raises(CallUpError, match="车辆甘K·3071学上已有考生王建国"):
        callup.assign(zhang, "V1")
    assert callup.call_next(s1, "V2") == li
    assert callup.call_next(s1, "V3") == zhang
    assert callup.call_next(s1, "V1") is None  # nobody of class E waits any more
    screen = hall(sessions, s1)
    assert [(e.queue_no, e.name, e.plate) for e in screen["called"]] == [
        (1, "王*国", "甘K·3071学"), (2, "李*英", "甘K·3072学"), (3, "张*", "甘K·3073学")]
    # Once on the vehicle a candidate is testing: the hall lists only those called and those waiting.
    with sessions.begin() as session:
        session.get(Booking, wang).state = "on_vehicle"
    assert [e.queue_no for e in hall(sessions, s1)["called"]] == [2, 3]


def test_one_retest_after_a_failure_and_reruns_use_no_try():
    booking = Booking(state="on_vehicle", tries=0, vehicle_id="V1", outcome="")
    release(booking, AttemptStatus.DEVICE_FAULT)
    assert (booking.state, booking.tries, booking.vehicle_id) == ("checked_in", 0, None)
    release(booking, AttemptStatus.FAILED)
    assert (booking.state, booking.tries) == ("checked_in", 1)  # waits for the 补考
    release(booking, AttemptStatus.INTERRUPTED)
    assert (booking.state, booking.tries) == ("checked_in", 1)
    release(booking, AttemptStatus.FAILED)
    assert (booking.state, booking.tries, booking.outcome) == ("done", 2, "failed")
    passed = Booking(state="on_vehicle", tries=1, outcome="")
    release(passed, AttemptStatus.PASSED)
    assert (passed.state, passed.outcome) == ("done", "passed")


def test_public_name():
    assert [public_name(n) for n in ("张", "张伟", "王建国", "欧阳小明")] == ["张", "张*", "王*国", "欧**明"]


def test_a_photo_without_exactly_one_face_is_flagged_or_refused(day):
    from examroom.records.models import FaceFlag
    from tests.examroom.face_pictures import jpeg, one_face, two_faces

    sessions, s1, _ = day
    assert CheckIn.face_check(jpeg(one_face())).ok
    strict = CheckIn(sessions, require_one_face=True)
    arrival = strict.identify(s1, id_number(11))
    with pytest.raises(CheckInError, match="检测到2张人脸"):
        strict.confirm(arrival.booking_id, jpeg(two_faces()), "考试员甲")
    with sessions() as session:
        assert session.get(Booking, arrival.booking_id).state == "booked"  # refused: nothing stored
    assert strict.confirm(arrival.booking_id, jpeg(one_face()), "考试员甲") == 1
    lenient = CheckIn(sessions)
    second = lenient.identify(s1, id_number(12)).booking_id
    assert lenient.confirm(second, PHOTO, "考试员甲") == 2  # a blank photo is taken but flagged
    with sessions() as session:
        flags = session.query(FaceFlag).all()
        assert [(f.booking_id, f.attempt_id, f.source, f.faces) for f in flags] == [(second, None, "checkin", 0)]
