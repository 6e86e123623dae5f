"""Which of a course's attempts belong to the classes the city always reviews, read from its records.

- ``manual_fail``: the journal holds a supervisor's 人工评判 (a ``manual_fail`` command);
- ``device_fault``: the attempt ended as 设备故障, or was suspended by one (a ``device_fault`` command);
- ``override``: it was checked in while the course's latest self-check (场地信号检测) had failed
  and a supervisor had let exams start anyway (``sitting_checks.override_actor``);
- ``seal_warning``: its seal, record or journal chain does not verify (``records.verify``).

Weeks and days are China time (北京时间), the national record's clock, whatever a course's zone.
"""

from __future__ import annotations

import bisect

from datetime import date, datetime, time, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom.courseclock import CHINA, as_utc
from examroom.records.models import Attempt, AttemptStatus, JournalEntry, SittingCheck
from examroom.records.verify import verify

FINAL = [s.value for s in AttemptStatus if s.final]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CHINA)


def week_of(moment_or_day: date | datetime) -> tuple[str, datetime, datetime]:
    """The ISO week holding a day: its name ("2026-W49"), its start and end (China time, Monday 00:00)."""
    day = moment_or_day.astimezone(CHINA).date() if isinstance(moment_or_day, datetime) else moment_or_day
    monday = day - timedelta(days=day.weekday())
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}", day_start(monday), day_start(monday + timedelta(days=7))


def finished_attempts(session: Session, start: datetime, end: datetime,
                      courses: Iterable[str] | None = None) -> dict[str, list[int]]:
    """Per course, its finished attempts checked in within [start, end), by id."""
    query = (select(Attempt.course_key, Attempt.id)
             .where(Attempt.checked_in_utc >= start, Attempt.checked_in_utc < end, Attempt.status.in_(FINAL))
             .order_by(Attempt.course_key, Attempt.id))
    if courses is not None:
        query = query.where(Attempt.course_key.in_(list(courses)))
    found: dict[str, list[int]] = {}
    for course, attempt_id in session.execute(query):
        found.setdefault(course, []).append(attempt_id)
    return found


def _commanded(session: Session, course: str, ids: list[int], action: str) -> set[int]:
    # The journal line is canonical JSON written by scoring.observations.to_json: "action":"<name>".
    return set(session.scalars(
        select(JournalEntry.attempt_id).distinct()
        .where(JournalEntry.course_key == course, JournalEntry.attempt_id.in_(ids), JournalEntry.kind == "command",
               JournalEntry.line.contains(f'"action":"{action}"'))))


def manual_fails(session: Session, course: str, ids: list[int]) -> set[int]:
    return _commanded(session, course, ids, "manual_fail")


def device_faults(session: Session, course: str, ids: list[int]) -> set[int]:
    ended = set(session.scalars(select(Attempt.id).where(
        Attempt.course_key == course, Attempt.id.in_(ids), Attempt.status == AttemptStatus.DEVICE_FAULT.value)))
    return ended | _commanded(session, course, ids, "device_fault")


def overridden(session: Session, course: str, ids: list[int]) -> dict[int, int]:
    """Attempts checked in under an override: attempt id → the overridden check's id."""
    checks = session.execute(select(SittingCheck.id, SittingCheck.finished_utc, SittingCheck.passed,
                                    SittingCheck.override_actor)
                             .where(SittingCheck.course_key == course).order_by(SittingCheck.finished_utc)).all()
    if not checks:
        return {}
    finished = [as_utc(check.finished_utc) for check in checks]
    found = {}
    for attempt_id, checked_in in session.execute(select(Attempt.id, Attempt.checked_in_utc).where(
            Attempt.course_key == course, Attempt.id.in_(ids))):
        at = bisect.bisect_right(finished, as_utc(checked_in))  # the checks finished by then
        latest = checks[at - 1] if at else None
        if latest is not None and not latest.passed and latest.override_actor:
            found[attempt_id] = latest.id
    return found


def seal_warnings(sessions: sessionmaker[Session], course: str, ids: list[int]) -> dict[int, list[str]]:
    """Attempts whose seal, record or journal does not verify: id → the problems found."""
    if not ids:
        return {}
    report = verify(sessions, attempts=ids, course=course)
    found: dict[int, list[str]] = {}
    for problem in report.problems:
        if problem.attempt is not None:
            found.setdefault(problem.attempt, []).append(f"{problem.where}: {problem.message}")
    return found


def classes(sessions: sessionmaker[Session], course: str, ids: list[int]) -> dict[int, set[str]]:
    """Each attempt's classes always reviewed (an attempt in none maps to an empty set)."""
    found: dict[int, set[str]] = {i: set() for i in ids}
    if not ids:
        return found
    with sessions() as session:
        for attempt_id in manual_fails(session, course, ids):
            found[attempt_id].add("manual_fail")
        for attempt_id in device_faults(session, course, ids):
            found[attempt_id].add("device_fault")
        for attempt_id in overridden(session, course, ids):
            found[attempt_id].add("override")
    for attempt_id in seal_warnings(sessions, course, ids):
        found[attempt_id].add("seal_warning")
    return found
