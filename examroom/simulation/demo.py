"""``examroom demo``: a whole simulated course with the real controller and web page.

Two exam vehicles (an E motorcycle and a C4 three-wheeler) drive the scripted
attempts in a loop. Their devices are twins on pseudo-terminals; the controller
process reads them with the real drivers, judges, journals to SQLite and serves
the live feed; the web server runs as its own process (``python -m examroom_web``)
following that feed, as it would on a real course.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import signal
import sys
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from sqlalchemy.engine import make_url

from devices.readings import ScaledClock
from examroom.accounts.users import AccountError, Accounts, Role
from examroom.messages import N_, SupervisorError
from examroom.accounts.secrets_file import read_or_create_secret
from examroom.heap import limit_arenas
from examroom.station.service import CourseService
from examroom.station.webprocess import end_process, start_web_process
from examroom.simulation.cameras import DemoCameras
from examroom.simulation.course_twins import SimulatedCourse, SimVehicle
from examroom.simulation.demo_sitting import DemoSittingError, DemoSittings
from examroom.simulation.drive import STEP, ScenarioDriver
from examroom.simulation.scenarios import DEMO_COURSE_PATH, DEMO_MODELS, scenario, scenario_names
from scoring.course import load_course
from scoring.rules import default_ruleset_path

if TYPE_CHECKING:
    from examroom.site.cameras import VideoSettings

log = logging.getLogger(__name__)

DEMO_VEHICLES = (
    SimVehicle(id="V1", plate="甘K·3071学", model=DEMO_MODELS["E"]),
    SimVehicle(id="V2", plate="甘K·3072学", model=DEMO_MODELS["C4"]),
)
DEMO_NAMES = {Role.ADMIN: "管理员", Role.SUPERVISOR: "考试员 王", Role.AUDITOR: "审核员 李"}
DEMO_EXAMINER = f"demo-{Role.SUPERVISOR.value}"  # the demo supervisor's account confirms every check-in
PAUSE_BETWEEN_ATTEMPTS = 4.0  # seconds (clock): the next candidate gets on
RIDER_CAMERA_VEHICLE = "V2"  # the C4 three-wheeler has a cab: its in-car camera faces the candidate


def demo_cameras(course, sim: SimulatedCourse, clock: ScaledClock,
                 vehicles: Sequence[SimVehicle] = DEMO_VEHICLES) -> DemoCameras:
    models = {v.id: course.vehicle(v.model) for v in vehicles}
    rider = RIDER_CAMERA_VEHICLE if RIDER_CAMERA_VEHICLE in models else None
    return DemoCameras(course, models, lambda mono: {v.id: sim.truth(v.id, mono) for v in vehicles}, clock, rider=rider)


def demo_video_settings(cameras: DemoCameras, data_dir: Path, segment_seconds: int):
    from examroom.site.cameras import VideoSettings
    from examroom.video.retention import RetentionPolicy

    return VideoSettings(cameras=cameras.specs(), recordings_dir=data_dir / "recordings",
                         cache_dir=data_dir / "cache", exports_dir=data_dir / "exports",
                         segment_seconds=segment_seconds,
                         retention=RetentionPolicy(days=1.0, floor_bytes=256 * 1024**2), riders=cameras.riders(),
                         places=cameras.places())


class DemoCourse:
    """The simulated course and its controller, without the web process (tests use this).

    ``vehicles`` are the exam vehicles on the course (the demo's two by default). ``cameras`` films
    the course with the simulated cameras; ``video`` instead gives the camera section outright
    (cameras the caller serves itself, such as network streams recorded by copy). The records go
    to ``database_url`` (default: a SQLite file in the data folder), under ``course_code``.
    """

    def __init__(self, data_dir: Path, speed: float = 1.0, cameras: bool = False,
                 segment_seconds: int = 10, selfcheck_override: bool = True,
                 vehicles: Sequence[SimVehicle] = DEMO_VEHICLES, video: VideoSettings | None = None,
                 database_url: str | None = None, course_code: str = "") -> None:
        if cameras and video is not None:
            raise ValueError("either the simulated cameras or a camera section, not both")
        limit_arenas()  # the twins' threads start before the course service's (examroom.heap)
        self.data_dir = data_dir
        self.vehicles = tuple(vehicles)
        self.clock = ScaledClock(speed)
        course = load_course(DEMO_COURSE_PATH)
        self.sim = SimulatedCourse(course, list(self.vehicles), self.clock)
        self.database_url = database_url or f"sqlite:///{data_dir / 'examroom.sqlite3'}"
        settings = dataclasses.replace(
            self.sim.settings(self.database_url, DEMO_COURSE_PATH, default_ruleset_path()),
            raw_capture_dir=data_dir / "raw", data_dir=data_dir, course_code=course_code)
        self.command_token_file = data_dir / "command_token"
        self.cameras = None
        frame_sources = None
        if cameras:
            self.cameras = demo_cameras(course, self.sim, self.clock, self.vehicles)
            settings = dataclasses.replace(settings, video=demo_video_settings(self.cameras, data_dir,
                                                                               segment_seconds))
            frame_sources = self.cameras.frame_sources()
        elif video is not None:
            settings = dataclasses.replace(settings, video=video)
        self.service = CourseService(settings, self.clock, frame_sources=frame_sources,
                                     command_token=read_or_create_secret(self.command_token_file))
        if selfcheck_override:
            # Twins have no poles to touch: the demo logs why it starts without a passed check.
            self.service.override_selfcheck("演示程序", "模拟考场，设备为仿真孪生，不做场地信号检测")
        self.drivers = {v.id: ScenarioDriver(self.sim, self.service.controller, self.service.records, self.clock,
                                             v.id) for v in self.vehicles}

    def start(self) -> "DemoCourse":
        self.sim.start()
        if self.cameras is not None:
            self.cameras.start()
        self.service.start()
        return self

    def stop(self) -> None:
        for driver in self.drivers.values():
            driver.stopping.set()
        self.service.stop()
        if self.cameras is not None:
            self.cameras.stop()
        self.sim.stop()

    def create_demo_accounts(self) -> list[tuple[str, str, str]]:
        """One account per course role with a fresh random password, for the person trying the demo
        (not the city's inspector: that role signs in to the city console, not a course)."""
        accounts = Accounts(self.service.records.sessions)
        made = []
        for role in (Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR):
            username, password = f"demo-{role.value}", secrets.token_urlsafe(9)
            try:
                accounts.create(username, password, role, display_name=DEMO_NAMES[role])
            except AccountError:
                continue  # a kept data folder has them already, with the passwords printed then
            made.append((username, password, role.value))
        return made

    def class_of(self, vehicle_id: str) -> str:
        return self.service.controller.vehicles[vehicle_id].vehicle_class

    def park_vehicles(self) -> None:
        """Each vehicle stands at its start, so its receivers report and the sitting's self-check passes."""
        for vehicle in self.vehicles:
            name = scenario_names(self.class_of(vehicle.id))[0]
            self.sim.show(vehicle.id, next(iter(scenario(self.class_of(vehicle.id), name).samples(STEP))))

    def sittings(self) -> DemoSittings:
        classes = {self.class_of(v.id) for v in self.vehicles}
        return DemoSittings(self.service.sessions, self.service.sitting_scheduler, self.service.checkin,
                            self.service.callup, classes, self.data_dir, DEMO_EXAMINER)

    def run_rounds(self, rounds: int, stop: threading.Event,
                   report: Callable[[str], None] | None = None) -> list[int]:
        """Run ``rounds`` sittings (0: until stopped), every vehicle driving each scenario of its class
        in turn with the candidates it calls; returns the sittings' ids. A round whose sitting does
        not start is told to ``report`` and tried again (:func:`open_running_round`)."""
        sittings = self.sittings()
        done: list[int] = []
        self.park_vehicles()
        while not stop.is_set() and (rounds == 0 or len(done) < rounds):
            per_class: dict[str, int] = {}  # each vehicle drives every scenario of its class once a round
            for v in self.vehicles:
                vehicle_class = self.class_of(v.id)
                per_class[vehicle_class] = per_class.get(vehicle_class, 0) + len(scenario_names(vehicle_class))
            sitting_id = open_running_round(sittings, per_class, stop, report)
            if sitting_id is None:
                break  # stopped while a round waited to start
            threads = [threading.Thread(target=self.run_vehicle, args=(v.id, sittings, sitting_id, stop),
                                        name=f"sim-{v.id}", daemon=True) for v in self.vehicles]
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.5)
            sittings.close_round(sitting_id)
            done.append(sitting_id)
        return done

    def run_vehicle(self, vehicle_id: str, sittings: DemoSittings, sitting_id: int, stop: threading.Event) -> None:
        """Drive every scenario of the vehicle's class once, each with the candidate the vehicle calls."""
        vehicle_class = self.class_of(vehicle_id)
        driver = self.drivers[vehicle_id]
        for name in scenario_names(vehicle_class):
            if stop.is_set():
                return
            booking = sittings.call_next(sitting_id, vehicle_id)
            if booking is None:
                return  # everyone of this class has finished their tries
            outcome = driver.drive(scenario(vehicle_class, name),
                                   begin=lambda: self.service.callup.start(booking, self.service.controller))
            if outcome.attempt_id is None:
                return  # stopped before the start: the candidate stays called for the next sitting's close
            self.clock.sleep(PAUSE_BETWEEN_ATTEMPTS)


ROUND_RETRY_S = 10.0  # seconds between a round whose sitting did not start and the next try
ROUND_RETRY = N_("这一轮考试没能开始，%(seconds)s 秒后重试：%(reason)s")


def open_running_round(sittings: DemoSittings, per_class: dict[str, int], stop: threading.Event,
                       report: Callable[[str], None] | None = None, retry_s: float = ROUND_RETRY_S) -> int | None:
    """The next round's sitting, running. One that did not start (its self-check never passed: a
    device too slow on a loaded machine, the course board's 20 Hz at 4 Hz) is closed, logged and
    ``report``-ed (the demo's screen), and a new one is tried after ``retry_s``, as a supervisor
    would; None once ``stop`` is set. (It once ended the course's rounds: in the city demo, a
    course that never examined again, and said nothing.)"""
    while not stop.is_set():
        try:
            return sittings.open_round(per_class)
        except DemoSittingError as exc:
            log.warning("demo: a round did not start: %s", exc)
            if report is not None:
                report(str(exc))
            sittings.close_round(exc.sitting_id)
            stop.wait(retry_s)
    return None


def refuse_unless_empty(database_url: str) -> None:
    """The demo makes its accounts, sittings and vehicles afresh: a database holding rows is refused."""
    from examroom.records.copying import filled_tables
    from examroom.records.database import make_engine

    engine = make_engine(database_url)
    try:
        filled = filled_tables(engine)
    finally:
        engine.dispose()
    if filled:
        raise SupervisorError(N_("演示程序要一个空的数据库：%(tables)s已有数据；请新建一个空的数据库再运行演示。"),
                              tables="、".join(f"{table}（{rows} 行）" for table, rows in filled))


ACCOUNTS_FILE = "demo-accounts.txt"  # in the data folder: the demo accounts' passwords, readable by the owner only
LOG_FILE = "demo.log"  # in the data folder: the controller's and the simulation's log (unless --verbose)


def _log_to(data_dir: Path, verbose: bool) -> Path | None:
    """Logs go to the data folder's demo.log, or to the terminal with ``verbose``; returns the log file."""
    handler: logging.Handler
    if verbose:
        handler, path = logging.StreamHandler(), None
    else:
        path = data_dir / LOG_FILE
        handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    return path


def write_accounts(data_dir: Path, made: list[tuple[str, str, str]]) -> Path:
    """Keep the demo accounts' passwords in the data folder (owner-only), added to any kept from before."""
    path = data_dir / ACCOUNTS_FILE
    lines = [f"{role:<10} {username} {password}\n" for username, password, role in made]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.writelines(lines)
    return path


def _stop_on_sigterm() -> None:
    """SIGTERM ends the demo the way Ctrl-C does: every child process is stopped on the way out."""
    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def run_demo(data_dir: Path | None, speed: float, host: str, port: int, rounds: int, verbose: bool = False,
             database_url: str | None = None, course_code: str = "") -> int:
    """The demo with its web page; ``database_url``: the records there (an empty database), not in the folder."""
    if database_url is not None:
        refuse_unless_empty(database_url)
    _stop_on_sigterm()
    temporary = data_dir is None
    try:
        with ExitStack() as stack:
            if data_dir is None:
                data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="examroom-demo-")))
            data_dir = data_dir.resolve()
            data_dir.mkdir(parents=True, exist_ok=True)
            log_file = _log_to(data_dir, verbose)
            print(f"examroom demo: starting in {data_dir}"
                  + (f" (log: {log_file}; --verbose shows it here)" if log_file else ""), flush=True)
            # Cameras film the demo only at real speed: a network camera's stream runs on the wall clock.
            demo = DemoCourse(data_dir, speed, cameras=speed == 1.0, database_url=database_url,
                              course_code=course_code).start()
            stack.callback(demo.stop)
            web, address = start_web_process(
                demo.database_url, demo.service.console_link.url, host, port, data_dir,
                live_url=demo.service.video.live.url if demo.service.video is not None else None,
                recordings_dir=demo.service.video.settings.recordings_dir if demo.service.video is not None else None,
                exports_dir=demo.service.video.settings.exports_dir if demo.service.video is not None else None,
                log_file=log_file)
            stack.callback(end_process, web)
            if not address:
                print(f"examroom demo: the web server did not start (see {log_file or 'the log above'})",
                      file=sys.stderr)
                return 1
            made = demo.create_demo_accounts()
            accounts = write_accounts(data_dir, made)
            # Printed once, after the start-up: the address, then who may sign in.
            print(f"examroom demo: 考试实况 {address}  (speed ×{speed:g})", flush=True)
            for username, password, role in made:
                print(f"examroom demo: {role:<10} {username} / {password}", flush=True)
            stop = threading.Event()
            # From the last line printed on, an interrupt sets ``stop``: one that came between that
            # line and the runner's start left the rounds running while the demo stopped under them,
            # and the demo hung (seen under load, a Ctrl-C right after the start).
            try:
                print(f"examroom demo: passwords kept in {accounts}", flush=True)
                def report(message: str) -> None:
                    retry = ROUND_RETRY % {"seconds": f"{ROUND_RETRY_S:g}", "reason": message}
                    print(f"examroom demo: {retry}", flush=True)

                runner = threading.Thread(target=demo.run_rounds, args=(rounds, stop, report), name="sim-rounds",
                                          daemon=True)
                runner.start()
                while runner.is_alive():
                    runner.join(0.5)
            except KeyboardInterrupt:
                stop.set()
                print("examroom demo: stopping", flush=True)
    except KeyboardInterrupt:  # during start-up: the children started so far are stopped above
        print("examroom demo: stopped", flush=True)
        return 130
    if database_url is not None:
        print(f"examroom demo: done; records in {make_url(database_url).render_as_string(hide_password=True)}",
              flush=True)
    elif temporary:
        print("examroom demo: done; the records were in a temporary folder, now removed "
              "(give --dir FOLDER to keep them)", flush=True)
    else:
        print(f"examroom demo: done; records in {data_dir}", flush=True)
    return 0
