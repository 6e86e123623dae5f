"""Finished attempts written straight through Records (no devices), for record-keeping tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from examroom.records.people import id_check_character
from examroom.records.models import AttemptStatus, Booking, Candidate, Sitting
from examroom.records.attempt_log import CandidateInfo, Records
from scoring.observations import Command, CommandAction, Gear, Signals

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
_numbers = itertools.count(1)


def id_number(n: int, born: str = "19900101") -> str:
    first17 = f"620102{born}{n % 1000:03d}"
    return first17 + id_check_character(first17)


def confirmed_booking(records: Records, candidate_id: int, examiner: str, sitting_code: str = "S-EXAMINERS") -> int:
    """A booking of the candidate whose check-in ``examiner`` confirmed (the sitting is made once)."""
    with records.sessions.begin() as session:
        sitting = session.scalar(select(Sitting).where(Sitting.code == sitting_code))
        if sitting is None:
            sitting = Sitting(code=sitting_code, course_code="", checkin_opens_utc=UTC, starts_utc=UTC,
                              ends_utc=UTC + timedelta(hours=8), status="running")
            session.add(sitting)
            session.flush()
        candidate = session.get(Candidate, candidate_id)
        booking = Booking(sitting_id=sitting.id, candidate_id=candidate_id, vehicle_class=candidate.vehicle_class,
                          state="done", serial_number="", school="", exam_reason="初考", confirmed_by=examiner,
                          checked_in_utc=UTC, photo_sha256="", tries=1, outcome="")
        session.add(booking)
        session.flush()
        return booking.id


def finished_attempt(records: Records, observations: int = 30, passed: bool = True,
                     booking_id: int | None = None, candidate_id: int | None = None,
                     plate: str = "甘K·0001学") -> int:
    records.ensure_vehicle("V1", plate, "E", "E-HJ110")
    if candidate_id is None:
        n = next(_numbers)
        candidate_id = records.ensure_candidate(CandidateInfo("张三", id_number(n), f"6200{n:06d}", "E"))
    attempt = records.check_in(candidate_id, "V1", "demo", "ga1026-2022", UTC, booking_id=booking_id,
                               attempt_no=1)
    records.mark_running(attempt, UTC)
    head = None
    rows = [(1, Command(t=0.0, utc=UTC, vehicle="V1", action=CommandAction.START, vehicle_class="E",
                        vehicle_model="E-HJ110"))]
    for i in range(2, observations + 1):
        t = i * 0.05
        rows.append((i, Signals(t=t, utc=UTC + timedelta(seconds=t), vehicle="V1", ignition=True, engine=True,
                                starter=False, gear=Gear.G1, helmet=True)))
    for start in range(0, len(rows), 10):  # in batches, as the controller writes
        head = records.append_journal(attempt, rows[start:start + 10], prev_hash=head)
    records.add_deduction(attempt, {"rule": "general.stall", "code": "10210", "title": "熄火", "points": 10,
                                    "disqualify": False, "item": "hill", "t": 1.25,
                                    "utc": "2026-11-29T03:00:01.250000Z", "value": None})
    status = AttemptStatus.PASSED if passed else AttemptStatus.FAILED
    records.finish(attempt, status, UTC + timedelta(seconds=60),
                   result={"score": 90 if passed else 70, "passed": passed, "status": status.value})
    return attempt


def allow_tampering(connection) -> None:
    """Drop the append-only and sealed-attempt triggers, as someone set on editing the records would."""
    if connection.dialect.name == "sqlite":
        for name in ("journal_no_update", "journal_no_delete", "seals_no_update", "seals_no_delete",
                     "attempts_sealed_no_update", "attempts_sealed_no_delete", "deductions_sealed_no_insert",
                     "deductions_sealed_no_update", "deductions_sealed_no_delete", "journal_sealed_no_insert"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for table in ("journal", "seals"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        for table in ("attempts", "deductions", "journal"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_sealed ON {table}")
