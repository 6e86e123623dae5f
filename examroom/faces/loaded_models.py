"""The process's one set of face models: loaded at the first verification, released when idle.

The dlib models are about 40 MB of a process's heap (bench/memory.py) that a course uses only
around check-ins and the attempts of booked faces. After ``idle_seconds`` without a verification
they are dropped and the heap they freed is handed back to the system; the next verification
loads them again (a second or so, once). A watcher thread, started with each load, looks every
``check_seconds`` and ends once the models are released.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Callable, Generic, TypeVar

from devices.readings import Clock, SystemClock
from examroom.heap import trim_heap

log = logging.getLogger(__name__)

IDLE_SECONDS = 600.0
CHECK_SECONDS = 30.0

T = TypeVar("T")


class LoadedModels(Generic[T]):
    """Loads with ``load`` at the first :meth:`get`; :meth:`release_if_idle` drops them after ``idle_seconds``.

    A caller still using models that were released keeps its reference: they are freed when it is
    done, never under it.
    """

    def __init__(self, load: Callable[[], T], clock: Clock | None = None, idle_seconds: float = IDLE_SECONDS,
                 check_seconds: float = CHECK_SECONDS) -> None:
        self._load = load
        self.clock = clock or SystemClock()
        self.idle_seconds = idle_seconds
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._models: T | None = None
        self._last_use = 0.0
        self._watcher: threading.Thread | None = None
        self.loads = 0
        self.releases = 0

    @property
    def loaded(self) -> bool:
        return self._models is not None

    def set_idle_seconds(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError(f"the face models' idle time must be positive, got {seconds}")
        self.idle_seconds = seconds

    def get(self) -> T:
        """The models, loaded if they are not; counts as a use."""
        with self._lock:
            if self._models is None:
                self._models = self._load()
                self.loads += 1
            self._last_use = self.clock.now()[0]
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="face-models-release", daemon=True)
                self._watcher.start()
            return self._models

    def release_if_idle(self) -> bool:
        """Drop the models if unused for ``idle_seconds``; whether they were dropped now."""
        with self._lock:
            if self._models is None or self.clock.now()[0] - self._last_use < self.idle_seconds:
                return False
            self._models = None
            self.releases += 1
        gc.collect()  # dlib's objects are freed with their last Python reference, cycles included
        trim_heap()
        log.info("face models released after %.0f s unused", self.idle_seconds)
        return True

    def _watch(self) -> None:
        """Look every ``check_seconds`` (wall time: a daemon thread); end once the models are gone."""
        while True:
            time.sleep(self.check_seconds)
            with self._lock:
                if self._models is None:
                    self._watcher = None  # decided under the lock: a load after this starts a new watcher
                    return
            self.release_if_idle()
