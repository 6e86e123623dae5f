"""The controller's one local HTTP server (examroom.loopback): bound where asked, streams end on stop."""

from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from examroom.loopback import LoopbackServer


class _Streaming(BaseHTTPRequestHandler):
    """Answers /hello at once; /stream writes one line, then holds the connection until it is closed."""

    greeting: str
    streaming: threading.Event
    connections: set
    protocol_version = "HTTP/1.0"

    def log_message(self, *args) -> None:  # the test's output stays quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        if self.path == "/hello":
            body = self.greeting.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.end_headers()
        self.connections.add(self.connection)
        try:
            self.wfile.write(b"first\n")
            self.wfile.flush()
            self.streaming.set()
            self.rfile.read(1)  # returns when the server shuts the socket
        except OSError:
            pass
        finally:
            self.connections.discard(self.connection)


def test_serves_its_handler_with_the_attributes_given_on_a_free_loopback_port():
    server = LoopbackServer(_Streaming, "test-server", greeting="你好", streaming=threading.Event())
    server.start()
    try:
        where = urlsplit(server.base_url)
        assert where.hostname == "127.0.0.1" and where.port > 0
        with urllib.request.urlopen(f"{server.base_url}/hello", timeout=5) as answer:
            assert answer.read().decode() == "你好"
    finally:
        server.stop()


def test_stop_ends_the_streams_still_being_served():
    streaming = threading.Event()
    server = LoopbackServer(_Streaming, "test-server", greeting="", streaming=streaming)
    server.start()
    answer = urllib.request.urlopen(f"{server.base_url}/stream", timeout=5)
    try:
        assert answer.readline() == b"first\n"
        assert streaming.wait(5) and len(server.connections) == 1
        server.stop()
        assert answer.read() == b""  # the stream ended: the follower sees its end, not a hang
    finally:
        answer.close()
