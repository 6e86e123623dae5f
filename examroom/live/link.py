"""The controller's link to web processes over local HTTP: the live feed and commands.

One process owns the hardware; the web server runs in its own process (or
several) and talks to it here. ``GET /feed`` answers with newline-delimited
JSON: first the whole current state, then every event as it is published, and
a ``ping`` line when nothing happened for a while so a dead link is noticed.
``POST /commands`` takes a supervisor's command as JSON; it needs the shared
token (the web process reads it from the data folder), so nothing else on the
machine can stop an attempt. A refusal answers ``error`` (the Chinese sentence) and
``message`` (its msgid and parameters), so the web process shows it in the reader's language.
"""

from __future__ import annotations

import hmac
import json
from typing import Callable
from http.server import BaseHTTPRequestHandler

from examroom.live.feed import LiveFeed
from examroom.loopback import LoopbackServer
from examroom.messages import N_, SupervisorError

PING_SECONDS = 5.0


CommandHandler = Callable[[dict], dict]
MAX_COMMAND_BYTES = 16_384


class ConsoleLink:
    """The web console's link to the controller: serves the live feed and takes the console's commands."""

    def __init__(self, feed: LiveFeed, host: str = "127.0.0.1", port: int = 0,
                 commands: CommandHandler | None = None, token: str | None = None) -> None:
        self._http = LoopbackServer(_LinkHandler, "console-link", host, port, feed=feed,
                                    commands=staticmethod(commands) if commands else None, token=token)

    @property
    def url(self) -> str:
        return f"{self._http.base_url}/feed"

    def start(self) -> "ConsoleLink":
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()  # followers see the end of the stream, as when the process exits


class _LinkHandler(BaseHTTPRequestHandler):
    feed: LiveFeed
    connections: set
    commands: CommandHandler | None
    token: str | None
    protocol_version = "HTTP/1.0"  # the body ends when the connection closes

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/commands" or self.commands is None:
            self.send_error(404)
            return
        if not self.token or not hmac.compare_digest(self.headers.get("X-Examroom-Token", ""), self.token):
            # The web process and the controller disagree on the shared token: the installation's to fix.
            self._refuse(403, SupervisorError(N_("考试控制器拒绝了指令：令牌错误或缺失")))
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_COMMAND_BYTES:
            self._answer(400, {"ok": False, "error": "a command is a JSON object of at most 16 kB"})
            return
        try:
            request = json.loads(self.rfile.read(length))
            if not isinstance(request, dict):
                raise ValueError("a command must be a JSON object")
            self._answer(200, {"ok": True, **self.commands(request)})
        except SupervisorError as exc:  # CommandRefused: the supervisor's to act on
            self._refuse(400, exc)
        except ValueError as exc:  # bad JSON: the sender's to fix
            self._answer(400, {"ok": False, "error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - the web process shows it; the controller keeps running
            self._refuse(500, SupervisorError(N_("考试控制器出错：%(error)s"), error=str(exc)))

    def _refuse(self, status: int, exc: SupervisorError) -> None:
        self._answer(status, {"ok": False, "error": str(exc), "message": exc.as_dict()})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

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
