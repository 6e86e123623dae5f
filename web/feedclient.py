"""Follow the controller's live feed from a web process.

Reads the controller's newline-delimited JSON feed and republishes it on a
local :class:`LiveFeed` that the page streams subscribe to. Reconnects with
back-off; after a reconnect the first line is the whole state again, so the
pages stay right across a controller restart.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request

from examroom.live.feed import LiveFeed

log = logging.getLogger(__name__)


class RemoteFeed:
    def __init__(self, url: str, local: LiveFeed, max_backoff: float = 5.0) -> None:
        self.url = url
        self.local = local
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._max_backoff = max_backoff
        self._thread = threading.Thread(target=self._run, name="remote-feed", daemon=True)

    def start(self) -> "RemoteFeed":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=30) as stream:
                    self.connected.set()
                    backoff = 0.2
                    for raw in stream:
                        if self._stop.is_set():
                            return
                        self._apply(json.loads(raw))
            except (OSError, ValueError) as exc:
                log.warning("live feed %s: %s; retrying in %.1f s", self.url, exc, backoff)
            self.connected.clear()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def _apply(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "ping":
            return
        if kind == "state":
            self.local.replace_state(event.get("vehicles", {}), event.get("sensors", {}))
            return
        self.local.publish(event, vehicle_state=event.get("vehicle_state"), sensor_state=event.get("sensor_state"))
