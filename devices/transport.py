"""Transport: open a serial port from a URL, the bottom layer of every driver.

``serial.serial_for_url`` accepts device paths (``/dev/ttyUSB0``, a pty
symlink from :mod:`devices.nullmodem`) and pyserial URLs (``loop://``,
``socket://host:port``, ``spy://...``), so a driver never needs to know which
one it got. Pitfalls:

* Device paths are opened ``exclusive=True`` (TIOCEXCL): two processes reading
  one port each get half of the bytes, which looks exactly like corruption.
  URL handlers are not ttys, so they are opened without it.
* The read timeout is short (default 50 ms) so that a driver thread checks its
  stop flag often; drivers read ``in_waiting or 1`` bytes, which returns as
  soon as anything arrived instead of waiting for a full buffer.
* Baud rate is applied but not enforced on ptys and sockets: never rely on it
  for timing.
"""

from __future__ import annotations

import serial


def open_serial(url: str, baudrate: int = 115200, timeout: float = 0.05,
                write_timeout: float | None = 1.0, **kwargs) -> serial.SerialBase:
    """Open ``url`` (a device path or a pyserial URL) as a configured serial port."""
    if "://" not in url:
        kwargs.setdefault("exclusive", True)
    return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout,
                                 write_timeout=write_timeout, **kwargs)


def read_available(port: serial.SerialBase) -> bytes:
    """Read what has arrived, waiting at most the port's timeout for the first byte."""
    return port.read(port.in_waiting or 1)
