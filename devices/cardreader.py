"""ID-card reader (二代身份证阅读器) that presents as a serial device.

Readers of this kind send the number of each card laid on them as one line of
ASCII (``62010219900101123X\\r\\n``); readers that present as a keyboard need
no driver (they type into the check-in page). This driver reads lines with
pyserial, keeps only well-shaped numbers (17 digits and a digit or X) and
hands each to a callback; whether the number is valid (GB 11643) and booked
is for the check-in to say.
"""

from __future__ import annotations

import re
import threading
from typing import Callable

from devices.transport import open_serial, read_available

_NUMBER = re.compile(r"^[0-9]{17}[0-9Xx]$")
MAX_LINE = 64


class CardReader:
    def __init__(self, port: str, on_card: Callable[[str], None], baudrate: int = 115200) -> None:
        self.port = port
        self.on_card = on_card
        self.baudrate = baudrate
        self.cards = 0
        self.rejected = 0  # lines that were not a card number (noise, a half line)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "CardReader":
        self._serial = open_serial(self.port, baudrate=self.baudrate)
        self._thread = threading.Thread(target=self._run, name=f"cardreader {self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._serial.close()

    def _run(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            buffer += read_available(self._serial)
            *lines, buffer = re.split(rb"\r\n|\r|\n", buffer)
            if len(buffer) > MAX_LINE:  # no line end in sight: noise, not a card
                buffer, self.rejected = b"", self.rejected + 1
            for raw in lines:
                text = raw.decode("ascii", "replace").strip()
                if not text:
                    continue
                if _NUMBER.match(text):
                    self.cards += 1
                    self.on_card(text.upper())
                else:
                    self.rejected += 1
