"""The controller runs one APScheduler: sittings' phases persisted, video housekeeping in memory."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from sqlalchemy import select, text

from examroom.records.models import Sitting, SittingLog
from examroom.examday.scheduling import MEMORY, PERSISTENT, WORKERS
from examroom.station.service import CourseService
from examroom.site.settings import SiteSettings
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.examday.sittings import SittingPlan, create_sitting
from examroom.site.cameras import VideoSettings
from scoring.rules import default_ruleset_path


def site(tmp_path) -> SiteSettings:
    """No devices (the self-check has nothing to fail on) and video without cameras (its periodic jobs only)."""
    video = VideoSettings(cameras=[], recordings_dir=tmp_path / "rec", cache_dir=tmp_path / "cache",
                          exports_dir=tmp_path / "exp")
    return SiteSettings(database_url=f"sqlite:///{tmp_path / 'course.sqlite3'}", course_file=DEMO_COURSE_PATH,
                        rule_set_file=default_ruleset_path(), require_selfcheck=False, video=video, data_dir=tmp_path)


def _threads(prefix: str) -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(prefix)}


def _stored_job_ids(service: CourseService) -> list[str]:
    with service.engine.connect() as conn:
        return sorted(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())


def _sitting(service: CourseService, code: str, opens_in: float) -> int:
    opens = datetime.now(timezone.utc) + timedelta(seconds=opens_in)
    return create_sitting(service.sessions, SittingPlan(code, opens, opens + timedelta(seconds=0.4),
                                                        opens + timedelta(seconds=0.8)))


def test_a_course_service_runs_one_scheduler_for_both_kinds_of_job(tmp_path):
    before = _threads("APScheduler")
    service = CourseService(site(tmp_path)).start()
    try:
        sitting_id = _sitting(service, "S1", opens_in=3600)
        service.sitting_scheduler.sync()
        assert service.sitting_scheduler.scheduler is service.scheduler
        assert len(_threads("APScheduler") - before) == 1  # one scheduler loop in the process
        persistent = sorted(job.id for job in service.scheduler.get_jobs(PERSISTENT))
        memory = sorted(job.id for job in service.scheduler.get_jobs(MEMORY))
        assert persistent == [f"sitting-{sitting_id}-{p}" for p in ("close", "open", "self_check")] + ["sittings-sync"]
        assert memory == ["faces-retention", "video-evidence", "video-idle-readers", "video-maintain",
                          "video-retention"]
        assert _stored_job_ids(service) == persistent  # the video jobs hold live objects: never stored
        ran = _ran(service, "video-maintain")
        service.scheduler.modify_job("video-maintain", jobstore=MEMORY, next_run_time=datetime.now(timezone.utc))
        assert ran.wait(10)  # told by the scheduler, from the worker thread that ran it
        assert 1 <= len(_threads("scheduler_")) <= WORKERS
    finally:
        service.stop()
    assert not service.scheduler.running
    assert _threads("APScheduler") - before == set()
    service.stop()  # a second stop does not shut the scheduler down again (APScheduler would raise)


def _ran(service: CourseService, job_id: str) -> threading.Event:
    """Set when the scheduler has run (or failed) the job ``job_id``."""
    ran = threading.Event()
    service.scheduler.add_listener(lambda event: event.job_id == job_id and ran.set(),
                                   EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    return ran


def test_a_sitting_phase_stored_before_a_restart_runs_after_it(tmp_path, move_scheduler_clock):
    first = CourseService(site(tmp_path)).start()
    try:
        sitting_id = _sitting(first, "S1", opens_in=3600.0)
        first.sitting_scheduler.sync()
    finally:
        first.stop()  # down before any phase is due
    expected = [f"sitting-{sitting_id}-{p}" for p in ("close", "open", "self_check")] + ["sittings-sync"]
    assert _stored_job_ids(first) == expected
    # The controller comes back two hours later: the phases fell due while nobody ran them.
    move_scheduler_clock(timedelta(hours=2))
    second = CourseService(site(tmp_path))
    closed = _ran(second, f"sitting-{sitting_id}-close")
    second.start()
    try:
        assert closed.wait(15)
        assert second.sitting_scheduler.pending() == []
        assert _stored_job_ids(second) == ["sittings-sync"]
    finally:
        second.stop()
    with second.sessions() as session:
        assert session.scalars(select(SittingLog.phase).order_by(SittingLog.id)).all() == ["open", "self_check",
                                                                                            "close"]
        assert session.get(Sitting, sitting_id).status == "closed"
