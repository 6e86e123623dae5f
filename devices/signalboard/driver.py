"""Vehicle signal board driver: ``$EXSIG`` sentences -> :class:`SignalFrame`.

Layers: transport -> :class:`~devices.framing.SentenceFramer` (``$`` resync,
checksum, 64-byte limit) -> :func:`~devices.signalboard.protocol.decode`
(strict fields) -> SignalFrame. Sentences of other types on the same line
are ignored (counted as ``other_sentences``), so a board that shares a UART
with a GNSS receiver does not make this driver drop frames.

Health extras: ``sequence_gaps`` (sentences lost between two received ones,
by sequence number: lost bytes the framer never saw), ``sequence_back``
(sentences whose number went back: not used unless the next one continues
from it, as after a board restart; a sentence damaged so that its XOR still
matches usually shows this way), ``present`` (the wired inputs of the last
frame) and the drop counters by reason.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from devices.framing import SentenceFramer
from devices.readings import Clock, SignalFrame
from devices.runner import DeviceRunner, OnReading, StreamDriver
from devices.signalboard.protocol import MAX_LENGTH, MalformedSentence, decode, is_signal_sentence


class SignalBoardDriver(StreamDriver):
    kind = "signalboard"

    def __init__(self, port: str, *, device: str = "signalboard", baudrate: int = 115200,
                 rate: float = 20.0, read_timeout: float = 0.05,
                 parity: str = "N", bytesize: int = 8, stopbits: float = 1) -> None:
        super().__init__(port, device, rate, baudrate, read_timeout, parity, bytesize, stopbits)
        self.framer = SentenceFramer(max_length=MAX_LENGTH)
        self.counts: Counter[str] = Counter()
        self._last_seq: int | None = None
        self._restart: int | None = None  # a sequence number that went back, until confirmed
        self._present: frozenset[str] | None = None

    def feed(self, data: bytes, mono: float, utc: datetime) -> list[SignalFrame]:
        out: list[SignalFrame] = []
        for sentence in self.framer.feed(data):
            if not is_signal_sentence(sentence):
                self.counts["other_sentences"] += 1
                continue
            try:
                d = decode(sentence)
            except MalformedSentence:
                self.counts["malformed_fields"] += 1
                continue
            if self._last_seq is not None:
                gap = (d.sequence - self._last_seq - 1) % 65536
                if gap >= 32768:
                    # The sequence went back: a board restart, or a sentence whose damage the
                    # 8-bit XOR missed (two equal digits lost: "15,...,194" -> "5,...,94").
                    # Believe it only when the next sentence continues from it.
                    if self._restart is None or d.sequence != (self._restart + 1) % 65536:
                        self._restart = d.sequence
                        self.counts["sequence_back"] += 1
                        continue
                elif gap:
                    self.counts["sequence_gaps"] += gap
            self._restart = None
            self._last_seq = d.sequence
            self._present = d.present
            self.frames_ok += 1
            out.append(SignalFrame(mono=mono, utc=utc, device=self.device, sequence=d.sequence,
                                   flags=d.flags, present=d.present, gear=d.gear, roll=d.roll))
        return out

    def on_disconnect(self) -> None:
        self.framer.reset()
        self._last_seq = self._restart = None

    @property
    def frames_dropped(self) -> int:
        return self.framer.dropped + self.counts["malformed_fields"]

    def health_extra(self) -> dict:
        return {
            "sequence_gaps": self.counts["sequence_gaps"],
            "sequence_back": self.counts["sequence_back"],
            "present": sorted(self._present) if self._present is not None else None,
            "drops": {**{k: v for k, v in self.framer.counts.items() if v},
                      "malformed_fields": self.counts["malformed_fields"]},
        }


class SignalBoard(DeviceRunner):
    """A vehicle signal board on a serial port, read in its own thread.

    ``SignalBoard(port, on_reading, device=..., clock=..., baudrate=115200,
    rate=20.0)``; ``start()``, ``health()``, ``stop()``.
    """

    def __init__(self, port: str, on_reading: OnReading | None = None, *,
                 clock: Clock | None = None, device: str = "signalboard",
                 backoff_initial: float = 0.1, backoff_max: float = 5.0, **driver_kwargs) -> None:
        super().__init__(SignalBoardDriver(port, device=device, **driver_kwargs), on_reading,
                         clock=clock, backoff_initial=backoff_initial, backoff_max=backoff_max)
