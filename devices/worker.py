"""A background thread with a clean start and stop, and one that repeats a check.

Health watches, camera watchdogs, vision sensors and simulated cameras all
run the same way: a named daemon thread that loops until asked to stop,
joined on stop so no thread outlives its owner.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Worker:
    """Runs :meth:`_run` in a daemon thread until :meth:`stop`; ``_run`` watches ``self._stop``."""

    thread_name = "worker"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError


class PeriodicWorker(Worker):
    """Calls :meth:`check` every ``interval`` seconds; a failing pass is logged, the next one runs."""

    interval = 1.0

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:
                log.exception("%s: a pass failed", self.thread_name)

    def check(self) -> None:
        raise NotImplementedError
