"""The result slip renders as a one-page PDF holding the attempt's facts, in Chinese."""

import base64
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from examroom.cli.main import main
from examroom.records.database import session_factory
from examroom.records.models import Booking, Candidate, Seal, Sitting
from examroom.records.attempt_log import Records
from examroom.records.sealing import PUBLIC_KEY_FILE, Sealer, load_or_create_key
from examroom.examday.slip import SlipError, render_slip
from examroom.records.slip_token import sign_slip
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
                     f"https://course.example/examday/verify/{attempt}（扫码核验"):
        assert expected in text, expected
    assert id_number(21) not in text  # the full ID number never appears


def test_no_slip_before_the_seal(sealed_attempt):
    sessions, _, unsealed = sealed_attempt
    with pytest.raises(SlipError, match="尚未封存"):
        render_slip(sessions, unsealed, "http://x/")


# -- issue 13.2: the QR carries a statement signed with the course key ------------------------------

def _qr_text(pdf: bytes, tmp_path) -> str:
    """The QR code of a slip, read back from the page rendered at 300 dpi (then 400), as a phone would."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    (tmp_path / "slip.pdf").write_bytes(pdf)
    # OpenCV's readers each miss some dense codes (a signed slip's link is about 400 characters):
    # of 60 random links of that length at 300 dpi the classic QRCodeDetector misread 9, the
    # ArUco-based one none, yet on whole slips the ArUco one missed 1 in about 30. A phone's
    # reader tries again as the camera moves; this tries the other reader and a finer rendering.
    for dpi in (300, 400):
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(tmp_path / "slip.pdf"),
                        str(tmp_path / "page")], check=True)
        page = cv2.imread(str(tmp_path / "page.png"))
        corner = page[page.shape[0] // 2:, page.shape[1] // 2:]
        for reader in (cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector()):
            text = reader.detectAndDecode(corner)[0]
            if text:
                return text
    raise AssertionError("the QR code could not be read from the rendered slip")


def test_the_slip_qr_is_signed_and_checks_offline(sealed_attempt, engine, tmp_path, capsys):
    sessions, attempt, _ = sealed_attempt
    text = _qr_text(render_slip(sessions, attempt, "https://course.example/examday/verify/"), tmp_path)
    assert text.startswith(f"https://course.example/examday/verify/{attempt}?slip=")
    public = tmp_path / PUBLIC_KEY_FILE
    assert main(["verify", "--slip", text, "--public-key", str(public)]) == 0  # no database: offline
    out = capsys.readouterr().out
    assert f"slip of attempt {attempt}: class E" in out and "王*国" in out and "score 90, passed" in out
    assert "620***********" + id_number(21)[-4:] in out and "slip OK: signed by the course" in out
    url = str(engine.url)
    assert main(["verify", "--slip", text, "--database", url]) == 0
    assert "matching the sealed record" in capsys.readouterr().out


def _forge(token: str, change, key) -> str:
    body = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return sign_slip(change(body), key)


def test_a_forged_or_altered_slip_is_named(sealed_attempt, engine, tmp_path, capsys):
    sessions, attempt, _ = sealed_attempt
    with sessions() as session:
        token = session.get(Seal, attempt).slip
    public, url = str(tmp_path / PUBLIC_KEY_FILE), str(engine.url)
    other_key = load_or_create_key(tmp_path / "forger")
    forged = _forge(token, lambda c: {**c, "s": 100}, other_key)  # a key of its own, claiming the course's
    assert main(["verify", "--slip", forged, "--public-key", public]) == 1
    assert "signature: the slip is not signed by the pinned key" in capsys.readouterr().out
    body, signature = token.split(".")
    altered = base64.urlsafe_b64encode(base64.urlsafe_b64decode(body + "==").replace(b'"s":90', b'"s":99'))
    assert main(["verify", "--slip", altered.decode().rstrip("=") + "." + signature, "--public-key", public]) == 1
    # Signed by the course, but for another attempt's facts: the stored record tells.
    course_key = load_or_create_key(tmp_path)
    other = _forge(token, lambda c: {**c, "s": 100, "r": "passed"}, course_key)
    assert main(["verify", "--slip", other, "--database", url]) == 1
    assert "slip field s: slip says 100, the records 90" in capsys.readouterr().out
    for garbage in ("hello", "https://course.example/examday/verify/1?seal=abc", "a.b"):
        assert main(["verify", "--slip", garbage, "--public-key", public]) == 2
    assert main(["verify", "--slip", token]) == 2  # neither key nor database: cannot check
