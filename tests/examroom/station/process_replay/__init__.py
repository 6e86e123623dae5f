"""Process replay, in the manner of openpilot's: recorded device bytes in, journal and verdict out.

Each case under ``cases/<name>/`` holds what a scripted attempt's devices sent on
the demo course (``raw/``: the raw capture, :mod:`devices.rawcapture`), the
commands no device sends (``commands.jsonl``: start, stops, device faults, as
the journal held them), and the expectation: the observations the drivers and
the controller's observing made of the bytes (``journal.jsonl``) and the verdict
(``verdict.json``). The test (``tests/examroom/station/test_process_replay.py``) runs the
bytes through fresh drivers and the judge (:func:`examroom.station.raw_replay.replay_attempt`)
and compares line for line, so a change to a framer, decoder, epoch clock,
observing or a rule shows up as a named difference.

When a change is meant (a parser fix, a rule-table change), write the new
expectation from the same bytes and review its diff in git::

    EXAMROOM_UPDATE_REPLAY=1 python -m pytest tests/examroom/station/test_process_replay.py

When the twins themselves change (new sentences, a new scenario), record the
cases again from scratch, in lockstep (:mod:`examroom.simulation.lockstep`),
which is deterministic, so recording twice gives the same bytes::

    python -m tests.examroom.station.process_replay
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devices.links import LinkCable
from examroom.simulation.course_twins import SimulatedCourse
from examroom.simulation.demo import DEMO_VEHICLES
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.site.settings import SiteSettings
from examroom.station.raw_replay import Replayed, replay_attempt
from scoring.course import load_course
from scoring.observations import Command, read_jsonl, to_dict
from scoring.report import result_to_dict
from scoring.rules import default_ruleset_path

CASES_DIR = Path(__file__).parent / "cases"
UPDATE_ENV = "EXAMROOM_UPDATE_REPLAY"
# (case name, vehicle, scenario): short attempts that between them read every serial device class
# and reach a deduction from each (a pole touched: the course board; a foot down: the signal board).
CASES = (("e_pole_touch", "V1", "pole_touch"), ("e_foot_down", "V1", "foot_down"),
         ("c4_hill_rollback", "V2", "hill_rollback"))


@dataclass(frozen=True)
class Case:
    name: str
    directory: Path

    @property
    def raw(self) -> Path:
        return self.directory / "raw"

    def commands(self) -> list[str]:
        return (self.directory / "commands.jsonl").read_text(encoding="utf-8").splitlines()

    def expected_journal(self) -> list[str]:
        return (self.directory / "journal.jsonl").read_text(encoding="utf-8").splitlines()

    def expected_verdict(self) -> dict:
        return json.loads((self.directory / "verdict.json").read_text(encoding="utf-8"))


def cases() -> list[Case]:
    return [Case(name, CASES_DIR / name) for name, _, _ in CASES]


def demo_settings() -> SiteSettings:
    """The demo course's site settings (device ids, board inputs): what the drivers are built from."""
    sim = SimulatedCourse(load_course(DEMO_COURSE_PATH), list(DEMO_VEHICLES), clock=None, cable=LinkCable)
    try:
        return sim.settings("sqlite://", DEMO_COURSE_PATH, default_ruleset_path())
    finally:
        sim.stop()


def replay(case: Case, settings: SiteSettings, course, ruleset) -> Replayed:
    return replay_attempt(case.raw, case.commands(), settings, course, ruleset)


def journal_lines(replayed: Replayed) -> list[str]:
    """The observations the judge was fed, one canonical JSON line each (the expectation's form)."""
    return [json.dumps(to_dict(o), ensure_ascii=False, sort_keys=True) for o in replayed.observations]


def verdict(replayed: Replayed) -> dict:
    return json.loads(json.dumps(result_to_dict(replayed.result), ensure_ascii=False, sort_keys=True))


def write_expectation(case: Case, replayed: Replayed) -> None:
    (case.directory / "journal.jsonl").write_text("\n".join(journal_lines(replayed)) + "\n", encoding="utf-8")
    (case.directory / "verdict.json").write_text(
        json.dumps(verdict(replayed), ensure_ascii=False, sort_keys=True, indent=1) + "\n", encoding="utf-8")


def record() -> None:
    """Drive each case's scenario on the lockstep course and keep its bytes, commands and outcome."""
    from examroom.simulation.lockstep import LockstepCourse
    from examroom.simulation.scenarios import scenario
    from examroom.station.capture import attempt_dir

    with tempfile.TemporaryDirectory(prefix="process-replay-") as tmp:
        course = LockstepCourse(Path(tmp)).start()
        try:
            for name, vehicle, scenario_name in CASES:
                outcome = course.drivers[vehicle].drive(scenario(course.class_of(vehicle), scenario_name))
                case = Case(name, CASES_DIR / name)
                shutil.rmtree(case.directory, ignore_errors=True)
                case.directory.mkdir(parents=True)
                shutil.copytree(attempt_dir(course.service.settings.raw_capture_dir, outcome.attempt_id), case.raw)
                lines = list(course.service.records.journal_lines(outcome.attempt_id))
                commands = [line for line, obs in zip(lines, read_jsonl(lines)) if isinstance(obs, Command)]
                (case.directory / "commands.jsonl").write_text("\n".join(commands) + "\n", encoding="utf-8")
                stored = course.service.records.attempt(outcome.attempt_id).result
                replayed = replay(case, course.service.settings, course.service.course, course.service.ruleset)
                if verdict(replayed)["deductions"] != json.loads(json.dumps(stored, sort_keys=True))["deductions"]:
                    raise SystemExit(f"{name}: the replay does not give the live verdict; not recorded")
                write_expectation(case, replayed)
                print(f"{name}: attempt {outcome.attempt_id} {outcome.status.value}, recorded in {case.directory}")
        finally:
            course.stop()
