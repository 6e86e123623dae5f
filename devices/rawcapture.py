"""Raw byte capture and replay: what the hardware really sent, fed back through the same drivers.

A :class:`RawCapture` is the ``tap`` of every :class:`~devices.runner.DeviceRunner`:
it sees each chunk of bytes a driver read (``rx``) or wrote (``tx``, Modbus
requests) with the arrival stamp the driver used for its readings. Captures
are opened and closed by key (examroom opens one per attempt); each writes,
per device, two files in its directory:

* ``<device>.bin``: the bytes, concatenated, exactly as read;
* ``<device>.idx``: one line per chunk, ``mono utc_us direction offset length``
  (monotonic seconds, UTC microseconds since 1970, ``rx``/``tx`` or a course
  board's ``rx_untimed``, and where the chunk's bytes are in the ``.bin``).

Because a chunk keeps the stamp the driver gave its readings, replaying it
(:func:`replay`) through a fresh driver of the same configuration gives the
same readings with the same stamps: a parser change can be checked against
what the receivers, boards and bus really said.

Pitfalls: a capture opened mid-stream starts in the middle of a sentence, so
each device keeps the last ``preroll`` seconds of chunks and a new capture
starts with them (the framer then resyncs on the first ``$``, exactly as the
live driver did when it was started). A GNSS fix's stamp depends on the
arrivals of the previous :data:`devices.gnss.epoch_clock.WINDOW` seconds, so
the preroll holds that window and then some: the first fixes after the
start replay with the window they had live. The tap runs on the driver thread:
writes go to buffered files, flushed every ``flush_every`` seconds and on
close; a crash loses at most that much of the capture.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from devices.gnss.epoch_clock import WINDOW as EPOCH_WINDOW

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class RawChunk:
    mono: float
    utc: datetime
    # "rx": from the device; "tx": to the device (a Modbus request); "rx_untimed": a course board's
    # reply seen only past its timeout (devices.courseboard.driver: seen in time)
    direction: str
    data: bytes


def _utc_us(utc: datetime) -> int:
    delta = utc - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


class RawWriter:
    """Appends one device's chunks to ``<device>.bin`` and ``<device>.idx`` in ``directory``."""

    def __init__(self, directory: Path, device: str, flush_every: float = 1.0) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.device = device
        self._bin = open(directory / f"{device}.bin", "ab")
        self._idx = open(directory / f"{device}.idx", "a", encoding="ascii")
        self._offset = self._bin.tell()
        self._flush_every = flush_every
        self._flushed = time.monotonic()
        self.chunks = 0

    def write(self, chunk: RawChunk) -> None:
        self._bin.write(chunk.data)
        # repr() of a float round-trips exactly: the replayed stamp is the live one.
        self._idx.write(f"{chunk.mono!r} {_utc_us(chunk.utc)} {chunk.direction} "
                        f"{self._offset} {len(chunk.data)}\n")
        self._offset += len(chunk.data)
        self.chunks += 1
        now = time.monotonic()
        if now - self._flushed >= self._flush_every:
            self.flush()
            self._flushed = now

    def flush(self) -> None:
        self._bin.flush()
        self._idx.flush()

    def close(self) -> None:
        for fh in (self._bin, self._idx):
            try:
                fh.close()
            except OSError:
                pass


# Clock seconds kept before a capture starts: the GNSS epoch clock's window plus 2 s for the
# framer's resync and for readings that arrived just before the start but were judged after it.
PREROLL = EPOCH_WINDOW + 2.0


class RawCapture:
    """Routes tapped chunks to the captures open for their device (see module doc)."""

    def __init__(self, preroll: float = PREROLL) -> None:
        self.preroll = preroll
        self._lock = threading.Lock()
        self._recent: dict[str, deque[RawChunk]] = {}
        self._writers: dict[str, dict[object, RawWriter]] = {}  # device -> key -> writer
        self._keys: dict[object, list[RawWriter]] = {}

    def tap(self, device: str, direction: str, data: bytes, mono: float, utc: datetime) -> None:
        """The runner tap: keep the chunk for the preroll and write it to every open capture."""
        chunk = RawChunk(mono, utc, direction, bytes(data))
        with self._lock:
            recent = self._recent.setdefault(device, deque())
            recent.append(chunk)
            while recent and recent[0].mono < mono - self.preroll:
                recent.popleft()
            for writer in self._writers.get(device, {}).values():
                writer.write(chunk)

    def start(self, key: object, directory: Path, devices: Iterable[str]) -> None:
        """Capture ``devices`` into ``directory`` under ``key``, starting with their preroll."""
        with self._lock:
            if key in self._keys:
                raise ValueError(f"capture {key!r} is already open")
            writers = []
            for device in devices:
                writer = RawWriter(Path(directory), device)
                for chunk in self._recent.get(device, ()):
                    writer.write(chunk)
                self._writers.setdefault(device, {})[key] = writer
                writers.append(writer)
            self._keys[key] = writers

    def stop(self, key: object) -> None:
        with self._lock:
            writers = self._keys.pop(key, [])
            for writer in writers:
                self._writers.get(writer.device, {}).pop(key, None)
        for writer in writers:
            writer.close()

    def stop_all(self) -> None:
        for key in list(self._keys):
            self.stop(key)


def captured_devices(directory: Path) -> list[str]:
    return sorted(p.name[:-4] for p in Path(directory).glob("*.idx"))


def read_raw(directory: Path, device: str) -> Iterator[RawChunk]:
    """The chunks of one device's capture, in arrival order."""
    directory = Path(directory)
    with open(directory / f"{device}.bin", "rb") as bin_fh, \
            open(directory / f"{device}.idx", encoding="ascii") as idx:
        data = bin_fh.read()
        for number, line in enumerate(idx, 1):
            fields = line.split()
            if len(fields) != 5:
                # The last line of a capture cut by a crash may be partial: stop there.
                if line.endswith("\n"):
                    raise ValueError(f"{directory / device}.idx line {number}: expected 5 fields")
                return
            mono, utc_us, direction, offset, length = fields
            start, n = int(offset), int(length)
            if start + n > len(data):
                return  # the bytes of a crash-cut capture were not all flushed
            utc = datetime.fromtimestamp(int(utc_us) // 1_000_000, timezone.utc).replace(
                microsecond=int(utc_us) % 1_000_000)
            yield RawChunk(float(mono), utc, direction, data[start:start + n])


def replay(driver, chunks: Iterable[RawChunk]) -> list:
    """Feed captured chunks through a fresh ``driver``; return its readings."""
    return [reading for _, reading in replay_arrivals(driver, chunks)]


def replay_arrivals(driver, chunks: Iterable[RawChunk]) -> list[tuple[float, Any]]:
    """Like :func:`replay`, each reading with the arrival (mono) of the chunk that completed it.

    A GNSS fix's stamp is its epoch, earlier than its arrival; the live
    controller got readings in arrival order, so a replay that wants its
    order needs the arrivals.
    """
    out: list[tuple[float, Any]] = []
    for chunk in chunks:
        out += [(chunk.mono, reading)
                for reading in driver.replay_chunk(chunk.direction, chunk.data, chunk.mono, chunk.utc)]
    return out


def capture_size(directory: Path) -> int:
    return sum(os.path.getsize(p) for p in Path(directory).glob("*.bin"))
