"""Exam-day pages: check-in, call-up, the waiting hall, verification and the slip, in Chinese."""

import base64
import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from examroom.records.people import mask_id_number
from examroom.records.models import Attempt, Sitting
from examroom.examday.roster import RosterImport
from examroom.records.sealing import Sealer, load_or_create_key, seal_digest
from examroom.examday.sittings import SittingPlan, create_sitting
from examroom.records.slip_token import sign_slip
from tests.examroom.attempts import allow_tampering, finished_attempt, id_number
from tests.examroom.examday.test_checkin_callup import PHOTO
from tests.examroom.examday.test_roster import write_csv
from tests.web.conftest import login
from examroom_web import create_app


@pytest.fixture
def day(records, accounts, tmp_path):
    sessions = records.sessions
    records.ensure_vehicle("V1", "甘K·3071学", "E", "E-01")
    records.ensure_vehicle("V2", "甘K·3072学", "C4", "C4-01")
    now = datetime.now(timezone.utc)
    sitting = create_sitting(sessions, SittingPlan("S1", now, now + timedelta(minutes=5), now + timedelta(hours=1)))
    write_csv(tmp_path / "r.csv", [["", "王建国", id_number(41), "620100000041", "", "E", "兰州驾校", "S1", "初考"]])
    RosterImport(sessions, {"E", "C4"}).run(tmp_path / "r.csv", commit=True)
    with sessions.begin() as session:
        session.get(Sitting, sitting).status = "open"
    client = create_app(records, config={"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False}).test_client()
    login(client, "supervisor")
    return client, sitting


def test_check_in_call_up_and_the_hall(day):
    client, sitting = day
    assert "S1" in client.get("/examday/").get_data(as_text=True)
    page = client.post(f"/examday/sitting/{sitting}/checkin", data={"id_number": id_number(41)}).get_data(as_text=True)
    assert "王建国" in page and "620***********" in page and id_number(41) not in page
    bad = client.post(f"/examday/sitting/{sitting}/checkin", data={"id_number": "123"})
    assert bad.status_code == 422 and "长度为3位，应为18位" in bad.get_data(as_text=True)
    booking = page.split('name="booking" value="')[1].split('"')[0]
    done = client.post(f"/examday/sitting/{sitting}/checkin", content_type="multipart/form-data",
                       data={"booking": booking, "photo": (io.BytesIO(PHOTO), "p.jpg")})
    # PHOTO is blank: it becomes the booking's reference photo (it had none), flagged for review
    assert "签到成功，排队号 1；本次照片已作为该预约的比对照片；照片未检测到人脸，已标记待复核" in done.get_data(as_text=True)
    wrong = client.post(f"/examday/sitting/{sitting}/queue", data={"booking": booking, "vehicle": "V2"})
    assert wrong.status_code == 422 and "预约的准驾车型为E" in wrong.get_data(as_text=True)
    assert client.post(f"/examday/sitting/{sitting}/queue", data={"vehicle": "V1"}).status_code == 200
    hall = client.get(f"/examday/hall/{sitting}").get_data(as_text=True)
    assert "请以下考生上车" in hall and "王*国" in hall and "甘K·3071学" in hall and "王建国" not in hall
    none_left = client.post(f"/examday/sitting/{sitting}/queue", data={"vehicle": "V1"})
    assert "没有等候该车型的考生" in none_left.get_data(as_text=True)


def test_verification_link_and_slip(records, accounts, tmp_path):
    client = create_app(records, config={"TESTING": True, "SECRET_KEY": "t"}).test_client()
    login(client, "supervisor")
    sealer = Sealer(records.sessions, load_or_create_key(tmp_path))
    attempt = finished_attempt(records)
    seal = sealer.seal(attempt)
    good = client.get(f"/examday/verify/{attempt}?slip={seal.slip}").get_data(as_text=True)
    assert "电子签章有效" in good and "成绩单与签章记录一致" in good
    assert "成绩单上的签章摘要与记录不符" in client.get(f"/examday/verify/{attempt}?seal={'0' * 32}").get_data(as_text=True)
    slip = client.get(f"/examday/slip/{attempt}.pdf")
    assert slip.mimetype == "application/pdf" and slip.data.startswith(b"%PDF-")
    with records.sessions.begin() as session:
        allow_tampering(session.connection())
        session.connection().exec_driver_sql(f"UPDATE attempts SET score = 99 WHERE id = {attempt}")
    bad = client.get(f"/examday/verify/{attempt}").get_data(as_text=True)
    assert "核验未通过" in bad and "record.score" in bad
    assert "成绩单与记录不符" in client.get(f"/examday/verify/{attempt}?slip={seal.slip}").get_data(as_text=True)


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_public_page_shows_what_the_slip_must_say(records, tmp_path):
    """Anyone, signed in or not, sees the sealed facts; a real digest on a forged slip no longer passes."""
    client = create_app(records, config={"TESTING": True, "SECRET_KEY": "t"}).test_client()
    sealer = Sealer(records.sessions, load_or_create_key(tmp_path))
    attempt = finished_attempt(records, passed=False)
    seal = sealer.seal(attempt)
    with records.sessions() as session:
        name = session.get(Attempt, attempt).candidate.id_number
    page = _text(client.get(f"/examday/verify/{attempt}?seal={seal_digest(seal)[:32]}").get_data(as_text=True))
    for expected in ("准驾车型 E", "考试日期 2026-11-29", "姓名 张*", "身份证明号码 " + mask_id_number(name),
                     "成绩 70", "考试结果 不合格", "通用评判 扣10分", "电子签章有效"):
        assert expected in page, (expected, page)
    assert name not in page
    # The forged slip's QR carries the real digest: the page no longer says the slip matches.
    assert "成绩单与签章记录一致" not in page and "请逐项核对成绩单" in page
    body = json.loads(base64.urlsafe_b64decode(seal.slip.split(".")[0] + "=="))
    forged = sign_slip({**body, "s": 90, "r": "passed"}, load_or_create_key(tmp_path / "forger"))
    page = client.get(f"/examday/verify/{attempt}?slip={forged}").get_data(as_text=True)
    assert "成绩单二维码的签名无效" in page and "成绩单与签章记录一致" not in page
    assert "无法读取" in client.get(f"/examday/verify/{attempt}?slip=garbage").get_data(as_text=True)
    unsealed = finished_attempt(records)
    assert "尚未签章" in client.get(f"/examday/verify/{unsealed}").get_data(as_text=True)
    assert client.get("/examday/verify/999999").status_code == 404
    english = create_app(records, config={"TESTING": True, "SECRET_KEY": "t"}).test_client()
    english.get("/lang/en")
    page = english.get(f"/examday/verify/{attempt}?slip={seal.slip}").get_data(as_text=True)
    assert "The slip matches the sealed record" in page and "What the slip must say" in page


def test_the_sittings_page_shows_the_closing_seal_heads(day, records, tmp_path):
    from examroom.records.sealing import chain_heads
    from examroom.examday.sittings import SittingPhases

    client, sitting = day
    Sealer(records.sessions, load_or_create_key(tmp_path)).seal(finished_attempt(records))
    assert SittingPhases(records.sessions, lambda: []).run(sitting, "close")
    with records.sessions() as session:
        head = chain_heads(session)["demo"]
    page = client.get("/examday/").get_data(as_text=True)
    assert "闭场签章链摘要" in page and head["digest"] in page and "第 1 枚签章" in page
