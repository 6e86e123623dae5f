import json
from datetime import datetime, timezone

import pytest

from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo
from tests.examroom.records.test_statistics import filled  # noqa: F401  (fixture)

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def attempt(records):
    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-HJ110")
    cid = records.ensure_candidate(CandidateInfo("李四", "62010219900101123X", "62000002", "E"))
    attempt = records.check_in(cid, "V1", "demo", "GA1026-2022", UTC)
    records.mark_running(attempt, UTC)
    records.add_deduction(attempt, {"rule": "hill.stop_offset_minor", "code": "20303",
                                    "title": "停车后，摩托车前轴未定于桩杆线上，且前后不超出50cm", "points": 10,
                                    "disqualify": False, "item": "e_hill", "t": 40.0,
                                    "utc": "2026-11-29T03:00:40.000000Z", "value": "0.40 m"})
    records.finish(attempt, AttemptStatus.PASSED, UTC, result={
        "score": 90, "passed": True, "items": [{"id": "e_hill", "type": "hill"}]})
    return attempt


def test_result_page_in_chinese_with_masked_id(client, attempt):
    page = client.get(f"/attempts/{attempt}").get_data(as_text=True)
    assert "考试成绩" in page and "合格" in page and "李四" in page
    assert "620***********123X" in page and "62010219900101123X" not in page
    assert "坡道定点停车和起步" in page and "20303" in page and "0.40 m" in page


def test_attempt_list_masks_ids(client, attempt):
    page = client.get("/attempts/").get_data(as_text=True)
    assert "620***********123X" in page and "62010219900101123X" not in page


def test_unknown_attempt_is_404(client):
    assert client.get("/attempts/999").status_code == 404


def test_live_page_in_chinese(client):
    page = client.get("/").get_data(as_text=True)
    assert "考试实况" in page and "live.js" in page


def _events(response, count):
    """Read ``count`` data events from an SSE response."""
    out, buffer = [], ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
            if data:
                out.append(json.loads(data[0]))
                if len(out) == count:
                    return out
    return out


def test_stream_sends_state_then_deductions_with_announcement(client, feed):
    feed.publish({"type": "idle"}, vehicle_state={"vehicle": "V1", "status": "running", "item_type": "pile"})
    response = client.get("/live/stream", buffered=False)
    assert response.mimetype == "text/event-stream"
    state = _events(response, 1)[0]
    assert state["type"] == "state" and state["vehicles"]["V1"]["item_text"] == "桩考"
    deduction = {"rule": "pile.pole_touched", "title": "碰擦桩杆", "points": 100, "disqualify": True}
    feed.publish({"type": "deduction", "deduction": deduction,
                  "vehicle_state": {"vehicle": "V1", "status": "running", "item_type": "pile"}})
    event = _events(response, 1)[0]
    assert event["deduction"]["rule"] == "pile.pole_touched"
    assert event["announce"] == "碰擦桩杆，考试不合格"
    assert event["vehicle_state"]["status_text"] == "考试中"
    response.close()


def test_attempt_list_filters_by_examiner_and_shows_unrecorded(client, filled):  # noqa: F811
    everything = client.get("/attempts/").get_data(as_text=True)
    assert '<option value="考试员甲" >考试员甲</option>' in everything
    assert '<option value="考试员乙" >考试员乙</option>' in everything
    assert everything.count("<td>考试员甲</td>") == 10 and everything.count("<td>未登记</td>") == 4
    page = client.get("/attempts/?examiner=考试员乙").get_data(as_text=True)
    assert '<option value="考试员乙" selected>' in page
    assert page.count("/replay\"") == 6 and page.count("<td>考试员乙</td>") == 6 and "<td>未登记</td>" not in page
    assert page.count("<td>甘K·0002学</td>") == 6
    assert "暂无考试记录" in client.get("/attempts/?examiner=未登记").get_data(as_text=True)


def test_result_and_replay_pages_name_the_examiner(client, filled):  # noqa: F811
    examined, unrecorded = (filled.search(examiner="考试员甲")[0].id,
                            next(a.id for a in filled.search() if a.examiner is None))
    assert "<dd>考试员甲</dd>" in client.get(f"/attempts/{examined}").get_data(as_text=True)
    assert "<dd>未登记</dd>" in client.get(f"/attempts/{unrecorded}").get_data(as_text=True)
    assert "考试员 考试员甲" in client.get(f"/attempts/{examined}/replay").get_data(as_text=True)


def test_an_examiner_with_an_account_is_shown_by_the_accounts_display_name(client, filled, records):  # noqa: F811
    from tests.examroom.attempts import confirmed_booking, finished_attempt

    candidate = records.attempt(filled.search()[0].id).candidate_id
    attempt = finished_attempt(records, booking_id=confirmed_booking(records, candidate, "supervisor", "S-NAMES"),
                               candidate_id=candidate)
    assert "<dd>supervisor 测试</dd>" in client.get(f"/attempts/{attempt}").get_data(as_text=True)
    listing = client.get("/attempts/").get_data(as_text=True)
    assert '<option value="supervisor" >supervisor 测试</option>' in listing and "<td>supervisor 测试</td>" in listing
    assert "考试员 supervisor 测试" in client.get(f"/attempts/{attempt}/replay").get_data(as_text=True)
