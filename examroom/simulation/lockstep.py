"""The demo course in lockstep: a clock the caller owns and in-process cables, no threads.

:class:`LockstepCourse` is :class:`~examroom.simulation.demo.DemoCourse` with
two things swapped: the clock is a :class:`~devices.readings.ManualClock`,
and each null-modem cable is a :class:`~devices.links.LinkCable` (a
``lockstep://`` URL the real drivers open through pyserial as they open a
pty). Everything else is the live code: the site settings the twins
describe, :class:`~examroom.station.service.CourseService` as the station
builds it, the real drivers behind their :class:`~devices.runner.DeviceRunner`,
the controller, judge, journal, sealing, health watch and self-check.

Nothing runs on its own. :meth:`LockstepCourse.advance` moves the clock
forward, and at every moment something falls due — a twin's next sentence,
a course board's poll, a health check — it runs, in this order, in the
caller's thread: the twins write their bytes, each runner takes one step
(reads, decodes, stamps with the clock, delivers), the controller handles
what was delivered, the health watch checks. A scripted attempt of a minute
takes well under a second of wall time, and every run of it is the same.

The course board keeps the site's line settings. Its driver measures its Modbus timing
(``quiet``, ``timeout``, drains) on a clock of the board's own, which the board's timed cable
moves as the driver waits (:meth:`~devices.courseboard.driver.CourseBoardDriver.time_line_on`):
the reply is on the link the instant the request is written, a poll takes no wall time, and the
world's clock stamps the readings as before. On wall time, a host that stalled the caller's
thread longer than the timeout made a reply that was there at once look untimed, and a reading
was lost (a fresh-clone CI run). The pty end-to-end tests (marked ``slow``) keep the real
timings on the wall clock.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import serial

from devices.courseboard import CourseBoardDriver
from devices.links import LinkCable
from devices.readings import ManualClock
from devices.twin import SerialTwin
from examroom.accounts.secrets_file import read_or_create_secret
from examroom.records.models import AttemptStatus
from examroom.simulation.course_twins import SimulatedCourse
from examroom.simulation.demo import DEMO_VEHICLES
from examroom.simulation.drive import ScenarioDriver
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.station.hardware import gnss_device, signals_device
from examroom.station.service import CourseService
from scoring.course import load_course
from scoring.rules import default_ruleset_path

# Clock seconds between journal writes: the controller writes every 50 ms of wall time to lose little
# in a crash, which a lockstep run cannot have; the rows are the same in any batches (a deduction
# and a finish write at once, as live).
JOURNAL_FLUSH = 0.5
HEALTH_INTERVAL = 0.1  # clock seconds between health checks (the watch's interval)


class _WorldClock(ManualClock):
    """The course's manual clock: sleeping on it runs the course up to the time slept to."""

    def __init__(self, start_utc: datetime | None = None) -> None:
        # Far from zero: nothing on the course has a "last seen" at mono 0.
        super().__init__(start_utc=start_utc, start_mono=1000.0)
        self.course: LockstepCourse | None = None

    def sleep(self, seconds: float) -> None:
        if self.course is None:
            super().sleep(seconds)
        else:
            self.course.advance(max(0.0, seconds))


class Play:
    """One scenario played on the lockstep course: its samples shown at their moments as the clock runs.

    The attempt starts when the script says so (a made-up candidate checked in, as the
    scenario driver does); the play ends after its last sample, or when the judge ends
    the attempt. Whatever else happens (faults, a supervisor's stop) is the test's.
    """

    def __init__(self, course: "LockstepCourse", vehicle_id: str, scenario, begin=None) -> None:
        from examroom.simulation.drive import STEP, demo_candidate

        self.course = course
        self.vehicle_id = vehicle_id
        self.scenario = scenario
        self.attempt_id: int | None = None
        self.done = False
        if begin is None:
            controller, records = course.service.controller, course.service.records
            info = demo_candidate(controller.vehicles[vehicle_id].vehicle_class)
            candidate_id = records.ensure_candidate(info)
            begin = lambda: controller.begin_attempt(vehicle_id, candidate_id, info.name)  # noqa: E731
        self._begin = begin
        self._origin, _ = course.clock.now()
        self._samples = iter(scenario.samples(STEP))
        self._next = next(self._samples, None)
        course.sim.follow(vehicle_id, scenario.timeline.state, self._origin, scenario.duration,
                          sensors=scenario.sensor_state)

    @property
    def due(self) -> float | None:
        return None if self.done or self._next is None else self._origin + self._next.t

    def run_due(self, now: float) -> None:
        controller = self.course.service.controller
        while not self.done and self._next is not None and self._origin + self._next.t <= now + 1e-9:
            sample = self._next
            self.course.sim.show(self.vehicle_id, sample)
            if "start" in sample.commands and self.attempt_id is None:
                self.attempt_id = self._begin()
            elif self.attempt_id is not None and controller.running_attempt(self.vehicle_id) != self.attempt_id:
                self._end()  # the judge ended the attempt (不合格): the candidate leaves the course
                return
            self._next = next(self._samples, None)
        if self._next is None and not self.done:
            self._end()

    def _end(self) -> None:
        self.done = True
        self.course.sim.hold(self.vehicle_id)
        self.course.sim.release_sensors(self.course.sim.elements_of(self.vehicle_id))


class LockstepCourse:
    """The demo course's devices, station and controller, advanced by the caller."""

    def __init__(self, data_dir: Path, *, selfcheck_override: bool = True, raw_capture: bool = True,
                 start_utc: datetime | None = None, database_url: str | None = None, course_code: str = "") -> None:
        self.data_dir = data_dir
        self.clock = _WorldClock(start_utc)
        course = load_course(DEMO_COURSE_PATH)
        self.sim = SimulatedCourse(course, list(DEMO_VEHICLES), self.clock, cable=LinkCable)
        self.database_url = database_url or f"sqlite:///{data_dir / 'examroom.sqlite3'}"
        settings = dataclasses.replace(self.sim.settings(self.database_url, DEMO_COURSE_PATH, default_ruleset_path()),
                                       data_dir=data_dir, course_code=course_code)
        settings = dataclasses.replace(settings, raw_capture_dir=data_dir / "raw" if raw_capture else None)
        self.sim.board_cable.answer("a", self.sim.board.answer)  # the twin answers on the link itself
        self.service = CourseService(settings, self.clock,
                                     command_token=read_or_create_secret(data_dir / "command_token"))
        # The board's line timing on a clock of its own, moved by its cable (module doc).
        self.board_clock = ManualClock()
        self.sim.board_cable.clock = self.board_clock
        for runner in self.service.runners:
            if isinstance(runner.driver, CourseBoardDriver):
                runner.driver.time_line_on(lambda: self.board_clock.now()[0])
        # The health watch's wall clock is this clock: a lockstep run has no host hiccups to allow for.
        self.service.health_watch.wall = lambda: self.clock.now()[0]
        if selfcheck_override:
            self.service.override_selfcheck("演示程序", "模拟考场，设备为仿真孪生，不做场地信号检测")
        self.drivers = {v.id: ScenarioDriver(self.sim, self.service.controller, self.service.records, self.clock,
                                             v.id, settle=self.settle) for v in DEMO_VEHICLES}
        now, _ = self.clock.now()
        self._twins: list[SerialTwin] = [t for v in self.sim.vehicles.values() for t in (v.gnss, v.signals)]
        self._due = {id(t): now for t in self._twins}
        self._next_health = now
        self._next_flush = now
        self._started = False
        self._plays: list[Play] = []
        # The cable each streaming device's driver reads (its "b" end): stepped when bytes wait there.
        self._reads: dict[str, LinkCable] = {}
        for vehicle_id, twins in self.sim.vehicles.items():
            self._reads[gnss_device(vehicle_id)] = twins.gnss_cable
            self._reads[signals_device(vehicle_id)] = twins.signal_cable

    # -- life -------------------------------------------------------------------

    def start(self) -> "LockstepCourse":
        """Take the first step (no thread starts but the live feed's server, which only serves)."""
        self.service.console_link.start()
        self.clock.course = self
        self._started = True
        self._run_due()
        return self

    def stop(self) -> None:
        self.clock.course = None
        self.service.stop()
        self.sim.stop()

    def __enter__(self) -> "LockstepCourse":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def class_of(self, vehicle_id: str) -> str:
        return self.service.controller.vehicles[vehicle_id].vehicle_class

    # -- time ---------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Run the course for ``seconds`` of its clock."""
        now, _ = self.clock.now()
        self.advance_to(now + seconds)

    def advance_to(self, target: float) -> None:
        if not self._started:
            raise RuntimeError("start() the lockstep course first")
        self._run_due()  # what was set off at this instant (a change shown to the twins)
        while True:
            now, _ = self.clock.now()
            plays = [p.due for p in self._plays if p.due is not None]
            nxt = min([target, self._next_health, *self._due.values(), *self._runner_dues(), *plays])
            if nxt <= now + 1e-12:
                if now >= target - 1e-12:
                    break
                nxt = min(target, now + 1e-6)  # a due time already past: run it and move on
            ManualClock.advance_to(self.clock, nxt)
            self._run_due()

    def play(self, vehicle_id: str, scenario, begin=None) -> Play:
        """Start playing ``scenario`` on the vehicle from now; it goes on as the clock advances."""
        play = Play(self, vehicle_id, scenario, begin)
        self._plays.append(play)
        self._run_due()
        return play

    def until(self, condition, timeout: float = 30.0, step: float = 0.05):
        """Advance in ``step``s until ``condition()`` is true (returned) or ``timeout`` clock seconds passed."""
        end = self.clock.now()[0] + timeout
        while True:
            value = condition()
            if value:
                return value
            if self.clock.now()[0] >= end:
                raise AssertionError(f"not true within {timeout} s of the course's clock: {condition}")
            self.advance(step)

    def settle(self, attempt_id: int, seconds: float) -> AttemptStatus | None:
        """The scenario driver's wait for the judge to finish: up to ``seconds`` of clock."""
        controller = self.service.controller
        end = self.clock.now()[0] + seconds
        while self._running(attempt_id):
            if self.clock.now()[0] >= end:
                return None
            self.advance(0.05)
        return controller.wait_finished(attempt_id, timeout=0)

    def _running(self, attempt_id: int) -> bool:
        controller = self.service.controller
        return any(controller.running_attempt(v) == attempt_id for v in controller.vehicles)

    def _runner_dues(self) -> list[float]:
        return [due for due in (r.next_step_due() for r in self.service.runners) if due is not None]

    def _run_due(self) -> None:
        now, _ = self.clock.now()
        for play in list(self._plays):
            play.run_due(now)
            if play.done:
                self._plays.remove(play)
        for twin in self._twins:
            if twin.woken() or self._due[id(twin)] <= now + 1e-12:
                try:
                    twin.tick()
                except (serial.SerialException, OSError):
                    pass  # a pulled cable: the twin writes again once it is back, as its thread does
                self._due[id(twin)] = twin.next_due(now)
        for runner in self.service.runners:
            cable = self._reads.get(runner.device)
            due = runner.next_step_due()
            # A streaming driver with nothing to read would read nothing: skip it (it is stepped
            # when bytes wait, when its cable was pulled, when its port must be opened again, and
            # when it is polled).
            if cable is None or cable.waiting("b") or not cable.plugged or due is not None:
                runner.step()
        flush = now >= self._next_flush - 1e-12
        if flush:
            self._next_flush = now + JOURNAL_FLUSH
        self.service.controller.run_pending(flush=flush)
        if now >= self._next_health - 1e-12:
            self._next_health = now + HEALTH_INTERVAL
            self.service.health_watch.check()
            self.service.controller.run_pending(flush=False)

    def flush(self) -> None:
        """Write what the controller holds for the journal now (it writes every ``JOURNAL_FLUSH``)."""
        self.service.controller.run_pending(flush=True)
