"""A small HTTP server the controller runs for its own web processes, on the loopback by default.

The controller serves two things over local HTTP: the live feed and commands
(``examroom.live.link``) and the cameras' live view (``examroom.video.liveview``).
Both need the same server: a thread per request so one long stream never holds up
another, a daemon thread that serves until stopped, and a stop that also ends the
streams still being served (a follower must see its stream end, as when the process
exits, rather than wait on a socket nobody writes to). This module is that server;
it imports no other room.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer:
    """Serves ``handler`` in a daemon thread; the handler reads ``attributes`` and ``connections`` as class attributes.

    A handler that streams adds its ``self.connection`` to ``self.connections`` while it streams
    and discards it when done; :meth:`stop` shuts those sockets so the streams end.
    """

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str, host: str = "127.0.0.1",
                 port: int = 0, **attributes: Any) -> None:
        self.connections: set[socket.socket] = set()
        bound = type(handler.__name__, (handler,), {**attributes, "connections": self.connections})
        self._server = ThreadingHTTPServer((host, port), bound)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://host:port`` as bound (port 0 asks the system for a free one)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        for connection in list(self.connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=5)
