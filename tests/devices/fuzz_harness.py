"""Fuzz harnesses for the serial readers: one input in, figures out (inputs, false readings).

Each harness takes a fully described input (what was sent, how it was damaged,
how the reads split it), runs it through the real reader and returns the
readings that are *false*: not equal to something that was sent. An exception
escapes to the caller, which counts it. The suite drives them with hypothesis
(``test_fuzz_harnesses.py``, a quick size); ``bench/fuzz_serial.py`` drives
them with a seeded generator for as long as it is given, and the Modbus
client against a foreign pymodbus server
(``tests/devices/courseboard/foreign.py``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.bit_message import ReadDiscreteInputsResponse

from devices.courseboard.driver import CourseBoardDriver
from devices.gnss import GnssDriver
from devices.gnss.epoch_clock import LogClock
from devices.gnss.motion_bounds import course_is_direction
from devices.gnss.simulator import GnssTruth, build_epoch
from devices.signalboard.driver import SignalBoardDriver
from devices.signalboard.protocol import MOTORCYCLE, SignalState, encode
from tests.devices.mutation import mutate

T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)
PERIOD = 0.1  # s between the epochs of a fuzzed stream (10 Hz)
M_PER_DEG = 6371000.0 * math.pi / 180.0  # metres per degree of latitude
GNSS_TYPES = ("RMC", "VTG", "HDT", "GGA")
# What a fuzzed vehicle does between epochs, at most: brake or accelerate at 8 m/s², change course
# and turn at 100 °/s, and change those turn rates at 300 °/s² (hard for any vehicle, and inside
# devices/gnss/motion_bounds.py's MAX_ACCEL, MAX_TURN and MAX_YAW_ACCEL).
DRIVE_ACCEL = 8.0  # m/s²
DRIVE_TURN = 100.0  # °/s
DRIVE_YAW_ACCEL = 300.0  # °/s²


def _damage(data: bytes, damage: list[tuple[int, int, str]]) -> bytes:
    for pos, byte, op in damage:
        if data:
            data = mutate(data, pos % len(data), byte, op)
    return data


def xor_blind(data: bytes, blind: list[int]) -> bytes:
    """``data`` with, for each position, its byte and an equal later byte of its sentence deleted.

    An 8-bit XOR checksum does not change when two equal characters are lost, so the framer
    passes such a sentence: ``3000.0000600`` -> ``3000.000600``, ``0.70`` -> ``.70``,
    ``080000.10`` -> ``08000.1``. Random damage makes it rarely; this makes only it.
    """
    for pos in blind:
        if not data:
            break
        i = pos % len(data)
        end = data.find(b"\n", i)
        star = data.rfind(b"*", i, len(data) if end < 0 else end)
        if data[i] in b"$*\r\n" or star < 0:
            continue  # a frame boundary or the checksum itself: the framer sees that
        same = [j for j in range(i + 1, star) if data[j] == data[i]]
        if same:  # the other one: any equal character later in the sentence
            j = same[(pos // len(data)) % len(same)]
            data = data[:i] + data[i + 1:j] + data[j + 1:]
    return data


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:])]


# -- NMEA ---------------------------------------------------------------------

def _turned(rate: float, change: float) -> float:
    """A turn rate (°/s) changed by ``change`` °/s² over one epoch, within ±DRIVE_TURN."""
    return max(-DRIVE_TURN, min(DRIVE_TURN, rate + change * PERIOD))


def driven(start: tuple[float, float, float, float, float], steps) -> list[tuple[float, float, float, int]]:
    """Epoch values (speed, course, heading, quality) of a vehicle that starts at ``start`` (speed
    m/s, course °, heading °, and the rates they turn at, °/s) and, epoch by epoch, accelerates and
    changes those turn rates as ``steps`` say (m/s², °/s², °/s², quality): what a vehicle can do,
    within the decoder's bounds (devices/gnss/motion_bounds.py), so an honest stream is an honest
    drive. Values are rounded to what the sentences carry (course and heading in hundredths)."""
    speed, course, heading, course_rate, heading_rate = start
    out = []
    for accel, course_change, heading_change, quality in steps:
        speed = max(0.0, speed + accel * PERIOD)
        course_rate, heading_rate = _turned(course_rate, course_change), _turned(heading_rate, heading_change)
        course, heading = (course + course_rate * PERIOD) % 360.0, (heading + heading_rate * PERIOD) % 360.0
        out.append((round(speed, 3), round(course, 2) % 360.0, round(heading, 2) % 360.0, quality))
    return out


def drives(qualities=(1, 4, 5), min_size: int = 6, max_size: int = 12):
    """A hypothesis strategy for :func:`driven` epochs: any start, then what a vehicle can do."""
    from hypothesis import strategies as st  # the tests' library; the bench draws with random

    start = st.tuples(st.floats(0.0, 15.0), st.floats(0.0, 359.99), st.floats(0.0, 359.99),
                      st.floats(-DRIVE_TURN, DRIVE_TURN), st.floats(-DRIVE_TURN, DRIVE_TURN))
    step = st.tuples(st.floats(-DRIVE_ACCEL, DRIVE_ACCEL), st.floats(-DRIVE_YAW_ACCEL, DRIVE_YAW_ACCEL),
                     st.floats(-DRIVE_YAW_ACCEL, DRIVE_YAW_ACCEL), st.sampled_from(list(qualities)))
    return st.builds(driven, start, st.lists(step, min_size=min_size, max_size=max_size))


def nmea_epochs(order: tuple[str, ...], values: list[tuple[float, float, float, int]]):
    """The bytes of one epoch per value (speed, course, heading, quality) in ``order``, and the truths.

    The positions follow the speeds and courses (each epoch moved ``speed * PERIOD`` along its
    ``course`` from the one before), so the decoder's track check (it refuses a speed or course
    the positions contradict) sees honest streams as honest."""
    out, truths = [], {}
    lat, lon = 30.0, 114.0
    for k, (speed, course, heading, quality) in enumerate(values):
        if k:  # the vehicle moved as it reports (its speed and course), as a real one does
            step = speed * PERIOD
            lat += step * math.cos(math.radians(course)) / M_PER_DEG
            lon += step * math.sin(math.radians(course)) / (M_PER_DEG * math.cos(math.radians(lat)))
        truth = GnssTruth(lat, lon, speed=speed, course=course, heading=heading, quality=quality)
        when = T0 + timedelta(seconds=k / 10)
        sentences = {s[3:6]: s for s in build_epoch(truth, when)}
        out.append("".join(sentences[t] + "\r\n" for t in order if t in sentences).encode())
        truths[when.strftime("%H%M%S") + ".%02d" % (when.microsecond // 10000)] = truth
    return out, truths


def nmea_false_fixes(order, values, damage, cuts, timed: bool, blind: list[int] = (),
                     report: list | None = None, unheaded: list | None = None) -> tuple[int, int]:
    """(fixes, false fixes) from the epochs in ``order``, damaged, split at ``cuts``.

    ``timed``: each epoch's bytes arrive 0.1 s after the last (a receiver's bursts), and
    every third one is damaged the same way. ``blind``: pairs of equal characters lost
    (:func:`xor_blind`), after ``damage``. ``report``: gets (fix, truth) of each false fix.
    A course is a reading only where it becomes the pose's heading
    (examroom.live.observing.pose_from_fix): in a fix without a true heading, faster than the
    receiver's speed noise (``course_is_direction``). Elsewhere the judge never gets it, as it
    never gets a real receiver's course standing still: a fix wrong only there goes to
    ``unheaded`` (its figure is reported beside the false ones), not counted false.
    """
    epochs, truths = nmea_epochs(order, values)
    drv = GnssDriver("fuzz://", epoch_end="auto", timing=LogClock())
    fixes = []
    if timed:
        for k, burst in enumerate(epochs):
            hit = k % 3 == 1
            burst = xor_blind(_damage(burst, damage if hit else []), blind if hit else [])
            for chunk in _chunks(burst, cuts):
                fixes += drv.feed(chunk, k * 0.1, T0)
    else:
        for chunk in _chunks(xor_blind(_damage(b"".join(epochs), damage), blind), cuts):
            fixes += drv.feed(chunk, 0.0, T0)
    fixes += drv.decoder.flush(99.0, T0)
    false = 0
    for f in fixes:
        t = truths.get(f.receiver_time)
        wrong = t is None or abs(f.latitude - t.latitude) > 1e-8 or abs(f.longitude - t.longitude) > 1e-8 \
            or f.quality != t.quality \
            or (f.speed is not None and abs(f.speed - t.speed) > 1e-3) \
            or (f.heading is not None and abs(f.heading - t.heading) > 1e-6)
        course_wrong = t is not None and f.course is not None and abs(f.course - t.course) > 1e-6
        if course_wrong and f.heading is None and course_is_direction(f.speed):
            wrong = True  # it is the pose's heading
        if wrong:
            false += 1
            if report is not None:
                report.append((f, t))
        elif course_wrong and unheaded is not None:
            unheaded.append((f, t))
    return len(fixes), false


# -- Modbus -------------------------------------------------------------------

_FRAMER = FramerRTU(DecodePDU(False))


def modbus_reply(bits: list[bool], unit: int = 1) -> bytes:
    return _FRAMER.buildFrame(ReadDiscreteInputsResponse(bits=list(bits), dev_id=unit))


def modbus_false_reading(driver: CourseBoardDriver, sent: bytes, bits: list[bool], received: bytes) -> bool:
    """True if the driver accepts ``received`` (what arrived for a request answered with ``sent``)
    as anything but ``bits`` from exactly ``sent``."""
    kind, inputs = driver.judge(received)
    return kind == "ok" and (received != sent or list(inputs) != list(bits)[:driver.count])


# -- signal board ---------------------------------------------------------------

def signal_false_frames(states: list[tuple[frozenset, str, float]], damage, cuts) -> tuple[int, int]:
    """(frames, false frames) from encoded signal states, damaged and split."""
    sent, stream = {}, bytearray()
    for seq, (flags, gear, roll) in enumerate(states):
        state = SignalState(frozenset(flags) & MOTORCYCLE, gear, roll)
        stream += encode(seq, MOTORCYCLE, state).encode() + b"\r\n"
        sent[seq] = state
    drv = SignalBoardDriver("fuzz://")
    frames = []
    for chunk in _chunks(_damage(bytes(stream), damage), cuts):
        frames += drv.feed(chunk, 0.0, T0)
    false = sum(1 for f in frames if f.sequence not in sent
                or (f.flags, f.gear, f.roll) != (sent[f.sequence].flags, sent[f.sequence].gear,
                                                 sent[f.sequence].roll))
    return len(frames), false
