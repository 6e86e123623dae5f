"""Sittings: phases change the records once; scheduled jobs survive a restart and run once."""

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from sqlalchemy import func, select, text

from examroom.records.database import session_factory
from examroom.records.models import Booking, Candidate, Sitting, SittingLog
from examroom.examday.scheduling import PERSISTENT
from examroom.examday.sittings import (_PHASES_BY_DATABASE, PhaseOutcome, SittingError, SittingPhases, SittingPlan,
                                       SittingScheduler, create_sitting, run_scheduled_phase)
from tests.examroom.attempts import id_number

HEALTHY = [{"device": "V1.gnss", "kind": "gnss", "alive": True, "rate": 10.0, "expected_rate": 10.0,
            "readings": 100, "frames_dropped": 0}]
DEAD = HEALTHY + [{"device": "V1.signals", "kind": "signals", "alive": False, "rate": 0.0, "expected_rate": 20.0,
                   "readings": 0, "frames_dropped": 0},
                  {"device": "board", "kind": "courseboard", "alive": True, "rate": 6.0, "expected_rate": 20.0,
                   "readings": 50, "frames_dropped": 0}]


def _sitting(sessions, code="S1", start_in=3600.0, length=3600.0, opens_before=1800.0):
    now = datetime.now(timezone.utc)
    start = now + timedelta(seconds=start_in)
    return create_sitting(sessions, SittingPlan(code, start - timedelta(seconds=opens_before), start,
                                                start + timedelta(seconds=length)))


def _book(sessions, sitting_id, n):
    with sessions.begin() as session:
        c = Candidate(name=f"考生{n}", id_number=id_number(n), exam_number=f"62{n:08d}", vehicle_class="E")
        session.add(c)
        session.flush()
        session.add(Booking(sitting_id=sitting_id, candidate_id=c.id, vehicle_class="E", state="booked",
                            serial_number="", school="", exam_reason="初考", confirmed_by="", photo_sha256="",
                            tries=0, outcome=""))


def test_phases_run_once_and_close_marks_no_shows(engine):
    sessions = session_factory(engine)
    sitting_id = _sitting(sessions)
    _book(sessions, sitting_id, 1)
    _book(sessions, sitting_id, 2)
    with sessions.begin() as session:
        session.scalar(select(Booking).limit(1)).state = "done"
    phases = SittingPhases(sessions, lambda: DEAD)
    assert phases.run(sitting_id, "open") is True
    assert phases.run(sitting_id, "open") is False
    assert phases.run(sitting_id, "self_check") is False
    with sessions() as session:
        sitting = session.get(Sitting, sitting_id)
        assert sitting.status == "open"  # a dead device keeps the sitting from running
        assert sitting.self_check["problems"] == ["V1.signals: 无数据", "board: 数据率6.0Hz，应为20Hz"]
    assert SittingPhases(sessions, lambda: HEALTHY).run(sitting_id, "self_check") is True  # the retry passes
    assert phases.run(sitting_id, "self_check") is False
    assert phases.run(sitting_id, "close") is True
    assert phases.run(sitting_id, "close") is False
    with sessions() as session:
        sitting = session.get(Sitting, sitting_id)
        assert sitting.status == "closed"
        assert sitting.summary["outcomes"] == {"done": 1, "no_show": 1}
        assert sitting.self_check["ok"] is True
        assert session.scalar(select(func.count(SittingLog.id))) == 3


def test_a_healthy_self_check_lets_the_sitting_run(engine):
    sessions = session_factory(engine)
    sitting_id = _sitting(sessions)
    phases = SittingPhases(sessions, lambda: HEALTHY)
    phases.run(sitting_id, "open")
    phases.run(sitting_id, "self_check")
    with sessions() as session:
        assert session.get(Sitting, sitting_id).status == "running"


def test_a_sitting_waits_for_the_days_course_self_check(engine):
    """Devices at rate are not enough where the site requires the walk-round: the sitting stays open."""
    sessions = session_factory(engine)
    sitting_id = _sitting(sessions)
    course = ["场地信号检测未通过且未登记放行（未触发传感器：pole-1）"]
    phases = SittingPhases(sessions, lambda: HEALTHY, lambda: course[0])
    phases.run(sitting_id, "open")
    assert phases.run(sitting_id, "self_check") is False
    with sessions() as session:
        sitting = session.get(Sitting, sitting_id)
        assert sitting.status == "open" and sitting.self_check["problems"] == course
    course[0] = ""  # the walk-round passed (or a supervisor signed an override)
    assert phases.run(sitting_id, "self_check") is True
    with sessions() as session:
        assert session.get(Sitting, sitting_id).status == "running"


def test_bad_plans_are_refused(engine):
    sessions = session_factory(engine)
    _sitting(sessions, "S1")
    with pytest.raises(SittingError, match="场次S1已存在"):
        _sitting(sessions, "S1")
    with pytest.raises(SittingError, match="须 签到开始"):
        _sitting(sessions, "S2", length=-10)


def _run_until_idle(scheduler: SittingScheduler, sessions, sitting_id: int, timeout: float = 30.0) -> None:
    """Wait, on the scheduler's own job events, until no phase is pending and the sitting is closed.

    No sleeping: each wake-up is a job that ran (or failed); the timeout only bounds a broken run.
    """
    ran = threading.Event()
    scheduler.scheduler.add_listener(lambda event: ran.set(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session:
            closed = session.get(Sitting, sitting_id).status == "closed"
        if closed and scheduler.pending() == []:
            return
        assert ran.wait(max(0.0, deadline - time.monotonic())), (
            f"phases still pending after {timeout}s: {scheduler.pending()}")
        ran.clear()


def test_jobs_survive_a_restart_and_run_once(engine, move_scheduler_clock):
    """The controller was down for the whole sitting: when it is back, every phase runs once, in order."""
    sessions = session_factory(engine)
    sitting_id = _sitting(sessions, start_in=3600.0, length=1800.0, opens_before=1800.0)
    first = SittingScheduler(engine, SittingPhases(sessions, lambda: HEALTHY)).start()
    first.stop()  # the controller goes down before any phase is due
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM apscheduler_jobs WHERE id LIKE 'sitting-%'")).scalar() == 3
    # It comes back three hours later, after the sitting should have closed: the scheduler's clock
    # is the test's, not a sleep.
    move_scheduler_clock(timedelta(hours=3))
    second = SittingScheduler(engine, SittingPhases(sessions, lambda: HEALTHY)).start()
    try:
        _run_until_idle(second, sessions, sitting_id)
    finally:
        second.stop()
    third = SittingScheduler(engine, SittingPhases(sessions, lambda: HEALTHY)).start()
    third.stop()
    with sessions() as session:
        phases = session.scalars(select(SittingLog.phase).order_by(SittingLog.id)).all()
        assert phases == ["open", "self_check", "close"]
        assert session.get(Sitting, sitting_id).status == "closed"


def test_a_self_check_done_before_is_not_retried(engine):
    """A self-check job put back by a sync that raced its run finds it done: no retry every few seconds."""
    sessions = session_factory(engine)
    sitting_id = _sitting(sessions)
    phases = SittingPhases(sessions, lambda: HEALTHY)
    sittings = SittingScheduler(engine, phases).start()  # nothing falls due for an hour
    try:
        phases.run(sitting_id, "open")
        assert phases.attempt(sitting_id, "self_check") is PhaseOutcome.DONE
        sittings.scheduler.remove_job(f"sitting-{sitting_id}-self_check", PERSISTENT)
        run_scheduled_phase(sittings.database, sitting_id, "self_check")
        assert sittings.pending() == [f"sitting-{sitting_id}-close", f"sitting-{sitting_id}-open"]
        failing = SittingPhases(sessions, lambda: DEAD)
        second = _sitting(sessions, "S2")
        failing.run(second, "open")
        _PHASES_BY_DATABASE[sittings.database] = failing
        assert failing.attempt(second, "self_check") is PhaseOutcome.NOT_PASSED
        run_scheduled_phase(sittings.database, second, "self_check")  # a self-check that fails is retried
        assert f"sitting-{second}-self_check" in sittings.pending()
    finally:
        sittings.stop()


@pytest.mark.postgres
def test_two_schedulers_firing_the_same_phase_at_once_change_the_records_once(postgres_engine):
    from concurrent.futures import ThreadPoolExecutor

    from examroom.records.database import upgrade

    upgrade(postgres_engine)
    sessions = session_factory(postgres_engine)
    sitting_id = _sitting(sessions)
    _book(sessions, sitting_id, 71)
    phases = [SittingPhases(sessions, lambda: HEALTHY) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda p: p.run(sitting_id, "close"), phases))
    assert sorted(results) == [False, False, False, True]
    with sessions() as session:
        assert session.scalar(select(func.count(SittingLog.id))) == 1
        assert session.get(Sitting, sitting_id).summary["outcomes"] == {"no_show": 1}


def test_the_closing_report_carries_the_seal_chain_heads(engine, tmp_path, capsys):
    from examroom.cli.main import main
    from examroom.records.attempt_log import Records
    from examroom.records.sealing import Sealer, chain_heads, load_or_create_key
    from tests.examroom.attempts import finished_attempt

    sessions = session_factory(engine)
    sealer = Sealer(sessions, load_or_create_key(tmp_path))
    sealer.seal(finished_attempt(Records(sessions)))
    sitting_id = _sitting(sessions)
    assert SittingPhases(sessions, lambda: HEALTHY).run(sitting_id, "close") is True
    with sessions() as session:
        heads = chain_heads(session)
        assert session.get(Sitting, sitting_id).summary["seal_heads"] == heads
    assert main(["sitting", "list", "--database", str(engine.url)]) == 0
    assert f"closed with chain demo at seal 1: head {heads['demo']['digest']}" in capsys.readouterr().out
