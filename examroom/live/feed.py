"""The controller's live feed: what each vehicle is doing now, pushed to pages.

The controller publishes events (attempt started, item entered, deduction,
attempt finished, device health, a vehicle's pose, a course sensor's change);
every subscriber gets its own bounded queue. A new subscriber first receives
the current state of every vehicle and every course sensor, so a page that
reloads or reconnects is correct without replaying history.
"""

from __future__ import annotations

import copy
import itertools
import queue
import threading
from typing import Any

Event = dict[str, Any]


class Subscription:
    """One reader of the feed; ``get`` blocks up to a timeout."""

    def __init__(self, feed: "LiveFeed", maxsize: int) -> None:
        self._feed = feed
        self._queue: queue.Queue[Event] = queue.Queue(maxsize)
        self.overflowed = False

    def put(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            # A stalled reader must not block the controller: mark it so the
            # page reloads the state instead of silently missing events.
            self.overflowed = True

    def get(self, timeout: float | None = None) -> Event | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._feed.unsubscribe(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LiveFeed:
    def __init__(self, queue_size: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscription] = []
        self._vehicles: dict[str, dict] = {}
        self._sensors: dict[str, dict] = {}  # course element id -> its sensor's last state
        self._ids = itertools.count(1)
        self._queue_size = queue_size

    def subscribe(self) -> Subscription:
        sub = Subscription(self, self._queue_size)
        with self._lock:
            sub.put({"type": "state", "id": 0, "vehicles": copy.deepcopy(self._vehicles),
                     "sensors": copy.deepcopy(self._sensors)})
            self._subscribers.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)

    def publish(self, event: Event, vehicle_state: dict | None = None, sensor_state: dict | None = None) -> Event:
        """Send an event to every subscriber; ``vehicle_state`` replaces that vehicle's state,
        ``sensor_state`` that course sensor's (keyed by its ``element``)."""
        with self._lock:
            event = {**event, "id": next(self._ids)}
            if vehicle_state is not None:
                event["vehicle_state"] = copy.deepcopy(vehicle_state)
                self._vehicles[vehicle_state["vehicle"]] = copy.deepcopy(vehicle_state)
            if sensor_state is not None:
                event["sensor_state"] = copy.deepcopy(sensor_state)
                self._sensors[sensor_state["element"]] = copy.deepcopy(sensor_state)
            for sub in self._subscribers:
                sub.put(event)
        return event

    def replace_state(self, vehicles: dict[str, dict], sensors: dict[str, dict] | None = None) -> None:
        """Take over a whole state (a follower after reconnecting) and tell subscribers."""
        with self._lock:
            self._vehicles = copy.deepcopy(vehicles)
            self._sensors = copy.deepcopy(sensors or {})
            event = {"type": "state", "id": next(self._ids), "vehicles": copy.deepcopy(vehicles),
                     "sensors": copy.deepcopy(self._sensors)}
            for sub in self._subscribers:
                sub.put(event)

    def state(self) -> dict[str, dict]:
        with self._lock:
            return copy.deepcopy(self._vehicles)

    def sensors(self) -> dict[str, dict]:
        """Every course sensor's last state, by element id."""
        with self._lock:
            return copy.deepcopy(self._sensors)
