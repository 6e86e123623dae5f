"""Simulated cameras: the demo course filmed from above and from behind each vehicle.

A :class:`SimCamera` renders the course geometry (``scoring.course``) and the
vehicles' true poses with OpenCV at a steady frame rate on the shared clock,
stamps each frame with its UTC time code (``examroom.video.timecode``) and
hands it out through a :class:`devices.camera.FrameFanout` — the same way a
real camera's frames arrive. :class:`SimH264Source` turns one such camera into
a network camera: an ffmpeg process encodes its frames to H.264 and serves
them as MPEG-TS over a local TCP socket, so the recorder's stream-copy path
runs against a real H.264 stream.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import subprocess
import threading
import time
from datetime import timedelta
from typing import Callable

import cv2
import numpy as np
from shapely.geometry import Polygon

from devices.camera import Frame, FrameFanout
from devices.camera.ffmpeg import ffmpeg_exe
from devices.readings import Clock
from devices.worker import Worker
from examroom import courseclock
from examroom.simulation.world import VehicleTruth
from examroom.video import timecode
from scoring.course import Course
from scoring.geometry import Line, forward, leftward
from scoring.item_geometry import PileItem
from scoring.vehicle import VehicleModel

log = logging.getLogger(__name__)

GROUND = (70, 110, 70)  # BGR
ZONE = (120, 120, 120)
PAINT = (245, 245, 245)
POLE = (40, 40, 220)
DECK = (60, 100, 150)
VEHICLE_COLOURS = ((0, 200, 255), (255, 160, 0), (200, 0, 200), (0, 255, 120))
# The in-car camera: wide enough for the time-code strip (416 px), small enough to check cheaply.
RIDER_SIZE = (480, 270)
RIDER_FPS = 5.0

# Course metres -> pixels: a 2×3 affine matrix applied to (x, y, 1).
Transform = np.ndarray


def top_transform(course: Course, width: int, height: int, pad: int = 24) -> Transform:
    """A fixed view from above that shows every item, north up."""
    xs, ys = [], []
    for item in course.items.values():
        minx, miny, maxx, maxy = item.zone.bounds
        xs += [minx, maxx]
        ys += [miny, maxy]
    minx, maxx, miny, maxy = min(xs) - 3, max(xs) + 3, min(ys) - 3, max(ys) + 3
    scale = min((width - 2 * pad) / (maxx - minx), (height - 2 * pad - 24) / (maxy - miny))
    ox = (width - scale * (maxx - minx)) / 2 - scale * minx
    oy = (height + 24 + scale * (maxy - miny)) / 2 + scale * miny
    return np.array([[scale, 0.0, ox], [0.0, -scale, oy]])


def chase_transform(truth: VehicleTruth, width: int, height: int, scale: float = 28.0) -> Transform:
    """A view that follows the vehicle, its heading up, the vehicle in the lower third."""
    f, l = forward(truth.heading), leftward(truth.heading)
    cx, cy = width / 2, height * 0.68
    # pixel x = cx - scale * (d · left); pixel y = cy - scale * (d · forward), d = p - vehicle
    a = np.array([[-scale * l[0], -scale * l[1]], [-scale * f[0], -scale * f[1]]])
    b = np.array([cx, cy]) - a @ np.array([truth.x, truth.y])
    return np.hstack([a, b[:, None]])


def _pixels(points, m: Transform) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)[:, :2]
    return np.round(p @ m[:, :2].T + m[:, 2]).astype(np.int32)


def draw_course(image: np.ndarray, course: Course, m: Transform) -> None:
    """Items as seen from above: zones, painted lines, decks and poles."""
    scale = float(np.hypot(m[0, 0], m[0, 1]))
    for item in course.items.values():
        cv2.fillPoly(image, [_pixels(item.zone.exterior.coords, m)], ZONE)
        for f in dataclasses.fields(item):
            value = getattr(item, f.name)
            if f.name != "zone" and isinstance(value, Polygon):
                cv2.fillPoly(image, [_pixels(value.exterior.coords, m)], (100, 100, 100))
        for deck in getattr(item, "decks", {}).values():
            cv2.fillPoly(image, [_pixels(deck.polygon.exterior.coords, m)], DECK)
        for f in dataclasses.fields(item):
            value = getattr(item, f.name)
            lines = value if isinstance(value, tuple) else (value,)
            for line in lines:
                if isinstance(line, Line):
                    thickness = max(1, round(line.width * scale))
                    cv2.polylines(image, [_pixels(line.points, m)], False, PAINT, thickness, cv2.LINE_AA)
        if isinstance(item, PileItem):
            for pole in item.poles:
                centre = tuple(int(v) for v in _pixels([pole.position], m)[0])
                cv2.circle(image, centre, max(2, round(pole.radius * scale * 2)), POLE, -1, cv2.LINE_AA)


SUN = (0.45, -0.3)  # metres: where a vehicle's shadow falls from its body (east and a little south)
SHADOW = 0.55  # share of the light left in a shadow
# Vision bench and tests: bodies a camera confuses with the painted lines (white and pale yellow).
PAINT_LIKE_COLOURS = ((228, 232, 236), (70, 205, 240))


def ground_texture(image: np.ndarray, seed: int = 0) -> None:
    """Grain of concrete and worn paint, as a camera sees it: a few grey levels of fixed, fine texture."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    grain = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 0.8) * 9.0
    patches = cv2.resize(rng.standard_normal((h // 24 + 1, w // 24 + 1)).astype(np.float32), (w, h),
                         interpolation=cv2.INTER_CUBIC) * 5.0
    image[:] = np.clip(image.astype(np.float32) + (grain + patches)[..., None], 0, 255).astype(np.uint8)


def draw_vehicle(image: np.ndarray, model: VehicleModel, truth: VehicleTruth, m: Transform,
                 colour: tuple[int, int, int], label: str) -> None:
    """A vehicle as a camera above sees it: its shadow on the ground, its body, a darker cab roof and
    windscreen at the front; no drawn outline (a camera sees none)."""
    placement = model.place(truth.x, truth.y, truth.heading)
    body = placement.outline.exterior.coords
    shadow = _pixels([(x + SUN[0], y + SUN[1]) for x, y in body], m)
    region = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(region, [shadow], 255, cv2.LINE_AA)
    # Soft-edged and multiplicative: the ground and the paint keep their texture, only darker.
    shade = 1.0 - (1.0 - SHADOW) * cv2.GaussianBlur(region, (3, 3), 0).astype(np.float32)[..., None] / 255.0
    x0, y0, bw, bh = cv2.boundingRect(shadow)
    x0, y0 = max(0, x0 - 2), max(0, y0 - 2)
    x1, y1 = min(image.shape[1], x0 + bw + 4), min(image.shape[0], y0 + bh + 4)
    if x1 > x0 and y1 > y0:
        patch = image[y0:y1, x0:x1].astype(np.float32) * shade[y0:y1, x0:x1]
        image[y0:y1, x0:x1] = patch.astype(np.uint8)
    outline = _pixels(body, m)
    cv2.fillPoly(image, [outline], colour, cv2.LINE_AA)
    # The cab: a roof a shade darker than the body, and a dark windscreen in front of it.
    rear, length, half = model.rear_overhang, model.length, model.width / 2
    front = length - rear
    at = lambda pts: _pixels([model._to_course(truth.x, truth.y, truth.heading, p) for p in pts], m)  # noqa: E731
    roof = (front - 0.35 * length, front - 0.12 * length)
    cv2.fillPoly(image, [at([(roof[0], -0.8 * half), (roof[1], -0.8 * half), (roof[1], 0.8 * half),
                             (roof[0], 0.8 * half)])], tuple(int(c * 0.82) for c in colour), cv2.LINE_AA)
    cv2.fillPoly(image, [at([(roof[1], -0.75 * half), (front - 0.04 * length, -0.7 * half),
                             (front - 0.04 * length, 0.7 * half), (roof[1], 0.75 * half)])], (60, 55, 50),
                 cv2.LINE_AA)
    if not label:
        return
    x, y = outline.min(axis=0)
    cv2.putText(image, label, (int(x), int(y) - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)


class CourseRenderer:
    """Draws one view of the simulated course; the static course of the top view is drawn once."""

    def __init__(self, course: Course, models: dict[str, VehicleModel], width: int, height: int,
                 follow: str | None = None, labels: bool = True,
                 colours: tuple[tuple[int, int, int], ...] = VEHICLE_COLOURS) -> None:
        self.course = course
        self.labels = labels  # vehicle ids beside each vehicle; off for analysis (they are not on real footage)
        self.models = models
        self.width, self.height = width, height
        self.follow = follow  # vehicle id for a chase view, None for the view from above
        self._colours = {vid: colours[i % len(colours)] for i, vid in enumerate(models)}
        self._top = top_transform(course, width, height)
        self._base = np.full((height, width, 3), GROUND, np.uint8)
        draw_course(self._base, course, self._top)
        ground_texture(self._base)

    def render(self, truths: dict[str, VehicleTruth | None], caption: str, mono: float = 0.0) -> np.ndarray:
        """The course with ``truths``, the vehicles as they are at clock time ``mono`` (which the
        course itself does not need: it stands still)."""
        if self.follow is None:
            image, m = self._base.copy(), self._top
        else:
            truth = truths.get(self.follow)
            image = np.full((self.height, self.width, 3), GROUND, np.uint8)
            if truth is None:
                m = self._top
            else:
                m = chase_transform(truth, self.width, self.height)
            draw_course(image, self.course, m)
        for vid, truth in truths.items():
            if truth is not None:
                draw_vehicle(image, self.models[vid], truth, m, self._colours[vid], vid if self.labels else "")
        cv2.putText(image, caption, (8, self.height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                    cv2.LINE_AA)
        return image


class SimCamera(Worker):
    """A simulated camera: renders the world at ``fps`` on the shared clock into a frame fan-out.

    ``truths(mono)`` gives the vehicles as they are at clock time ``mono``, and the renderer draws
    the scene at that time (the in-car rider's look-aways): each frame shows the world at the
    moment it is stamped with, as a real camera's exposure does. A thread that wakes
    late (a busy host) still draws the frame's own moment. Drawn as the world was on waking, a
    line was seen "on" 0.24 s before the vehicle reached it (a fresh-clone CI run of
    tests/examroom/video/test_vision_runtime.py)."""

    def __init__(self, camera_id: str, renderer: CourseRenderer,
                 truths: Callable[[float], dict[str, VehicleTruth | None]], clock: Clock, fps: float = 15.0) -> None:
        self.id = camera_id
        self.renderer = renderer
        self.truths = truths
        self.clock = clock
        self.fps = fps
        self.fanout = FrameFanout()
        self.thread_name = f"simcam-{camera_id}"
        super().__init__()

    def _run(self) -> None:
        origin_t, origin_utc = self.clock.now()
        n = 0
        while not self._stop.is_set():
            due = n / self.fps
            now, _ = self.clock.now()
            if due < now - origin_t - 1.0 / self.fps:
                # Behind (the machine was busy): skip to the present rather than render stale pictures.
                n = int((now - origin_t) * self.fps) + 1
                continue
            self.clock.sleep(origin_t + due - now)
            utc = origin_utc + timedelta(seconds=due)
            # The picture's caption is what a person reads: local time (the time code strip keeps UTC).
            at = origin_t + due
            image = self.renderer.render(self.truths(at), f"{self.id} " + courseclock.local_text(
                utc, "%Y-%m-%d %H:%M:%S.%f")[:-3] + " " + courseclock.offset_text(utc), at)
            timecode.stamp(image, utc)
            self.fanout.publish(Frame(image=image, utc=utc, mono=time.monotonic(), seq=n))
            n += 1


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SimH264Source:
    """A network camera made of a simulated one: H.264 in MPEG-TS, served on ``tcp://127.0.0.1:port``.

    Like a camera's RTSP server it waits for a client, streams to it, and after
    the client leaves waits for the next one. :meth:`kill` pulls the plug (the
    ffmpeg process dies mid-stream); :meth:`start` brings the camera back.
    """

    def __init__(self, camera: SimCamera, port: int | None = None) -> None:
        self.camera = camera
        self.port = port or free_tcp_port()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        r = self.camera.renderer
        gop = max(1, round(self.camera.fps))
        return [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{r.width}x{r.height}",
                "-framerate", f"{self.camera.fps:g}", "-i", "pipe:0",
                "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", str(gop),
                "-pix_fmt", "yuv420p", "-threads", "1", "-flush_packets", "1",
                "-f", "mpegts", f"tcp://127.0.0.1:{self.port}?listen=1"]

    def start(self, wait: float = 5.0) -> "SimH264Source":
        """Start serving; returns once the socket listens (or after ``wait`` seconds)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"simh264-{self.camera.id}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not self.listening():
            time.sleep(0.05)
        return self

    def listening(self) -> bool:
        """Whether the source's socket accepts a client now (read from /proc, without connecting:
        a probe connection would take the stream)."""
        suffix = f":{self.port:04X}"
        try:
            with open("/proc/net/tcp") as table:
                return any(cols[1].endswith(suffix) and cols[3] == "0A"
                           for cols in (line.split() for line in table) if len(cols) > 3)
        except OSError:
            return True

    def kill(self) -> None:
        """Stop serving at once, as a camera losing power would."""
        self._stop.set()
        with self._lock:
            if self._process is not None:
                self._process.kill()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    stop = kill

    def _run(self) -> None:
        with self.camera.fanout.subscribe() as slot:
            while not self._stop.is_set():
                with self._lock:
                    self._process = subprocess.Popen(self._command(), stdin=subprocess.PIPE,
                                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                process = self._process
                try:
                    while not self._stop.is_set() and process.poll() is None:
                        frame = slot.get(timeout=0.5)
                        if frame is not None:
                            process.stdin.write(frame.image.tobytes())
                except (BrokenPipeError, OSError):
                    pass  # the client left or the process was killed: serve the next client
                finally:
                    try:
                        process.stdin.close()
                    except OSError:
                        pass
                    if process.poll() is None:
                        process.kill()
                    process.wait()
                if not self._stop.is_set():
                    time.sleep(0.1)


class DemoCameras:
    """The demo course's cameras: one above the course (frames, encoded once), one following
    the first vehicle (served as a real H.264 network stream, recorded by copy) and, with
    ``rider``, that vehicle's in-car camera facing the candidate (for the face watch)."""

    def __init__(self, course: Course, models: dict[str, VehicleModel],
                 truths: Callable[[float], dict[str, VehicleTruth | None]], clock: Clock, fps: float = 15.0,
                 width: int = 640, height: int = 360, rider: str | None = None) -> None:
        follow = self.follow = next(iter(models))
        self.top = SimCamera("top", CourseRenderer(course, models, width, height), truths, clock, fps)
        self.chase = SimCamera(f"chase-{follow}", CourseRenderer(course, models, width, height, follow=follow),
                               truths, clock, fps)
        self.chase_source = SimH264Source(self.chase)
        self.rider: SimCamera | None = None
        self.rider_vehicle = rider
        if rider is not None:
            if rider not in models:
                raise ValueError(f"in-car camera for unknown vehicle {rider!r}")
            from examroom.simulation.rider import RiderRenderer

            # Small and slow: only the face watch and the live view look at it (a check each 2 s).
            self.rider = SimCamera(f"car-{rider}", RiderRenderer(*RIDER_SIZE),
                                   truths, clock, RIDER_FPS)
        self.fps, self.width, self.height = fps, width, height

    def specs(self, chase_offset: float = 0.0):
        from devices.camera import CameraSpec

        common = dict(fps=self.fps, width=self.width, height=self.height)
        specs = [CameraSpec(self.top.id, f"sim:{self.top.id}", roles=("record", "live", "analyse"), mode="encode",
                            title="考场俯视", **common),
                 CameraSpec(self.chase.id, self.chase_source.url, roles=("record", "live"), mode="copy",
                            offset=chase_offset, title=f"{self.follow} 跟拍", **common)]
        if self.rider is not None:
            # Recorded: the in-cab view is evidence of its vehicle's attempts (small and slow, so cheap to encode).
            specs.append(CameraSpec(self.rider.id, f"sim:{self.rider.id}", roles=("record", "live", "analyse"),
                                    mode="encode",
                                    fps=RIDER_FPS, width=RIDER_SIZE[0], height=RIDER_SIZE[1],
                                    title=f"{self.rider_vehicle} 车内"))
        return specs

    def places(self):
        """The chase camera follows its vehicle and the in-car camera rides in its own: each is evidence of
        that vehicle's attempts only; the camera above sees the whole course."""
        from examroom.video.placement import CameraPlace

        places = {self.chase.id: CameraPlace(self.chase.id, vehicle=self.follow)}
        if self.rider is not None:
            places[self.rider.id] = CameraPlace(self.rider.id, vehicle=self.rider_vehicle)
        return places

    def riders(self) -> dict[str, str]:
        """Vehicle id -> its in-car camera, for the video settings' ``riders``."""
        return {self.rider_vehicle: self.rider.id} if self.rider is not None else {}

    def frame_sources(self) -> dict[str, FrameFanout]:
        # The copy camera's frames reach the controller through its recorder, not in-process.
        sources = {self.top.id: self.top.fanout}
        if self.rider is not None:
            sources[self.rider.id] = self.rider.fanout
        return sources

    def start(self) -> "DemoCameras":
        self.top.start()
        self.chase.start()
        self.chase_source.start()
        if self.rider is not None:
            self.rider.start()
        return self

    def stop(self) -> None:
        if self.rider is not None:
            self.rider.stop()
        self.chase_source.kill()
        self.chase.stop()
        self.top.stop()
