"""A known set of attempts gives known pass rates by item, class, hour and examiner; date bounds are local days."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo
from examroom.records.statistics import Rate, compute
from tests.examroom.attempts import confirmed_booking, id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
ORDER = [("r1", "reverse"), ("h1", "hill"), ("p1", "parallel"), ("c1", "curve"), ("a1", "angle")]


def _local(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


def _attempt(records, n, vehicle, klass, examiner, start, failed_at=None, status=None, course="demo"):
    """An attempt through the items in ORDER, up to and failing at ``failed_at`` (None: all passed)."""
    cid = records.ensure_candidate(CandidateInfo(f"考生{n}", id_number(n), f"6200{n:04d}", klass))
    booking = confirmed_booking(records, cid, examiner) if examiner else None
    start = start.astimezone(timezone.utc)
    a = records.check_in(cid, vehicle, course, "ga1026-2022", start, booking_id=booking)
    records.mark_running(a, start)
    reached = ORDER if failed_at is None else ORDER[:[i for i, _ in ORDER].index(failed_at) + 1]
    if failed_at is not None:
        records.add_deduction(a, {"rule": "x.fail", "code": "90000", "title": "不合格项", "points": 100,
                                  "disqualify": True, "item": failed_at, "t": 1.0,
                                  "utc": "2026-11-28T01:01:00.000000Z"})
    outcome = status or (AttemptStatus.PASSED if failed_at is None else AttemptStatus.FAILED)
    records.finish(a, outcome, start + timedelta(minutes=7),
                   result={"score": 0 if failed_at else 100, "passed": failed_at is None,
                           "items": [{"id": i, "type": t} for i, t in reached]})
    return a


@pytest.fixture
def known(records):
    """Seven judged attempts at course demo, one aborted, one at another course.

    | n | class | examiner | local start        | outcome            |
    | 1 | C1    | 甲       | 28th 08:10         | passed             |
    | 2 | C1    | 甲       | 28th 08:40         | failed at reverse  |
    | 3 | C1    | 乙       | 28th 09:05         | failed at parallel |
    | 4 | C2    | 乙       | 28th 09:30         | passed             |
    | 5 | C2    | 乙       | 28th 09:50         | failed at curve    |
    | 6 | C2    | 甲       | 28th 23:59:30      | passed             |
    | 7 | C1    | 乙       | 29th 00:00:30      | failed at angle    |
    | 8 | C1    | 甲       | 28th 10:00         | aborted            |
    | 9 | C1    | 甲       | 28th 10:00 (north) | passed             |
    """
    records.ensure_vehicle("V1", "甘A·0001学", "C1", "C1-01")
    records.ensure_vehicle("V2", "甘A·0002学", "C2", "C2-01")
    _attempt(records, 1, "V1", "C1", "考试员甲", _local(28, 8, 10))
    _attempt(records, 2, "V1", "C1", "考试员甲", _local(28, 8, 40), failed_at="r1")
    _attempt(records, 3, "V1", "C1", "考试员乙", _local(28, 9, 5), failed_at="p1")
    _attempt(records, 4, "V2", "C2", "考试员乙", _local(28, 9, 30))
    _attempt(records, 5, "V2", "C2", "考试员乙", _local(28, 9, 50), failed_at="c1")
    _attempt(records, 6, "V2", "C2", "考试员甲", _local(28, 23, 59, 30))
    _attempt(records, 7, "V1", "C1", "考试员乙", _local(29, 0, 0, 30), failed_at="a1")
    _attempt(records, 8, "V1", "C1", "考试员甲", _local(28, 10, 0), status=AttemptStatus.ABORTED)
    _attempt(records, 9, "V1", "C1", "考试员甲", _local(28, 10, 0), course="north")
    return records


def test_rates_by_item_class_hour_and_examiner(known):
    stats = compute(known.sessions, courses=["demo"])
    assert (stats.attempts, stats.judged, stats.passed) == (8, 7, 3)
    assert stats.rate == pytest.approx(3 / 7)
    assert stats.by_class == [Rate("C1", 4, 1), Rate("C2", 3, 2)]
    assert stats.by_examiner == [Rate("考试员乙", 4, 1), Rate("考试员甲", 3, 2)]
    # 7 starts at 00:00:30 on the 29th in Shanghai (16:00:30 UTC on the 28th): hour 00, not 16.
    assert stats.by_hour == [Rate("00", 1, 0), Rate("08", 2, 1), Rate("09", 3, 1), Rate("23", 1, 1)]
    # An item counts the attempts that reached it; the aborted attempt is no one's result.
    assert stats.by_item == [Rate("angle", 4, 3), Rate("curve", 5, 4), Rate("hill", 6, 6), Rate("parallel", 6, 5),
                             Rate("reverse", 7, 6)]
    # Attempts started per hour count every attempt, the aborted one too.
    assert dict(stats.per_hour) == {0: 1, 8: 2, 9: 3, 10: 1, 23: 1}


def test_every_course_when_no_scope_is_given(known):
    stats = compute(known.sessions)
    assert (stats.attempts, stats.judged, stats.passed) == (9, 8, 4)
    assert stats.by_hour[-2:] == [Rate("10", 1, 1), Rate("23", 1, 1)]


@pytest.mark.parametrize("since, until, starts", [
    (date(2026, 11, 28), date(2026, 11, 28), {"08", "09", "23"}),  # 23:59:30 is the 28th, both bounds included
    (date(2026, 11, 29), date(2026, 11, 29), {"00"}),  # 00:00:30 local is the 29th though UTC says the 28th
    (date(2026, 11, 29), None, {"00"}),
    (None, date(2026, 11, 27), set()),
    (date(2026, 11, 28), date(2026, 11, 29), {"00", "08", "09", "23"}),
])
def test_date_range_is_inclusive_in_the_course_local_day(known, since, until, starts):
    stats = compute(known.sessions, since=since, until=until, courses=["demo"])
    assert {r.key for r in stats.by_hour} == starts


def test_the_zone_decides_which_day_an_attempt_is_on(known):
    """In UTC, attempt 7 (16:00:30 UTC) is on the 28th, and 6 (15:59:30 UTC) in hour 15."""
    utc = ZoneInfo("UTC")
    stats = compute(known.sessions, since=date(2026, 11, 28), until=date(2026, 11, 28), courses=["demo"], zone=utc)
    assert stats.judged == 7 and {r.key for r in stats.by_hour} == {"00", "01", "15", "16"}
    assert compute(known.sessions, since=date(2026, 11, 29), courses=["demo"], zone=utc).attempts == 0
