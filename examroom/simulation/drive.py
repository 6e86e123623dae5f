"""Drive scripted attempts through the simulated course's devices, in clock time.

A :class:`ScenarioDriver` shows each sample of a scenario to the device twins
at its moment on the shared clock, and asks the controller to start the
attempt when the scenario issues its start command, exactly as a supervisor
would. Everything between — bytes on pseudo-terminals, drivers, observations,
judge, journal, live feed — is the real system.
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from typing import Callable

from devices.readings import ScaledClock
from examroom.live.controller import Controller
from examroom.records.people import id_check_character
from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo, Records
from examroom.simulation.course_twins import SimulatedCourse
from examroom.simulation.scenarios import Scenario

log = logging.getLogger(__name__)

STEP = 0.05  # seconds of scenario time between samples shown to the twins
SETTLE = 3.0  # seconds (clock) the controller gets to finish judging after the script ends
_NAMES = ("王建国", "李秀英", "张伟", "刘芳", "陈志强", "杨丽", "赵磊", "黄海燕", "周斌", "吴桂兰",
          "马俊", "何晓燕", "罗永平", "朱丽娟", "郭建华", "林秀珍", "高明", "郑桂芳", "梁志勇", "宋小红",
          "韩德胜", "唐玉兰", "冯国庆", "于海英", "董春生", "萧淑珍", "程卫东", "曹金凤", "袁立新")
_serial = itertools.count(1)


@dataclass(frozen=True)
class DriveOutcome:
    scenario: str
    attempt_id: int | None
    status: AttemptStatus | None


def demo_candidate(vehicle_class: str) -> CandidateInfo:
    """A made-up candidate with a well-formed (GB 11643) ID number."""
    n = next(_serial)
    first17 = f"62120219{80 + n % 20:02d}0{1 + n % 9}1{n % 10}{n % 1000:03d}"
    return CandidateInfo(name=_NAMES[n % len(_NAMES)], id_number=first17 + id_check_character(first17),
                         exam_number=f"6212{n:08d}", vehicle_class=vehicle_class)


class ScenarioDriver:
    def __init__(self, sim: SimulatedCourse, controller: Controller, records: Records, clock: ScaledClock,
                 vehicle_id: str, settle: Callable[[int, float], AttemptStatus | None] | None = None) -> None:
        """``settle(attempt_id, clock_seconds)`` waits for the judge to finish an attempt after the
        script ends (its status, or None); by default on the wall, for the clock's factor."""
        self.sim = sim
        self.controller = controller
        self.records = records
        self.clock = clock
        self.vehicle_id = vehicle_id
        self.stopping = threading.Event()
        self.settle = settle or (lambda attempt_id, seconds: controller.wait_finished(
            attempt_id, timeout=seconds / clock.factor))

    def drive(self, scenario: Scenario, begin: Callable[[], int] | None = None) -> DriveOutcome:
        """Play one scenario; returns the attempt it produced and how it ended.

        ``begin`` starts the attempt when the script says so (for a booked candidate,
        the call-up's start); by default a made-up candidate is checked in directly.
        """
        if begin is None:
            info = demo_candidate(self.controller.vehicles[self.vehicle_id].vehicle_class)
            candidate_id = self.records.ensure_candidate(info)
            begin = lambda: self.controller.begin_attempt(self.vehicle_id, candidate_id, info.name)  # noqa: E731
        origin, _ = self.clock.now()
        attempt_id = None
        self.sim.follow(self.vehicle_id, scenario.timeline.state, origin, scenario.duration,
                        sensors=scenario.sensor_state)
        for sample in scenario.samples(STEP):
            if self.stopping.is_set():
                break
            now, _ = self.clock.now()
            self.clock.sleep(origin + sample.t - now)
            self.sim.show(self.vehicle_id, sample)
            if "start" in sample.commands and attempt_id is None:
                attempt_id = begin()
            elif attempt_id is not None and self.controller.running_attempt(self.vehicle_id) != attempt_id:
                break  # the judge ended the attempt (不合格): the candidate leaves the course
        self.sim.hold(self.vehicle_id)  # the candidate stops where the script stopped
        status = self.finish(attempt_id) if attempt_id is not None else None
        self.sim.release_sensors(self.sim.elements_of(self.vehicle_id))
        log.info("%s %s: attempt %s %s", self.vehicle_id, scenario.name, attempt_id,
                 status.value if status else "not started")
        return DriveOutcome(scenario.name, attempt_id, status)

    def finish(self, attempt_id: int) -> AttemptStatus | None:
        """How the attempt ended once its script has: the judge's verdict within ``SETTLE``; one
        still running then (suspended by a device fault, say) is stopped as a supervisor would."""
        status = self.settle(attempt_id, SETTLE)
        if status is None and self.controller.running_attempt(self.vehicle_id) == attempt_id:
            self.controller.stop_attempt(self.vehicle_id, "system", "模拟脚本结束，考试未完成")
            status = self.controller.wait_finished(attempt_id, timeout=5)
        return status
