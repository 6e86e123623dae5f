from datetime import datetime, timedelta, timezone

import pytest

from examroom.models import AttemptStatus
from examroom.records import CandidateInfo
from examroom.statistics import Rate, compute, length_outliers, pass_rate_outliers

START = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)  # 09:00 Beijing


def _attempt(records, n, vehicle, passed, minutes=6, stall=False, start=START):
    cid = records.ensure_candidate(CandidateInfo(f"考生{n}", f"6201021990010{n:05d}", f"62{n:06d}", "E"))
    a = records.check_in(cid, vehicle, "demo", "ga1026-2022", start)
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
    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-01")
    records.ensure_vehicle("V2", "甘K·0002学", "E", "E-01")
    for n in range(10):
        _attempt(records, n, "V1", passed=True, stall=n % 2 == 0, start=START + timedelta(minutes=10 * n))
        _attempt(records, 100 + n, "V2", passed=n < 2, minutes=6 + n % 3, start=START + timedelta(hours=2, minutes=n))
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
