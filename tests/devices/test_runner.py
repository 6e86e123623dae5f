"""DeviceRunner: reconnect with back-off, clean stop, health, callback isolation."""

import logging
import threading

from devices.readings import ManualClock
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
        # The runner tries the pulled cable again and fails before it is put back.
        wait_for(lambda: board.health().last_error.startswith("open failed"),
                 what="a failed re-open while the cable is out")
        modem.replug()
        n = len(got)
        wait_for(lambda: len(got) > n + 3)  # driver and twin both re-opened the new pty
        h = board.health()
    assert h.reconnects >= 1 and h.extra["connected"]


def test_missing_port_retries_with_backoff_and_stops(caplog):
    caplog.set_level(logging.DEBUG, logger="devices.runner")  # a repeated error is logged at DEBUG

    def attempts() -> int:
        return sum("open failed" in r.getMessage() for r in caplog.records)

    board = SignalBoard("/nonexistent/ttyX", backoff_initial=0.01, backoff_max=0.05)
    board.start()
    wait_for(lambda: attempts() >= 3, what="three attempts to open the missing port")
    board.stop()
    h = board.health()
    assert not board.running and h.readings == 0 and not h.alive
    assert "open failed" in h.last_error


def test_missing_port_back_off_doubles_up_to_its_ceiling_on_the_clock():
    """The same retries stepped on a clock the test owns: each one falls due after the back-off."""
    clock = ManualClock()
    board = SignalBoard("/nonexistent/ttyX", clock=clock, backoff_initial=0.01, backoff_max=0.05)
    waits = []
    for _ in range(5):
        board.step()  # due now: tries to open, fails
        assert "open failed" in board.health().last_error
        due = board.next_step_due()
        waits.append(round(due - clock.now()[0], 9))
        clock.advance(due - clock.now()[0] - 1e-6)
        board.step()  # not due yet: no attempt
        assert board.next_step_due() == due
        clock.advance_to(due)
    assert waits == [0.01, 0.02, 0.04, 0.05, 0.05]
    assert not board.running and not board.health().alive


def test_callback_exception_does_not_kill_driver(modem):
    calls = []

    def bad(reading):
        calls.append(reading)
        raise RuntimeError("consumer bug")

    with SignalBoardSimulator(modem.a, lambda: STATE, rate=50), SignalBoard(modem.b, bad) as board:
        # The runner counts an error after the callback raised it: wait on the count, not the calls.
        wait_for(lambda: board.health().extra["callback_errors"] >= 5)
        h = board.health()
    assert h.extra["callback_errors"] >= 5 and h.readings >= 5 and len(calls) >= 5


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
    # The test owns the clock: the frame arrives at one instant, and "two periods without a
    # reading" is two periods of this clock, however long the machine took to get here.
    clock = ManualClock()
    runner = DeviceRunner(drv, got.append, clock=clock)
    with runner:
        wait_for(lambda: drv._serial is not None)
        drv._serial.write((encode(1, MOTORCYCLE, STATE) + "\r\n").encode())
        wait_for(lambda: got)
        assert runner.health().alive
        clock.advance(0.1)  # two periods at 20 Hz: still alive
        assert runner.health().alive
        clock.advance(0.001)  # just over two periods without a reading
        h = runner.health()
        assert not h.alive and h.extra["line"] == "silent"
    assert got[0].sequence == 1 and got[0].mono == 0.0
