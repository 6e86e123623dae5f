"""The result slip renders as a one-page PDF holding the attempt's facts, in Chinese."""

import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from examroom.database import session_factory
from examroom.models import Booking, Candidate, Sitting
from examroom.records import Records
from examroom.sealing import Sealer, load_or_create_key
from examroom.slip import SlipError, render_slip
from tests.examroom.attempts import finished_attempt, id_number

PHOTO = cv2.imencode(".jpg", np.full((160, 120, 3), (40, 120, 200), np.uint8))[1].tobytes()


@pytest.fixture
def sealed_attempt(engine, tmp_path):
    sessions = session_factory(engine)
    records = Records(sessions)
    now = datetime.now(timezone.utc)
    with sessions.begin() as session:
        sitting = Sitting(code="20261129-01", course_code="6201001", checkin_opens_utc=now,
                          starts_utc=now, ends_utc=now + timedelta(hours=1), status="running")
        candidate = Candidate(name="王建国", id_number=id_number(21), exam_number="620100000021", vehicle_class="E")
        session.add_all([sitting, candidate])
        session.flush()
        booking = Booking(sitting_id=sitting.id, candidate_id=candidate.id, vehicle_class="E", school="兰州驾校",
                          exam_reason="初考", state="on_vehicle", serial_number="", confirmed_by="考试员甲",
                          photo=PHOTO, photo_sha256="", tries=0, outcome="", checked_in_utc=now)
        session.add(booking)
        session.flush()
        booking_id, candidate_id = booking.id, candidate.id
    attempt = finished_attempt(records, passed=True, booking_id=booking_id, candidate_id=candidate_id)
    Sealer(sessions, load_or_create_key(tmp_path)).seal(attempt)
    unsealed = finished_attempt(records)
    return sessions, attempt, unsealed


def test_slip_is_a_pdf_with_the_facts(sealed_attempt, tmp_path):
    sessions, attempt, _ = sealed_attempt
    pdf = render_slip(sessions, attempt, "https://course.example/examday/verify/")
    assert pdf.startswith(b"%PDF-") and b"/Subtype /Image" in pdf  # the check-in photo
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: only the PDF header was checked")
    path = tmp_path / "slip.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ("科目二 成绩单", "王建国", "620***********" + id_number(21)[-4:], "20261129-01",
                     "熄火", "成绩：90分", "合格", "考生签名", "考试员签名", "签到照片",
                     f"https://course.example/examday/verify/{attempt}?seal="):
        assert expected in text, expected
    assert id_number(21) not in text  # the full ID number never appears


def test_no_slip_before_the_seal(sealed_attempt):
    sessions, _, unsealed = sealed_attempt
    with pytest.raises(SlipError, match="is not sealed"):
        render_slip(sessions, unsealed, "http://x/")
