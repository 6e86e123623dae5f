"""Face review on the replay page: the attempt's flags beside the check-in photo, pictures for staff only,
the review mark with its audit entry."""

from __future__ import annotations

from datetime import timedelta

import cv2
import numpy as np
import pytest

from examroom.accounts.users import Accounts, Role
from examroom.accounts.audit import AuditLog
from examroom.faces.watch import flag_frame
from examroom.faces.detection import shared_detector
from examroom.records.models import Booking, Candidate, FaceFlag, Sitting
from tests.examroom.attempts import UTC, finished_attempt, id_number
from tests.examroom.face_pictures import jpeg, no_face, two_faces
from tests.web.conftest import PASSWORD, csrf_token, login


def _flag(session, picture, seconds: float, source: str, **owner) -> int:
    flag = flag_frame(session, shared_detector().check(picture), picture, UTC + timedelta(seconds=seconds), source,
                      **owner)
    session.flush()
    return flag.id


@pytest.fixture
def flagged(records):
    """An attempt whose booking's check-in photo showed two faces and whose in-car camera twice saw none,
    and another attempt with a flag of its own."""
    with records.sessions.begin() as session:
        sitting = Sitting(code="S1", course_code="", checkin_opens_utc=UTC, starts_utc=UTC,
                          ends_utc=UTC + timedelta(hours=1), status="running")
        candidate = Candidate(name="王芳", id_number=id_number(71), exam_number="6300000071", vehicle_class="E")
        session.add_all([sitting, candidate])
        session.flush()
        booking = Booking(sitting_id=sitting.id, candidate_id=candidate.id, vehicle_class="E", state="done",
                          photo=jpeg(two_faces()))
        session.add(booking)
        session.flush()
        checkin = _flag(session, two_faces(), 0, "checkin", booking_id=booking.id)
        booking_id, candidate_id = booking.id, candidate.id
    attempt = finished_attempt(records, booking_id=booking_id, candidate_id=candidate_id)
    other = finished_attempt(records)
    with records.sessions.begin() as session:
        drive = [_flag(session, no_face(), s, "car-V1", attempt_id=attempt) for s in (20, 30)]
        foreign = _flag(session, no_face(), 25, "car-V1", attempt_id=other)
    return {"attempt": attempt, "other": other, "checkin": checkin, "drive": drive, "foreign": foreign}


def _signed_in(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def test_the_replay_page_lists_the_attempts_flags_beside_the_checkin_photo(app, accounts, flagged):
    page = _signed_in(app, "auditor").get(f"/attempts/{flagged['attempt']}/replay").get_data(as_text=True)
    assert "人脸核查" in page and f"/attempts/{flagged['attempt']}/checkin-photo.jpg" in page
    rows = [f'id="face-{i}"' for i in [flagged["checkin"], *flagged["drive"]]]
    assert all(row in page for row in rows) and f'id="face-{flagged["foreign"]}"' not in page
    assert page.index(rows[0]) < page.index(rows[1]) < page.index(rows[2])  # in time order
    assert "检测到2张人脸" in page and page.count("未检测到人脸") == 2
    assert page.count("标记为已核查") == 3
    empty = _signed_in(app, "supervisor").get(f"/attempts/{flagged['other']}/replay").get_data(as_text=True)
    assert "无签到照片" in empty and "checkin-photo.jpg" not in empty


def test_pictures_are_served_to_staff_only_and_only_for_their_attempt(app, accounts, records, flagged):
    attempt, flag = flagged["attempt"], flagged["drive"][0]
    thumb_url = f"/attempts/{attempt}/faces/{flag}/thumb.jpg"
    supervisor = _signed_in(app, "supervisor")
    full = supervisor.get(f"/attempts/{attempt}/faces/{flag}.jpg")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert "no-store" in full.headers["Cache-Control"]
    assert cv2.imdecode(np.frombuffer(full.data, np.uint8), cv2.IMREAD_COLOR).shape == no_face().shape
    thumb = cv2.imdecode(np.frombuffer(supervisor.get(thumb_url).data, np.uint8), cv2.IMREAD_COLOR)
    assert thumb.shape[1] == 240 and thumb.shape[0] == round(no_face().shape[0] * 240 / no_face().shape[1])
    photo = supervisor.get(f"/attempts/{attempt}/checkin-photo.jpg")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    # another attempt's flag, through this attempt's address; a photo the other attempt does not have
    assert supervisor.get(f"/attempts/{attempt}/faces/{flagged['foreign']}.jpg").status_code == 404
    assert supervisor.get(f"/attempts/{flagged['other']}/checkin-photo.jpg").status_code == 404
    anonymous = app.test_client().get(thumb_url)
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    # an auditor of another course does not see this course's candidates
    Accounts(records.sessions).create("auditor-elsewhere", PASSWORD, Role.AUDITOR, scope="elsewhere")
    assert _signed_in(app, "auditor-elsewhere").get(thumb_url).status_code == 404


@pytest.mark.parametrize("username", ["auditor", "supervisor"])
def test_marking_a_flag_reviewed_is_shown_and_audited(app, accounts, records, flagged, username):
    attempt, flag = flagged["attempt"], flagged["drive"][1]
    client = _signed_in(app, username)
    token = csrf_token(client.get(f"/attempts/{attempt}/replay").get_data(as_text=True))
    url = f"/attempts/{attempt}/faces/{flag}/review"
    assert client.post(url, data={"comment": "考生侧身看后视镜"}).status_code == 400  # no CSRF token
    response = client.post(url, data={"csrf_token": token, "comment": " 考生侧身看后视镜 "})
    assert response.status_code == 302 and response.location.endswith(f"/attempts/{attempt}/replay#faces")
    with records.sessions() as session:
        stored = session.get(FaceFlag, flag)
        assert (stored.reviewed_by, stored.review_comment) == (username, "考生侧身看后视镜")
        assert stored.reviewed_utc is not None
        assert session.get(FaceFlag, flagged["drive"][0]).reviewed_by is None
    page = client.get(f"/attempts/{attempt}/replay").get_data(as_text=True)
    assert f"{username} · " in page and "考生侧身看后视镜" in page and "人脸标记已核查" in page
    assert page.count("重新核查") == 1 and page.count("标记为已核查") == 2
    entries = [e for e in AuditLog(records.sessions).entries() if e.action == "face_review"]
    assert [(e.actor, e.target, e.detail) for e in entries] == [
        (username, f"attempt {attempt} face flag {flag}", "考生侧身看后视镜")]
    # a flag of another attempt cannot be marked through this one
    assert client.post(f"/attempts/{attempt}/faces/{flagged['foreign']}/review",
                       data={"csrf_token": token, "comment": "x"}).status_code == 404
    assert len([e for e in AuditLog(records.sessions).entries() if e.action == "face_review"]) == 1

