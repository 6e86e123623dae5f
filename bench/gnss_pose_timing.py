"""How well GNSS poses and course switches are timed on the demo course, under this machine's load.

Runs every scripted attempt of both demo vehicles at once on the simulated
course (clock factor 4 by default, as tests/examroom/live/test_live_course.py),
records when the drive script showed each state to the twins, and compares
the journal with it:

* GNSS: for each pose of a vehicle moving forward, the along-track distance
  between the pose and the state shown at the pose's time, divided by the
  speed, in clock seconds: + the position is newer than its stamp, - it lags
  its stamp (what a starved reader thread stamping on arrival does);
* switches: each course-sensor observation's time minus the moment its input
  was set (a Modbus poll samples it later; positive).

Run a CPU hog alongside to see the effect of load. The twins hold each shown
state until the next (every 0.05 s of scenario time), so ±0.05 s is the
resolution. Unexpected deductions are printed; the script exits 1 if any.
Run: python bench/gnss_pose_timing.py [clock factor]
"""

from __future__ import annotations

import bisect
import json
import math
import os
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from examroom.simulation.demo import DEMO_VEHICLES, DemoCourse  # noqa: E402
from examroom.simulation.scenarios import scenario, scenario_names  # noqa: E402

MOVING = 0.8  # m/s: slower than this the along-track error divided by speed means little


class ShownLog:
    """Every state the drive script shows the twins, with the clock time it was shown."""

    def __init__(self, demo: DemoCourse) -> None:
        self._demo = demo
        self._show = demo.sim.show
        self._lock = threading.Lock()
        self.states: dict[str, list[tuple[float, object]]] = {v.id: [] for v in DEMO_VEHICLES}
        self.switches: dict[str, list[tuple[float, bool]]] = {}
        demo.sim.show = self.show

    def show(self, vehicle_id: str, state) -> None:
        t, _ = self._demo.clock.now()
        with self._lock:
            self.states[vehicle_id].append((t, state.vehicle))
            for element, active in state.course_sensors.items():
                history = self.switches.setdefault(element, [])
                if not history or history[-1][1] != active:
                    history.append((t, active))
        self._show(vehicle_id, state)


def pose_lead(pose: dict, shown: list[tuple[float, object]], times: list[float]) -> float | None:
    i = bisect.bisect_right(times, pose["t"]) - 1
    if i < 0:
        return None
    truth = shown[i][1]
    if truth.speed < MOVING or truth.reversing:
        return None
    ux, uy = math.sin(math.radians(truth.heading)), math.cos(math.radians(truth.heading))
    return ((pose["x"] - truth.x) * ux + (pose["y"] - truth.y) * uy) / truth.speed


def switch_lateness(obs: dict, switches: dict[str, list[tuple[float, bool]]]) -> float | None:
    set_at = [t for t, active in switches.get(obs["element"], []) if active == obs["active"] and t <= obs["t"]]
    return obs["t"] - set_at[-1] if set_at else None


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> int:
    factor = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    demo = DemoCourse(Path(tempfile.mkdtemp(prefix="gnss-timing-")), speed=factor).start()
    log = ShownLog(demo)
    try:
        def drive_all(vehicle):
            cls = demo.class_of(vehicle.id)
            return [(vehicle.id, scenario(cls, name), demo.drivers[vehicle.id].drive(scenario(cls, name)))
                    for name in scenario_names(cls)]

        with ThreadPoolExecutor(len(DEMO_VEHICLES)) as pool:
            results = [run for runs in pool.map(drive_all, DEMO_VEHICLES) for run in runs]
        leads, lates, unexpected = [], [], []
        for vehicle_id, sc, outcome in results:
            attempt = demo.service.records.attempt(outcome.attempt_id)
            rules = [d.rule for d in attempt.deductions]
            if rules != list(sc.expected.rules):
                unexpected.append(f"{sc.vehicle_class} {sc.name}: {rules}, expected {list(sc.expected.rules)}")
            shown = log.states[vehicle_id]
            times = [t for t, _ in shown]
            for line in demo.service.records.journal_lines(outcome.attempt_id):
                obs = json.loads(line)
                if obs["kind"] == "pose":
                    lead = pose_lead(obs, shown, times)
                    if lead is not None:
                        leads.append(lead)
                elif obs["kind"] == "course":
                    late = switch_lateness(obs, log.switches)
                    if late is not None:
                        lates.append(late)
    finally:
        demo.stop()
    print(f"clock factor {factor:g}, {len(results)} attempts")
    print(f"GNSS pose lead, clock s ({len(leads)} poses): p1 {percentile(leads, 1):+.3f}  "
          f"median {percentile(leads, 50):+.3f}  p99 {percentile(leads, 99):+.3f}  "
          f"worst lag {min(leads):+.3f}")
    print(f"course switch lateness, clock s ({len(lates)} changes): median {percentile(lates, 50):.3f}  "
          f"max {max(lates):.3f}")
    for line in unexpected:
        print("unexpected deductions:", line)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
