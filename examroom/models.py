"""Database tables of the exam room (SQLAlchemy 2, declarative).

The schema is owned by Alembic migrations (``examroom/migrations``); these
classes describe it for the ORM and must change only together with a new
migration. Times are stored as UTC.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class AttemptStatus(str, enum.Enum):
    """Life of an attempt: checked in → running → one of the final states."""

    CHECKED_IN = "checked_in"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ABORTED = "aborted"
    DEVICE_FAULT = "device_fault"
    SUSPENDED = "suspended"  # 设备故障 while running: the supervisor resumes it or ends it (re-run)

    @property
    def final(self) -> bool:
        return self not in (AttemptStatus.CHECKED_IN, AttemptStatus.RUNNING, AttemptStatus.SUSPENDED)


class Candidate(Base):
    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(32))  # 身份证明号码; masked on every screen
    exam_number: Mapped[str] = mapped_column(String(32), unique=True)  # 准考证明编号
    vehicle_class: Mapped[str] = mapped_column(String(4))


class Vehicle(Base):
    """An exam vehicle of this course and the devices it carries."""

    __tablename__ = "vehicles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plate: Mapped[str] = mapped_column(String(32))
    vehicle_class: Mapped[str] = mapped_column(String(4))
    model: Mapped[str] = mapped_column(String(64))  # vehicle model id in the course file


class Attempt(Base):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"))
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id"))
    vehicle_class: Mapped[str] = mapped_column(String(4))
    course: Mapped[str] = mapped_column(String(64))
    rule_set: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.CHECKED_IN.value)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it ended, when not by the judge
    checked_in_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the judge's full result

    candidate: Mapped[Candidate] = relationship()
    vehicle: Mapped[Vehicle] = relationship()
    deductions: Mapped[list["Deduction"]] = relationship(
        back_populates="attempt", order_by="Deduction.t", cascade="all, delete-orphan")

    __table_args__ = (Index("ix_attempts_status", "status"),)


class Deduction(Base):
    __tablename__ = "deductions"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(128))
    points: Mapped[int] = mapped_column(Integer)
    disqualify: Mapped[bool] = mapped_column(Boolean, default=False)
    item: Mapped[str] = mapped_column(String(32))
    t: Mapped[float] = mapped_column(Float)
    utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    value: Mapped[str] = mapped_column(String(64), default="")

    attempt: Mapped[Attempt] = relationship(back_populates="deductions")


class JournalEntry(Base):
    """One observation of an attempt, in its JSON Lines form, in arrival order."""

    __tablename__ = "journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    t: Mapped[float] = mapped_column(Float)
    utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    line: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("attempt_id", "seq", name="uq_journal_attempt_seq"),)


class SittingCheck(Base):
    """A pre-sitting self-check (场地信号检测) and, when it failed, the override that let exams start."""

    __tablename__ = "sitting_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    passed: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[dict] = mapped_column(JSON)  # devices and walk-round, as examroom.selfcheck reports them
    override_actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    override_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_sitting_checks_finished", "finished_utc"),)
