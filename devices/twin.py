"""Base of the simulated twins that write a device's bytes to a serial port.

A twin is the device side of a null-modem cable (or a socket): it speaks the
same bytes as the real device so that the driver, and everything above it,
runs unchanged without hardware. Twins pace themselves with the shared
:class:`~devices.readings.Clock` (a ScaledClock makes them faster in wall
time), open the port when started, and re-open it when it fails (a pulled
cable), so driver reconnect logic can be exercised.
"""

from __future__ import annotations

import logging
import threading

import serial

from devices.readings import Clock, SystemClock
from devices.runner import wall_seconds
from devices.transport import open_serial

log = logging.getLogger(__name__)


class SerialTwin:
    """Calls :meth:`tick` every ``1 / rate`` clock seconds in its own thread."""

    name = "twin"

    def __init__(self, port: str, *, rate: float, baudrate: int = 115200,
                 clock: Clock | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.port = port
        self.rate = rate
        self.baudrate = baudrate
        self.clock = clock or SystemClock()
        self.bytes_written = 0
        self.write_errors = 0
        self._serial: serial.SerialBase | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self):
        if self._thread is not None:
            return self
        self._serial = open_serial(self.port, self.baudrate, timeout=0.05)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"twin-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def wake(self) -> None:
        """Run the next tick now (e.g. an input changed)."""
        self._wake.set()

    def woken(self) -> bool:
        """Whether :meth:`wake` was called since the last tick (a lockstep run ticks it then); clears it."""
        woken = self._wake.is_set()
        self._wake.clear()
        return woken

    def write(self, data: bytes) -> None:
        """Write raw bytes (tests use this to send garbage between frames)."""
        with self._lock:
            if self._serial is None:
                self._serial = open_serial(self.port, self.baudrate, timeout=0.05)
            try:
                self._serial.write(data)
                self.bytes_written += len(data)
            except (serial.SerialException, OSError):
                self.write_errors += 1
                self._close_locked()
                raise

    def tick(self) -> None:
        raise NotImplementedError

    def tick_interval(self) -> float:
        """Clock seconds until the next tick."""
        return 1.0 / self.rate

    def next_due(self, now: float) -> float:
        """Clock time the next tick has something to do (a lockstep run ticks it then, not every interval)."""
        return now + self.tick_interval()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except (serial.SerialException, OSError) as exc:
                log.debug("twin %s: write failed (%r); will re-open", self.name, exc)
            except Exception:
                log.exception("twin %s: tick failed", self.name)
            self._wake.wait(wall_seconds(self.clock, self.tick_interval()))
            self._wake.clear()

    def _close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except Exception:
                pass
            self._serial = None
