"""CPU used by the device layer: 4 vehicles (GNSS 10 Hz + signal board 20 Hz) and 2 course boards.

The twins and the null-modem cables run in a child process, so this process
holds only what a course controller runs for its devices: one DeviceRunner
thread per device with the real drivers (pyserial, framer, pynmea2 decoder,
pymodbus RTU client polling at 20 Hz), readings handed to a queue as the
controller's ``submit`` does. CPU is this process's time.process_time()
(user + system, all threads) over a fixed wall period, after a warm-up.
Run: python bench/device_cpu.py [seconds]
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

VEHICLES = 4
BOARDS = 2


def twins(conn) -> None:
    """Child: cables and twins; sends the driver-side paths, runs until told to stop."""
    from devices.courseboard import CourseBoardSimulator
    from devices.gnss import GnssSimulator, GnssTruth
    from devices.nullmodem import NullModem
    from devices.signalboard import SignalBoardSimulator, SignalState

    cables, started, paths = [], [], {"gnss": [], "signals": [], "boards": []}
    for i in range(VEHICLES):
        g, s = NullModem(), NullModem()
        cables += [g, s]
        truth = GnssTruth(33.4 + i * 1e-4, 104.92, speed=3.0, course=90.0, heading=90.0)
        started.append(GnssSimulator(g.a, lambda t=truth: t, rate=10).start())
        started.append(SignalBoardSimulator(s.a, lambda: SignalState(frozenset({"ignition", "engine"}), "1", 1.0),
                                            rate=20).start())
        paths["gnss"].append(g.b)
        paths["signals"].append(s.b)
    for i in range(BOARDS):
        b = NullModem()
        cables.append(b)
        started.append(CourseBoardSimulator(b.a, unit=1, count=16).start())
        paths["boards"].append(b.b)
    conn.send(paths)
    conn.recv()  # stop
    for twin in started:
        twin.stop()
    for cable in cables:
        cable.close()


def main() -> None:
    import logging

    from devices.courseboard import CourseBoard
    from devices.gnss import GnssReceiver
    from devices.signalboard import SignalBoard

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=twins, args=(child,), daemon=True)
    proc.start()
    paths = parent.recv()
    readings: queue.Queue = queue.Queue()

    def submit(reading) -> None:
        readings.put(reading)

    runners = [GnssReceiver(p, submit, device=f"V{i}.gnss") for i, p in enumerate(paths["gnss"])]
    runners += [SignalBoard(p, submit, device=f"V{i}.signals") for i, p in enumerate(paths["signals"])]
    runners += [CourseBoard(p, submit, device=f"board{i}") for i, p in enumerate(paths["boards"])]
    for r in runners:
        r.start()
    time.sleep(3.0)  # warm-up: ports open, epoch order learned
    while not readings.empty():
        readings.get_nowait()
    cpu0, wall0 = time.process_time(), time.monotonic()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    n = readings.qsize()
    health = [r.health() for r in runners]
    for r in runners:
        r.stop()
    parent.send("stop")
    proc.join(10)
    print(f"device layer: {VEHICLES} vehicles (GNSS 10 Hz + signal board 20 Hz) + {BOARDS} Modbus boards (20 Hz)")
    print(f"  wall {wall:.1f} s, CPU {cpu:.2f} s = {100 * cpu / wall:.1f} % of one core "
          f"(user {ru1.ru_utime - ru0.ru_utime:.2f} s, system {ru1.ru_stime - ru0.ru_stime:.2f} s)")
    print(f"  readings {n} = {n / wall:.0f}/s (expected {VEHICLES * 30 + BOARDS * 20}/s); "
          f"CPU per reading {1e6 * cpu / max(n, 1):.0f} µs")
    for h in health:
        print(f"  {h.device:<12} rate {h.rate:5.1f}/{h.expected_rate:g} Hz  dropped {h.frames_dropped}  "
              f"line {h.extra['line']}")


if __name__ == "__main__":
    main()
