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


FAULTS = {
    # health.extra["line"] of a vision sensor that cannot see, with what to do about it
    "obstructed": "something on the lens over a watched line or zone (a drop, dirt, a blob): clean the lens",
    "low_contrast": "the picture has lost its contrast (fog, darkness): nothing can be told apart",
    "noisy": "the picture is mostly noise (too dark for the camera's gain)",
    "moved": "the picture no longer lines up with the empty scene: camera moved or covered",
}


@dataclass(frozen=True)
class Sight:
    """How a vision sensor tells a vehicle from weather, noise and dirt. Pixel units of its camera."""

    colour_threshold: float = 28.0  # grey levels a pixel's colour must leave the empty scene's by, at least
    noise_factor: float = 5.0  # ... or this many times the measured noise, whichever is more
    edge_threshold: float = 24.0  # gradient (grey levels per pixel) of an edge worth watching
    edge_kept: float = 0.4  # an edge of the empty scene seen at less than this share is covered
    shadow: tuple[float, float] = (0.3, 0.93)  # a shadow keeps this share of the light ...
    shadow_spread: float = 0.12  # ... the same in every colour channel, within this
    shadow_texture: float = 0.4  # ... and the ground's grain shows through it (5×5 correlation at least this)
    adapt_seconds: float = 4.0  # the empty scene follows slow change (dusk, fog) with this time constant
    tile: int = 16  # pixels: the cells in which sharpness is compared with the empty scene
    blind_ratio: float = 0.35  # a cell keeping less than this share of its texture is blind
    texture_min: float = 1.5  # mean fine detail (grey levels) a cell needs for its sharpness to be judged
    min_contrast: float = 0.25  # contrast left of the scene learnt in clear air, below which it cannot see
    max_noise: float = 14.0  # grey levels of noise above which it cannot see
    max_shift: float = 12.0  # pixels of sway it registers; more is a moved camera
    register_window: int = 256  # side of the textured square the registration correlates


def _best_window(grey: np.ndarray, side: int) -> tuple[int, int, int, int]:
    """The most textured ``side``-square of the picture (x, y, w, h): registration needs structure."""
    h, w = grey.shape
    side_w, side_h = min(side, w), min(side, h)
    energy = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    integral = cv2.integral(energy)
    best, at = -1.0, (0, 0)
    for y in range(0, h - side_h + 1, max(1, side_h // 8)):
        for x in range(0, w - side_w + 1, max(1, side_w // 8)):
            total = integral[y + side_h, x + side_w] - integral[y, x + side_w] - integral[y + side_h, x] + integral[y, x]
            if total > best:
                best, at = total, (x, y)
    return at[0], at[1], side_w, side_h


def _channel_max(image: np.ndarray) -> np.ndarray:
    """The largest of each pixel's channels (numpy's reduce over a last axis of 3 is slow)."""
    b, g, r = cv2.split(image)
    return np.maximum(np.maximum(b, g), r)


def _correlation(a: np.ndarray, b: np.ndarray, size: int = 5) -> np.ndarray:
    """Normalised cross-correlation of two grey pictures over each pixel's ``size``² neighbourhood."""
    k = (size, size)
    ma, mb = cv2.blur(a, k), cv2.blur(b, k)
    cov = cv2.blur(a * b, k) - ma * mb
    va = cv2.blur(a * a, k) - ma * ma
    vb = cv2.blur(b * b, k) - mb * mb
    return cov / np.sqrt(np.maximum(va * vb, 1e-6))


def _detail(grey: np.ndarray) -> np.ndarray:
    """How much each pixel differs from its 2-px blurred surroundings: the picture's fine detail."""
    return np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 2.0))


def _gradient(grey: np.ndarray) -> np.ndarray:
    return cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3, scale=0.25),
                         cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3, scale=0.25))


class VisionSensor:
    """Judges each frame's regions against the empty scene, in whatever weather the camera sees.

    Per frame: the picture is registered to the empty scene (phase correlation
    on its most textured square, so a mast swaying a few pixels moves nothing);
    thin rain streaks and noise are taken out (a 3×3 median); the empty scene's
    colours are mapped to the frame's exposure (a per-channel gain and offset,
    fitted robustly over the whole picture: automatic gain, a passing cloud);
    a pixel has changed when its colour leaves the range of the empty scene
    around it by more than the noise allows, or when an edge of the empty scene
    (a painted line's side) is no longer seen; a uniform darkening that keeps
    the colour is a shadow, not a vehicle. The empty scene then follows the
    frame where nothing changed, so dusk and fog roll in without a trigger.

    What it cannot see through it names instead of judging: cells near a
    watched region that lost most of their sharpness (a drop, dirt, a blob on
    the lens) make the whole camera ``obstructed``; a picture that lost most
    of the contrast of the scene learnt in clear air is ``low_contrast``, one
    that is mostly noise ``noisy``, one that no longer lines up ``moved``. A
    frame in fault gives no reading, and health (``alive`` false, ``line`` the
    fault, ``blind`` the regions behind it) says why.
    """

    def __init__(self, device: str, regions: Sequence[Region], sight: Sight | None = None,
                 expected_rate: float = 15.0, scene_changed_share: float = 0.5) -> None:
        self.device = device
        self.regions = tuple(regions)
        self.sight = sight or Sight()
        self.scene_changed_share = scene_changed_share
        self.expected_rate = expected_rate
        self.background: np.ndarray | None = None  # float32 BGR, the empty scene now
        self._reference: np.ndarray | None = None  # grey, the empty scene as learnt (clear air)
        self._masks: list[np.ndarray] = []
        self._health = DeviceHealth(device=device, kind="vision", expected_rate=expected_rate)
        self._times: list[float] = []
        self._last: tuple[bool, ...] = ()
        self._changed: tuple = (None, None)  # (colour, texture) changes two frames back and one back
        self._pending: Frame | None = None  # the frame whose reading the next one confirms

    # -- learning --------------------------------------------------------------------
    def learn_background(self, images: Sequence[np.ndarray]) -> None:
        """The empty scene: the per-pixel median, so anything moving through it drops out."""
        stack = np.stack([cv2.medianBlur(i, 3) for i in images])
        median = np.median(stack, axis=0).astype(np.uint8)
        self.background = median.astype(np.float32)
        grey = cv2.cvtColor(median, cv2.COLOR_BGR2GRAY).astype(np.float32)
        self._reference = grey
        self._reference_contrast = max(1.0, float(grey.std()))
        h, w = grey.shape
        masks = [r.mask((h, w)) for r in self.regions]
        self._masks = [np.flatnonzero(m) for m in masks]  # each region's pixels, as indices
        self._window = _best_window(grey, self.sight.register_window)
        x, y, ww, wh = self._window
        self._hann = cv2.createHanningWindow((ww, wh), cv2.CV_32F)
        tile = self.sight.tile
        self._cells = ((w + tile - 1) // tile, (h + tile - 1) // tile)
        # Which cells each region's neighbourhood touches: those decide whether it can be seen.
        near = cv2.dilate(np.stack(masks).astype(np.uint8).max(axis=0) if masks else
                          np.zeros((h, w), np.uint8), np.ones((2 * tile + 1, 2 * tile + 1), np.uint8))
        self._region_cells = [np.flatnonzero(cv2.resize(cv2.dilate(m.astype(np.uint8), np.ones((tile + 1, tile + 1),
                                                                                              np.uint8)),
                                                        self._cells, interpolation=cv2.INTER_AREA) > 0) for m in masks]
        self._watched_cells = cv2.resize(near, self._cells, interpolation=cv2.INTER_AREA) > 0
        self._last = (False,) * len(self.regions)
        self._changed, self._pending = (None, None), None

    # -- one frame -------------------------------------------------------------------
    def _register(self, grey: np.ndarray) -> tuple[float, float, float]:
        x, y, w, h = self._window
        ref = cv2.cvtColor(self.background.astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)[y:y + h, x:x + w]
        # Copies: phaseCorrelate writes the windowed picture back into its inputs.
        (dx, dy), response = cv2.phaseCorrelate(ref.copy(), grey[y:y + h, x:x + w].copy(), self._hann)
        return dx, dy, response

    def _fit_exposure(self, frame: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Per-channel gain and offset taking the empty scene to this frame's exposure, and the noise left."""
        f = frame[::6, ::6].reshape(-1, 3)
        b = background[::6, ::6].reshape(-1, 3)
        gain, offset = np.ones(3, np.float32), np.zeros(3, np.float32)
        residual = np.zeros(len(f), np.float32)
        for c in range(3):
            keep = np.ones(len(f), bool)
            for _ in range(2):  # least squares, then again without the worst fifth (vehicles, rain)
                bc, fc = b[keep, c], f[keep, c]
                var = float(bc.var())
                g = float(((bc - bc.mean()) * (fc - fc.mean())).mean() / var) if var > 1e-3 else 1.0
                g = min(4.0, max(0.05, g))
                o = float(fc.mean() - g * bc.mean())
                r = np.abs(f[:, c] - (g * b[:, c] + o))
                keep = r <= np.quantile(r, 0.8)
            gain[c], offset[c] = g, o
            residual = np.maximum(residual, r)
        noise = float(np.median(residual)) * 1.4826
        return gain, offset, noise

    def occupancy(self, image: np.ndarray) -> tuple[bool, ...] | None:
        """Regions occupied in the frame before this one (confirmed by this one), or None: when the
        camera cannot see (health says why), and for the first frame after learning or a fault."""
        if self.background is None:
            raise RuntimeError(f"vision sensor {self.device}: learn the background first")
        sight = self.sight
        extra = self._health.extra
        smooth = cv2.medianBlur(image, 3)  # rain streaks and speckle are thinner than anything judged
        grey = cv2.cvtColor(smooth, cv2.COLOR_BGR2GRAY).astype(np.float32)
        # Contrast against the scene learnt in clear air: the empty scene follows fog and dusk, this does not.
        contrast = float(grey.std()) / self._reference_contrast
        extra["contrast"] = round(contrast, 2)
        if contrast < sight.min_contrast:
            return self._fault("low_contrast", f"{contrast:.0%} of the clear-air contrast left")
        dx, dy, response = self._register(grey)
        extra["shift"] = [round(dx, 2), round(dy, 2)]
        if max(abs(dx), abs(dy)) > sight.max_shift:
            return self._fault("moved", f"picture shifted by ({dx:.1f}, {dy:.1f}) px")
        h, w = grey.shape
        frame = smooth.astype(np.float32)
        if abs(dx) > 0.05 or abs(dy) > 0.05:
            back = np.float32([[1, 0, -dx], [0, 1, -dy]])
            frame = cv2.warpAffine(frame, back, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            grey = cv2.warpAffine(grey, back, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        gain, offset, noise = self._fit_exposure(frame, self.background)
        expected = self.background * gain + offset  # the empty scene in this frame's light
        extra["noise"] = round(noise, 1)
        if noise > sight.max_noise:
            return self._fault("noisy", f"noise {noise:.0f} grey levels")

        # Colour: outside the range of the empty scene around the pixel (one pixel of registration slack).
        kernel = np.ones((3, 3), np.uint8)
        low, high = cv2.erode(expected, kernel), cv2.dilate(expected, kernel)
        outside = _channel_max(np.maximum(low - frame, frame - high))
        threshold = max(sight.colour_threshold, sight.noise_factor * noise)
        coloured = outside > threshold
        # A shadow: darker by the same share in every channel.
        ratio = (frame + 1.0) / (expected + 1.0)
        rmin, rmax = -_channel_max(-ratio), _channel_max(ratio)
        shadow = (rmin >= sight.shadow[0]) & (rmax <= sight.shadow[1]) & (rmax - rmin <= sight.shadow_spread)
        # ... through which the ground's own grain still shows (a dark windscreen shows none).
        # Near a shadow's edge the step itself spoils the correlation: the darkening shade that reaches
        # within two pixels of grain seen through it is the same shadow.
        textured = (shadow & (_correlation(grey, cv2.cvtColor(expected, cv2.COLOR_BGR2GRAY)) >= sight.shadow_texture))
        shadow &= cv2.dilate(textured.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        # Texture: an edge of the empty scene that is no longer seen anywhere within a pixel.
        expected_grey = cv2.cvtColor(expected, cv2.COLOR_BGR2GRAY)
        g_expected = _gradient(expected_grey)
        g_frame = _gradient(grey)
        edge = g_expected > max(sight.edge_threshold, sight.noise_factor * noise * 0.5)
        covered = edge & (cv2.dilate(g_frame, kernel) < sight.edge_kept * g_expected)
        solid = coloured & ~shadow
        changed = solid | (covered & ~shadow)

        # Sight: cells that kept too little of their texture, near a watched region.
        # Fine detail only (what a 2-px blur takes away): a drop's refracted picture of the scene is
        # blurred far more than that, though it still has broad gradients.
        cells_frame = cv2.resize(_detail(grey), self._cells, interpolation=cv2.INTER_AREA)
        cells_expected = cv2.resize(_detail(expected_grey), self._cells, interpolation=cv2.INTER_AREA)
        textured = cells_expected > max(sight.texture_min, noise * 0.6)
        kept = cells_frame / np.maximum(cells_expected, 1e-3)
        usual = float(np.median(kept[textured])) if textured.any() else 1.0
        blind = textured & (kept < sight.blind_ratio * max(usual, 1e-3)) & self._watched_cells
        for cells, was in zip(self._region_cells, self._last):
            if was:  # a vehicle standing on a region hides its texture; that is not a blind camera
                blind.ravel()[cells] = False
        blind = cv2.dilate(blind.astype(np.uint8), kernel) > 0
        flat = blind.ravel()
        behind = [r.element for r, cells in zip(self.regions, self._region_cells) if flat[cells].any()]
        if behind:
            extra["blind"] = behind
            return self._fault("obstructed", f"cannot see {', '.join(behind)}")
        extra["blind"] = []

        share = float(changed.mean())
        extra["scene_changed"] = round(share, 3)
        if share > self.scene_changed_share:
            return self._fault("moved", f"{share:.0%} of the picture differs from the empty scene")
        # A vehicle is there in the frame before or after too; a raindrop's streak, a speck of
        # noise is not: the previous frame's change counts where this or the one before it agrees.
        # Anything judged is also wider than what two streaks in a row leave: an opening removes what is
        # thinner than 3 px (an edge of the empty scene no longer seen is thin by nature, and stays).
        before, previous = self._changed
        self._changed = (previous, (solid, covered & ~shadow))
        if previous is None:
            inputs = None
        else:
            both = [p & (c | b) if b is not None else p & c
                    for p, c, b in zip(previous, (solid, covered & ~shadow), before or (None, None))]
            confirmed = ((cv2.morphologyEx(both[0].astype(np.uint8), cv2.MORPH_OPEN, kernel) > 0) | both[1]).ravel()
            inputs = tuple(int(np.count_nonzero(confirmed[m])) >= r.min_pixels
                           for r, m in zip(self.regions, self._masks))
        # The empty scene follows the frame where nothing moved: slow light and fog, never a vehicle.
        still = (~cv2.dilate((changed | shadow).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool))
        alpha = 1.0 / max(1.0, sight.adapt_seconds * self.expected_rate)
        cv2.accumulateWeighted(frame, self.background, alpha, still.astype(np.uint8))
        if inputs is not None:
            self._last = inputs
        return inputs

    def _fault(self, name: str, detail: str) -> None:
        self._changed = (None, None)  # nothing seen across a fault confirms anything after it
        self._pending = None
        self._health.alive = False
        self._health.extra["line"] = name
        self._health.last_error = f"{FAULTS[name]} ({detail})"
        return None

    def process(self, frame: Frame) -> CourseInputs | None:
        """The reading of the frame before this one, confirmed by this one, stamped with that frame's
        times; None while the camera cannot see (health says why) or right after learning or a fault."""
        self._health.last_error = None
        self._health.alive = True
        self._health.extra["line"] = "ok"
        inputs = self.occupancy(frame.image)
        shown, self._pending = self._pending, (frame if self._health.alive else None)
        now = time.monotonic()
        self._health.readings += 1
        self._health.last_reading_mono = now
        self._times = [t for t in self._times if now - t < 2.0] + [now]
        self._health.rate = (len(self._times) - 1) / max(1e-6, self._times[-1] - self._times[0])
        if inputs is None or shown is None:
            return None
        return CourseInputs(mono=shown.mono, utc=shown.utc, device=self.device, unit=0, inputs=inputs)

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

    @property
    def device(self) -> str:
        return self.sensor.device

    @property
    def items(self) -> tuple[str, ...]:
        """The course items whose elements this sensor watches (``item.element`` ids)."""
        return tuple(sorted({r.element.split(".", 1)[0] for r in self.sensor.regions}))

    def health(self) -> DeviceHealth:
        """The sensor's health, as a device runner gives it (the health watch reads both alike)."""
        return self.sensor.health()

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
                    age = (utc - reading.utc).total_seconds()  # the reading is of the frame before
                    self.submit(CourseInputs(mono=mono - age, utc=reading.utc, device=reading.device, unit=0,
                                             inputs=reading.inputs))
