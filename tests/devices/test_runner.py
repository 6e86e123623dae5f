"""DeviceRunner: reconnect with back-off, clean stop, health, callback isolation."""

import threading
import time

from devices.runner import DeviceRunner
from devices.signalboard import SignalBoard, SignalBoardSimulator, SignalState
from devices.signalboard.driver import SignalBoardDriver
from devices.signalboard.protocol import MOTORCYCLE, encode
from tests.devices.conftest import wait_for

STATE = SignalState(frozenset({"ignition"}), "N", 0.0)


def test_reconnects_after_cable_pulled(modem):
    got = []
    board = SignalBoard(modem.b, got.append, backoff_initial=0.02, backoff_max=0.1)
    with SignalBoardSimulator(modem.a, lambda: STATE, rate=50), board:
        wait_for(lambda: len(got) >= 3)
        modem.unplug()
        wait_for(lambda: not board.health().extra["connected"])
        assert board.health().last_error.startswith("port failed")
        time.sleep(0.1)
        modem.replug()
        n = len(got)
        wait_for(lambda: len(got) > n + 3)  # driver and twin both re-opened the new pty
        h = board.health()
    assert h.reconnects >= 1 and h.extra["connected"]


def test_missing_port_retries_with_backoff_and_stops():
    board = SignalBoard("/nonexistent/ttyX", backoff_initial=0.01, backoff_max=0.05)
    board.start()
    wait_for(lambda: board.health().last_error is not None)
    time.sleep(0.2)
    board.stop()
    h = board.health()
    assert not board.running and h.readings == 0 and not h.alive
    assert "open failed" in h.last_error


def test_callback_exception_does_not_kill_driver(modem):
    calls = []

    def bad(reading):
        calls.append(reading)
        raise RuntimeError("consumer bug")

    with SignalBoardSimulator(modem.a, lambda: STATE, rate=50), SignalBoard(modem.b, bad) as board:
        wait_for(lambda: len(calls) >= 5)
        h = board.health()
    assert h.extra["callback_errors"] >= 5 and h.readings >= 5


def test_stop_joins_thread_and_is_idempotent(modem):
    board = SignalBoard(modem.b).start()
    assert any(t.name == "device-signalboard" for t in threading.enumerate())
    board.stop()
    board.stop()
    assert not any(t.name == "device-signalboard" for t in threading.enumerate())


def test_loop_url_transport_and_alive_goes_false():
    """loop:// echoes what is written: the driver reads its own test frames."""
    drv = SignalBoardDriver("loop://", rate=20)
    got = []
    runner = DeviceRunner(drv, got.append)
    with runner:
        wait_for(lambda: drv._serial is not None)
        drv._serial.write((encode(1, MOTORCYCLE, STATE) + "\r\n").encode())
        wait_for(lambda: got)
        assert runner.health().alive
        time.sleep(0.15)  # > two periods at 20 Hz without a reading
        assert not runner.health().alive
    assert got[0].sequence == 1
