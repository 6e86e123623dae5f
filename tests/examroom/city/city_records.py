"""Courses' records written the way a course writes them (records.attempt_log.Records, Sealer), under
their course codes, into one PostgreSQL database as the city holds them after replication."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from examroom.courseclock import CHINA
from examroom.records.attempt_log import CandidateInfo, Records
from examroom.records.database import make_engine, prepare_city, session_factory
from examroom.records.models import AttemptStatus, Booking, Candidate, Sitting, SittingCheck
from examroom.records.sealing import Sealer, load_or_create_key
from scoring.observations import Command, CommandAction, Gear, Signals
from tests.examroom.attempts import id_number

MONDAY = date(2026, 11, 30)  # ISO week 2026-W49
WEEK = "2026-W49"


def china(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA).astimezone(timezone.utc)


def city_engine(url: str):
    """The city's database: the courses' migrations, and no course of its own."""
    engine = make_engine(url)
    prepare_city(engine)
    return engine


class CourseWriter:
    """One course's controller, writing into ``engine`` (its own database or the city's) under ``code``."""

    def __init__(self, engine, code: str, key_dir: Path) -> None:
        self.code = code
        self.sessions = session_factory(engine, code)
        self.records = Records(self.sessions)
        self.sealer = Sealer(self.sessions, load_or_create_key(key_dir))
        self.records.ensure_vehicle("V1", f"鄂A·{code[-2:]}01学", "E", "E-HJ110")
        self._bookings: dict[tuple[str, date], int] = {}

    def sitting(self, day: date) -> int:
        with self.sessions.begin() as session:
            code = f"{self.code}-{day.isoformat()}"
            found = session.scalar(select(Sitting.id).where(Sitting.code == code))
            if found is not None:
                return found
            sitting = Sitting(code=code, course_code=self.code, checkin_opens_utc=china(day, 7),
                              starts_utc=china(day, 8), ends_utc=china(day, 17), status="closed")
            session.add(sitting)
            session.flush()
            return sitting.id

    def candidate(self, person: str) -> int:
        n = int(person) if person.isdigit() else sum(map(ord, person))
        return self.records.ensure_candidate(CandidateInfo("张三", id_number(n), f"{self.code}-{person}", "E"))

    def booking(self, person: str, day: date, examiner: str, outcome: str = "", exam_reason: str = "初考") -> int:
        key = (person, day)
        if key not in self._bookings:
            candidate = self.candidate(person)
            with self.sessions.begin() as session:
                booking = Booking(sitting_id=self.sitting(day), candidate_id=candidate, vehicle_class="E", state="done",
                                  exam_reason=exam_reason, confirmed_by=examiner, checked_in_utc=china(day, 8),
                                  tries=0, outcome=outcome)
                session.add(booking)
                session.flush()
                self._bookings[key] = booking.id
        if outcome:
            with self.sessions.begin() as session:
                session.get(Booking, self._bookings[key]).outcome = outcome
        return self._bookings[key]

    def attempt(self, person: str, at: datetime, *, examiner: str = "考试员甲", passed: bool = True,
                status: AttemptStatus | None = None, manual: bool = False, fault_resumed: bool = False,
                attempt_no: int = 1, gap_rows: int = 0, silence: float = 0.0, seal: bool = True,
                outcome: str = "", first_rows_lost: int = 0) -> int:
        day = at.astimezone(CHINA).date()
        booking = self.booking(person, day, examiner, outcome)
        candidate = self.candidate(person)
        attempt = self.records.check_in(candidate, "V1", "demo", "ga1026-2022", at, booking_id=booking,
                                        attempt_no=attempt_no)
        self.records.mark_running(attempt, at)
        rows = [(1, Command(t=0.0, utc=at, vehicle="V1", action=CommandAction.START, vehicle_class="E",
                            vehicle_model="E-HJ110"))]
        t = 0.0
        for seq in range(2, 21):
            t += 0.5 + (silence if seq == 10 else 0.0)
            rows.append((seq, Signals(t=t, utc=at + timedelta(seconds=t), vehicle="V1", ignition=True, engine=True,
                                      starter=False, gear=Gear.G1, helmet=True)))
        if fault_resumed:
            rows.append((21, Command(t=t + 0.1, utc=at + timedelta(seconds=t + 0.1), vehicle="V1",
                                     action=CommandAction.DEVICE_FAULT, actor="system", reason="GNSS 失锁")))
        if manual:
            rows.append((len(rows) + 1, Command(t=t + 0.2, utc=at + timedelta(seconds=t + 0.2), vehicle="V1",
                                                action=CommandAction.MANUAL_FAIL, actor=examiner, reason="未戴头盔",
                                                rule="general.G2")))
        if gap_rows:
            rows = rows[:5] + [(seq + gap_rows, obs) for seq, obs in rows[5:]]  # rows lost in the middle
        if first_rows_lost:
            rows = [(seq + first_rows_lost, obs) for seq, obs in rows]
        self.records.append_journal(attempt, rows)
        final = status or (AttemptStatus.PASSED if passed and not manual else AttemptStatus.FAILED)
        judged = final in (AttemptStatus.PASSED, AttemptStatus.FAILED)
        self.records.finish(attempt, final, at + timedelta(seconds=60),
                            result={"score": 90 if final == AttemptStatus.PASSED else 0,
                                    "passed": final == AttemptStatus.PASSED, "status": final.value} if judged else None,
                            reason="" if judged else "设备故障")
        if seal:
            self.sealer.seal(attempt)
        return attempt

    def overridden_check(self, at: datetime) -> int:
        """A failed self-check that a supervisor let exams start after."""
        with self.sessions.begin() as session:
            check = SittingCheck(started_utc=at - timedelta(minutes=5), finished_utc=at, passed=False,
                                 report={"passed": False, "devices": [], "sensors": []}, override_actor="监考甲",
                                 override_reason="单边桥传感器待修", override_utc=at)
            session.add(check)
            session.flush()
            return check.id

    def passed_check(self, at: datetime) -> int:
        with self.sessions.begin() as session:
            check = SittingCheck(started_utc=at - timedelta(minutes=5), finished_utc=at, passed=True,
                                 report={"passed": True, "devices": [], "sensors": []})
            session.add(check)
            session.flush()
            return check.id


def person_of(writer: CourseWriter, candidate_id: int) -> str:
    with writer.sessions() as session:
        return session.get(Candidate, candidate_id).exam_number
