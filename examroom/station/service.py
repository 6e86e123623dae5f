"""The controller process of a course, assembled from its site settings.

It owns the hardware: it opens the database (upgrading the schema), loads the
course and the rule set, starts one driver per device, runs the controller,
and serves the live feed to web processes. ``examroom demo`` runs the same
assembly against simulated devices.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from pathlib import Path

from devices.readings import Clock, SystemClock
from examroom import courseclock
from examroom.station.capture import AttemptCapture
from examroom.live.commands import CommandDesk
from examroom.live.controller import Controller, VehicleInfo
from examroom.records.database import claim_course, make_engine, session_factory
from examroom.station.device_health import FAULT_AFTER_WALL, HealthWatch, rerun_attempt
from examroom.faces.verification import shared_models
from examroom.faces.watch import AttemptFaceWatch
from examroom.live.link import ConsoleLink
from examroom.station.hardware import board_inputs, build_runners, device_owners
from examroom.live.feed import LiveFeed
from examroom.examday.callup import CallUp
from examroom.examday.checkin import CheckIn
from examroom.records.attempt_log import Records
from examroom.station.recovery import mark_interrupted
from examroom.examday.scheduling import controller_scheduler
from examroom.records.sealing import Sealer, load_or_create_key
from examroom.records.schema_process import upgrade_apart
from examroom.heap import limit_arenas
from examroom.station.selfcheck import SelfCheck, SittingChecks, SittingGate
from examroom.site.settings import SiteSettings, check_against_course
from examroom.examday.sittings import SittingPhases, SittingScheduler
from scoring.course import load_course
from scoring.overrides import effective_ruleset, load_override_file
from scoring.rules import Overrides, RuleSet, load_ruleset

log = logging.getLogger(__name__)


def site_health_layer(ruleset: RuleSet, settings: SiteSettings, clock_factor: float = 1.0) -> RuleSet:
    """The rule set with the site's fix limits as the judge's (a ``site:health`` layer, only where they
    differ): the judge then suspends for a fix loss when the health watch would, and the rule-set
    snapshot stored with each attempt carries them, so a re-judge uses that day's limits.

    The watch confirms a fault after ``fault_after`` clock seconds and ``FAULT_AFTER_WALL`` wall
    seconds (a simulation on a faster clock, ``clock_factor``, must not make a host hiccup a
    fault); the judge's allowance is the longer of the two, in clock seconds.
    """
    allowance = max(settings.fault_after, FAULT_AFTER_WALL * clock_factor)
    wanted = {"max_correction_age": settings.max_correction_age, "fix_loss_allowance": allowance}
    changed = {name: value for name, value in wanted.items() if ruleset.measure(name) != value}
    if not changed:
        return ruleset
    return ruleset.with_overrides(Overrides(measurement=changed, source="site settings [health] (fault_after, and the watch's wall-time minimum)"), "site:health")


class CourseService:
    """A course's controller process: each step of its assembly is one method, run in this order.

    Nothing is wired after the fact: each part gets the callables it delivers to when it is
    made (a runner its reading sink and raw-byte tap, the controller its listeners and guard,
    the health watch its snapshot listener)."""

    def __init__(self, settings: SiteSettings, clock: Clock | None = None, feed_port: int = 0,
                 data_dir: Path | None = None, command_token: str | None = None,
                 frame_sources: dict | None = None) -> None:
        limit_arenas()  # before the controller's threads start (examroom.heap)
        self.settings = settings
        courseclock.use_zone(settings.timezone)  # every time a person reads, in the course's zone
        shared_models.set_idle_seconds(settings.face_models_idle_minutes * 60)  # check-ins and in-cab 1:1
        self.clock = clock or SystemClock()
        self._load_course_and_rules()
        self._open_database()
        self._recover(data_dir)
        self.checkin = CheckIn(self.sessions)
        self.callup = CallUp(self.sessions)
        self.feed = LiveFeed()
        vehicles = self._register_vehicles()
        self.raw_capture = AttemptCapture(settings) if settings.raw_capture_dir is not None else None
        self.video = self._build_video(frame_sources)
        self.face_watch = self._watch_riders()
        self._setup_selfcheck(self.sessions)
        self.controller = self._build_controller(vehicles)
        self.runners = build_runners(settings, self._on_reading, self.clock,
                                     tap=self.raw_capture.capture.tap if self.raw_capture is not None else None)
        self.health_watch = HealthWatch(settings, self.runners, self.controller, self.feed, self.clock,
                                        fault_after=settings.fault_after, fault_after_wall=FAULT_AFTER_WALL,
                                        vision=self.video.vision if self.video is not None else (),
                                        snapshot_listeners=[self._selfcheck_tick])
        self.commands = CommandDesk(self.controller, self.ruleset, resume=lambda *a: self.resume_attempt(*a),
                                    rerun=lambda *a: self.rerun_attempt(*a),
                                    start=lambda booking: self.callup.start(booking, self.controller))
        self.console_link = ConsoleLink(self.feed, port=feed_port, commands=self.commands.handle,
                                        token=command_token)
        self._schedule()

    # -- the steps of the assembly, in the order __init__ runs them --------------------
    def _load_course_and_rules(self) -> None:
        """The course and the effective rule set; the settings checked against the course."""
        settings = self.settings
        self.course = load_course(settings.course_file)
        # the standard version, then the province's files; the judge adds the course's overrides
        provinces = tuple(load_override_file(path) for path in settings.province_files)
        self.ruleset = site_health_layer(effective_ruleset(load_ruleset(settings.rule_set_file), provinces),
                                         settings, getattr(self.clock, "factor", 1.0))
        check_against_course(settings, self.course)  # a mistyped element fails before any device opens
        if settings.video is not None:  # settings built in code (the demo) skip the loader's checks
            from examroom.site.cameras import check_cameras

            check_cameras(settings.video, [v.id for v in settings.vehicles], list(self.course.items))

    def _open_database(self) -> None:
        """The database, its schema upgraded (migrate), and the camera titles seeded."""
        self.engine = make_engine(self.settings.database_url)
        upgrade_apart(self.engine, self.settings.course_code)  # Alembic stays out of the controller
        claim_course(self.engine, self.settings.course_code)  # a database made before the course had its code
        self.sessions = session_factory(self.engine)
        self.records = Records(self.sessions)
        if self.settings.video is not None:  # the site file's camera titles name the cameras nobody renamed yet
            from examroom.video.camera_names import CameraNames

            CameraNames(self.sessions).seed({c.id: c.title for c in self.settings.video.cameras})

    def _recover(self, data_dir: Path | None) -> None:
        """Exam day's recovery, before anything new starts: attempts a crash cut off are marked
        interrupted, and every finished attempt not yet sealed is sealed."""
        settings = self.settings
        self.data_dir = data_dir or settings.data_dir or default_data_dir(settings.database_url)
        self.sealer = Sealer(self.sessions, load_or_create_key(self.data_dir),
                             rule_set_sha256=hashlib.sha256(settings.rule_set_file.read_bytes()).hexdigest())
        self.interrupted = mark_interrupted(self.sessions)
        self.sealer.seal_unsealed()

    def _register_vehicles(self) -> list[VehicleInfo]:
        """The site's vehicles as the controller knows them, each stored in the database."""
        vehicles = []
        for v in self.settings.vehicles:
            model = self.course.vehicle(v.model)  # a wrong model id fails here, before any device opens
            vehicles.append(VehicleInfo(id=v.id, plate=v.plate, vehicle_class=model.vehicle_class, model=v.model))
            self.records.ensure_vehicle(v.id, v.plate, model.vehicle_class, v.model)
        return vehicles

    def _build_video(self, frame_sources: dict | None):
        """The cameras' recording, live view, exports and vision sensors (None without a [video] section).

        Vision sensors report like course boards: their readings go to the controller, made
        after them, through :meth:`_submit`."""
        settings = self.settings
        if settings.video is None:
            return None
        from examroom.video.exportprocess import ExportProcess
        from examroom.video.system import VideoSystem

        # Each export runs in its own lower-priority process, away from the judge and the drivers.
        exports = ExportProcess(settings.database_url, settings.course_file, settings.rule_set_file,
                                tuple(settings.province_files))
        from examroom.records.evidence_seals import EvidenceSealer

        video_sessions = session_factory(self.engine)
        return VideoSystem(settings.video, video_sessions, self.feed, self.clock,
                           frame_sources=frame_sources, submit=self._submit,
                           items_for_class=lambda c: [i.id for i in self.course.items_for(c)],
                           export_process=exports,
                           # the course key that seals the attempts signs their filed video too
                           evidence_sealer=EvidenceSealer(video_sessions, load_or_create_key(self.data_dir)))

    def _build_controller(self, vehicles: list[VehicleInfo]) -> Controller:
        """The controller, told which device is on which vehicle and which board senses what, with
        its listeners: the seal and the booking's next step when an attempt ends; the raw capture
        and the face watch when one starts and ends; the self-check's gate where the site wants it."""
        attempt_listeners = [listener for listener in (self.raw_capture, self.face_watch) if listener is not None]
        return Controller(self.course, self.ruleset, self.records, self.feed, self.clock, vehicles,
                          board_inputs=board_inputs(self.settings), owners=device_owners(self.settings),
                          # the face watch stops before the seal: its checks are part of the sealed record
                          finish_listeners=[*([self.face_watch.on_finished] if self.face_watch else []),
                                            self._seal, self.callup.on_finished],
                          attempt_listeners=attempt_listeners,
                          begin_guard=self.gate if self.settings.require_selfcheck else None)

    def _schedule(self) -> None:
        """Scheduled jobs run here, in the one controller process, never in web workers, on one
        scheduler: the sittings' phases (persistent job store, each phase once) and the video
        housekeeping (memory job store: it holds live objects)."""
        self.scheduler = controller_scheduler(self.engine)
        # A sitting runs once its devices report at rate and, where the site requires it, the day's
        # course self-check passed or was overridden: the gate that begin_attempt also asks.
        course_check = self.gate.problem if self.settings.require_selfcheck else None
        phases = SittingPhases(self.sessions, self.health, course_check)
        self.sitting_scheduler = SittingScheduler(self.engine, phases, scheduler=self.scheduler)
        if self.video is not None:
            self.video.schedule(self.scheduler)
        # Candidates' photos and face descriptors past their retention: deleted, each deletion audited.
        self.scheduler.add_job(self.delete_expired_faces, trigger="interval", hours=6, id="faces-retention",
                               max_instances=1, coalesce=True)

    def delete_expired_faces(self) -> list[int]:
        """Delete the face data of bookings past the site's retention (a scheduled job; also callable)."""
        from examroom.accounts.audit import AuditLog
        from examroom.faces.personal_data import delete_expired

        _, utc = self.clock.now()
        audit = AuditLog(self.sessions)
        return delete_expired(self.sessions, utc, self.settings.personal_data_days,
                              on_deleted=lambda booking, what: audit.record(
                                  utc, "system", "system", "face_data_deleted", f"booking {booking}",
                                  f"retention {self.settings.personal_data_days:g} days; {what}"))

    # -- what the parts deliver to ---------------------------------------------------------
    def _on_reading(self, reading) -> None:
        """Every device reading, from its runner's thread: to the controller, the self-check and the
        health watch. The self-check is looked up each time: a new day replaces it."""
        self.controller.submit(reading)
        self.selfcheck.observe(reading)
        self.health_watch.observe(reading)

    def _submit(self, reading) -> None:
        """A vision sensor's reading, from its thread: to the controller."""
        self.controller.submit(reading)

    def _watch_riders(self) -> AttemptFaceWatch | None:
        """Face review during attempts: each in-car camera's frames, while its vehicle's attempt runs
        (a controller attempt listener)."""
        video = self.settings.video
        if self.video is None or not video.riders:
            return None
        # The camera's fan-out: the frames its reader (or simulated camera) hands the live view too.
        cameras = {vehicle: (camera, self.video.frame_sources[camera]) for vehicle, camera in video.riders.items()}
        # 1:1 with the booking's face where the models are installed; a run of mismatches warns the console.
        return AttemptFaceWatch(self.sessions, cameras, interval=video.face_interval, publish=self.feed.publish)

    def _setup_selfcheck(self, sessions) -> None:
        """The sitting's self-check: fed every reading (:meth:`_on_reading`), stored when it changes
        (:meth:`_selfcheck_tick`), gating begin_attempt where the site requires it."""
        _, utc = self.clock.now()
        self.selfcheck = SelfCheck(self.settings, self.course, utc)
        self.sitting_checks = SittingChecks(sessions)
        self.gate = SittingGate(self.sitting_checks)
        self.gate.check_id = self.sitting_checks.save(None, self.selfcheck.report([], utc), utc, utc)
        self._selfcheck_key = None

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
        self.console_link.start()
        if self.video is not None:
            self.video.start()
        self.sitting_scheduler.start()  # first: a phase that fell due while down finds its controller
        self.scheduler.start()
        log.info("controller running: %d devices, live feed at %s", len(self.runners), self.console_link.url)
        return self

    def stop(self) -> None:
        if self.scheduler.running:  # once: stopping twice, or after a start that failed early, is harmless
            self.scheduler.shutdown(wait=True)
        self.sitting_scheduler.stop()  # after: a phase running until the shutdown still found its controller
        if self.video is not None:
            self.video.stop()
        self.console_link.stop()
        self.health_watch.stop()
        for runner in self.runners:
            runner.stop()
        self.controller.stop()
        if self.face_watch is not None:  # after the controller: no attempt can start another watch
            self.face_watch.close()
        if self.raw_capture is not None:
            self.raw_capture.close()
        self.engine.dispose()

    def _seal(self, attempt_id: int, _status) -> None:
        self.sealer.seal(attempt_id)

    def health(self) -> list[dict]:
        """Per device: alive, line state, rates, error counts, GNSS fix (see examroom.station.device_health)."""
        return self.health_watch.snapshot()


def _local_day(utc):
    """The course's calendar day (Beijing time): a sitting's self-check is valid for that day."""
    return (utc + timedelta(hours=8)).date()


def default_data_dir(database_url: str) -> Path:
    """Beside a SQLite file; a server database needs ``data_dir`` in the settings."""
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        return Path(database_url.removeprefix("sqlite:///")).resolve().parent
    raise ValueError("settings: data_dir is needed (where the course's seal key is kept)")
