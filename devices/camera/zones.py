"""Vision sensors: zones and lines drawn on a camera's image, reporting occupancy like a sensor board.

A region is a polygon (a zone: a parking box, a bridge deck) or a polyline
with a width (a line: a boundary line, a bridge edge, the stake line), in the
pixels of one camera's image, named by the course element it stands for. A
region is occupied when enough of its pixels differ from the empty scene (the
background, learnt as the per-pixel median of frames so passing vehicles drop
out). Each processed frame gives a :class:`~devices.readings.CourseInputs`
reading, one input per region — the same reading a Modbus course board gives —
so the controller turns changes into ``CourseSensor`` observations as it does
for physical switches.

Health is the sensor's own: frame rate, and whether the scene still looks like
the learnt background (a moved or covered camera makes most of the picture
differ, and then nothing it says can be trusted).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np

from devices.camera.frames import Frame, FrameFanout
from devices.readings import Clock, CourseInputs, DeviceHealth, SystemClock
from devices.worker import Worker

Point = tuple[float, float]


@dataclass(frozen=True)
class Region:
    element: str  # course element id, e.g. "hill.stake_line"
    kind: str  # "zone" or "line"
    points: tuple[Point, ...]  # image pixels
    width: int = 3  # pixels, lines only
    min_pixels: int = 6  # changed pixels that mean "occupied"

    def __post_init__(self) -> None:
        if self.kind not in ("zone", "line"):
            raise ValueError(f"region {self.element}: kind must be 'zone' or 'line', got {self.kind!r}")
        if len(self.points) < (3 if self.kind == "zone" else 2):
            raise ValueError(f"region {self.element}: a {self.kind} needs at least "
                             f"{3 if self.kind == 'zone' else 2} points, got {len(self.points)}")

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        mask = np.zeros(shape, np.uint8)
        pts = np.round(np.asarray(self.points)).astype(np.int32)
        if self.kind == "zone":
            cv2.fillPoly(mask, [pts], 255)
        else:
            cv2.polylines(mask, [pts], False, 255, max(1, self.width))
        return mask > 0


class VisionSensor:
    """Judges each frame's regions against the learnt empty scene."""

    def __init__(self, device: str, regions: Sequence[Region], diff_threshold: int = 45,
                 scene_changed_share: float = 0.5, expected_rate: float = 15.0) -> None:
        self.device = device
        self.regions = tuple(regions)
        self.diff_threshold = diff_threshold
        self.scene_changed_share = scene_changed_share
        self.background: np.ndarray | None = None
        self._masks: list[np.ndarray] = []
        self._health = DeviceHealth(device=device, kind="vision", expected_rate=expected_rate)
        self._times: list[float] = []

    def learn_background(self, images: Sequence[np.ndarray]) -> None:
        """The empty scene: the per-pixel median, so anything moving through it drops out."""
        stack = np.stack([cv2.cvtColor(i, cv2.COLOR_BGR2GRAY) for i in images])
        self.background = np.median(stack, axis=0).astype(np.uint8)
        self._masks = [r.mask(self.background.shape) for r in self.regions]

    def occupancy(self, image: np.ndarray) -> tuple[bool, ...]:
        if self.background is None:
            raise RuntimeError(f"vision sensor {self.device}: learn the background first")
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        changed = cv2.absdiff(grey, self.background) > self.diff_threshold
        share = float(changed.mean())
        self._health.extra["scene_changed"] = round(share, 3)
        if share > self.scene_changed_share:
            self._health.alive = False
            self._health.last_error = f"{share:.0%} of the picture differs from the empty scene: camera moved or covered"
        return tuple(int(np.count_nonzero(changed & m)) >= r.min_pixels for r, m in zip(self.regions, self._masks))

    def process(self, frame: Frame) -> CourseInputs | None:
        """A reading for this frame; None while the scene does not match (health says why)."""
        self._health.last_error = None
        self._health.alive = True
        inputs = self.occupancy(frame.image)
        now = time.monotonic()
        self._health.readings += 1
        self._health.last_reading_mono = now
        self._times = [t for t in self._times if now - t < 2.0] + [now]
        self._health.rate = (len(self._times) - 1) / max(1e-6, self._times[-1] - self._times[0])
        if not self._health.alive:
            return None
        return CourseInputs(mono=frame.mono, utc=frame.utc, device=self.device, unit=0, inputs=inputs)

    def health(self) -> DeviceHealth:
        return self._health


class VisionRunner(Worker):
    """Feeds a camera's frames to a vision sensor in its own thread and hands readings on.

    Until the sensor has a background it learns one from the first ``learn_frames``
    frames (their median), so it must start while the regions are clear or busy
    only with passing traffic. Readings carry the clock's times of the frame (the
    frame's age is taken off the clock's monotonic time), like any device reading.
    """

    def __init__(self, sensor: VisionSensor, fanout: FrameFanout, submit: Callable[[CourseInputs], None],
                 clock: Clock | None = None, learn_frames: int = 30) -> None:
        self.sensor = sensor
        self.fanout = fanout
        self.submit = submit
        self.clock = clock or SystemClock()
        self.learn_frames = learn_frames
        self._learning: list[np.ndarray] = []
        self.thread_name = f"vision-{sensor.device}"
        super().__init__()

    def _run(self) -> None:
        with self.fanout.subscribe() as slot:
            while not self._stop.is_set():
                frame = slot.get(timeout=0.5)
                if frame is None:
                    self.sensor.health().alive = False
                    continue
                if self.sensor.background is None:
                    self._learning.append(frame.image)
                    if len(self._learning) >= self.learn_frames:
                        self.sensor.learn_background(self._learning)
                        self._learning = []
                    continue
                reading = self.sensor.process(frame)
                if reading is not None:
                    mono, utc = self.clock.now()
                    age = (utc - frame.utc).total_seconds()
                    self.submit(CourseInputs(mono=mono - age, utc=frame.utc, device=reading.device, unit=0,
                                             inputs=reading.inputs))
