"""Sittings (考试场次) and their scheduled phases.

A sitting passes through four phases, each run by APScheduler at its time in
the controller process (never in a web worker):

* ``open``: check-in opens (planned → open);
* ``self_check``: the device self-check before the first attempt; when every
  device is alive the sitting runs (open → running), otherwise it stays open
  and says which device failed;
* ``close``: at the end, bookings nobody checked in for become 缺考 (no-show)
  and the sitting closes with its summary.

Jobs live in the database (SQLAlchemyJobStore), so they survive a restart and
a job missed while the controller was down runs once when it is back. Each
phase writes a ``sitting_log`` row whose unique key (sitting, phase) is part of
the same transaction as the phase's changes: a phase that somehow fires twice
changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from examroom.models import Attempt, Booking, BookingState, Sitting, SittingLog, SittingStatus

log = logging.getLogger(__name__)

PHASES = ("open", "self_check", "close")


class SittingError(ValueError):
    """A sitting that cannot be made or changed; the message says why."""


@dataclass(frozen=True)
class SittingPlan:
    code: str
    checkin_opens_utc: datetime
    starts_utc: datetime
    ends_utc: datetime
    course_code: str = ""


def create_sitting(sessions: sessionmaker[Session], plan: SittingPlan) -> int:
    if not plan.code.strip():
        raise SittingError("考试场次编号为空")
    if not plan.checkin_opens_utc <= plan.starts_utc < plan.ends_utc:
        raise SittingError(f"场次{plan.code}: 须 签到开始 ≤ 开考 < 结束")
    with sessions.begin() as session:
        if session.scalar(select(Sitting.id).where(Sitting.code == plan.code)) is not None:
            raise SittingError(f"场次{plan.code}已存在")
        sitting = Sitting(code=plan.code, course_code=plan.course_code, checkin_opens_utc=plan.checkin_opens_utc,
                          starts_utc=plan.starts_utc, ends_utc=plan.ends_utc, status=SittingStatus.PLANNED.value)
        session.add(sitting)
        session.flush()
        return sitting.id


def sitting_by_code(session: Session, code: str) -> Sitting | None:
    return session.scalar(select(Sitting).where(Sitting.code == code))


class SittingPhases:
    """What each phase does to the records. ``health`` gives the devices' health dicts."""

    def __init__(self, sessions: sessionmaker[Session], health: Callable[[], list[dict]]) -> None:
        self._sessions = sessions
        self._health = health

    def run(self, sitting_id: int, phase: str, utc: datetime | None = None) -> bool:
        """Run a phase once; False when it had already run (nothing changed)."""
        if phase not in PHASES:
            raise SittingError(f"unknown phase {phase!r}")
        utc = utc or datetime.now(timezone.utc)
        try:
            with self._sessions.begin() as session:
                sitting = session.get(Sitting, sitting_id)
                if sitting is None:
                    raise SittingError(f"unknown sitting {sitting_id}")
                detail = getattr(self, f"_{phase}")(session, sitting, utc)
                session.add(SittingLog(sitting_id=sitting_id, phase=phase, utc=utc, detail=detail))
        except IntegrityError:
            log.info("sitting %s: phase %s already done", sitting_id, phase)
            return False
        log.info("sitting %s: phase %s done", sitting_id, phase)
        return True

    def _open(self, session: Session, sitting: Sitting, utc: datetime) -> dict:
        if sitting.status == SittingStatus.PLANNED.value:
            sitting.status = SittingStatus.OPEN.value
        return {"status": sitting.status}

    def _self_check(self, session: Session, sitting: Sitting, utc: datetime) -> dict:
        devices = self._health()
        problems = [f"{d['device']}: 无数据" if not d.get("alive") else
                    f"{d['device']}: 丢帧{d['frames_dropped']}" for d in devices
                    if not d.get("alive")]
        result = {"ok": not problems, "utc": utc.isoformat(), "problems": problems,
                  "devices": [{k: d.get(k) for k in ("device", "kind", "alive", "rate", "expected_rate",
                                                      "readings", "frames_dropped")} for d in devices]}
        sitting.self_check = result
        if result["ok"] and sitting.status in (SittingStatus.PLANNED.value, SittingStatus.OPEN.value):
            sitting.status = SittingStatus.RUNNING.value
        return {"ok": result["ok"], "problems": problems}

    def _close(self, session: Session, sitting: Sitting, utc: datetime) -> dict:
        bookings = session.scalars(select(Booking).where(Booking.sitting_id == sitting.id)).all()
        for booking in bookings:
            if booking.state == BookingState.BOOKED.value:
                booking.state = BookingState.NO_SHOW.value
                booking.outcome = "no_show"
        outcomes = Counter(b.outcome or b.state for b in bookings)
        attempts = Counter(session.scalars(
            select(Attempt.status).join(Booking, Attempt.booking_id == Booking.id)
            .where(Booking.sitting_id == sitting.id)))
        sitting.summary = {"bookings": len(bookings), "outcomes": dict(sorted(outcomes.items())),
                           "attempts": dict(sorted(attempts.items())), "closed_utc": utc.isoformat()}
        sitting.status = SittingStatus.CLOSED.value
        return sitting.summary


# APScheduler stores a job as an importable function and picklable arguments, and a job
# outlives the process that scheduled it; the live phases are found by the database they
# belong to, registered by the controller process when its scheduler starts.
_PHASES_BY_DATABASE: dict[str, SittingPhases] = {}


def run_scheduled_phase(database: str, sitting_id: int, phase: str) -> None:
    phases = _PHASES_BY_DATABASE.get(database)
    if phase not in PHASES or phases is None:
        log.error("scheduled phase %s of sitting %s: no controller for %s", phase, sitting_id, database)
        return
    phases.run(sitting_id, phase)


class SittingScheduler:
    """APScheduler in the controller process, with its jobs in the course database."""

    def __init__(self, engine: Engine, phases: SittingPhases) -> None:
        self.database = engine.url.render_as_string(hide_password=True)
        self.phases = phases
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
            # A job missed while the controller was down runs once when it is back, however late.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=timezone.utc)

    def start(self) -> "SittingScheduler":
        _PHASES_BY_DATABASE[self.database] = self.phases
        self.scheduler.start()
        return self

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if _PHASES_BY_DATABASE.get(self.database) is self.phases:
            del _PHASES_BY_DATABASE[self.database]

    def schedule(self, sitting: Sitting) -> list[str]:
        """Put the sitting's phases on the schedule (again: replaces, never duplicates)."""
        times = {"open": sitting.checkin_opens_utc, "self_check": sitting.starts_utc, "close": sitting.ends_utc}
        ids = []
        for phase in PHASES:
            job_id = f"sitting-{sitting.id}-{phase}"
            run_at = times[phase]
            if run_at.tzinfo is None:
                run_at = run_at.replace(tzinfo=timezone.utc)
            self.scheduler.add_job(run_scheduled_phase, "date", run_date=run_at, id=job_id, replace_existing=True,
                                   args=[self.database, sitting.id, phase], name=f"{sitting.code} {phase}")
            ids.append(job_id)
        return ids

    def pending(self) -> list[str]:
        return sorted(job.id for job in self.scheduler.get_jobs())
