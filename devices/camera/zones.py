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

import math
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
    slack: float = 0.3  # pixels of registration error a colour may be explained by
    edge_threshold: float = 12.0  # grey-level step between two neighbouring pixels that is a boundary worth watching
    edge_kept: float = 0.4  # a boundary of the empty scene seen at less than this share of its step is covered
    shadow: tuple[float, float] = (0.3, 0.93)  # a shadow keeps this share of the light ...
    shadow_spread: float = 0.12  # ... the same in every colour channel, within this
    shadow_texture: float = 0.4  # ... and what lies under it shows through (5×5 correlation at least this)
    min_width: int = 4  # pixels: a change narrower than this either way is not a vehicle (a streak, a speck)
    confirm_frames: int = 3  # a change counts when it lasts this many frames in a row (a raindrop's streak lasts one)
    adapt_seconds: float = 4.0  # the empty scene follows slow change (dusk, fog) with this time constant
    tile: int = 16  # pixels: the cells in which sharpness is compared with the empty scene
    blind_ratio: float = 0.35  # a cell keeping less than this share of its texture is blind
    texture_min: float = 1.5  # mean fine detail (grey levels) a cell needs for its sharpness to be judged
    min_contrast: float = 0.25  # contrast left of the scene learnt in clear air, below which it cannot see
    max_noise: float = 14.0  # grey levels of noise above which it cannot see
    max_shift: float = 12.0  # pixels of sway it registers; more is a moved camera
    register_window: int = 256  # side of the textured square the registration correlates
    scene_step: int = 4  # the whole-picture checks (contrast, a moved camera) look at every 4th pixel

    def __post_init__(self) -> None:
        if self.confirm_frames < 2:
            raise ValueError("confirm_frames: a change must be seen in at least 2 frames")


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


def _lost_boundaries(expected: np.ndarray, frame: np.ndarray, step: float, kept: float) -> np.ndarray:
    """Pixels beside a boundary of the empty scene (a step of at least ``step`` between two neighbours)
    that the frame no longer shows (its step, the same way, under ``kept`` of the expected one).

    Steps between neighbours, not a 3×3 gradient: the boundary of a painted line one pixel wide is
    lost exactly when something covers the pixel next to the line and the line's edge, not a pixel before."""
    lost = np.zeros(expected.shape, bool)
    for axis in (0, 1):
        e = np.diff(expected, axis=axis)
        f = np.diff(frame, axis=axis)
        at = step if np.isscalar(step) else (step[1:] if axis == 0 else step[:, 1:])
        gone = (np.abs(e) >= at) & (f * np.sign(e) < kept * np.abs(e))
        if axis == 0:
            lost[1:] |= gone
            lost[:-1] |= gone
        else:
            lost[:, 1:] |= gone
            lost[:, :-1] |= gone
    return lost


def _boundaries(expected: np.ndarray, step: float) -> np.ndarray:
    """Pixels beside a step of at least ``step`` grey levels to a neighbour: where the scene has structure."""
    near = np.zeros(expected.shape, bool)
    for axis in (0, 1):
        at = step if np.isscalar(step) else (step[1:] if axis == 0 else step[:, 1:])
        steep = np.abs(np.diff(expected, axis=axis)) >= at
        if axis == 0:
            near[1:] |= steep
            near[:-1] |= steep
        else:
            near[:, 1:] |= steep
            near[:, :-1] |= steep
    return near


class _Patch:
    """A rectangle of the picture around one or more regions (in the empty scene's pixels), and where it
    sits in the mosaic of patches a frame is judged in."""

    def __init__(self, rect: tuple[int, int, int, int], members: list[int], at: int) -> None:
        self.rect = rect
        self.size = (rect[2] - rect[0], rect[3] - rect[1])
        self.members = members  # the regions it holds
        self.at = at  # its first column in the mosaic


def _patches(masks: list[np.ndarray], shape: tuple[int, int], margin: int) -> list[tuple]:
    """Rectangles around each region's pixels, ``margin`` wider on every side, overlapping ones merged."""
    h, w = shape
    rects = []
    for k, m in enumerate(masks):
        ys, xs = np.nonzero(m)
        if len(xs) == 0:
            continue
        rects.append(([max(0, xs.min() - margin), max(0, ys.min() - margin),
                       min(w, xs.max() + 1 + margin), min(h, ys.max() + 1 + margin)], [k]))
    merged = True
    while merged:
        merged = False
        for i in range(len(rects)):
            for j in range(i + 1, len(rects)):
                a, b = rects[i][0], rects[j][0]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    rects[i] = ([min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])],
                                rects[i][1] + rects[j][1])
                    del rects[j]
                    merged = True
                    break
            if merged:
                break
    return [(tuple(int(v) for v in r), sorted(members)) for r, members in rects]


GAP = 8  # pixels between patches in the mosaic: wider than any filter reaches (the 2-px blur's kernel)


class VisionSensor:
    """Judges each frame's regions against the empty scene, in whatever weather the camera sees.

    Only the picture around the regions is judged pixel by pixel: a rectangle
    reaching one 16 px cell beyond each region, the rectangles laid side by side
    in one mosaic so every step runs once per frame. The whole picture is
    looked at coarsely (every 4th pixel), for its contrast and whether it still
    shows the empty scene.

    Per frame:

    * the sway is measured against the empty scene learnt in clear air (phase
      correlation on its most textured 256 px square); each rectangle is taken
      from the frame as the camera gave it, at the sway's whole pixels, and the
      empty scene is moved by the remaining fraction of a pixel (interpolating
      the averaged empty scene, never the noisy frame);
    * both are smoothed alike (3×3 Gaussian), which keeps a painted line one
      pixel wide: a median would erase it, and a raindrop's streak beside it
      would draw it back;
    * the empty scene's colours are mapped to the frame's exposure (a
      per-channel gain and offset, fitted robustly on what did not move in the
      frame before: automatic gain, a passing cloud); the noise left is measured;
    * a pixel has changed when its colour leaves the empty scene's by more than
      the noise allows (a third of a pixel of slack for the registration), or
      when a boundary of the empty scene beside it (a painted line's edge) is no
      longer seen: a white body on a white line shows only that; a darkening that
      keeps the colour, lets what lies under it show through and has no body's
      colour beside it is a shadow, not a vehicle;
    * a change counts where it is at least ``min_width`` pixels wide both ways
      (a raindrop's streak is thinner) and lasts ``confirm_frames`` frames in a
      row (a streak is gone by the next frame, a vehicle stays): a region turns
      on then, and stays on while any of those frames still sees a change in it
      (a moving body's roof and windscreen may hide it for a frame). The reading
      of a frame is therefore given ``confirm_frames - 1`` frames later, stamped
      with that frame's own times;
    * the empty scene then follows the frame where nothing changed (when the
      frame sits on whole pixels), so dusk and fog roll in without a trigger.

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
        self.background: np.ndarray | None = None  # float32 BGR, the empty scene now (kept around the regions)
        self._patches: list[_Patch] = []
        self._health = DeviceHealth(device=device, kind="vision", expected_rate=expected_rate)
        self._times: list[float] = []
        self._last: tuple[bool, ...] = ()
        self._history: list[np.ndarray] = []  # the mosaic's lasting-size changes of the recent frames, oldest first
        self._moving: np.ndarray | None = None  # the last frame's change: kept out of the exposure fit
        self._pending: list[Frame] = []  # frames whose readings later frames confirm, oldest first

    @property
    def lag(self) -> int:
        """Frames between a frame and its reading (the frames that confirm it)."""
        return self.sight.confirm_frames - 1

    # -- learning --------------------------------------------------------------------
    def learn_background(self, images: Sequence[np.ndarray]) -> None:
        """The empty scene: the per-pixel median, so anything moving through it drops out."""
        sight = self.sight
        median = np.median(np.stack(list(images)), axis=0).astype(np.uint8)
        self.background = median.astype(np.float32)
        grey = cv2.cvtColor(median, cv2.COLOR_BGR2GRAY).astype(np.float32)
        step = sight.scene_step
        self._coarse = grey[::step, ::step].copy()  # the whole picture, coarsely: follows slow change too
        self._reference_contrast = max(1.0, float(self._coarse.std()))
        h, w = grey.shape
        x, y, ww, wh = self._window = _best_window(grey, sight.register_window)
        self._window_reference = grey[y:y + wh, x:x + ww].copy()
        self._window_detail = cv2.resize(_detail(cv2.GaussianBlur(self._window_reference, (3, 3), 0.7)),
                                         (max(1, ww // sight.tile), max(1, wh // sight.tile)),
                                         interpolation=cv2.INTER_AREA)
        self._hann = cv2.createHanningWindow((ww, wh), cv2.CV_32F)
        # The mosaic: each region's rectangle, side by side, GAP apart.
        masks = [r.mask((h, w)) for r in self.regions]
        tile = sight.tile
        self._patches, at = [], 0
        for rect, members in _patches(masks, (h, w), tile + 2):
            self._patches.append(_Patch(rect, members, at))
            at += rect[2] - rect[0] + GAP
        self._mosaic = (max(p.size[1] for p in self._patches), at - GAP)
        smooth = cv2.GaussianBlur(grey, (3, 3), 0.7)
        self._patch_contrast = [max(1.0, float(smooth[p.rect[1]:p.rect[3], p.rect[0]:p.rect[2]].std()))
                                for p in self._patches]
        mh, mw = self._mosaic
        inside = np.zeros((mh, mw), bool)
        region_masks = [np.zeros((mh, mw), np.uint8) for _ in self.regions]
        for p in self._patches:
            x0, y0, x1, y1 = p.rect
            inside[:y1 - y0, p.at:p.at + x1 - x0] = True
            for k in p.members:
                region_masks[k][:y1 - y0, p.at:p.at + x1 - x0] = masks[k][y0:y1, x0:x1]
        self._pixels = [np.flatnonzero(m) for m in region_masks]  # each region's pixels in the mosaic
        self._inside = inside
        grid = inside.copy()
        grid[1::2] = False
        grid[:, 1::2] = False
        self._samples = grid  # the pixels the exposure is fitted on
        # Cells near a region decide whether it can be seen; each region's own cells name it. Per patch:
        # (its cells' shape, watched cells, [(region, its cells)]).
        self._cells = []
        for p in self._patches:
            cells = (-(-p.size[0] // tile), -(-p.size[1] // tile))
            local = [region_masks[k][:p.size[1], p.at:p.at + p.size[0]] for k in p.members]
            near = cv2.dilate(np.max(local, axis=0), np.ones((2 * tile + 1, 2 * tile + 1), np.uint8))
            own = [(k, np.flatnonzero(cv2.resize(cv2.dilate(m, np.ones((tile + 1, tile + 1), np.uint8)), cells,
                                                 interpolation=cv2.INTER_AREA) > 0)) for k, m in zip(p.members, local)]
            self._cells.append((cells, cv2.resize(near, cells, interpolation=cv2.INTER_AREA) > 0, own))
        self._last = (False,) * len(self.regions)
        self._history, self._moving, self._pending = [], None, []

    # -- one frame -------------------------------------------------------------------
    def _register(self, image: np.ndarray) -> tuple[float, float, float]:
        x, y, w, h = self._window
        grey = cv2.cvtColor(image[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY).astype(np.float32)
        # A copy of the reference: phaseCorrelate writes the windowed picture back into its inputs.
        (dx, dy), response = cv2.phaseCorrelate(self._window_reference.copy(), grey, self._hann)
        return dx, dy, response

    def _usual_sharpness(self, image: np.ndarray, dx: float, dy: float) -> float:
        """How much of its fine detail the picture keeps overall (the registration square against the
        scene learnt in clear air): fog and dusk take it from every cell, a drop from a few."""
        x, y, w, h = self._window
        grey = cv2.cvtColor(cv2.getRectSubPix(image, (w, h), (x + dx + (w - 1) / 2, y + dy + (h - 1) / 2)),
                            cv2.COLOR_BGR2GRAY).astype(np.float32)
        cells = cv2.resize(_detail(cv2.GaussianBlur(grey, (3, 3), 0.7)), self._window_detail.shape[::-1],
                           interpolation=cv2.INTER_AREA)
        textured = self._window_detail > self.sight.texture_min
        if not textured.any():
            return 1.0
        return float(np.median(cells[textured] / self._window_detail[textured]))

    @staticmethod
    def _fit_exposure(f: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Per-channel gain and offset taking the empty scene ``b`` (N×3) to the frame ``f``, and the noise left:
        least squares, then again without the worst fifth of each channel (vehicles, rain)."""
        keep = np.ones(f.shape, np.float32)
        for _ in range(2):
            n = keep.sum(axis=0) + 1e-6
            mb, mf = (keep * b).sum(axis=0) / n, (keep * f).sum(axis=0) / n
            db = b - mb
            var = (keep * db * db).sum(axis=0) / n
            cov = (keep * db * (f - mf)).sum(axis=0) / n
            gain = np.where(var > 1e-3, cov / np.maximum(var, 1e-3), 1.0).clip(0.05, 4.0).astype(np.float32)
            offset = (mf - gain * mb).astype(np.float32)
            residual = np.abs(f - (b * gain + offset))
            cut = int(len(f) * 0.8)
            keep = (residual <= np.partition(residual, cut, axis=0)[cut]).astype(np.float32)
        noise = float(np.median(residual.max(axis=1))) * 1.4826
        return gain, offset, noise

    def occupancy(self, image: np.ndarray) -> tuple[bool, ...] | None:
        """Regions occupied in the frame ``lag`` frames before this one (confirmed by the frames since),
        or None: when the camera cannot see (health says why), and for the first frames after learning or
        a fault."""
        if self.background is None:
            raise RuntimeError(f"vision sensor {self.device}: learn the background first")
        sight = self.sight
        extra = self._health.extra
        step = sight.scene_step
        coarse = cv2.cvtColor(np.ascontiguousarray(image[::step, ::step]), cv2.COLOR_BGR2GRAY).astype(np.float32)
        # Contrast against the scene learnt in clear air: the empty scene follows fog and dusk, this does not.
        contrast = float(coarse.std()) / self._reference_contrast
        extra["contrast"] = round(contrast, 2)
        if contrast < sight.min_contrast:
            return self._fault("low_contrast", f"{contrast:.0%} of the clear-air contrast left")
        dx, dy, _ = self._register(image)
        extra["shift"] = [round(dx, 2), round(dy, 2)]
        if max(abs(dx), abs(dy)) > sight.max_shift:
            return self._fault("moved", f"picture shifted by ({dx:.1f}, {dy:.1f}) px")
        if math.hypot(dx, dy) < 0.15:
            dx = dy = 0.0  # a still camera, measured through noise
        ix, iy = round(dx), round(dy)
        fx, fy = dx - ix, dy - iy

        # The mosaic of patches: the frame as the camera gave it (at the sway's whole pixels) and the
        # empty scene moved by the rest of the sway.
        mh, mw = self._mosaic
        raw = np.zeros((mh, mw, 3), np.uint8)
        empty = np.zeros((mh, mw, 3), np.float32)
        for p in self._patches:
            x0, y0, x1, y1 = p.rect
            w, h = p.size
            raw[:h, p.at:p.at + w] = cv2.getRectSubPix(image, (w, h), (x0 + ix + (w - 1) / 2, y0 + iy + (h - 1) / 2))
            empty[:h, p.at:p.at + w] = (self.background[y0:y1, x0:x1] if fx == 0.0 and fy == 0.0 else
                                        cv2.getRectSubPix(self.background, (w, h),
                                                          (x0 - fx + (w - 1) / 2, y0 - fy + (h - 1) / 2)))
        frame = cv2.GaussianBlur(raw.astype(np.float32), (3, 3), 0.7)
        empty = cv2.GaussianBlur(empty, (3, 3), 0.7)
        fit = self._samples if self._moving is None else self._samples & ~self._moving
        gain, offset, _ = self._fit_exposure(frame[fit], empty[fit])
        expected = empty * gain + offset  # the empty scene in this frame's light
        # Each patch's own light, and what is left of its clear-air contrast: fog is thicker in one place than
        # another, and it takes a body's contrast with the ground as it takes the scene's.
        threshold = np.empty((mh, mw), np.float32)
        boundary = np.empty((mh, mw), np.float32)
        residuals, contrasts, shifts = [], [], []
        for p, reference in zip(self._patches, self._patch_contrast):
            w, h = p.size
            area = (slice(0, h), slice(p.at, p.at + w))
            local = frame[area][fit[area]] - expected[area][fit[area]]
            shift = np.median(local, axis=0) if len(local) else np.zeros(3, np.float32)
            expected[area] += shift
            shifts.append(shift)
            residuals.append(np.abs(local - shift))
            contrasts.append(min(1.0, max(0.25, float(cv2.cvtColor(expected[area], cv2.COLOR_BGR2GRAY).std())
                                          / reference)))
        residuals = np.concatenate(residuals)
        noise = float(np.median(residuals.max(axis=1))) * 1.4826  # in the channel that differs most
        # ... and in grey, where boundaries are watched: a step between two pixels has √2 of it.
        step_noise = float(np.median(np.abs(residuals @ np.array([0.114, 0.587, 0.299], np.float32)))) * 1.4826 * 1.41
        extra["noise"] = round(noise, 1)
        if noise > sight.max_noise:
            return self._fault("noisy", f"noise {noise:.0f} grey levels")
        for p, contrast in zip(self._patches, contrasts):
            w, h = p.size
            threshold[:, p.at:p.at + w] = max(sight.colour_threshold * contrast, sight.noise_factor * noise)
            boundary[:, p.at:p.at + w] = max(sight.edge_threshold * contrast, 3.0 * step_noise)
        kernel = np.ones((3, 3), np.uint8)
        # Colour: outside what the empty scene shows within a third of a pixel (registration slack).
        low = expected - sight.slack * (expected - cv2.erode(expected, kernel))
        high = expected + sight.slack * (cv2.dilate(expected, kernel) - expected)
        coloured = _channel_max(np.maximum(low - frame, frame - high)) > threshold
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        expected_grey = cv2.cvtColor(expected, cv2.COLOR_BGR2GRAY)
        covered = _lost_boundaries(expected_grey, grey, boundary, sight.edge_kept)
        # A shadow: darker by the same share in every channel ...
        ratio = (frame + 1.0) / (expected + 1.0)
        rmin, rmax = -_channel_max(-ratio), _channel_max(ratio)
        shadow = (rmin >= sight.shadow[0]) & (rmax <= sight.shadow[1]) & (rmax - rmin <= sight.shadow_spread)
        if shadow.any():
            # ... through which what lies under it still shows. Near a shadow's edge on plain ground the
            # step itself spoils the correlation: the darkening shade that reaches within two pixels of
            # grain seen through it is the same shadow. On a boundary of the empty scene (a line's edge)
            # the correlation is decisive. And a darkening beside a body's own colour is the body's pale
            # roof over a white line, not a shadow.
            textured = shadow & (_correlation(grey, expected_grey) >= sight.shadow_texture)
            structured = cv2.dilate(_boundaries(expected_grey, boundary).astype(np.uint8), kernel) > 0
            near = cv2.dilate(textured.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            solid = cv2.dilate((coloured & ~shadow).astype(np.uint8), kernel) > 0
            shadow &= (textured | (near & ~structured)) & ~solid
            # A shadow dims a painted line's edge by its own share of the light, never below the darkest
            # shadow's: an edge kept at less than that share of its step is under something opaque (a
            # body's front edge on a line that also lies in the body's own shadow), not in a shadow.
            opaque = _lost_boundaries(expected_grey, grey, boundary, sight.edge_kept * sight.shadow[0])
            changed = ((coloured | covered) & ~shadow) | (opaque & shadow)
        else:
            changed = coloured | covered
        changed &= self._inside  # the mosaic's gaps hold nothing

        # Sight: cells near a region that kept too little of their fine detail (a drop's refracted picture
        # of the scene is blurred far more than a 2-px blur takes away, though it keeps broad gradients).
        detail_frame, detail_expected = _detail(grey), _detail(expected_grey)
        blind_regions: set[int] = set()
        usual = None
        for p, (cells, watched, own) in zip(self._patches, self._cells):
            w, h = p.size
            expected_cells = cv2.resize(detail_expected[:h, p.at:p.at + w], cells, interpolation=cv2.INTER_AREA)
            kept = cv2.resize(detail_frame[:h, p.at:p.at + w], cells, interpolation=cv2.INTER_AREA) / \
                np.maximum(expected_cells, 1e-3)
            judged = (expected_cells > max(sight.texture_min, noise * 0.6)) & watched
            if not (judged & (kept < sight.blind_ratio * 1.5)).any():
                continue
            if usual is None:
                usual = self._usual_sharpness(image, dx, dy)
            blind = judged & (kept < sight.blind_ratio * max(usual, 1e-3))
            for k, mine in own:
                if self._last[k]:  # a vehicle standing on a region hides its texture; that is not a blind camera
                    blind.ravel()[mine] = False
            blind = (cv2.dilate(blind.astype(np.uint8), kernel) > 0).ravel()
            blind_regions.update(k for k, mine in own if blind[mine].any())
        if blind_regions:
            behind = [r.element for k, r in enumerate(self.regions) if k in blind_regions]
            extra["blind"] = behind
            return self._fault("obstructed", f"cannot see {', '.join(behind)}")
        extra["blind"] = []

        # The whole picture, coarsely: most of it unlike the empty scene is a moved or covered camera.
        weights = np.array([0.114, 0.587, 0.299], np.float32)
        residual = np.abs(coarse - (self._coarse * float(weights @ gain) + float(weights @ offset)))
        coarse_threshold = max(sight.colour_threshold, sight.noise_factor * noise)
        share = float(np.count_nonzero(residual > coarse_threshold)) / residual.size
        extra["scene_changed"] = round(share, 3)
        if share > self.scene_changed_share:
            return self._fault("moved", f"{share:.0%} of the picture differs from the empty scene")

        # A change counts where it is at least min_width pixels wide both ways and lasts confirm_frames
        # frames in a row: a raindrop's streak is thin and gone by the next frame, a vehicle is neither.
        runs = sight.confirm_frames
        self._moving = changed
        opening = np.ones((sight.min_width, sight.min_width), np.uint8)
        self._history = (self._history + [cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_OPEN, opening)
                                          > 0])[-(2 * runs - 1):]
        inputs = None
        if len(self._history) >= runs:
            judged_at = len(self._history) - runs  # the frame judged now: runs - 1 frames back
            lasting = np.zeros(changed.shape, bool)
            for start in range(max(0, judged_at - runs + 1), judged_at + 1):
                lasting |= np.logical_and.reduce(self._history[start:start + runs])
            lasting = lasting.ravel()
            later = [h.ravel() for h in self._history[judged_at:]]
            inputs = []
            for k, region in enumerate(self.regions):
                pixels = self._pixels[k]
                # On when a change lasted; once on, it stays on while any frame up to the newest still sees
                # a change there (a moving body's roof and windscreen can hide it for a frame).
                inputs.append(int(np.count_nonzero(lasting[pixels])) >= region.min_pixels
                              or (self._last[k] and any(int(np.count_nonzero(h[pixels])) >= region.min_pixels
                                                        for h in later)))
            self._last = inputs = tuple(inputs)

        # The empty scene follows the frame where nothing moved (slow light and fog, never a vehicle) and
        # follows the frame's light elsewhere (the fitted exposure): a place a vehicle stood while dusk fell
        # must not keep the daylight. Only a frame on whole pixels of it: an interpolated frame would blur it.
        alpha = 1.0 / max(1.0, sight.adapt_seconds * self.expected_rate)
        if abs(fx) < 0.1 and abs(fy) < 0.1:
            still = cv2.dilate((changed | shadow).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
            source = raw.astype(np.float32)
            for p, shift in zip(self._patches, shifts):
                x0, y0, x1, y1 = p.rect
                w, h = p.size
                empty_now = self.background[y0:y1, x0:x1]
                target = np.where(still[:h, p.at:p.at + w, None], source[:h, p.at:p.at + w],
                                  empty_now * gain + (offset + shift))
                cv2.accumulateWeighted(target, empty_now, alpha)
        cv2.accumulateWeighted(coarse, self._coarse, alpha, (residual <= coarse_threshold).astype(np.uint8))
        return inputs

    def _fault(self, name: str, detail: str) -> None:
        self._history, self._moving = [], None  # nothing seen across a fault confirms anything after it
        self._pending = []
        self._health.alive = False
        self._health.extra["line"] = name
        self._health.last_error = f"{FAULTS[name]} ({detail})"
        return None

    def process(self, frame: Frame) -> CourseInputs | None:
        """The reading of the frame ``lag`` frames before this one, confirmed by the frames since, stamped
        with that frame's times; None while the camera cannot see (health says why) or right after learning
        or a fault."""
        self._health.last_error = None
        self._health.alive = True
        self._health.extra["line"] = "ok"
        inputs = self.occupancy(frame.image)
        if self._health.alive:
            self._pending = (self._pending + [frame])[-(self.lag + 1):]
        shown = self._pending[0] if inputs is not None and len(self._pending) > self.lag else None
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
