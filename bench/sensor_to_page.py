"""Delay from a course-sensor change on the simulated board to the deduction on the web page.

The whole chain is real: the Modbus RTU board twin on a pseudo-terminal, the
course-board driver polling it, the controller (observation, journal, judge,
database, live feed), the console link, the web server in its own process, and
its server-sent event stream read here as a browser would. Each sample starts
an attempt with the E motorcycle just inside the 桩考, presses a pole-touch
switch, and times until the page's stream carries the 碰擦桩杆 deduction.

Run: ``.venv/bin/python bench/sensor_to_page.py [--samples 100]`` (about 3 s a sample).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from examroom.simulation.demo import DemoCourse
from examroom.station.webprocess import end_process, start_web_process
from examroom_web.signin_client import signed_in
from examroom.simulation.world import VehicleTruth, WorldState

VEHICLE = "V1"
ITEM = "e_pile"
POLE = f"{ITEM}.pole1"


class PageStream:
    """Reads the web page's SSE stream in a thread and notes when each deduction arrives."""

    def __init__(self, address: str, username: str, password: str) -> None:
        self.arrivals: dict[int, float] = {}  # attempt id -> perf_counter at arrival
        self.ready = threading.Event()
        self._opener = signed_in(address, username, password)
        self._url = address + "live/stream"
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        with self._opener.open(self._url, timeout=60) as stream:
            for raw in stream:
                line = raw.decode("utf-8").strip()
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[6:])
                if event.get("type") == "state":
                    self.ready.set()
                elif event.get("type") == "deduction" and event["deduction"]["rule"] == "pile.pole_touched":
                    self.arrivals[event["attempt"]] = time.perf_counter()


def truth_at(demo: DemoCourse, u: float, speed: float) -> VehicleTruth:
    """The E motorcycle with its front axle ``u`` metres past the 桩考 entry line, left of pole 1."""
    item = demo.service.course.items[ITEM]
    model = demo.service.course.vehicle(demo.service.controller.vehicles[VEHICLE].model)
    x, y = model.antenna_for("front_axle", *item.to_course(u, 0.6), item.heading)
    return VehicleTruth(x=x, y=y, heading=item.heading, speed=speed, gear="1", helmet=True,
                        left_footpeg=True, right_footpeg=True, roll=0.0)


def one_sample(demo: DemoCourse, page: PageStream, candidate_id: int) -> float:
    demo.sim.show(VEHICLE, WorldState(t=0, vehicle=truth_at(demo, -1.0, 0.0)))
    time.sleep(0.3)
    attempt = demo.service.controller.begin_attempt(VEHICLE, candidate_id, "测试")
    for i in range(20):  # ride 1.9 m in 1 s into the item
        demo.sim.show(VEHICLE, WorldState(t=0, vehicle=truth_at(demo, -1.0 + 0.1 * i, 1.9)))
        time.sleep(0.05)
    deadline = time.monotonic() + 5
    while demo.service.controller.running_attempt(VEHICLE) == attempt and time.monotonic() < deadline:
        if demo.service.controller.current_item(VEHICLE) == ITEM:
            break
        time.sleep(0.01)
    else:
        raise RuntimeError(f"attempt {attempt}: the vehicle never entered {ITEM}")
    pressed = time.perf_counter()
    demo.sim.show(VEHICLE, WorldState(t=0, vehicle=truth_at(demo, 0.9, 0.8), course_sensors={POLE: True}))
    while attempt not in page.arrivals:
        if time.perf_counter() - pressed > 10:
            raise RuntimeError(f"attempt {attempt}: no deduction on the page within 10 s")
        time.sleep(0.001)
    demo.service.controller.wait_finished(attempt, timeout=5)
    demo.sim.show(VEHICLE, WorldState(t=0, vehicle=truth_at(demo, 0.9, 0.0), course_sensors={POLE: False}))
    time.sleep(0.2)
    return page.arrivals[attempt] - pressed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="examroom-bench-") as folder:
        demo = DemoCourse(Path(folder), speed=1.0).start()
        web, address = start_web_process(demo.database_url, demo.service.console_link.url, "127.0.0.1", 0,
                                         Path(folder))
        try:
            username, password, _ = next(a for a in demo.create_demo_accounts() if a[2] == "supervisor")
            page = PageStream(address, username, password)
            page.ready.wait(10)
            from examroom.simulation.drive import demo_candidate

            candidate = demo.service.records.ensure_candidate(demo_candidate("E"))
            delays = [one_sample(demo, page, candidate) for _ in range(args.samples)]
        finally:
            end_process(web)
            demo.stop()
    ms = sorted(d * 1000 for d in delays)
    poll = 1000 / demo.service.settings.course_boards[0].poll_rate
    print(f"sensor_to_page: {len(ms)} samples, board polled every {poll:.0f} ms: "
          f"median {statistics.median(ms):.0f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:.0f} ms, "
          f"worst {ms[-1]:.0f} ms, best {ms[0]:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
