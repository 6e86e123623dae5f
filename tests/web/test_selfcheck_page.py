"""The supervisor's self-check page: the stored check in Chinese, live state as JSON, the override."""

from datetime import datetime, timezone

import pytest

from examroom.station.selfcheck import sitting_checks_of
from tests.web.conftest import login
from examroom_web import create_app

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
REPORT = {
    "started_utc": UTC.isoformat(), "passed": False, "passed_utc": None, "devices_ok": False,
    "devices": [
        {"device": "V1.gnss", "kind": "gnss", "vehicle": "V1", "port": "/dev/ttyUSB0", "expected_rate": 10.0,
         "rate": 10.0, "fix_quality": 5, "fix_text": "RTK浮点解", "inside_course": True, "ok": False,
         "problems": ["定位质量不足：RTK浮点解"]},
        {"device": "board-e", "kind": "courseboard", "vehicle": None, "port": "/dev/ttyUSB2", "expected_rate": 20.0,
         "rate": 19.8, "fix_quality": None, "fix_text": None, "inside_course": None, "ok": True, "problems": []}],
    "sensors": [{"element": "e_pile.pole1", "fired": True, "utc": UTC.isoformat()},
                {"element": "e_pile.pole2", "fired": False, "utc": None}],
    "sensors_fired": 1, "sensors_total": 2,
}


@pytest.fixture
def client(records, accounts):
    client = create_app(records, config={"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False}).test_client()
    login(client, "supervisor")
    return client


@pytest.fixture
def check_id(records):
    return sitting_checks_of(records).save(None, REPORT, UTC, UTC)


def test_page_without_any_check(client):
    page = client.get("/selfcheck/").get_data(as_text=True)
    assert "尚无场地信号检测记录" in page


def test_page_shows_devices_sensors_and_the_override_form(client, check_id):
    page = client.get("/selfcheck/").get_data(as_text=True)
    assert "场地信号检测" in page and "未通过" in page
    assert "定位质量不足：RTK浮点解" in page and "RTK浮点解" in page
    assert "✓ e_pile.pole1" in page and "○ e_pile.pole2" in page and "（<span id=\"fired\">1</span>/2）" in page
    assert "登记放行" in page and 'name="actor"' in page
    state = client.get("/selfcheck/state.json").get_json()
    assert state["id"] == check_id and state["report"]["sensors_fired"] == 1 and state["override"] is None


def test_override_needs_name_and_reason_and_is_kept(client, records, check_id):
    r = client.post("/selfcheck/override", data={"actor": "王考官", "reason": ""})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "放行须填写考场负责人姓名和原因" in page
    assert sitting_checks_of(records).get(check_id).override_actor is None

    client.post("/selfcheck/override", data={"actor": "王考官", "reason": "2号杆传感器更换中，人工评判"})
    row = sitting_checks_of(records).get(check_id)
    # the signed-in account overrides; the name typed on the form is kept beside it
    assert (row.override_actor, row.override_reason) == ("supervisor (王考官)", "2号杆传感器更换中，人工评判")
    page = client.get("/selfcheck/").get_data(as_text=True)
    assert "未通过，已登记放行" in page and "王考官" in page and 'name="actor"' not in page
