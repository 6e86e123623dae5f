"""The controller process of a course, assembled from its site settings.

It owns the hardware: it opens the database (upgrading the schema), loads the
course and the rule set, starts one driver per device, runs the controller,
and serves the live feed to web processes. ``examroom demo`` runs the same
assembly against simulated devices.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from devices.readings import Clock, SystemClock
from examroom.attempt_capture import AttemptCapture
from examroom.controller import Controller, VehicleInfo
from examroom.device_health import HealthWatch, rerun_attempt
from examroom.selfcheck import SelfCheck, SittingChecks, SittingGate
from examroom.database import make_engine, session_factory, upgrade
from examroom.feedserver import FeedServer
from examroom.hardware import build_runners
from examroom.livefeed import LiveFeed
from examroom.records import Records
from examroom.settings import SiteSettings, check_against_course
from scoring.course import load_course
from scoring.rules import load_ruleset

log = logging.getLogger(__name__)


class CourseService:
    def __init__(self, settings: SiteSettings, clock: Clock | None = None, feed_port: int = 0) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.course = load_course(settings.course_file)
        self.ruleset = load_ruleset(settings.rule_set_file)
        check_against_course(settings, self.course)  # a mistyped element fails before any device opens
        self.engine = make_engine(settings.database_url)
        upgrade(self.engine)
        sessions = session_factory(self.engine)
        self.records = Records(sessions)
        self.feed = LiveFeed()
        vehicles = []
        for v in settings.vehicles:
            model = self.course.vehicle(v.model)  # a wrong model id fails here, before any device opens
            vehicles.append(VehicleInfo(id=v.id, plate=v.plate, vehicle_class=model.vehicle_class, model=v.model))
            self.records.ensure_vehicle(v.id, v.plate, model.vehicle_class, v.model)
        self.controller = Controller(self.course, self.ruleset, self.records, self.feed, self.clock, vehicles,
                                     board_inputs={b.id: b.inputs for b in settings.course_boards})
        self.runners = build_runners(settings, self.controller, self.clock)
        self.raw_capture: AttemptCapture | None = None
        if settings.raw_capture_dir is not None:
            self.raw_capture = AttemptCapture(settings)
            for runner in self.runners:
                runner.set_tap(self.raw_capture.capture.tap)
            self.controller.attempt_listeners.append(self.raw_capture)
        self.health_watch = HealthWatch(settings, self.runners, self.controller, self.feed, self.clock,
                                        fault_after=settings.fault_after)
        self._setup_selfcheck(sessions)
        self.feed_server = FeedServer(self.feed, port=feed_port)

    def _setup_selfcheck(self, sessions) -> None:
        """The sitting's self-check: fed every reading, stored when it changes, gating begin_attempt."""
        _, utc = self.clock.now()
        self.selfcheck = SelfCheck(self.settings, self.course, utc)
        self.sitting_checks = SittingChecks(sessions)
        self.gate = SittingGate(self.sitting_checks)
        self.gate.check_id = self.sitting_checks.save(None, self.selfcheck.report([], utc), utc, utc)
        self._selfcheck_key = None
        if self.settings.require_selfcheck:
            self.controller.begin_guard = self.gate
        for runner in self.runners:
            # A lambda, not the bound method: a new day replaces self.selfcheck.
            runner.on_reading = _fan_out(runner.on_reading, lambda r: self.selfcheck.observe(r),
                                         self.health_watch.observe)
        self.health_watch.snapshot_listeners.append(self._selfcheck_tick)

    def _selfcheck_tick(self, snapshot: list[dict]) -> None:
        _, utc = self.clock.now()
        if _local_day(utc) != _local_day(self.selfcheck.started_utc):
            # A new day is a new sitting: yesterday's walk-round proves nothing about today.
            self.selfcheck = SelfCheck(self.settings, self.course, utc)
            self.gate.check_id = self.sitting_checks.save(None, self.selfcheck.report(snapshot, utc), utc, utc)
            self._selfcheck_key = None
        report = self.selfcheck.report(snapshot, utc)
        self.feed.publish({"type": "selfcheck", "check": self.gate.check_id, "report": report})
        key = (report["passed"], tuple(d["ok"] for d in report["devices"]), report["sensors_fired"])
        if key != self._selfcheck_key:  # stored when the outcome changes, not every second
            self._selfcheck_key = key
            self.sitting_checks.save(self.gate.check_id, report, self.selfcheck.started_utc, utc)

    def resume_attempt(self, vehicle_id: str, actor: str, reason: str = "") -> None:
        """The supervisor resumes an attempt suspended by a device fault (refused while still at fault)."""
        self.health_watch.resume(vehicle_id, actor, reason)

    def rerun_attempt(self, attempt_id: int, actor: str, reason: str) -> int:
        """End an attempt suspended by a device fault (or take one ended so) and start it anew."""
        return rerun_attempt(self.controller, self.records, attempt_id, actor, reason)

    def override_selfcheck(self, actor: str, reason: str) -> None:
        """Record a supervisor's override: exams may start although the check has not passed."""
        _, utc = self.clock.now()
        self.sitting_checks.override(self.gate.check_id, actor, reason, utc)

    def start(self) -> "CourseService":
        self.controller.start()
        for runner in self.runners:
            runner.start()
        self.health_watch.start()
        self.feed_server.start()
        log.info("controller running: %d devices, live feed at %s", len(self.runners), self.feed_server.url)
        return self

    def stop(self) -> None:
        self.feed_server.stop()
        self.health_watch.stop()
        for runner in self.runners:
            runner.stop()
        self.controller.stop()
        if self.raw_capture is not None:
            self.raw_capture.close()
        self.engine.dispose()

    def health(self) -> list[dict]:
        """Per device: alive, line state, rates, error counts, GNSS fix (see examroom.device_health)."""
        return self.health_watch.snapshot()


def _fan_out(*callbacks):
    def deliver(reading) -> None:
        for callback in callbacks:
            callback(reading)
    return deliver


def _local_day(utc):
    """The course's calendar day (Beijing time): a sitting's self-check is valid for that day."""
    return (utc + timedelta(hours=8)).date()
