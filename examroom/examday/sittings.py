"""Sittings (考试场次) and their scheduled phases.

A sitting passes through four phases, each run by APScheduler at its time in
the controller process (never in a web worker):

* ``open``: check-in opens (planned → open);
* ``self_check``: the device self-check before the first attempt; when every
  device is alive the sitting runs (open → running), otherwise it stays open
  and says which device failed;
* ``close``: at the end, bookings nobody checked in for become 缺考 (no-show)
  and the sitting closes with its summary.

Jobs live in the database (the persistent job store of the controller's one
scheduler, examroom.examday.scheduling), so they survive a restart and a job missed
while the controller was down runs once when it is back. Each
phase writes a ``sitting_log`` row whose unique key (sitting, phase) is part of
the same transaction as the phase's changes: a phase that somehow fires twice
changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Callable

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from examroom.records.database import session_factory
from examroom.records.models import Attempt, Booking, BookingOutcome, BookingState, Sitting, SittingLog, SittingStatus
from examroom.examday.scheduling import IN_ORDER, PERSISTENT, controller_scheduler
from examroom.records.sealing import chain_heads

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


class PhaseOutcome(Enum):
    """What became of one run of a sitting's phase."""

    DONE = "done"  # it changed the records now
    DONE_BEFORE = "done_before"  # it had been done (by an earlier run, or a concurrent one)
    NOT_PASSED = "not_passed"  # the self-check found a problem; recorded on the sitting, to be retried


class SittingPhases:
    """What each phase does to the records. ``health`` gives the devices' health dicts."""

    def __init__(self, sessions: sessionmaker[Session], health: Callable[[], list[dict]],
                 course_check: Callable[[], str] | None = None) -> None:
        self._sessions = sessions
        self._health = health
        # The day's course self-check (场地信号检测, examroom.station.selfcheck.SittingGate.problem): why exams
        # may not start yet, or "". None where the site does not require it.
        self._course_check = course_check

    def run(self, sitting_id: int, phase: str, utc: datetime | None = None) -> bool:
        """Run a phase once; True when done now, False when done before or (self-check) failed."""
        return self.attempt(sitting_id, phase, utc) is PhaseOutcome.DONE

    def attempt(self, sitting_id: int, phase: str, utc: datetime | None = None) -> "PhaseOutcome":
        """Run a phase once and say what became of it.

        A failed self-check is recorded on the sitting but not logged as done, so
        it can run again (the scheduler retries it every ``SELF_CHECK_RETRY_SECONDS``);
        a phase found done before is not retried.
        """
        if phase not in PHASES:
            raise SittingError(f"unknown phase {phase!r}")
        utc = utc or datetime.now(timezone.utc)
        try:
            with self._sessions.begin() as session:
                sitting = session.get(Sitting, sitting_id)
                if sitting is None:
                    raise SittingError(f"unknown sitting {sitting_id}")
                if session.scalar(select(SittingLog.id).where(SittingLog.sitting_id == sitting_id,
                                                              SittingLog.phase == phase)) is not None:
                    return PhaseOutcome.DONE_BEFORE
                detail = getattr(self, f"_{phase}")(session, sitting, utc)
                if detail is None:
                    log.warning("sitting %s: phase %s not passed: %s", sitting_id, phase, sitting.self_check)
                    return PhaseOutcome.NOT_PASSED
                session.add(SittingLog(sitting_id=sitting_id, phase=phase, utc=utc, detail=detail))
        except IntegrityError:  # a concurrent run logged it first; the unique key undid ours
            log.info("sitting %s: phase %s already done", sitting_id, phase)
            return PhaseOutcome.DONE_BEFORE
        log.info("sitting %s: phase %s done", sitting_id, phase)
        return PhaseOutcome.DONE

    def _open(self, session: Session, sitting: Sitting, utc: datetime) -> dict:
        if sitting.status == SittingStatus.PLANNED.value:
            sitting.status = SittingStatus.OPEN.value
        return {"status": sitting.status}

    def _self_check(self, session: Session, sitting: Sitting, utc: datetime) -> dict | None:
        devices = self._health()
        problems = [_self_check_problem(d) for d in devices if _self_check_problem(d)]
        course = self._course_check() if self._course_check is not None else ""
        if course:
            problems.append(course)
        result = {"ok": not problems, "utc": utc.isoformat(), "problems": problems,
                  "devices": [{k: d.get(k) for k in ("device", "kind", "alive", "rate", "expected_rate",
                                                      "readings", "frames_dropped")} for d in devices]}
        sitting.self_check = result
        if not result["ok"] or sitting.status == SittingStatus.CLOSED.value:
            return None
        sitting.status = SittingStatus.RUNNING.value
        return {"ok": True, "devices": len(devices)}

    def _close(self, session: Session, sitting: Sitting, utc: datetime) -> dict:
        bookings = session.scalars(select(Booking).where(Booking.sitting_id == sitting.id)).all()
        for booking in bookings:
            if booking.state == BookingState.BOOKED.value:
                booking.state = BookingState.NO_SHOW.value
                booking.outcome = BookingOutcome.NO_SHOW.value
            elif booking.state in (BookingState.CHECKED_IN.value, BookingState.CALLED.value):
                # Not back for the 补考 by the end: the exam ends as failed (research.md §1.2);
                # checked in but never examined is recorded as such, not as a failure.
                booking.state = BookingState.DONE.value
                booking.outcome = (BookingOutcome.FAILED if booking.tries else BookingOutcome.NOT_EXAMINED).value
        outcomes = Counter(b.outcome or b.state for b in bookings)
        attempts = Counter(session.scalars(
            select(Attempt.status).join(Booking, Attempt.booking_id == Booking.id)
            .where(Booking.sitting_id == sitting.id)))
        # The seal chains' heads leave the database on the closing report: whoever keeps it can
        # later prove no sealed attempt was removed from the end (examroom verify --head).
        sitting.summary = {"bookings": len(bookings), "outcomes": dict(sorted(outcomes.items())),
                           "attempts": dict(sorted(attempts.items())), "closed_utc": utc.isoformat(),
                           "seal_heads": chain_heads(session)}
        sitting.status = SittingStatus.CLOSED.value
        return sitting.summary


def _self_check_problem(device: dict) -> str:
    """Why a device fails the self-check, or "" when it passes.

    A device passes when it has spoken and its rate over the health window is at
    least ``SELF_CHECK_MIN_RATE_RATIO`` of what it should be: a window, not the
    instantaneous "alive", so one late frame on a busy machine does not hold up a sitting.
    """
    if not device.get("readings"):
        return f"{device['device']}: 无数据"
    expected = device.get("expected_rate") or 0.0
    if device.get("rate", 0.0) < SELF_CHECK_MIN_RATE_RATIO * expected:
        return f"{device['device']}: 数据率{device.get('rate', 0.0):.1f}Hz，应为{expected:g}Hz"
    return ""


SELF_CHECK_MIN_RATE_RATIO = 0.5

# APScheduler stores a job as an importable function and picklable arguments, and a job
# outlives the process that scheduled it; the live phases are found by the database they
# belong to, registered by the controller process when its scheduler starts.
_PHASES_BY_DATABASE: dict[str, SittingPhases] = {}
_SCHEDULERS_BY_DATABASE: dict[str, "SittingScheduler"] = {}
SYNC_SECONDS = 30
SELF_CHECK_RETRY_SECONDS = 5.0


def sync_scheduled_sittings(database: str) -> None:
    """Periodic job: put sittings added since (by the command line, say) on the schedule."""
    scheduler = _SCHEDULERS_BY_DATABASE.get(database)
    if scheduler is not None:
        scheduler.sync()


def run_scheduled_phase(database: str, sitting_id: int, phase: str) -> None:
    phases = _PHASES_BY_DATABASE.get(database)
    if phase not in PHASES or phases is None:
        log.error("scheduled phase %s of sitting %s: no controller for %s", phase, sitting_id, database)
        return
    outcome = phases.attempt(sitting_id, phase)
    scheduler = _SCHEDULERS_BY_DATABASE.get(database)
    # Only a self-check that did not pass is tried again. One found done before (a job put back by
    # a sync that raced the phase's own run) is not: retrying it would fail the same way every
    # SELF_CHECK_RETRY_SECONDS until the sitting closed.
    if phase == "self_check" and outcome is PhaseOutcome.NOT_PASSED and scheduler is not None:
        scheduler.retry_self_check(sitting_id)


class SittingScheduler:
    """The sittings' phases as jobs in the persistent store of the controller's scheduler.

    The controller passes its scheduler (examroom.examday.scheduling), which it starts and
    shuts down itself; without one, this makes and owns its own (tests, tools).
    """

    def __init__(self, engine: Engine, phases: SittingPhases, scheduler: BaseScheduler | None = None,
                 jobstore: str = PERSISTENT) -> None:
        self._sessions = session_factory(engine)
        self.self_check_retry = SELF_CHECK_RETRY_SECONDS
        self.database = engine.url.render_as_string(hide_password=True)
        self.phases = phases
        self._owns_scheduler = scheduler is None
        self.scheduler = scheduler if scheduler is not None else controller_scheduler(engine)
        self.jobstore = jobstore

    def start(self) -> "SittingScheduler":
        """Register the live phases, then put the sittings on the schedule.

        Registered before the scheduler starts: a stored job that fell due while the
        controller was down runs at once, and must find its phases.
        """
        _PHASES_BY_DATABASE[self.database] = self.phases
        _SCHEDULERS_BY_DATABASE[self.database] = self
        self.sync()
        self._add_job(sync_scheduled_sittings, "interval", seconds=SYNC_SECONDS, id="sittings-sync",
                      args=[self.database], name="schedule new sittings")
        # Started after the sync, as the controller starts its shared one: a sync racing the
        # scheduler's first run over overdue jobs replaced a job the run was removing, and the
        # scheduler's thread died of the JobLookupError.
        if self._owns_scheduler:
            self.scheduler.start()
        return self

    def stop(self) -> None:
        """Shut down an own scheduler; a shared one is shut down by its owner, before this."""
        if self._owns_scheduler and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if _PHASES_BY_DATABASE.get(self.database) is self.phases:
            del _PHASES_BY_DATABASE[self.database]
        if _SCHEDULERS_BY_DATABASE.get(self.database) is self:
            del _SCHEDULERS_BY_DATABASE[self.database]

    def _add_job(self, func, trigger: str, **options) -> None:
        # A job missed while the controller was down runs once when it is back, however late.
        self.scheduler.add_job(func, trigger, jobstore=self.jobstore, executor=IN_ORDER, replace_existing=True,
                               misfire_grace_time=None, **options)

    def sync(self) -> int:
        """Schedule the phases not yet done of every sitting not closed; returns how many."""
        with self._sessions() as session:
            done = {(log.sitting_id, log.phase) for log in session.scalars(select(SittingLog))}
            sittings = session.scalars(select(Sitting).where(Sitting.status != SittingStatus.CLOSED.value)).all()
            return sum(len(self.schedule(s, skip={p for (i, p) in done if i == s.id})) for s in sittings)

    def retry_self_check(self, sitting_id: int) -> None:
        with self._sessions() as session:
            sitting = session.get(Sitting, sitting_id)
            if sitting is None or sitting.status == SittingStatus.CLOSED.value:
                return
            code = sitting.code
        self._add_job(run_scheduled_phase, "date", id=f"sitting-{sitting_id}-self_check",
                      run_date=datetime.now(timezone.utc) + timedelta(seconds=self.self_check_retry),
                      args=[self.database, sitting_id, "self_check"], name=f"{code} self_check (retry)")

    def run_now(self, sitting_id: int, phase: str) -> bool:
        """Run a phase at once (a supervisor opening check-in early, closing a sitting)."""
        job_id = f"sitting-{sitting_id}-{phase}"
        if self.scheduler.get_job(job_id, self.jobstore) is not None:
            self.scheduler.remove_job(job_id, self.jobstore)
        return self.phases.run(sitting_id, phase)

    def schedule(self, sitting: Sitting, skip: set[str] = frozenset()) -> list[str]:
        """Put the sitting's phases on the schedule (again: replaces, never duplicates)."""
        times = {"open": sitting.checkin_opens_utc, "self_check": sitting.starts_utc, "close": sitting.ends_utc}
        ids = []
        for phase in PHASES:
            if phase in skip:
                continue
            job_id = f"sitting-{sitting.id}-{phase}"
            run_at = times[phase]
            if run_at.tzinfo is None:
                run_at = run_at.replace(tzinfo=timezone.utc)
            self._add_job(run_scheduled_phase, "date", run_date=run_at, id=job_id,
                          args=[self.database, sitting.id, phase], name=f"{sitting.code} {phase}")
            ids.append(job_id)
        return ids

    def pending(self) -> list[str]:
        """The sitting phases still to run."""
        return sorted(job.id for job in self.scheduler.get_jobs(self.jobstore) if job.id.startswith("sitting-"))
