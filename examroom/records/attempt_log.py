"""Attempts, their journals and deductions in the database.

The controller is the only writer. Web views call the read methods. Every
write is one short transaction so a crash loses at most the batch in hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Iterable, Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from examroom import courseclock
from examroom.records.course_snapshot import snapshot_sha256
from examroom.records.journal_chain import genesis, row_hash
from examroom.records.models import Attempt, AttemptStatus, Candidate, Deduction, JournalEntry, Vehicle
from scoring.observations import Observation, parse_utc, to_json




class RecordError(ValueError):
    """A request the records cannot honour (unknown vehicle, attempt already final, ...)."""


@dataclass(frozen=True)
class CandidateInfo:
    name: str
    id_number: str
    exam_number: str
    vehicle_class: str


class Records:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @property
    def course_code(self) -> str:
        """The course whose records these are ('' for a course without a code; docs/city.md)."""
        return self._sessions.kw.get("info", {}).get("course_code") or ""

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory, for the services that share this database (exam day, video index, web)."""
        return self._sessions

    # -- set-up -----------------------------------------------------------------
    def ensure_vehicle(self, vehicle_id: str, plate: str, vehicle_class: str, model: str) -> None:
        with self._sessions.begin() as session:
            vehicle = session.get(Vehicle, vehicle_id)
            if vehicle is None:
                session.add(Vehicle(id=vehicle_id, plate=plate, vehicle_class=vehicle_class, model=model))
            else:
                vehicle.plate, vehicle.vehicle_class, vehicle.model = plate, vehicle_class, model

    def ensure_candidate(self, info: CandidateInfo) -> int:
        with self._sessions.begin() as session:
            found = session.scalar(select(Candidate).where(Candidate.exam_number == info.exam_number))
            if found is not None:
                return found.id
            candidate = Candidate(name=info.name, id_number=info.id_number,
                                  exam_number=info.exam_number, vehicle_class=info.vehicle_class)
            session.add(candidate)
            session.flush()
            return candidate.id

    # -- attempt life -----------------------------------------------------------
    def check_in(self, candidate_id: int, vehicle_id: str, course: str, rule_set: str,
                 utc: datetime, booking_id: int | None = None, attempt_no: int | None = None,
                 rule_set_snapshot: dict | None = None, course_snapshot: dict | None = None) -> int:
        with self._sessions.begin() as session:
            vehicle = session.get(Vehicle, vehicle_id)
            candidate = session.get(Candidate, candidate_id)
            if vehicle is None:
                raise RecordError(f"unknown vehicle {vehicle_id!r}")
            if candidate is None:
                raise RecordError(f"unknown candidate {candidate_id}")
            if candidate.vehicle_class != vehicle.vehicle_class:
                raise RecordError(
                    f"candidate is booked for class {candidate.vehicle_class}, "
                    f"vehicle {vehicle_id} examines class {vehicle.vehicle_class}")
            attempt = Attempt(candidate_id=candidate_id, vehicle_id=vehicle_id,
                              vehicle_class=vehicle.vehicle_class, course=course, rule_set=rule_set,
                              status=AttemptStatus.CHECKED_IN.value, reason="", checked_in_utc=utc,
                              booking_id=booking_id, attempt_no=attempt_no, rule_set_snapshot=rule_set_snapshot,
                              rule_set_hash=rule_set_snapshot["hash"] if rule_set_snapshot else None,
                              course_snapshot=course_snapshot, course_sha256=snapshot_sha256(course_snapshot))
            session.add(attempt)
            session.flush()
            return attempt.id

    def mark_running(self, attempt_id: int, utc: datetime) -> None:
        with self._sessions.begin() as session:
            attempt = self._get(session, attempt_id)
            if attempt.status != AttemptStatus.CHECKED_IN.value:
                raise RecordError(f"attempt {attempt_id} is {attempt.status}, not checked in")
            attempt.status = AttemptStatus.RUNNING.value
            attempt.started_utc = utc

    def set_suspended(self, attempt_id: int, suspended: bool, reason: str = "") -> None:
        """A running attempt suspended by a device fault, or resumed.

        Suspending a suspended attempt updates its reason: the judge suspends an attempt itself
        when it sees the GNSS fix lost, and the health watch's report naming the device joins it.
        """
        with self._sessions.begin() as session:
            attempt = self._get(session, attempt_id)
            expected = AttemptStatus.RUNNING if suspended else AttemptStatus.SUSPENDED
            if suspended and attempt.status == AttemptStatus.SUSPENDED.value:
                attempt.reason = reason
                return
            if attempt.status != expected.value:
                raise RecordError(f"attempt {attempt_id} is {attempt.status}, not {expected.value}")
            attempt.status = (AttemptStatus.SUSPENDED if suspended else AttemptStatus.RUNNING).value
            attempt.reason = reason

    def append_journal(self, attempt_id: int, entries: Iterable[tuple[int, Observation]],
                       prev_hash: str | None = None) -> str:
        """Append rows to the attempt's hash chain; returns the new head (give it back next time)."""
        course = self.course_code
        head = prev_hash or genesis(attempt_id, course)
        rows = []
        for seq, obs in entries:
            line = to_json(obs)
            digest = row_hash(head, attempt_id, seq, line, course)
            rows.append(JournalEntry(attempt_id=attempt_id, seq=seq, kind=obs.kind, t=obs.t, utc=obs.utc,
                                     line=line, prev_hash=head, hash=digest))
            head = digest
        if rows:
            with self._sessions.begin() as session:
                session.add_all(rows)
        return head

    def add_deduction(self, attempt_id: int, deduction: dict) -> None:
        with self._sessions.begin() as session:
            session.add(Deduction(
                attempt_id=attempt_id, rule=deduction["rule"], code=deduction.get("code") or "",
                title=deduction["title"], points=deduction["points"],
                disqualify=bool(deduction.get("disqualify")), item=deduction.get("item") or "",
                t=deduction["t"], utc=parse_utc(deduction["utc"]),
                value=_measured(deduction)))

    def finish(self, attempt_id: int, status: AttemptStatus, utc: datetime, result: dict | None = None,
               reason: str = "") -> None:
        if not status.final:
            raise RecordError(f"{status.value} is not a final status")
        with self._sessions.begin() as session:
            attempt = self._get(session, attempt_id)
            if AttemptStatus(attempt.status).final:
                raise RecordError(f"attempt {attempt_id} already ended as {attempt.status}")
            attempt.status = status.value
            attempt.ended_utc = utc
            attempt.reason = reason
            attempt.result = result
            if result is not None and status in (AttemptStatus.PASSED, AttemptStatus.FAILED):
                attempt.score = result["score"]
                attempt.passed = result["passed"]

    # -- reading ----------------------------------------------------------------
    def attempt(self, attempt_id: int) -> Attempt | None:
        with self._sessions() as session:
            return session.scalar(
                select(Attempt).where(Attempt.id == attempt_id)
                .options(joinedload(Attempt.candidate), joinedload(Attempt.vehicle),
                         joinedload(Attempt.deductions)))

    def recent_attempts(self, limit: int = 50) -> list[Attempt]:
        with self._sessions() as session:
            return list(session.scalars(
                select(Attempt).options(joinedload(Attempt.candidate), joinedload(Attempt.vehicle))
                .order_by(Attempt.id.desc()).limit(limit)))

    def search(self, *, day: date | None = None, vehicle_class: str | None = None, status: str | None = None,
               rule: str | None = None, candidate: str | None = None, examiner: str | None = None,
               courses: Sequence[str] | None = None, limit: int = 100) -> list[Attempt]:
        """Attempts matching every filter given, newest first. ``day`` is a Beijing-time date;
        ``courses`` limits to those courses (an auditor's scope; None: all).

        ``examiner`` never matches an attempt without one (no booking, or nobody recorded).
        """
        query = select(Attempt).options(joinedload(Attempt.candidate), joinedload(Attempt.vehicle),
                                        joinedload(Attempt.deductions))
        if day is not None:
            start, end = courseclock.day_bounds(day)
            query = query.where(Attempt.started_utc >= start, Attempt.started_utc < end)
        if vehicle_class:
            query = query.where(Attempt.vehicle_class == vehicle_class)
        if status:
            query = query.where(Attempt.status == status)
        if courses is not None:
            query = query.where(Attempt.course.in_(courses))
        if rule:
            query = query.where(Attempt.deductions.any(Deduction.rule == rule))
        if candidate:
            query = query.join(Attempt.candidate).where(
                (Candidate.name == candidate) | (Candidate.exam_number == candidate))
        if examiner:
            query = query.where(Attempt.examiner == examiner)
        with self._sessions() as session:
            return list(session.scalars(query.order_by(Attempt.id.desc()).limit(limit)).unique())

    def examiners(self, courses: Sequence[str] | None = None) -> list[str]:
        """The examiners who have attempts (in ``courses``, when given), for a search filter's choices."""
        query = select(Attempt.examiner).select_from(Attempt).where(Attempt.examiner.is_not(None)).distinct()
        if courses is not None:
            query = query.where(Attempt.course.in_(courses))
        with self._sessions() as session:
            return sorted(session.scalars(query))

    def deducted_rules(self, courses: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """The rules that have deducted (in ``courses``, when given) as (rule id, title), for a search filter."""
        query = select(Deduction.rule, func.min(Deduction.title)).group_by(Deduction.rule).order_by(Deduction.rule)
        if courses is not None:
            query = query.join(Attempt, Attempt.id == Deduction.attempt_id).where(Attempt.course.in_(courses))
        with self._sessions() as session:
            return [(rule, title) for rule, title in session.execute(query)]

    def find_candidate(self, id_number: str, name: str, exam_number: str) -> int | None:
        """The candidate whose ID number, name and 准考证明编号 all match, or None."""
        with self._sessions() as session:
            return session.scalar(select(Candidate.id).where(
                Candidate.id_number == id_number.strip().upper(), Candidate.name == name.strip(),
                Candidate.exam_number == exam_number.strip()))

    def attempts_of(self, candidate_id: int) -> list[Attempt]:
        with self._sessions() as session:
            return list(session.scalars(
                select(Attempt).where(Attempt.candidate_id == candidate_id)
                .options(joinedload(Attempt.candidate), joinedload(Attempt.vehicle),
                         joinedload(Attempt.deductions))
                .order_by(Attempt.id.desc())).unique())

    def journal_lines(self, attempt_id: int) -> Iterator[str]:
        with self._sessions() as session:
            for line in session.scalars(select(JournalEntry.line)
                                        .where(JournalEntry.attempt_id == attempt_id)
                                        .order_by(JournalEntry.seq)):
                yield line

    @staticmethod
    def _get(session: Session, attempt_id: int) -> Attempt:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise RecordError(f"unknown attempt {attempt_id}")
        return attempt


def _measured(deduction: dict) -> str:
    """The measured value as people read it: "0.400 m", "2.6 s"."""
    value = deduction.get("value")
    if value is None:
        return ""
    unit = deduction.get("unit") or ""
    return f"{value:g} {unit}".strip() if isinstance(value, (int, float)) else str(value)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
