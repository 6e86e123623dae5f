"""pyserial's handler for ``lockstep://NAME/END`` URLs: one end of a :class:`devices.links.LinkCable`.

pyserial finds it by name (``protocol_<scheme>`` in a package listed in
``serial.protocol_handler_packages``). Reads never wait, except on a timed
cable, where they move its manual clock: see :mod:`devices.links`.
"""

from __future__ import annotations

import numbers

from serial.serialutil import PortNotOpenError, SerialBase, SerialException, to_bytes

from devices.links import cable_of


class Serial(SerialBase):
    """One end of an in-process cable, with the pyserial port interface the drivers use."""

    def __init__(self, *args, **kwargs) -> None:
        self._cable = None
        self._end = ""
        self._generation = -1
        super().__init__(*args, **kwargs)

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        self._cable, self._end = cable_of(self._port)
        self._generation = self._cable._open(self._end)
        self._reconfigure_port()
        self.is_open = True

    def close(self) -> None:
        self.is_open = False
        self._cable = None

    def _reconfigure_port(self) -> None:
        if not isinstance(self._baudrate, numbers.Integral) or not 0 < self._baudrate < 2 ** 32:
            raise ValueError(f"invalid baudrate: {self._baudrate!r}")

    def _checked(self):
        if not self.is_open or self._cable is None:
            raise PortNotOpenError()
        return self._cable

    @property
    def in_waiting(self) -> int:
        return self._checked()._in_waiting(self._end, self._generation)

    def read(self, size: int = 1) -> bytes:
        cable = self._checked()
        # A timed cable moves its clock through the timeout (see devices.links); others never wait.
        cable._wait_for(self._end, self._generation, size, self._timeout)
        return cable._read(self._end, self._generation, size)

    def write(self, data) -> int:
        data = to_bytes(data)
        self._checked()._write(self._end, self._generation, data)
        return len(data)

    def reset_input_buffer(self) -> None:
        self.read(self.in_waiting)

    def reset_output_buffer(self) -> None:
        self._checked()

    def flush(self) -> None:
        self._checked()

    @property
    def out_waiting(self) -> int:
        return 0

    def _update_break_state(self) -> None:
        pass

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True
