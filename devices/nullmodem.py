"""A null-modem cable made of two pseudo-terminals, in pure Python.

Like ``socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B`` but with no apt
package: two ``os.openpty()`` pairs in raw mode and one relay thread that copies
master A -> master B and master B -> master A. Whatever a program writes to the
slave path ``a`` can be read from the slave path ``b`` and the other way round,
so a driver and a simulated twin can each open "their" serial port with
pyserial (or pymodbus, which opens ports with pyserial too).

Pitfalls this module handles, and why:

* **Baud rate is not enforced.** A pty moves bytes as fast as they are read;
  tests must never depend on line timing.
* **Stable names.** ``/dev/pts/N`` numbers change when the cable is re-created,
  so the public paths are symlinks in a private directory (like socat's
  ``link=``). ``unplug()`` / ``replug()`` pull and re-insert the cable: open
  ports see a hang-up, the paths disappear while unplugged (a pts number is
  reused by the system for other programs' ptys), and re-opening the same
  path after replug gets the new pty.
* **We keep our own slave fds open.** When the last slave fd of a pty closes,
  reads on its master fail with EIO and a relay would spin or die; keeping one
  slave fd open also keeps the raw termios settings until a client applies its
  own. pyserial flushes the input buffer when it opens a port, so bytes that
  arrived while nobody had the port open are not seen as stale data.
* **Nobody reading.** A pty buffer is only a few kB; a blocking write to a full
  master stalls. The masters are non-blocking and each direction has a bounded
  pending buffer; beyond ``buffer_limit`` the oldest bytes are dropped (counted
  in ``dropped_bytes``), like a UART overrun on a real line.
* **Fault injection.** ``inject(end, data)`` makes bytes arrive at one end as
  if the other end had sent them; ``set_filter(direction, fn)`` lets a test
  mutate bytes in transit (truncate a Modbus response, flip a bit, ...).
"""

from __future__ import annotations

import errno
import os
import select
import shutil
import tempfile
import threading
import tty
from typing import Callable

Filter = Callable[[bytes], bytes]

_READ_CHUNK = 4096


class NullModem:
    """Two connected serial ports, ``a`` and ``b`` (paths usable by pyserial).

    Use as a context manager, or call ``close()``::

        with NullModem() as modem:
            twin = serial.serial_for_url(modem.a)
            drv = serial.serial_for_url(modem.b)
    """

    def __init__(self, link_dir: str | None = None, names: tuple[str, str] = ("ttyA", "ttyB"),
                 buffer_limit: int = 1 << 20) -> None:
        self._own_dir = link_dir is None
        self._dir = link_dir or tempfile.mkdtemp(prefix="nullmodem-")
        os.makedirs(self._dir, exist_ok=True)
        self.a = os.path.join(self._dir, names[0])
        self.b = os.path.join(self._dir, names[1])
        self.buffer_limit = buffer_limit
        self.dropped_bytes = 0
        self.bytes_relayed = {"a>b": 0, "b>a": 0}
        self._filters: dict[str, Filter | None] = {"a>b": None, "b>a": None}
        self._lock = threading.Lock()
        self._fds: dict[str, int] = {}  # "ma", "sa", "mb", "sb"
        self._pending: dict[str, bytearray] = {"a>b": bytearray(), "b>a": bytearray()}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stop = threading.Event()
        self._closed = False
        self._plug()
        self._thread = threading.Thread(target=self._relay, name=f"nullmodem-{os.path.basename(self._dir)}",
                                        daemon=True)
        self._thread.start()

    # -- public --------------------------------------------------------------

    @property
    def plugged(self) -> bool:
        with self._lock:
            return bool(self._fds)

    def unplug(self) -> None:
        """Pull the cable: close both ptys and remove the paths. Open ports see a hang-up.

        The paths go too, as a USB adapter's device node does: a symlink left to
        the closed ``/dev/pts/N`` would let a driver re-open whatever pty the
        system hands that number next (another program's).
        """
        with self._lock:
            self._unplug_locked()
            for path in (self.a, self.b):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        self._wake()

    def replug(self) -> None:
        """Insert a new cable under the same paths (new ptys behind the symlinks)."""
        with self._lock:
            if self._fds:
                self._unplug_locked()
            self._plug_locked()
        self._wake()

    def inject(self, end: str, data: bytes) -> None:
        """Make ``data`` arrive at ``end`` ("a" or "b") as if the other end sent it."""
        direction = {"a": "b>a", "b": "a>b"}[end]
        with self._lock:
            self._queue_locked(direction, bytes(data))
        self._wake()

    def set_filter(self, direction: str, fn: Filter | None) -> None:
        """Pass every chunk travelling ``direction`` ("a>b" or "b>a") through ``fn``."""
        if direction not in self._filters:
            raise ValueError("direction must be 'a>b' or 'b>a'")
        with self._lock:
            self._filters[direction] = fn

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake()
        self._thread.join(timeout=5)
        with self._lock:
            self._unplug_locked()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)
        else:
            for path in (self.a, self.b):
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def __enter__(self) -> "NullModem":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # last resort; tests should close explicitly
        try:
            self.close()
        except Exception:
            pass

    # -- internals -----------------------------------------------------------

    def _plug(self) -> None:
        with self._lock:
            self._plug_locked()

    def _plug_locked(self) -> None:
        for end, path in (("a", self.a), ("b", self.b)):
            master, slave = os.openpty()
            tty.setraw(slave)  # raw, no echo: a serial line, not a terminal
            os.set_blocking(master, False)
            self._fds["m" + end] = master
            self._fds["s" + end] = slave
            tmp = path + ".new"
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            os.symlink(os.ttyname(slave), tmp)
            os.replace(tmp, path)  # atomic: a reader never sees a missing link
        for buf in self._pending.values():
            buf.clear()

    def _unplug_locked(self) -> None:
        for fd in self._fds.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds.clear()
        # The freed /dev/pts/N numbers go back to the kernel and are soon handed to another
        # pty, maybe another process's: a driver reconnecting through a stale link would open
        # (and lock) that stranger's port. Point the links at nothing until the next plug.
        for path in (self.a, self.b):
            if os.path.islink(path):
                tmp = path + ".new"
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
                os.symlink(path + ".unplugged", tmp)
                os.replace(tmp, path)
        for buf in self._pending.values():
            buf.clear()

    def _queue_locked(self, direction: str, data: bytes) -> None:
        buf = self._pending[direction]
        buf.extend(data)
        over = len(buf) - self.buffer_limit
        if over > 0:
            del buf[:over]
            self.dropped_bytes += over

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def _relay(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                fds = dict(self._fds)
                want_write = {d: bool(b) for d, b in self._pending.items()}
            rlist = [self._wake_r]
            wlist = []
            if fds:
                rlist += [fds["ma"], fds["mb"]]
                if want_write["a>b"]:
                    wlist.append(fds["mb"])
                if want_write["b>a"]:
                    wlist.append(fds["ma"])
            try:
                readable, writable, _ = select.select(rlist, wlist, [], 0.5)
            except (OSError, ValueError):
                continue  # an fd was closed by unplug() meanwhile; loop with fresh fds
            if self._wake_r in readable:
                try:
                    while os.read(self._wake_r, 512):
                        pass
                except OSError:
                    pass
            with self._lock:
                if not fds or self._fds != fds:
                    continue  # unplugged, or re-plugged while we waited: those fds are stale
                for src, direction in (("ma", "a>b"), ("mb", "b>a")):
                    if fds[src] in readable:
                        data = self._read(fds[src])
                        if data:
                            fn = self._filters[direction]
                            if fn is not None:
                                data = fn(data) or b""
                            self._queue_locked(direction, data)
                for dst, direction in (("mb", "a>b"), ("ma", "b>a")):
                    buf = self._pending[direction]
                    if buf:  # try even if select did not say writable: saves a round
                        try:
                            n = os.write(fds[dst], buf)
                        except BlockingIOError:
                            n = 0
                        except OSError:
                            n = len(buf)  # no reader side left: the bytes are lost
                        self.bytes_relayed[direction] += n
                        del buf[:n]

    @staticmethod
    def _read(fd: int) -> bytes:
        try:
            return os.read(fd, _READ_CHUNK)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:  # no slave open; we keep ours, so rare
                return b""
            raise
