"""The controller process of a course, assembled from its site settings.

It owns the hardware: it opens the database (upgrading the schema), loads the
course and the rule set, starts one driver per device, runs the controller,
and serves the live feed to web processes. ``examroom demo`` runs the same
assembly against simulated devices.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timezone
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from devices.readings import Clock, SystemClock
from examroom.commands import CommandDesk
from examroom.controller import Controller, VehicleInfo
from examroom.database import make_engine, session_factory, upgrade
from examroom.feedserver import FeedServer
from examroom.hardware import build_runners
from examroom.livefeed import LiveFeed
from examroom.callup import CallUp
from examroom.checkin import CheckIn
from examroom.records import Records
from examroom.recovery import mark_interrupted
from examroom.sealing import Sealer, load_or_create_key
from examroom.settings import SiteSettings
from examroom.sittings import SittingPhases, SittingScheduler
from scoring.course import load_course
from scoring.overrides import effective_ruleset, load_override_file
from scoring.rules import load_ruleset

log = logging.getLogger(__name__)


class CourseService:
    def __init__(self, settings: SiteSettings, clock: Clock | None = None, feed_port: int = 0,
                 data_dir: Path | None = None, command_token: str | None = None,
                 frame_sources: dict | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.course = load_course(settings.course_file)
        # the standard version, then the province's files; the judge adds the course's overrides
        provinces = tuple(load_override_file(path) for path in settings.province_files)
        self.ruleset = effective_ruleset(load_ruleset(settings.rule_set_file), provinces)
        self.engine = make_engine(settings.database_url)
        upgrade(self.engine)
        self.sessions = session_factory(self.engine)
        self.records = Records(self.sessions)
        # Exam day: seal key, crash recovery (before anything new starts), check-in and call-up.
        self.data_dir = data_dir or settings.data_dir or _default_data_dir(settings.database_url)
        self.sealer = Sealer(self.sessions, load_or_create_key(self.data_dir),
                             rule_set_sha256=hashlib.sha256(settings.rule_set_file.read_bytes()).hexdigest())
        self.interrupted = mark_interrupted(self.sessions)
        self.sealer.seal_unsealed()
        self.checkin = CheckIn(self.sessions)
        self.callup = CallUp(self.sessions)
        self.feed = LiveFeed()
        vehicles = []
        for v in settings.vehicles:
            model = self.course.vehicle(v.model)  # a wrong model id fails here, before any device opens
            vehicles.append(VehicleInfo(id=v.id, plate=v.plate, vehicle_class=model.vehicle_class, model=v.model))
            self.records.ensure_vehicle(v.id, v.plate, model.vehicle_class, v.model)
        board_inputs = {b.id: b.inputs for b in settings.course_boards}
        if settings.video is not None:  # vision sensors are course boards made of a camera
            board_inputs.update({v.device: list(v.elements) for v in settings.video.vision})
        self.controller = Controller(self.course, self.ruleset, self.records, self.feed, self.clock, vehicles,
                                     board_inputs=board_inputs)
        self.controller.finish_listeners += [self._seal, self.callup.on_finished]
        self.runners = build_runners(settings, self.controller, self.clock)
        self.commands = CommandDesk(self.controller, self.ruleset)
        self.feed_server = FeedServer(self.feed, port=feed_port, commands=self.commands.handle, token=command_token)
        # Scheduled jobs run here, in the one controller process, never in web workers: the
        # sittings' phases (persistent job store, each phase once) and the video housekeeping.
        self.sitting_scheduler = SittingScheduler(self.engine, SittingPhases(self.sessions, self.health))
        self.scheduler = BackgroundScheduler(timezone=timezone.utc)
        self.video = None
        if settings.video is not None:
            from examroom.video.system import VideoSystem

            self.video = VideoSystem(settings.video, session_factory(self.engine), self.feed, self.clock,
                                     frame_sources=frame_sources, submit=self.controller.submit)
            self.video.schedule(self.scheduler)
            self.video.enable_overlay(self.records, self.course, self.ruleset)

    def start(self) -> "CourseService":
        self.controller.start()
        for runner in self.runners:
            runner.start()
        self.feed_server.start()
        if self.video is not None:
            self.video.start()
        self.sitting_scheduler.start()
        self.scheduler.start()
        log.info("controller running: %d devices, live feed at %s", len(self.runners), self.feed_server.url)
        return self

    def stop(self) -> None:
        self.sitting_scheduler.stop()
        self.scheduler.shutdown(wait=True)
        if self.video is not None:
            self.video.stop()
        self.feed_server.stop()
        for runner in self.runners:
            runner.stop()
        self.controller.stop()
        self.engine.dispose()

    def _seal(self, attempt_id: int, _status) -> None:
        self.sealer.seal(attempt_id)

    def health(self) -> list[dict]:
        return [runner.health().as_dict() for runner in self.runners]


def _default_data_dir(database_url: str) -> Path:
    """Beside a SQLite file; a server database needs ``data_dir`` in the settings."""
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        return Path(database_url.removeprefix("sqlite:///")).resolve().parent
    raise ValueError("settings: data_dir is needed (where the course's seal key is kept)")
