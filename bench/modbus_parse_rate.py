"""Modbus RTU replies judged per second on one core, through the course board driver.

Two figures: the pure reply path (``CourseBoardDriver.replay_reply``: the
strict matcher and the conversion to :class:`CourseInputs`, as a raw-capture
replay runs it), and live polls over a null modem against the pymodbus twin
(polls per second of wall time, which the pty, the twin's asyncio server and
the guard time bound, not the parser). CPU time for the first with
time.process_time (one thread, one core). Run: python bench/modbus_parse_rate.py
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pymodbus.framer.rtu import FramerRTU  # noqa: E402
from pymodbus.pdu import DecodePDU  # noqa: E402
from pymodbus.pdu.bit_message import ReadDiscreteInputsResponse  # noqa: E402

from devices.courseboard import CourseBoard, CourseBoardSimulator  # noqa: E402
from devices.courseboard.driver import CourseBoardDriver  # noqa: E402
from devices.nullmodem import NullModem  # noqa: E402

T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)


def replies(n: int, count: int = 16) -> list[bytes]:
    rng = random.Random(1)
    framer = FramerRTU(DecodePDU(False))
    return [framer.buildFrame(ReadDiscreteInputsResponse(bits=[rng.random() < 0.3 for _ in range(count)],
                                                         dev_id=1)) for _ in range(n)]


def pure_rate(data: list[bytes]) -> tuple[float, int]:
    drv = CourseBoardDriver("bench://", unit=1, count=16)
    readings = 0
    cpu = time.process_time()
    for reply in data:
        readings += len(drv.replay_reply(reply, 0.0, T0))
    cpu = time.process_time() - cpu
    return len(data) / cpu, readings


def live_rate(seconds: float = 3.0) -> float:
    got = []
    with NullModem() as modem, CourseBoardSimulator(modem.a, unit=1, count=16):
        with CourseBoard(modem.b, got.append, unit=1, count=16, rate=1000.0) as board:
            time.sleep(0.5)  # a bench, not a test: let the twin and the first polls settle
            n0, t0 = len(got), time.monotonic()
            time.sleep(seconds)
            n1, t1 = len(got), time.monotonic()
            health = board.health()
    print(f"            (health: frames_dropped {health.frames_dropped}, last_error {health.last_error})")
    return (n1 - n0) / (t1 - t0)


def main() -> None:
    per_s, readings = pure_rate(replies(50_000))
    print(f"replies judged: {per_s:10,.0f} replies/s per core  ({readings} readings from 50000 replies)")
    print(f"live polls:     {live_rate():10,.0f} polls/s over a pty against the pymodbus twin")


if __name__ == "__main__":
    main()
