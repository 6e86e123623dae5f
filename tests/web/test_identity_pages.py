"""The 1:1 face check on the pages: the check-in desk's decision with both pictures, the auditor's
replay, pictures for supervisors and auditors only, every look and decision in the audit log."""

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from examroom.examday.roster import RosterImport
from examroom.examday.sittings import SittingPlan, create_sitting
from examroom.faces.identity import set_reference
from examroom.records.models import AuditEntry, Booking, IdentityCheck, Sitting
from tests.examroom import face_photos
from tests.examroom.attempts import finished_attempt, id_number
from tests.examroom.examday.test_roster import write_csv
from tests.examroom.face_photos import encoded, fit_area, photo
from tests.web.conftest import login
from examroom_web import create_app

pytestmark = pytest.mark.skipif(not face_photos.available(),
                                reason=f"the face photos are not in {face_photos.FOLDER} (EXAMROOM_FACE_PHOTOS)")


def picture(name):
    return encoded(fit_area(photo(name), 640, 480))


@pytest.fixture
def desk(records, accounts, tmp_path):
    """An open sitting whose one booking has a roster reference photo of Obama (2010)."""
    sessions = records.sessions
    now = datetime.now(timezone.utc)
    sitting = create_sitting(sessions, SittingPlan("S1", now, now + timedelta(minutes=5), now + timedelta(hours=1)))
    write_csv(tmp_path / "r.csv", [["", "王建国", id_number(61), "620100000061", "", "E", "兰州驾校", "S1", "初考"]])
    RosterImport(sessions, {"E"}).run(tmp_path / "r.csv", commit=True)
    with sessions.begin() as session:
        session.get(Sitting, sitting).status = "open"
        booking = session.scalar(select(Booking))
        set_reference(booking, picture("obama_2010_blue_room.jpg"), "roster", "importer")
        booking_id = booking.id
    app = create_app(records, config={"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False})
    return app, sessions, sitting, booking_id


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def audit_actions(sessions):
    with sessions() as session:
        return [(e.actor, e.action, e.target, e.detail) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                if e.action not in ("login", "sign_in")]


def test_a_stand_in_is_shown_beside_the_booking_photo_and_the_decision_is_audited(desk):
    app, sessions, sitting, booking_id = desk
    client = signed_in(app, "supervisor")
    found = client.post(f"/examday/sitting/{sitting}/checkin", data={"id_number": id_number(61)}).get_data(as_text=True)
    reference_url = f"/examday/sitting/{sitting}/booking/{booking_id}/reference.jpg"
    assert reference_url in found and "预约照片" in found
    page = client.post(f"/examday/sitting/{sitting}/checkin", content_type="multipart/form-data",
                       data={"booking": str(booking_id),
                             "photo": (io.BytesIO(picture("biden_2010_blue_room.jpg")), "p.jpg")})
    text = page.get_data(as_text=True)
    with sessions() as session:
        check = session.scalar(select(IdentityCheck))
    assert page.status_code == 200 and "人脸比对不一致" in text and "签到成功" not in text
    probe_url = f"/examday/sitting/{sitting}/booking/{booking_id}/identity/{check.id}.jpg"
    assert reference_url in text and probe_url in text  # side by side
    for url in (reference_url, probe_url):
        shown = client.get(url)
        assert shown.status_code == 200 and shown.mimetype == "image/jpeg" and "no-store" in shown.headers["Cache-Control"]
    refused = client.post(f"/examday/sitting/{sitting}/checkin",
                          data={"booking": str(booking_id), "check": str(check.id), "decision": "refuse"})
    assert refused.status_code == 422 and "拒绝签到须填写原因" in refused.get_data(as_text=True)
    accepted = client.post(f"/examday/sitting/{sitting}/checkin",
                           data={"booking": str(booking_id), "check": str(check.id), "decision": "accept",
                                 "comment": "身份证核对无误"}).get_data(as_text=True)
    assert "考试员确认为本人，签到成功，排队号 1" in accepted
    actions = audit_actions(sessions)
    assert ("supervisor", "identity_check", f"booking {booking_id} identity check {check.id}",
            f"mismatch {check.distance:.3f}") in actions
    assert ("supervisor", "view_face_picture", f"booking {booking_id} reference photo", "check-in desk") in actions
    assert ("supervisor", "view_face_picture", f"booking {booking_id} identity check {check.id}",
            "check-in desk") in actions
    assert ("supervisor", "identity_decision", f"booking {booking_id} identity check {check.id}",
            "accepted: 身份证核对无误") in actions
    assert actions[-1] == ("supervisor", "check_in", f"booking {booking_id}", "queue 1")


def test_the_same_person_checks_in_at_once(desk):
    app, sessions, sitting, booking_id = desk
    done = signed_in(app, "supervisor").post(
        f"/examday/sitting/{sitting}/checkin", content_type="multipart/form-data",
        data={"booking": str(booking_id), "photo": (io.BytesIO(picture("obama_2012_official_portrait.jpg")), "p.jpg")})
    assert "签到成功，排队号 1；人脸比对一致（距离 0." in done.get_data(as_text=True)


def test_the_replay_shows_the_checks_and_pictures_go_to_supervisors_and_auditors_only(desk, records):
    app, sessions, sitting, booking_id = desk
    client = signed_in(app, "supervisor")
    client.post(f"/examday/sitting/{sitting}/checkin", content_type="multipart/form-data",
                data={"booking": str(booking_id), "photo": (io.BytesIO(picture("biden_2010_blue_room.jpg")), "p.jpg")})
    with sessions() as session:
        check = session.scalar(select(IdentityCheck))
        candidate_id = session.get(Booking, booking_id).candidate_id
    client.post(f"/examday/sitting/{sitting}/checkin",
                data={"booking": str(booking_id), "check": str(check.id), "decision": "accept", "comment": "本人"})
    attempt = finished_attempt(records, booking_id=booking_id, candidate_id=candidate_id)
    auditor = signed_in(app, "auditor")
    page = auditor.get(f"/attempts/{attempt}/replay").get_data(as_text=True)
    assert f'id="identity-{check.id}"' in page and "人脸比对不一致" in page and "考试员确认为本人" in page
    urls = [f"/attempts/{attempt}/reference-photo.jpg", f"/attempts/{attempt}/identity/{check.id}.jpg",
            f"/attempts/{attempt}/checkin-photo.jpg"]
    assert all(url in page for url in urls)
    for url in urls:
        assert auditor.get(url).status_code == 200
        assert signed_in(app, "admin").get(url).status_code == 403  # the administrator sees no faces
    viewed = [a for a in audit_actions(sessions) if a[0] == "auditor" and a[1] == "view_face_picture"]
    assert [a[2] for a in viewed] == [f"attempt {attempt} reference photo", f"attempt {attempt} identity check {check.id}",
                                      f"attempt {attempt} check-in photo"]


def test_after_the_retention_the_replay_says_the_pictures_were_deleted(desk, records):
    from examroom.faces.personal_data import delete_expired

    app, sessions, sitting, booking_id = desk
    client = signed_in(app, "supervisor")
    client.post(f"/examday/sitting/{sitting}/checkin", content_type="multipart/form-data",
                data={"booking": str(booking_id), "photo": (io.BytesIO(picture("obama_2012_official_portrait.jpg")),
                                                            "p.jpg")})
    with sessions() as session:
        candidate_id = session.get(Booking, booking_id).candidate_id
    attempt = finished_attempt(records, booking_id=booking_id, candidate_id=candidate_id)
    assert delete_expired(sessions, datetime.now(timezone.utc) + timedelta(days=100), 90) == [booking_id]
    auditor = signed_in(app, "auditor")
    page = auditor.get(f"/attempts/{attempt}/replay").get_data(as_text=True)
    assert "按个人信息保留期限删除" in page and "无预约照片" in page and "无签到照片" in page
    assert "人脸比对一致" in page  # the check itself stays, as sealed
    for url in (f"/attempts/{attempt}/reference-photo.jpg", f"/attempts/{attempt}/checkin-photo.jpg"):
        assert auditor.get(url).status_code == 404
