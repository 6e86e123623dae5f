"""Why a device is not alive: disconnected, silent, garbled (baud/parity), no fix, rejected.

Each fault is produced on a real pseudo-terminal line between a twin and the
real driver, by changing the bytes in the null modem the way the fault would.
"""

import threading
import time

from devices.courseboard import CourseBoard, CourseBoardSimulator
from devices.gnss import GnssReceiver, GnssSimulator, GnssTruth
from devices.runner import GARBLED_BYTES
from devices.signalboard import SignalBoard, SignalBoardSimulator, SignalState
from tests.devices.conftest import wait_for

FIX = GnssTruth(30.5, 114.25, quality=4)
STATE = SignalState(frozenset({"ignition"}), "N", 0.0)


def as_7e1_read_by_8n1(data: bytes) -> bytes:
    """A 7E1 sender read by an 8N1 port: the parity bit lands in bit 7 of every odd-weight byte."""
    return bytes(b | 0x80 if bin(b).count("1") % 2 else b for b in data)


def line(runner) -> str:
    return runner.health().extra["line"]


def test_parity_mismatch_is_reported_as_such_not_as_silence(modem):
    got = []
    with GnssSimulator(modem.a, lambda: FIX, rate=20), GnssReceiver(modem.b, got.append, rate=20) as rx:
        wait_for(lambda: line(rx) == "ok")
        modem.set_filter("a>b", as_7e1_read_by_8n1)
        wait_for(lambda: line(rx) == "garbled", timeout=10)
        h = rx.health()
        n = len(got)
        # Let the driver read several more epochs of the garbled line (counted in bytes, not in
        # time, so a slow machine reads as much of it as a fast one) ...
        read = h.extra["bytes_in"]
        wait_for(lambda: rx.health().extra["bytes_in"] >= read + 4 * GARBLED_BYTES,
                 what="more of the garbled line read")
        assert len(got) == n  # ... and nothing half-decoded leaks out of it
        modem.set_filter("a>b", None)
        wait_for(lambda: line(rx) == "ok")
    assert not h.alive and h.extra["diagnosis"] == "baud or parity mismatch?"
    assert h.frames_dropped > 0


def test_silent_device_is_detected_within_two_periods(modem):
    got = []
    with SignalBoardSimulator(modem.a, lambda: STATE, rate=20), SignalBoard(modem.b, got.append) as board:
        wait_for(lambda: line(board) == "ok")
        modem.set_filter("a>b", lambda b: b"")  # the board's TX wire comes loose
        cut = time.monotonic()
        wait_for(lambda: line(board) == "silent", timeout=10, interval=0.005)
        detected = time.monotonic() - cut
        assert not board.health().alive
        modem.set_filter("a>b", None)
        wait_for(lambda: line(board) == "ok")
    # two periods at 20 Hz are 0.1 s; allow the read timeout and scheduling on a busy machine
    assert detected < 0.5


def test_gnss_talking_without_fix_is_visible(modem):
    truth = [GnssTruth(30.5, 114.25, quality=0)]
    got = []
    with GnssSimulator(modem.a, lambda: truth[0], rate=20), GnssReceiver(modem.b, got.append, rate=20) as rx:
        wait_for(lambda: line(rx) == "no_fix")
        h = rx.health()
        truth[0] = FIX
        wait_for(lambda: line(rx) == "ok")
    assert got and all(f.quality == 4 for f in got)
    assert h.extra["fix_quality"] == 0 and h.extra["no_fix_epochs"] > 0
    assert h.extra["diagnosis"] == "talking, but no position fix"


def test_port_pulled_and_returned_repeatedly_without_thread_leak(modem):
    got = []
    board = SignalBoard(modem.b, got.append, backoff_initial=0.02, backoff_max=0.1)
    with SignalBoardSimulator(modem.a, lambda: STATE, rate=50), board:
        wait_for(lambda: line(board) == "ok")
        threads = threading.active_count()
        for _ in range(3):
            modem.unplug()
            wait_for(lambda: line(board) == "disconnected")
            modem.replug()
            n = len(got)
            wait_for(lambda: len(got) > n + 2 and line(board) == "ok")
            assert threading.active_count() <= threads
        h = board.health()
    assert h.reconnects >= 3


def test_wrong_modbus_unit_is_rejected_not_silent(modem):
    # The twin answers unknown unit ids with exception responses (see its module doc).
    with CourseBoardSimulator(modem.a, unit=1, count=8), CourseBoard(modem.b, unit=2, count=8) as board:
        wait_for(lambda: line(board) == "rejected")
        h = board.health()
    assert h.extra["exceptions"] > 0 and h.readings == 0
