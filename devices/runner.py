"""Driver runtime: one thread per device, reconnect with back-off, health.

A *driver* knows one device kind: how to open its transport, and how to turn
what arrives into readings (``poll``). The :class:`DeviceRunner` owns the
thread around it and everything that is the same for every device:

* stamps are taken by the driver from the injected :class:`Clock` on arrival
  of the bytes that complete a reading (not when the callback runs); the
  GNSS driver then moves a fix back to its receiver epoch
  (:mod:`devices.gnss.epoch_clock`), so health counts deliveries, not stamps;
* readings go to ``on_reading(reading)`` on the runner thread: the callback
  must be quick (put it on a queue) because while it runs no bytes are read;
  an exception in it is logged and counted, it does not kill the driver;
* any exception from ``open`` / ``poll`` (port vanished, USB adapter pulled,
  pty hung up) closes the driver and re-opens it after a back-off that
  doubles from ``backoff_initial`` to ``backoff_max`` and resets on success;
* :meth:`DeviceRunner.health` gives a :class:`DeviceHealth` snapshot: alive
  means a reading within two expected periods, ``rate`` is measured over the
  last ``rate_window`` seconds of clock time;
* :meth:`DeviceRunner.stop` sets a flag and joins the thread. Drivers block
  only for short timeouts, so stop returns within about one timeout.
* ``health().extra["line"]`` says *why* a device is not alive, because the
  remedy differs: ``disconnected`` (port missing or failed: a cable or USB
  adapter), ``silent`` (port open, no byte within two expected periods: the
  device is off or its TX wire is loose), ``garbled`` (bytes keep arriving
  but no valid frame: "baud or parity mismatch?"), ``no_fix`` (valid frames
  but no reading: a GNSS receiver talking without a position), ``rejected``
  (a Modbus board answering with exception responses), ``mismatch`` (a
  Modbus board over its limit of replies that do not match the request:
  another unit id, function or register map, late or unsolicited frames; the
  driver says so with :meth:`Driver.line_fault`). A device that
  delivers readings is ``ok``; one that was never heard yet is ``starting``.
  Drivers count ``bytes_in`` and ``frames_ok`` (valid frames) for this.
* ``tap`` (optional) gets every chunk of raw bytes with its arrival stamp
  (``tap(device, direction, data, mono, utc)``, direction ``"rx"`` or ``"tx"``)
  for raw capture (:mod:`devices.rawcapture`); it runs on the driver thread
  and must be quick.

* :meth:`DeviceRunner.step` runs one pass of that loop in the caller's thread
  instead of the thread (open when the back-off ran out, poll when due, close
  on failure), for a lockstep run that owns a manual clock and in-process
  cables (:mod:`devices.links`, ``examroom.simulation.lockstep``).

Times given to a runner (poll interval, back-off) are in *clock* seconds; with
a :class:`~devices.readings.ScaledClock` they are divided by its factor for
the real sleep, so a 10x simulation polls 10x as often in wall time.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Callable

import serial

from devices.readings import Clock, DeviceHealth, SystemClock
from devices.transport import open_serial, read_available

log = logging.getLogger(__name__)

OnReading = Callable[[Any], None]
Tap = Callable[[str, str, bytes, float, Any], None]

# Bytes without one valid frame after which a line counts as garbled rather than noisy:
# several frames' worth, so one burst of line noise between frames does not trip it.
GARBLED_BYTES = 64
LINE_DIAGNOSIS = {
    "ok": "",
    "starting": "waiting for the first reading",
    "disconnected": "port missing or failed",
    "silent": "port open but the device sends nothing",
    "garbled": "baud or parity mismatch?",
    "no_fix": "talking, but no position fix",
    "rejected": "answers with errors: unit id or register map?",
    "mismatch": "replies do not match the requests: another unit, master or register map on the bus?",
}


def wall_seconds(clock: Clock, seconds: float) -> float:
    """Clock seconds -> wall seconds (ScaledClock runs ``factor`` times faster)."""
    return max(0.0, seconds) / float(getattr(clock, "factor", 1.0))


class Driver:
    """Base of every driver. Subclasses set ``kind`` and implement the hooks.

    ``poll(clock)`` does one bounded step of I/O and returns the readings it
    completed (possibly none). If ``poll_interval`` is set (clock seconds), the
    runner calls ``poll`` at that pace (a polled bus such as Modbus); if it is
    None the driver paces itself by blocking on reads (a streaming port).
    """

    kind = "device"
    poll_interval: float | None = None

    def __init__(self, device: str, expected_rate: float) -> None:
        self.device = device
        self.expected_rate = expected_rate
        self.error_sink: Callable[[str], None] | None = None  # set by the runner
        self.tap: Tap | None = None  # raw bytes out, set by the runner
        self.bytes_in = 0  # raw bytes received
        self.frames_ok = 0  # frames that passed framing and checks (not only those giving readings)

    def report_error(self, message: str) -> None:
        """A device-level error that does not need a reconnect (timeout, exception reply)."""
        if self.error_sink is not None:
            self.error_sink(message)

    def open(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def poll(self, clock: Clock) -> list:
        raise NotImplementedError

    @property
    def frames_dropped(self) -> int:
        return 0

    def health_extra(self) -> dict:
        return {}

    def idle_state(self) -> str:
        """The line state when frames arrive but no readings (see module doc)."""
        return "starting"

    def line_fault(self) -> str | None:
        """A line state the driver diagnosed itself, which wins once readings stop (or None)."""
        return None

    def replay_chunk(self, direction: str, data: bytes, mono: float, utc) -> list:
        """Readings from one captured chunk (see :mod:`devices.rawcapture`)."""
        raise NotImplementedError


class StreamDriver(Driver):
    """A driver for a device that streams bytes: transport -> framer -> decoder.

    Subclasses implement :meth:`feed`, which is pure (bytes and their arrival
    stamp in, readings out) so that a raw-byte capture can be replayed through
    exactly the same framer and decoder without a port.
    """

    def __init__(self, port: str, device: str, expected_rate: float, baudrate: int,
                 read_timeout: float = 0.05, parity: str = "N", bytesize: int = 8,
                 stopbits: float = 1) -> None:
        super().__init__(device, expected_rate)
        self.port = port
        self.baudrate = baudrate
        self.line_settings = {"parity": parity, "bytesize": bytesize, "stopbits": stopbits}
        self.read_timeout = read_timeout
        self._serial: serial.SerialBase | None = None

    def open(self) -> None:
        self._serial = open_serial(self.port, self.baudrate, timeout=self.read_timeout,
                                   **self.line_settings)

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            finally:
                self._serial = None
        self.on_disconnect()

    def poll(self, clock: Clock) -> list:
        assert self._serial is not None, "poll() before open()"
        data = read_available(self._serial)
        if not data:
            return []
        self.bytes_in += len(data)
        mono, utc = clock.now()
        if self.tap is not None:
            self.tap(self.device, "rx", data, mono, utc)
        return self.feed(data, mono, utc)

    def feed(self, data: bytes, mono: float, utc) -> list:
        raise NotImplementedError

    def replay_chunk(self, direction: str, data: bytes, mono: float, utc) -> list:
        return self.feed(data, mono, utc) if direction == "rx" else []

    def on_disconnect(self) -> None:
        """Called when the port is closed; forget partial frames."""


class DeviceRunner:
    """Runs one driver in its own thread and keeps its :class:`DeviceHealth`."""

    def __init__(self, driver: Driver, on_reading: OnReading | None = None, *,
                 clock: Clock | None = None, backoff_initial: float = 0.1,
                 backoff_max: float = 5.0, rate_window: float = 2.0,
                 tap: Tap | None = None) -> None:
        self.driver = driver
        driver.error_sink = self._error
        driver.tap = tap
        self.on_reading = on_reading or (lambda reading: None)
        self.clock = clock or SystemClock()
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.rate_window = rate_window
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._readings = 0
        self._reconnects = 0
        self._opens = 0
        self._connected = False
        self._last_mono: float | None = None
        self._first_mono: float | None = None
        self._readings_since_open = 0
        self._last_error: str | None = None
        self._opened_mono: float | None = None
        self._callback_errors = 0
        self._arrivals: deque[float] = deque()
        self._frames_seen = 0
        self._last_frame_mono: float | None = None
        self._bytes_seen = 0
        self._last_byte_mono: float | None = None
        self._bytes_at_frame = 0  # bytes_in when the last valid frame was seen
        # step(): when to open again, the back-off after that, when the next poll is due (clock seconds)
        self._lockstep: dict = {"retry_at": None, "backoff": backoff_initial, "next_due": None}

    @property
    def device(self) -> str:
        return self.driver.device

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "DeviceRunner":
        if self.running:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"device-{self.device}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("device %s: thread did not stop within %.1f s", self.device, timeout)
            else:
                self._thread = None

    def set_tap(self, tap: Tap | None) -> None:
        """Send raw bytes to ``tap`` from now on (None: stop)."""
        self.driver.tap = tap

    def __enter__(self) -> "DeviceRunner":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def health(self) -> DeviceHealth:
        mono, _ = self.clock.now()
        d = self.driver
        with self._lock:
            while self._arrivals and self._arrivals[0] < mono - self.rate_window:
                self._arrivals.popleft()
            n = len(self._arrivals)
            if self._first_mono is not None and mono - self._first_mono >= self.rate_window:
                rate = n / self.rate_window
            elif n >= 2:  # younger than the window: measure over what we have
                rate = (n - 1) / max(self._arrivals[-1] - self._arrivals[0], 1e-6)
            else:
                rate = 0.0
            period = 1.0 / d.expected_rate if d.expected_rate > 0 else float("inf")
            alive = self._last_mono is not None and (mono - self._last_mono) <= 2 * period
            line = self._line_state(mono, 2 * period, alive)
            return DeviceHealth(
                device=d.device, kind=d.kind, expected_rate=d.expected_rate, alive=alive,
                readings=self._readings, frames_dropped=d.frames_dropped,
                reconnects=self._reconnects, last_reading_mono=self._last_mono,
                last_error=self._last_error, rate=rate,
                extra={"connected": self._connected, "callback_errors": self._callback_errors,
                       "line": line, "diagnosis": LINE_DIAGNOSIS[line], "bytes_in": d.bytes_in,
                       **d.health_extra()},
            )

    def _line_state(self, mono: float, window: float, alive: bool) -> str:
        if alive:
            return "ok"
        if not self._connected:
            return "disconnected"
        fault = self.driver.line_fault()
        if fault is not None:
            return fault
        if self._last_frame_mono is not None and mono - self._last_frame_mono <= window:
            return self.driver.idle_state()
        bytes_recent = self._last_byte_mono is not None and mono - self._last_byte_mono <= window
        if bytes_recent and self.driver.bytes_in - self._bytes_at_frame >= GARBLED_BYTES:
            return "garbled"
        if self._opened_mono is not None and mono - self._opened_mono <= window \
                and self._last_frame_mono is None:
            return "starting"
        return "silent"

    # -- thread --------------------------------------------------------------

    def _sleep(self, clock_seconds: float) -> bool:
        """Sleep unless stopped; True if we should stop."""
        return self._stop.wait(wall_seconds(self.clock, clock_seconds))

    def _run(self) -> None:
        backoff = self.backoff_initial
        while not self._stop.is_set():
            self._readings_since_open = 0
            try:
                self._opened()
                self._loop()
            except Exception as exc:  # pyserial raises OSError, SerialException, termios.error
                backoff = self._failed(exc, backoff)
            else:
                self._failed(None, backoff)  # stopped: close the port
            if self._sleep(backoff):
                break
            backoff = min(backoff * 2, self.backoff_max)

    def _opened(self) -> None:
        """Open the driver and count the connection."""
        self.driver.open()
        with self._lock:
            if self._opens:
                self._reconnects += 1
            self._opens += 1
            self._connected = True
            self._opened_mono = self.clock.now()[0]
            # bytes of a previous connection say nothing about this one
            self._bytes_at_frame = self.driver.bytes_in

    def _failed(self, exc: Exception | None, backoff: float) -> float:
        """The port failed (or would not open): note why, close it; the back-off to wait next."""
        if exc is not None:
            self._error(f"{'port failed' if self._connected else 'open failed'}: {exc!r}")
            if self._readings_since_open:
                backoff = self.backoff_initial  # it worked for a while: retry soon
        with self._lock:
            self._connected = False
        self._safe_close()
        return backoff

    def _loop(self) -> None:
        interval = self.driver.poll_interval
        next_due = None
        while not self._stop.is_set():
            if interval is not None:
                mono, _ = self.clock.now()
                if next_due is not None and next_due > mono:
                    if self._sleep(next_due - mono):
                        return
                    mono, _ = self.clock.now()
                next_due = self._next_due(mono, next_due, interval)
            self._poll_once()

    @staticmethod
    def _next_due(mono: float, next_due: float | None, interval: float) -> float:
        # Schedule from the due time, not from now, so the rate does not drift;
        # after a long stall (timeouts) restart the schedule instead of bursting.
        return mono + interval if next_due is None or mono - next_due > interval else next_due + interval

    def _poll_once(self) -> None:
        readings = self.driver.poll(self.clock)
        self._note_line()
        if readings:
            # Health counts arrivals: a GNSS fix's stamp is its epoch, earlier than its
            # arrival by the line's latency, and "alive" asks whether readings still arrive.
            arrived, _ = self.clock.now()
            for reading in readings:
                self._deliver(reading, arrived)

    # -- lockstep ------------------------------------------------------------

    def next_step_due(self) -> float | None:
        """Clock time :meth:`step` next has work (None: at every step, a streaming port)."""
        state = self._lockstep
        if not self._connected:
            return state["retry_at"] if state["retry_at"] is not None else float("-inf")
        return state["next_due"] if self.driver.poll_interval is not None else None

    def step(self) -> None:
        """One pass of the runner's loop in the caller's thread, at the clock's time now.

        For a lockstep run (``examroom.simulation.lockstep``), which owns the clock and
        calls this after each advance instead of starting the thread: opens the driver when
        its back-off has run out, polls it when due (a polled bus) or at every call (a
        streaming port), and on failure closes it and waits the same doubling back-off, in
        clock seconds. Never mixed with :meth:`start`.
        """
        if self.running:
            raise RuntimeError(f"device {self.device}: step() while its thread runs")
        mono, _ = self.clock.now()
        state = self._lockstep
        try:
            if not self._connected:
                if state["retry_at"] is not None and mono < state["retry_at"]:
                    return
                self._readings_since_open = 0
                state["next_due"] = None
                self._opened()
            interval = self.driver.poll_interval
            if interval is not None:
                if state["next_due"] is not None and state["next_due"] > mono + 1e-9:
                    return
                state["next_due"] = self._next_due(mono, state["next_due"], interval)
            self._poll_once()
        except Exception as exc:
            backoff = self._failed(exc, state["backoff"])
            state["retry_at"] = mono + backoff
            state["backoff"] = min(backoff * 2, self.backoff_max)

    def _note_line(self) -> None:
        """Remember when bytes and valid frames last arrived (for the line state)."""
        d = self.driver
        if d.bytes_in == self._bytes_seen and d.frames_ok == self._frames_seen:
            return
        mono, _ = self.clock.now()
        with self._lock:
            if d.bytes_in != self._bytes_seen:
                self._bytes_seen = d.bytes_in
                self._last_byte_mono = mono
            if d.frames_ok != self._frames_seen:
                self._frames_seen = d.frames_ok
                self._last_frame_mono = mono
                self._bytes_at_frame = d.bytes_in

    def _deliver(self, reading, arrived: float) -> None:
        with self._lock:
            self._readings += 1
            self._readings_since_open += 1
            self._last_mono = arrived
            if self._first_mono is None:
                self._first_mono = arrived
            self._arrivals.append(arrived)
        try:
            self.on_reading(reading)
        except Exception:
            log.exception("device %s: on_reading callback failed", self.device)
            with self._lock:
                self._callback_errors += 1

    def _error(self, message: str) -> None:
        # A flaky line repeats the same error many times a second: log when it changes,
        # the counters in health() keep the numbers.
        with self._lock:
            repeated = message == self._last_error
            self._last_error = message
        log.log(logging.DEBUG if repeated else logging.WARNING, "device %s: %s", self.device, message)

    def _safe_close(self) -> None:
        try:
            self.driver.close()
        except Exception as exc:
            log.debug("device %s: close failed: %r", self.device, exc)
