"""Serve the controller's live feed to web processes over local HTTP.

One process owns the hardware; the web server runs in its own process (or
several) and subscribes here. ``GET /feed`` answers with newline-delimited JSON:
first the whole current state, then every event as it is published, and a
``ping`` line when nothing happened for a while so a dead link is noticed.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from examroom.livefeed import LiveFeed

PING_SECONDS = 5.0


class FeedServer:
    def __init__(self, feed: LiveFeed, host: str = "127.0.0.1", port: int = 0) -> None:
        self._connections: set = set()
        handler = type("FeedHandler", (_FeedHandler,), {"feed": feed, "connections": self._connections})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="feed-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/feed"

    def start(self) -> "FeedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        for connection in list(self._connections):
            # Followers must see the end of the stream, as when the process exits.
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=5)


class _FeedHandler(BaseHTTPRequestHandler):
    feed: LiveFeed
    connections: set
    protocol_version = "HTTP/1.0"  # the body ends when the connection closes

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        if self.path != "/feed":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.connections.add(self.connection)
        with self.feed.subscribe() as subscription:
            try:
                while True:
                    event = subscription.get(timeout=PING_SECONDS)
                    if subscription.overflowed:
                        return  # the reader reconnects and gets the whole state again
                    line = json.dumps(event if event is not None else {"type": "ping"}, ensure_ascii=False)
                    self.wfile.write(line.encode("utf-8") + b"\n")
                    self.wfile.flush()
            except OSError:
                return
            finally:
                self.connections.discard(self.connection)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass  # one line per subscriber would flood the controller's log
