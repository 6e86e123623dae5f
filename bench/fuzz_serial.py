"""Long fuzz runs of the serial readers: inputs and bytes tried, exceptions, false readings.

The same harnesses as tests/devices/test_fuzz_harnesses.py (which runs them at
a quick size), driven here by a seeded generator for ``--seconds`` of CPU per
target:

* nmea: the GNSS decoder (epoch_end="auto") on 6..16 epochs in a random
  receiver order (any subset and permutation of RMC, VTG, HDT, GGA) of a
  vehicle that drives as one can (speed, course and heading from any start, at up
  to 8 m/s² and 100°/s, their turn rates changing at up to 300°/s², any decimals:
  tests/devices/fuzz_harness.py, ``driven``), with up to 2 damaged bytes per stream, split at random, with and
  without burst timing;
* nmea-blind: the same streams with one or two pairs of equal characters
  lost from a sentence (the damage an 8-bit XOR checksum cannot see, which
  random damage makes about once in 10^4 inputs). Where a second sentence of
  the epoch reports the same quantity the decoder compares them; what one
  sentence alone reports (an RMC's speed and course without VTG, an HDT's
  heading) it compares with the fixes beside it, and in RTK fixed epochs with
  the receiver's own track; a value that does not continue its turn waits for
  the next fix and must lie on the turn through the fixes before and after it
  (devices/gnss/neighbours.py); one that waits and gets no fix after it goes out
  unknown. A course counts only where it becomes the pose's heading (no HDT in the
  fix, faster than the speed noise: tests/devices/fuzz_harness.py); a fix wrong only
  in a course the judge never gets is printed apart. What still gets through: a
  course 8° off (``355.91`` -> ``3.91``) below about 6 m/s (8.7 m/s, within 0.01° of
  the bound), where three courses' Doppler noise allows that much, in a stream without
  HDT (seed 1, 150 s: 0 of 127,073 inputs, and 3 fixes wrong only in a course that is
  no heading; the same seed's first 51,280 inputs gave 2 when every course counted).
  Its epochs are RTK fixed, float or autonomous at random: reported, not counted in
  the exit status;
* nmea-blind-rtk: the same with every epoch RTK fixed (the exam course's receivers); counted
  (seed 1, 150 s: 0 of 124,137 inputs, and 4 wrong only in a course that is no heading;
  when every course counted, 2 of the first 50,014, both standing still);
* nmea-real: the real receiver logs in ../shared/data/nmea (written by
  receivers, not by us), each damaged at 2 bytes per kB and split at random,
  checked against the logs' own GGA/RMC positions;
* modbus: the course board's reply judgement on exact, damaged, extended
  and random replies;
* signal: the signal-board reader on damaged encoded streams;
* modbus-foreign: the real CourseBoard driver polling pymodbus's RTU server
  (a board with another register map, another unit id, or a counter board)
  through a cable that delays replies past the timeout, sends them twice,
  rewrites their unit id or damages a byte (--foreign seconds of wall time
  per variant). While a read's reply is owed (after a timeout or another
  unit's frame) the driver sends probes, which give no readings, until the
  reply comes or a second has passed: "readings" is lower for it, and
  "false" must stay 0 however loaded the machine (see bench/README.md).

Run: python bench/fuzz_serial.py [--seconds 30] [--foreign 30] [--targets nmea]; exits 1 on any exception, or false
reading but those of nmea-blind.
"""

from __future__ import annotations

import argparse
import glob
import logging
import os
import random
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from devices.courseboard.driver import CourseBoardDriver  # noqa: E402
from devices.gnss.driver import replay  # noqa: E402
from devices.signalboard.protocol import GEARS, MOTORCYCLE  # noqa: E402
from tests.devices.fuzz_harness import (DRIVE_ACCEL, DRIVE_TURN, DRIVE_YAW_ACCEL, GNSS_TYPES, _damage,  # noqa: E402
                                        driven, modbus_false_reading, modbus_reply, nmea_false_fixes, signal_false_frames)

SHOW = [0]  # false fixes of nmea-blind printed so far
from tests.devices.mutation import MUTATIONS  # noqa: E402

from tests.shared_data import NMEA_DIR  # noqa: E402  (../shared beside the repository)


def damage(rng: random.Random, n: int) -> list:
    return [(rng.randrange(10**6), rng.randrange(256), rng.choice(MUTATIONS)) for _ in range(n)]


def cuts(rng: random.Random) -> list[int]:
    return [rng.randrange(10**6) for _ in range(rng.randrange(13))]


def drive(rng, n: int, qualities=(1, 4, 5)) -> list:
    """A vehicle's epochs: any start, then any acceleration and change of turn rate a vehicle can make."""
    start = (rng.uniform(0.0, 15.0), rng.uniform(0.0, 360.0), rng.uniform(0.0, 360.0),
             rng.uniform(-DRIVE_TURN, DRIVE_TURN), rng.uniform(-DRIVE_TURN, DRIVE_TURN))
    return driven(start, [(rng.uniform(-DRIVE_ACCEL, DRIVE_ACCEL), rng.uniform(-DRIVE_YAW_ACCEL, DRIVE_YAW_ACCEL),
                           rng.uniform(-DRIVE_YAW_ACCEL, DRIVE_YAW_ACCEL), rng.choice(qualities))
                          for _ in range(n)])


def nmea_case(rng):
    order = tuple(rng.sample(GNSS_TYPES, rng.randint(1, 4)))
    values = drive(rng, rng.randint(6, 16))
    fixes, false = nmea_false_fixes(order, values, damage(rng, rng.randint(0, 2)), cuts(rng), rng.random() < 0.5)
    return 75 * len(order) * len(values), false


def nmea_blind_case(rng, qualities=(1, 4, 5)):
    order = tuple(rng.sample(GNSS_TYPES, rng.randint(1, 4)))
    values = drive(rng, rng.randint(6, 16), qualities)
    blind = [rng.randrange(10**6) for _ in range(rng.randint(1, 2))]
    report: list = []
    unheaded: list = []
    fixes, false = nmea_false_fixes(order, values, [], cuts(rng), rng.random() < 0.5, blind, report, unheaded)
    for f, t in report:
        if SHOW[0] < 5:
            SHOW[0] += 1
            print(f"  nmea-blind false fix ({'/'.join(order)}): {f.receiver_time} speed {f.speed} course "
                  f"{f.course} heading {f.heading}; sent speed {t.speed} course {t.course} heading {t.heading}")
    return 75 * len(order) * len(values), false, len(unheaded)


def nmea_blind_rtk_case(rng):
    return nmea_blind_case(rng, qualities=(4,))  # every epoch RTK fixed, as on the exam course


_LOGS = None


def nmea_real_case(rng):
    global _LOGS
    if _LOGS is None:
        from tests.devices.gnss.test_real_logs import oracle

        _LOGS = [(data, oracle(data)) for data in
                 (open(p, "rb").read() for p in sorted(glob.glob(os.path.join(NMEA_DIR, "*.log"))))]
    data, truth = rng.choice(_LOGS)
    start = rng.randrange(len(data))
    piece = data[start:start + 8192]
    piece = _damage(piece, damage(rng, len(piece) * 2 // 1024))
    fixes, _ = replay(piece, epoch_end="auto", chunk=rng.randint(1, 512))
    false = 0
    for f in fixes:
        epoch = truth.get(f.receiver_time)
        ref = epoch and (epoch.get("gga") or epoch.get("rmc"))
        if not ref or abs(f.latitude - ref[0]) > 1e-9 or abs(f.longitude - ref[1]) > 1e-9:
            false += 1
    return len(piece), false


def modbus_case(rng, drv=CourseBoardDriver("fuzz://", unit=1, count=16)):
    bits = [rng.random() < 0.5 for _ in range(16)]
    sent = modbus_reply(bits)
    how = rng.randrange(4)
    if how == 0:
        data = _damage(modbus_reply(bits, rng.randint(1, 247)), damage(rng, rng.randint(1, 3)))
    elif how == 1:
        data = rng.randbytes(rng.randint(0, 40))
    elif how == 2:
        data = sent + rng.randbytes(rng.randint(1, 8))
    else:
        data = sent
    return len(data), int(modbus_false_reading(drv, sent, bits, data))


def signal_case(rng):
    names = sorted(MOTORCYCLE)
    states = [(frozenset(n for n in names if rng.random() < 0.3), rng.choice(GEARS[:-1]),
               rng.randint(-300, 300) / 10) for _ in range(rng.randint(1, 40))]
    frames, false = signal_false_frames(states, damage(rng, rng.randint(0, 3)), cuts(rng))
    return 35 * len(states), false


def run(name, case, seconds: float, seed: int) -> dict:
    rng = random.Random(seed)
    inputs = nbytes = exceptions = false = unheaded = 0
    cpu = time.process_time()
    while time.process_time() - cpu < seconds:
        inputs += 1
        try:
            size, bad, *course_only = case(rng)
            nbytes += size
            false += bad
            unheaded += sum(course_only)
        except Exception:
            exceptions += 1
            if exceptions <= 3:
                traceback.print_exc()
    return {"target": name, "inputs": inputs, "bytes": nbytes, "exceptions": exceptions, "false": false,
            "unheaded": unheaded}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0, help="CPU seconds per pure target")
    parser.add_argument("--foreign", type=float, default=30.0, help="wall seconds per foreign-board variant")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--targets", default="all",
                        help="comma-separated targets to run (nmea,nmea-blind,nmea-blind-rtk,nmea-real,modbus,"
                             "signal,modbus-foreign), or 'nmea' for the four NMEA ones; default all")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # every rejected reply is logged (and pymodbus logs its own); the figures count them
    print(f"{'target':16} {'inputs':>9} {'bytes':>11} {'exceptions':>10} {'false':>6}")
    bad = 0
    if args.targets == "all":
        wanted = None
    elif args.targets == "nmea":
        wanted = {"nmea", "nmea-blind", "nmea-blind-rtk", "nmea-real"}
    else:
        wanted = set(args.targets.split(","))
    for name, case in (("nmea", nmea_case), ("nmea-blind", nmea_blind_case), ("nmea-blind-rtk", nmea_blind_rtk_case),
                       ("nmea-real", nmea_real_case), ("modbus", modbus_case), ("signal", signal_case)):
        if wanted is not None and name not in wanted:
            continue
        r = run(name, case, args.seconds, args.seed)
        bad += r["exceptions"] + (r["false"] if name != "nmea-blind" else 0)
        print(f"{name:16} {r['inputs']:9d} {r['bytes']:11d} {r['exceptions']:10d} {r['false']:6d}")
        if r["unheaded"]:
            print(f"  {name}: and {r['unheaded']} fixes whose only wrong value is a course that is no heading "
                  f"(standing still, or beside a true heading): the judge never gets it")
    if wanted is not None and "modbus-foreign" not in wanted:
        return 1 if bad else 0
    from tests.devices.courseboard.foreign import run_foreign

    for variant in ("counter", "offset_map", "other_unit"):
        f = run_foreign(variant, args.foreign, seed=args.seed)
        print(f"modbus-foreign/{variant}: polls {f['polls']}, replies {f['replies_from_peer']} "
              f"({f['bytes_from_peer']} bytes; cable: {f['fates']}), readings {f['readings']}, "
              f"exceptions {f['driver_exceptions']}, false {f['false_readings']}, "
              f"exception replies {f['exception_replies']}, timeouts {f['timeouts']}, rejected {f['rejected']}")
        bad += f["driver_exceptions"] + f["false_readings"]
    return 1 if bad else 0  # exceptions and false readings must be 0


if __name__ == "__main__":
    sys.exit(main())
