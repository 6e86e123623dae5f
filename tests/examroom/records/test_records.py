from datetime import datetime, timezone

import pytest

from examroom.records.database import session_factory, upgrade
from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo, RecordError, Records
from scoring.observations import Command, CommandAction, Signals, Gear, from_json
from tests.examroom.attempts import confirmed_booking, id_number

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


def _setup(records: Records) -> int:
    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-HJ110")
    return records.ensure_candidate(CandidateInfo("张三", "620102199001011234", "62000001", "E"))


def _life(records: Records) -> None:
    candidate = _setup(records)
    attempt = records.check_in(candidate, "V1", "demo", "GA1026-2022", UTC)
    records.mark_running(attempt, UTC)
    start = Command(t=0.0, utc=UTC, vehicle="V1", action=CommandAction.START, vehicle_class="E",
                    vehicle_model="E-HJ110")
    sig = Signals(t=0.05, utc=UTC, vehicle="V1", ignition=True, engine=True, starter=False, gear=Gear.NEUTRAL,
                  helmet=True)
    records.append_journal(attempt, [(1, start), (2, sig)])
    records.add_deduction(attempt, {"rule": "general.stall", "code": "10210", "title": "熄火", "points": 10,
                                    "disqualify": False, "item": "hill", "t": 12.5,
                                    "utc": "2026-11-29T03:00:12.500000Z", "value": None})
    records.finish(attempt, AttemptStatus.PASSED, UTC, result={"score": 90, "passed": True})
    stored = records.attempt(attempt)
    assert stored.status == "passed" and stored.score == 90 and stored.passed is True
    assert [d.rule for d in stored.deductions] == ["general.stall"]
    lines = list(records.journal_lines(attempt))
    assert [from_json(line) for line in lines] == [start, sig]
    with pytest.raises(RecordError, match="already ended"):
        records.finish(attempt, AttemptStatus.FAILED, UTC)


def test_attempt_life_on_sqlite(records):
    _life(records)


def test_attempt_life_on_postgresql(postgres_engine):
    upgrade(postgres_engine)
    _life(Records(session_factory(postgres_engine)))


def test_candidate_cannot_sit_a_class_the_vehicle_does_not_examine(records):
    records.ensure_vehicle("V2", "甘K·0002学", "C4", "C4-demo")
    candidate = _setup(records)
    with pytest.raises(RecordError, match="booked for class E"):
        records.check_in(candidate, "V2", "demo", "GA1026-2022", UTC)


def test_running_only_from_checked_in(records):
    attempt = records.check_in(_setup(records), "V1", "demo", "GA1026-2022", UTC)
    records.mark_running(attempt, UTC)
    with pytest.raises(RecordError, match="not checked in"):
        records.mark_running(attempt, UTC)


def test_sqlite_runs_in_wal_mode(engine):
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def _examiners(records: Records) -> None:
    """The examiner comes from the booking's check-in; an attempt without one never matches the filter."""
    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-HJ110")
    made = {}
    for n, (examiner, course) in enumerate([("考试员甲", "north"), ("考试员乙", "south"), ("", "north"),
                                            (None, "north")]):
        candidate = records.ensure_candidate(CandidateInfo(f"考生{n}", id_number(n), f"6300{n:04d}", "E"))
        booking = confirmed_booking(records, candidate, examiner) if examiner is not None else None
        made[n] = records.check_in(candidate, "V1", course, "GA1026-2022", UTC, booking_id=booking)
    assert [records.attempt(made[n]).examiner for n in range(4)] == ["考试员甲", "考试员乙", None, None]
    assert [a.id for a in records.search(examiner="考试员甲")] == [made[0]]
    assert records.search(examiner="考试员甲", courses=["south"]) == []
    assert records.examiners() == ["考试员乙", "考试员甲"]
    assert records.examiners(courses=["north"]) == ["考试员甲"]


def test_examiner_of_an_attempt_on_sqlite(records):
    _examiners(records)


def test_examiner_of_an_attempt_on_postgresql(postgres_engine):
    upgrade(postgres_engine)
    _examiners(Records(session_factory(postgres_engine)))
