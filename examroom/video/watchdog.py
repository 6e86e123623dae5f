"""The camera watchdog: restarts a crashed or stalled recorder or reader, with back-off.

Every supervised part says whether it is alive and whether it has stalled
(alive but producing nothing). A dead or stalled part is killed and started
again after a back-off that doubles up to a ceiling and resets once the part
has worked for a while. Each outage of a recorder opens a ``gap`` event on the
video timeline at the end of the camera's last good segment; the first new
segment closes it. Gaps are published on the live feed for the supervisor.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol

from devices.worker import PeriodicWorker
from examroom.video.index import SegmentInfo, VideoIndex

log = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0  # seconds before the first restart
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 30.0  # seconds of uninterrupted work that reset the back-off


class Supervised(Protocol):
    camera: str
    kind: str  # "recorder" or "reader"

    def alive(self) -> bool: ...
    def stalled(self) -> bool: ...
    def start(self) -> None: ...
    def kill(self) -> None: ...
    def reason(self) -> str: ...


@dataclass
class _State:
    part: Supervised
    backoff: float = BACKOFF_FIRST
    down_since: float | None = None
    restart_at: float = 0.0
    up_since: float = field(default_factory=time.monotonic)
    restarts: int = 0
    paused: bool = False


class Watchdog(PeriodicWorker):
    thread_name = "camera-watchdog"

    def __init__(self, index: VideoIndex, publish: Callable[[dict], None] | None = None,
                 interval: float = 0.5, now_utc: Callable[[], datetime] | None = None) -> None:
        self.index = index
        self.publish = publish or (lambda event: None)
        self.interval = interval
        self.now_utc = now_utc or (lambda: datetime.now(timezone.utc))
        self._parts: list[_State] = []
        self._dead_runs: dict[str, tuple[int, object]] = {}
        self._lock = threading.Lock()
        super().__init__()

    def register(self, part: Supervised) -> None:
        with self._lock:
            self._parts.append(_State(part))

    def restarts(self, camera: str) -> int:
        return sum(s.restarts for s in self._parts if s.part.camera == camera)

    def pause(self, kind: str = "recorder") -> None:
        """Stop every part of a kind and keep it stopped (the disk guard's alarm)."""
        with self._lock:
            for state in self._parts:
                if state.part.kind == kind and not state.paused:
                    state.paused = True
                    getattr(state.part, "stop", state.part.kill)()

    def resume(self, kind: str = "recorder") -> None:
        with self._lock:
            for state in self._parts:
                if state.part.kind == kind:
                    state.paused = False
                    state.restart_at = 0.0

    @property
    def paused(self) -> bool:
        return any(s.paused for s in self._parts)

    def check(self) -> None:
        """One pass over every part (the loop calls it; tests may too)."""
        now = time.monotonic()
        with self._lock:
            states = list(self._parts)
        for state in states:
            if state.paused:
                continue
            part = state.part
            if state.down_since is None:
                alive = part.alive()
                if alive and not part.stalled():
                    if now - state.up_since >= HEALTHY_AFTER:
                        state.backoff = BACKOFF_FIRST
                    continue
                why = "stalled" if alive else "stopped"
                part.kill()
                self._down(state, now, f"{why}: {part.reason()}".strip(": "))
            elif now >= state.restart_at:
                log.info("watchdog: restarting %s of %s (attempt %d)", part.kind, part.camera, state.restarts + 1)
                state.restarts += 1
                state.down_since = None
                state.up_since = now
                part.start()

    def _down(self, state: _State, now: float, why: str) -> None:
        part = state.part
        state.down_since = now
        state.restart_at = now + state.backoff
        state.backoff = min(state.backoff * 2, BACKOFF_MAX)
        if part.kind == "recorder":
            last = self.index.last_segment(part.camera)
            start = last.end_utc if last is not None else self.now_utc()
            if not [e for e in self.index.events(part.camera, "gap") if e.end_utc is None]:
                event_id = self.index.open_event(part.camera, "gap", start, why)
                # The dead run's last segments may reach the index after this: they move the gap's
                # start on instead of closing it.
                self._dead_runs[part.camera] = (event_id, getattr(part, "run_dir", None))
                self.publish({"type": "video", "event": "gap_started", "camera": part.camera,
                              "utc": start.isoformat(), "detail": why})
        log.warning("watchdog: %s of %s %s; restart in %.0f s", part.kind, part.camera, why,
                    state.restart_at - now)

    def segment_added(self, segment: SegmentInfo, run_dir=None) -> None:
        """The maintainer filed a segment: a gap of its camera ends where a new run's segment starts."""
        dead = self._dead_runs.get(segment.camera)
        if dead is not None and run_dir is not None and dead[1] is not None \
                and Path(dead[1]).resolve() == Path(run_dir).resolve():
            self.index.move_event_start(dead[0], segment.end_utc)
            return
        self._dead_runs.pop(segment.camera, None)
        closed = self.index.close_events(segment.camera, "gap", segment.start_utc)
        if closed:
            self.publish({"type": "video", "event": "gap_ended", "camera": segment.camera,
                          "utc": segment.start_utc.isoformat()})


class RecorderPart:
    """A :class:`~examroom.video.recorder.SegmentRecorder` as the watchdog sees it."""

    kind = "recorder"

    def __init__(self, recorder, stale_after: float | None = None) -> None:
        self.recorder = recorder
        self.camera = recorder.spec.id
        # ffmpeg lists a segment every segment_seconds; twice that plus slack means it is stuck.
        self.stale_after = stale_after or 2 * recorder.segment_seconds + 15

    def alive(self) -> bool:
        return self.recorder.alive()

    def stalled(self) -> bool:
        return time.monotonic() - self.recorder.last_output_mono() > self.stale_after

    def start(self) -> None:
        self.recorder.start()

    def kill(self) -> None:
        self.recorder.kill()

    def stop(self) -> None:
        self.recorder.stop()

    def reason(self) -> str:
        return self.recorder.ended_reason

    @property
    def run_dir(self):
        return self.recorder.run_dir
