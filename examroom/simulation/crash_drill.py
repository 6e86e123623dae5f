"""Crash drill: kill the controller with SIGKILL mid-attempt and measure what was lost.

The child (``python -m examroom.simulation.crash_drill --dir D``) runs the demo
course — twins, real drivers, controller — on the database in ``D`` and drives
one scripted attempt after another on the first vehicle; with ``--booking N``
it starts the called booking N through the call-up instead of a made-up
candidate. It prints one JSON line when its clock is set and one when an
attempt starts.

The parent (:func:`kill_mid_attempt`) waits until an attempt has run for
``delay`` seconds, sends SIGKILL and reads back the journal: the loss is the
time from the journal's last observation to the kill, both on the shared
clock (the child says where its clock stands against the system-wide
monotonic clock, which both processes read).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from examroom.records.database import make_engine, session_factory
from scoring import config_files


@dataclass(frozen=True)
class Kill:
    attempt_id: int
    kill_t: float  # on the child's clock
    last_observation_t: float | None
    rows: int
    factor: float

    @property
    def loss_seconds(self) -> float:
        """Wall seconds between the last journaled observation and the kill."""
        if self.last_observation_t is None:
            return float("inf")
        return max(0.0, self.kill_t - self.last_observation_t) / self.factor


def kill_mid_attempt(data_dir: Path, delay: float, speed: float = 1.0, booking: int | None = None,
                     scenario: str = "clean", timeout: float = 60.0) -> Kill:
    """Run the child until its attempt has run ``delay`` wall seconds, SIGKILL it, measure."""
    command = [sys.executable, "-m", "examroom.simulation.crash_drill", "--dir", str(data_dir),
               "--speed", str(speed), "--scenario", scenario]
    if booking is not None:
        command += ["--booking", str(booking)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             cwd=config_files.code_root())  # the child runs this same code
    clock = attempt = None
    deadline = time.monotonic() + timeout
    try:
        while attempt is None:
            line = child.stdout.readline()
            if not line or time.monotonic() > deadline:
                raise RuntimeError(f"crash drill child ended or stalled before an attempt started (rc={child.poll()})")
            message = json.loads(line)
            if message["event"] == "clock":
                clock = message
            elif message["event"] == "started":
                attempt = message["attempt"]
        time.sleep(delay)
        kill_mono = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    kill_t = clock["t"] + (kill_mono - clock["mono"]) * clock["factor"]
    engine = make_engine(_database_url(data_dir))
    try:
        from examroom.records.models import JournalEntry

        with session_factory(engine)() as session:
            last_t, rows = session.execute(select(func.max(JournalEntry.t), func.count(JournalEntry.id))
                                           .where(JournalEntry.attempt_id == attempt)).one()
    finally:
        engine.dispose()
    return Kill(attempt, kill_t, last_t, rows, clock["factor"])


def _database_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'examroom.sqlite3'}"


def main(argv: list[str] | None = None) -> int:
    from examroom.simulation.demo import DEMO_VEHICLES, DemoCourse
    from examroom.simulation.scenarios import scenario

    parser = argparse.ArgumentParser(prog="python -m examroom.simulation.crash_drill")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--scenario", default="clean")
    parser.add_argument("--booking", type=int)
    args = parser.parse_args(argv)
    demo = DemoCourse(args.dir, speed=args.speed).start()
    vehicle = DEMO_VEHICLES[0].id
    controller = demo.service.controller
    t, _ = demo.clock.now()
    _say({"event": "clock", "mono": time.monotonic(), "t": t, "factor": demo.clock.factor})

    def begin() -> int:
        if args.booking is not None:
            attempt_id = demo.service.callup.start(args.booking, controller)
        else:
            from examroom.simulation.drive import demo_candidate

            info = demo_candidate(demo.class_of(vehicle))
            attempt_id = controller.begin_attempt(vehicle, demo.service.records.ensure_candidate(info), info.name)
        _say({"event": "started", "attempt": attempt_id})
        return attempt_id

    while True:  # until killed
        demo.drivers[vehicle].drive(scenario(demo.class_of(vehicle), args.scenario), begin=begin)


def _say(message: dict) -> None:
    print(json.dumps(message), flush=True)


if __name__ == "__main__":
    sys.exit(main())
