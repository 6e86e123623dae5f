"""A TCP relay between a city and a course that can cut the link and restore it, on purpose.

The city connects to the relay's port; the relay connects on to the course and copies bytes
both ways. ``cut()`` is the link going down: every connection through it is closed at once and
new ones are refused (closed as they are accepted) until ``restore()``. The city's replication
worker sees what it sees when a real link drops (its connection ends, reconnecting fails),
retries by itself and catches up once the link is back. The tests use it where a network
namespace is not available, and the demo's key press uses it to show a course going offline.

One thread accepts; each connection has two pumping threads. ``close()`` stops everything.
"""

from __future__ import annotations

import selectors
import socket
import threading
from dataclasses import dataclass

_CHUNK = 1 << 16


@dataclass(frozen=True)
class RelayCounts:
    accepted: int  # connections accepted while the link was up
    refused: int  # connections closed at once because the link was cut
    cuts: int


class TcpRelay:
    """``TcpRelay((course_host, course_port)).start()``; ``address`` is where the city connects."""

    def __init__(self, target: tuple[str, int], listen: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        self.target = target
        self._listener = socket.create_server(listen, reuse_port=False)
        self._listener.settimeout(None)
        self._lock = threading.Lock()
        self._up = True
        self._closed = False
        self._pairs: set[_Pair] = set()
        self._accepted = self._refused = self._cuts = 0
        self._thread = threading.Thread(target=self._accept_loop, name="city-relay-accept", daemon=True)
        self._wake_r, self._wake_w = socket.socketpair()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._listener.getsockname()[:2]
        return host, port

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def up(self) -> bool:
        return self._up

    def start(self) -> TcpRelay:
        self._thread.start()
        return self

    def cut(self) -> None:
        """The link goes down: close every connection through the relay, refuse new ones."""
        with self._lock:
            self._up = False
            self._cuts += 1
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            pair.close()

    def restore(self) -> None:
        """The link is back: new connections go through again."""
        with self._lock:
            self._up = True

    def counts(self) -> RelayCounts:
        with self._lock:
            return RelayCounts(self._accepted, self._refused, self._cuts)

    def close(self) -> None:
        """Stop accepting, close every connection and wait for the relay's threads to end."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pairs, self._pairs = self._pairs, set()
        self._wake_w.send(b"x")
        for pair in pairs:
            pair.close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for pair in pairs:
            pair.join()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> TcpRelay:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.close()

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._closed:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r or self._closed:
                        return
                    try:
                        client, _peer = self._listener.accept()
                    except OSError:
                        continue
                    self._admit(client)

    def _admit(self, client: socket.socket) -> None:
        with self._lock:
            up = self._up and not self._closed
            if not up:
                self._refused += 1
        if not up:
            _close(client)
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            _close(client)  # the course itself is down: the city sees a failed connection, as it would
            return
        pair = _Pair(client, upstream, self._forget)
        with self._lock:
            admitted = self._up and not self._closed
            if admitted:
                self._accepted += 1
                self._pairs.add(pair)
            else:  # cut while we were connecting
                self._refused += 1
        if not admitted:
            pair.close()  # outside the lock: closing a pair calls _forget, which takes it
            return
        pair.start()

    def _forget(self, pair: _Pair) -> None:
        with self._lock:
            self._pairs.discard(pair)


class _Pair:
    """One city connection and its connection to the course, pumped both ways."""

    def __init__(self, client: socket.socket, upstream: socket.socket, on_end) -> None:
        self.client, self.upstream = client, upstream
        self._on_end = on_end
        self._closed = threading.Event()
        self._threads = [threading.Thread(target=self._pump, args=(client, upstream), daemon=True,
                                          name="city-relay-up"),
                         threading.Thread(target=self._pump, args=(upstream, client), daemon=True,
                                          name="city-relay-down")]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                data = source.recv(_CHUNK)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        for sock in (self.client, self.upstream):
            # shutdown wakes the other pump's blocking recv; close alone would not on Linux.
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            _close(sock)
        self._on_end(self)

    def join(self) -> None:
        for thread in self._threads:
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(timeout=5)


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
