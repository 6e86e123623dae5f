"""Journal lines parsed per second on one core, through the reader ``examroom judge`` uses.

Writes a 10-minute attempt's journal the way the controller journals it: the
start command, a pose at 10 Hz (RTK fixed, heading, speed, satellites, HDOP,
correction age) and a signal-board snapshot at 20 Hz (a motorcycle: helmet,
foot pegs, roll), a course-sensor change every few seconds and a supervisor
command now and then; about 18 000 lines of JSON. Then it parses the lines with
:func:`scoring.observations.read_jsonl` (type and range checks included)
``REPEATS`` times and prints the median rate in lines per second of CPU time
(``time.process_time``: one thread, so one core). It checks that every line
comes back equal to what was written; nothing here asserts on timing.

Run: ``.venv/bin/python bench/journal_parse_rate.py``
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scoring.observations import (  # noqa: E402
    Command, CommandAction, CourseSensor, FixQuality, Gear, Pose, Signals, read_jsonl, write_jsonl,
)

SECONDS = 600.0
REPEATS = 7
T0 = datetime(2026, 11, 29, 3, 0, 0, tzinfo=timezone.utc)


def journal() -> list:
    """The observations of one 10-minute attempt, in time order."""
    out: list = [Command(t=0.0, utc=T0, vehicle="V1", action=CommandAction.START, actor="system",
                         vehicle_class="E", vehicle_model="E-01")]
    for k in range(1, int(SECONDS * 20) + 1):
        t = k / 20
        utc = T0 + timedelta(seconds=t)
        if k % 2 == 0:
            out.append(Pose(t=t, utc=utc, vehicle="V1", x=12.5 + 3 * math.sin(t / 7), y=40.0 + t / 20,
                            heading=(t * 3) % 360, speed=1.2 + 0.3 * math.cos(t), fix=FixQuality.RTK_FIXED,
                            satellites=21, hdop=0.6, correction_age=1.0))
        out.append(Signals(t=t + 0.001, utc=utc, vehicle="V1", ignition=True, engine=True, starter=False,
                           gear=Gear.G2, helmet=True, left_footpeg=True, right_footpeg=True,
                           left_turn=False, right_turn=k % 40 < 20, roll=round(-1.5 + math.sin(t), 2)))
        if k % 100 == 0:
            out.append(CourseSensor(t=t + 0.002, utc=utc, element="pile_e.pole3", active=k % 200 == 0,
                                    vehicle="V1"))
        if k % 3000 == 0:
            out.append(Command(t=t + 0.003, utc=utc, vehicle="V1", action=CommandAction.DEVICE_FAULT,
                               actor="考试员", reason="GNSS 信号丢失"))
            out.append(Command(t=t + 0.004, utc=utc, vehicle="V1", action=CommandAction.RESUME,
                               actor="考试员", reason="恢复"))
    return out


def main() -> int:
    observations = journal()
    lines = list(write_jsonl(observations))
    rates = []
    parsed: list = []
    for _ in range(REPEATS):
        cpu = time.process_time()
        parsed = list(read_jsonl(lines, "bench"))
        rates.append(len(lines) / (time.process_time() - cpu))
    if parsed != observations:
        print("journal_parse_rate: WRONG RESULT: the lines do not read back as written", file=sys.stderr)
        return 1
    size = sum(len(line.encode()) for line in lines)
    print(f"journal: {len(lines)} lines ({size / 1e6:.1f} MB), 10 Hz poses, 20 Hz signals, {SECONDS:.0f} s")
    print(f"read_jsonl: {statistics.median(rates):,.0f} lines/s per core (median of {REPEATS}; "
          f"min {min(rates):,.0f}, max {max(rates):,.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
