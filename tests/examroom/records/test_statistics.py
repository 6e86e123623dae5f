from datetime import datetime, timedelta, timezone

import pytest

from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo
from examroom.records.statistics import OUTLIER_SIGMAS, Rate, compute, length_outliers, pass_rate_outliers
from tests.examroom.attempts import confirmed_booking

START = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)  # 09:00 Beijing


def _attempt(records, n, vehicle, passed, minutes=6, stall=False, start=START, examiner=None):
    cid = records.ensure_candidate(CandidateInfo(f"考生{n}", f"6201021990010{n:05d}", f"62{n:06d}", "E"))
    booking = confirmed_booking(records, cid, examiner) if examiner else None
    a = records.check_in(cid, vehicle, "demo", "ga1026-2022", start, booking_id=booking)
    records.mark_running(a, start)
    if stall:
        records.add_deduction(a, {"rule": "general.stall", "code": "10210", "title": "熄火", "points": 10,
                                  "item": "e_hill", "t": 1.0, "utc": "2026-11-28T01:01:00.000000Z"})
    if not passed:
        records.add_deduction(a, {"rule": "pile.pole_touched", "code": "90202", "title": "碰擦桩杆", "points": 100,
                                  "disqualify": True, "item": "e_pile", "t": 2.0, "utc": "2026-11-28T01:02:00.000000Z"})
    items = [{"id": "e_pile", "type": "pile"}, {"id": "e_hill", "type": "hill"}]
    records.finish(a, AttemptStatus.PASSED if passed else AttemptStatus.FAILED, start + timedelta(minutes=minutes),
                   result={"score": 90 if passed else 0, "passed": passed, "items": items})


@pytest.fixture
def filled(records):
    """V1: 10 of 10 passed, 考试员甲; V2: 2 of 10, the first six 考试员乙's, the last four with no examiner."""
    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-01")
    records.ensure_vehicle("V2", "甘K·0002学", "E", "E-01")
    for n in range(10):
        _attempt(records, n, "V1", passed=True, stall=n % 2 == 0, start=START + timedelta(minutes=10 * n),
                 examiner="考试员甲")
        _attempt(records, 100 + n, "V2", passed=n < 2, minutes=6 + n % 3, start=START + timedelta(hours=2, minutes=n),
                 examiner="考试员乙" if n < 6 else None)
    return records


def test_pass_rates_deductions_hours_and_outliers(filled):
    stats = compute(filled.sessions)
    assert stats.attempts == 20
    assert stats.by_class == [Rate("E", 20, 12)]
    assert stats.by_vehicle == [Rate("甘K·0001学", 10, 10), Rate("甘K·0002学", 10, 2)]
    assert stats.by_item == [Rate("hill", 20, 20), Rate("pile", 20, 12)]
    assert stats.common_deductions[0] == ("pile.pole_touched", "碰擦桩杆", 8)
    assert dict(stats.per_hour) == {9: 6, 10: 4, 11: 10}
    assert {(o.key, o.measure) for o in stats.outliers} >= {("甘K·0002学", "pass rate"), ("甘K·0001学", "pass rate")}


def test_pass_rate_by_examiner_leaves_out_attempts_without_one(filled):
    stats = compute(filled.sessions)
    assert stats.by_examiner == [Rate("考试员乙", 6, 2), Rate("考试员甲", 10, 10)]
    assert {(o.dimension, o.key) for o in stats.outliers if o.measure == "pass rate"} == {
        ("vehicle", "甘K·0001学"), ("vehicle", "甘K·0002学"), ("examiner", "考试员甲"), ("examiner", "考试员乙")}


@pytest.fixture
def examined(records):
    """Four examiners with ten attempts each on one vehicle: 甲 passes 0, 乙 6, 丙 and 丁 4 each.

    Against the other thirty, 甲 is 2.7 standard errors low; 乙 is 1.9 high, just inside OUTLIER_SIGMAS.
    丁's attempts also take twice as long as everyone else's.
    """
    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-01")
    for e, (examiner, passes) in enumerate({"甲": 0, "乙": 6, "丙": 4, "丁": 4}.items()):
        for n in range(10):
            minutes = (12 if examiner == "丁" else 6) + n % 3
            _attempt(records, 100 * e + n, "V1", passed=n < passes, minutes=minutes, examiner=f"考试员{examiner}",
                     start=START + timedelta(hours=e, minutes=n))
    return records


def test_an_examiner_whose_pass_rate_stands_apart_is_reported(examined):
    stats = compute(examined.sessions)
    assert stats.by_examiner == [Rate("考试员丁", 10, 4), Rate("考试员丙", 10, 4), Rate("考试员乙", 10, 6),
                                 Rate("考试员甲", 10, 0)]
    rates = [o for o in stats.outliers if o.measure == "pass rate"]
    assert [(o.dimension, o.key, o.value, o.others) for o in rates] == [("examiner", "考试员甲", 0.0, 14 / 30)]
    assert rates[0].sigmas <= -OUTLIER_SIGMAS


def test_an_examiner_just_inside_the_threshold_is_not_reported(examined):
    """乙 passes 6 of 10 against 8 of 30: 1.9 standard errors, under OUTLIER_SIGMAS."""
    groups = {e.key: [True] * e.passed + [False] * (e.attempts - e.passed)
              for e in compute(examined.sessions).by_examiner}
    others = [r for k, v in groups.items() if k != "考试员乙" for r in v]
    assert (sum(groups["考试员乙"]), sum(others), len(others)) == (6, 8, 30)
    assert "考试员乙" not in {o.key for o in pass_rate_outliers("examiner", groups)}
    # One more pass and 乙 stands apart too: the threshold, not the group size, kept 乙 out.
    groups["考试员乙"] = [True] * 7 + [False] * 3
    assert "考试员乙" in {o.key for o in pass_rate_outliers("examiner", groups)}


def test_an_examiner_with_long_attempts_is_reported(examined):
    lengths = [o for o in compute(examined.sessions).outliers if o.measure == "attempt length"]
    assert [(o.dimension, o.key) for o in lengths] == [("examiner", "考试员丁")]
    assert lengths[0].value == pytest.approx(13 * 60, abs=60) and lengths[0].sigmas >= OUTLIER_SIGMAS


def test_date_filter_in_beijing_time(filled):
    assert compute(filled.sessions, since=datetime(2026, 11, 29).date()).attempts == 0


def test_small_groups_never_stand_apart():
    assert pass_rate_outliers("vehicle", {"a": [True] * 4, "b": [False] * 30}) == []
    assert length_outliers("vehicle", {"a": [600.0] * 4, "b": [300.0, 310.0] * 10}) == []


def test_a_group_alone_never_stands_apart_from_itself():
    """One examiner (or vehicle) only: a few long attempts skew its mean from the median, which is no outlier."""
    assert length_outliers("examiner", {"a": [300.0, 310.0, 320.0, 330.0] * 5 + [900.0] * 4}) == []
    assert length_outliers("examiner", {"a": [300.0, 310.0, 320.0, 330.0] * 5 + [900.0] * 4, "b": [310.0] * 4}) == []


def test_long_attempts_stand_apart():
    found = length_outliers("vehicle", {"a": [600.0, 610.0, 590.0, 605.0, 600.0], "b": [300.0, 340.0] * 10,
                                        "c": [310.0, 330.0] * 10})
    assert [(o.key, o.measure) for o in found] == [("a", "attempt length")]
