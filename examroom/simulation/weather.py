"""Mountain weather on a simulated camera: fog, rain, dusk and night, a shaking mast, a drop or dirt on the lens.

Each condition turns a clean rendered frame into what a county course's camera
would deliver at clock time ``t``: always with sensor noise (read noise plus
shot noise, amplified by the camera's automatic gain when the light falls),
and with the weather arriving gradually where it does in the world (fog rolls
in, the light fades) or at once where it does (a drop hits the lens). All of it
is numpy and OpenCV on the frame; nothing here knows about the vision sensor.

The weathers are deterministic for a given seed, so a bench run can be repeated.

    sky = weather("fog", seed=1, size=(640, 360))
    degraded = sky.apply(clean_frame, t)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

CONDITIONS = ("clear", "fog", "rain", "dusk", "night", "shake", "drop", "dirt")
# The conditions that blind part of the picture: a sensor must name the fault, never report an event.
OBSTRUCTIONS = ("drop", "dirt")


def _smooth_field(rng: np.random.Generator, size: tuple[int, int], cells: int) -> np.ndarray:
    """A smooth random field in [0, 1] over ``size`` (w, h): coarse noise, upsampled bicubically."""
    w, h = size
    coarse = rng.random((max(2, h * cells // w), cells)).astype(np.float32)
    big = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    lo, hi = float(big.min()), float(big.max())
    return (big - lo) / max(1e-6, hi - lo)


@dataclass
class Camera:
    """The camera's own electronics: light level in, noisy picture out (automatic gain up to ``max_gain``)."""

    read_noise: float = 1.2  # grey levels at unit gain
    shot_noise: float = 0.12  # × sqrt(signal)
    max_gain: float = 6.0  # 36 dB: what a course camera's automatic gain reaches at night
    target: float = 0.8  # the exposure the automatic gain aims for, as a share of daylight

    def expose(self, scene: np.ndarray, light: float, rng: np.random.Generator) -> np.ndarray:
        """``scene`` float32 in daylight grey levels; ``light`` the share of daylight reaching it."""
        gain = min(self.max_gain, max(1.0, self.target / max(light, 1e-3)))
        signal = scene * light
        # sqrt(read² + shot² · max(signal, 0)), then signal + noise · sigma, scaled and clipped: the
        # same float32 operations in the same order, in place (a fifth of this method's time went
        # to the temporaries of a 640×360×3 frame).
        sigma = np.maximum(signal, 0.0)
        sigma *= self.shot_noise ** 2
        sigma += self.read_noise ** 2
        np.sqrt(sigma, out=sigma)
        noisy = rng.standard_normal(scene.shape, dtype=np.float32)
        noisy *= sigma
        noisy += signal
        noisy *= gain
        return np.clip(noisy, 0, 255, out=noisy).astype(np.uint8)


@dataclass
class Weather:
    """One condition. ``apply(image, t)`` gives the degraded frame; ``starts`` when the condition begins."""

    name: str
    size: tuple[int, int]  # (width, height) of the frames it will be given
    seed: int = 0
    starts: float = 0.0  # clock seconds: the weather arrives (ramps from here) / the lens is hit
    ramp: float = 20.0  # seconds over which a gradual condition reaches full strength
    where: tuple[float, float] | None = None  # pixel centre of a drop or dirt; None: the middle
    camera: Camera = field(default_factory=Camera)

    def __post_init__(self) -> None:
        if self.name not in CONDITIONS:
            raise ValueError(f"unknown weather {self.name!r}; one of {', '.join(CONDITIONS)}")
        self.rng = np.random.default_rng(self.seed)
        w, h = self.size
        setup = np.random.default_rng(self.seed + 7919)
        # Where the fog is thicker: a field twice the picture's width that the wind drifts across it.
        self._fog = _smooth_field(setup, (2 * w, h), 12)
        self._phases = setup.uniform(0, 2 * math.pi, 4)
        self._lens = self._make_lens(setup) if self.name in OBSTRUCTIONS else None

    # -- strength over time -------------------------------------------------------
    def strength(self, t: float) -> float:
        """0 before the weather, rising to 1 over ``ramp`` seconds (at once for a lens hit)."""
        if t < self.starts:
            return 0.0
        if self.name in OBSTRUCTIONS or self.name == "shake" or self.ramp <= 0:
            return 1.0
        return min(1.0, (t - self.starts) / self.ramp)

    # -- the conditions -------------------------------------------------------------
    def apply(self, image: np.ndarray, t: float) -> np.ndarray:
        s = self.strength(t)
        scene = image.astype(np.float32)
        light = 1.0
        if self.name == "fog" and s > 0:
            scene = self._fog_over(scene, s, t)
        elif self.name == "rain" and s > 0:
            scene, light = self._rain_over(scene, s)
        elif self.name == "dusk":
            light = 1.0 - 0.75 * s  # a quarter of daylight at the end
            scene = scene * np.array([1.08, 1.0, 0.9], np.float32) if s > 0 else scene  # the light reddens
        elif self.name == "night":
            light = 1.0 - 0.9 * s  # a floodlit course at night: a tenth of daylight
            scene = scene * np.array([0.95, 1.0, 1.1], np.float32) if s > 0 else scene  # sodium-lamp orange
        elif self.name == "shake" and s > 0:
            scene = self._shaken(scene, t)
        elif self.name in OBSTRUCTIONS and s > 0:
            scene = self._through_lens(scene)
        return self.camera.expose(scene, light, self.rng)

    def shift(self, t: float) -> tuple[float, float]:
        """The mast's sway at ``t`` in pixels (x, y): two wind modes, within ±3 px."""
        if self.name != "shake" or t < self.starts:
            return 0.0, 0.0
        p = self._phases
        dx = 2.0 * math.sin(2 * math.pi * 0.7 * t + p[0]) + 1.0 * math.sin(2 * math.pi * 2.3 * t + p[1])
        dy = 1.8 * math.sin(2 * math.pi * 0.9 * t + p[2]) + 1.2 * math.sin(2 * math.pi * 1.9 * t + p[3])
        return dx, dy

    def _fog_over(self, scene: np.ndarray, s: float, t: float) -> np.ndarray:
        """Koschmieder: the scene seen through fog keeps ``trans`` of itself and adds airlight."""
        h, w = scene.shape[:2]
        drift = w - int(t * 3.0) % w  # the fog bank moves across the picture, 3 px/s
        density = self._fog[:h, drift:drift + w]
        thickness = s * (0.35 + 0.35 * density)  # up to 70 % of the scene's light lost to fog
        trans = (1.0 - thickness)[..., None]
        return scene * trans + np.float32(205.0) * (1.0 - trans)

    def _rain_over(self, scene: np.ndarray, s: float) -> tuple[np.ndarray, float]:
        """Overcast light, a wet haze, and streaks: drops lit against the ground, blurred by their fall."""
        h, w = scene.shape[:2]
        haze = 0.12 * s
        scene = scene * (1 - haze) + np.float32(170.0) * haze
        streaks = np.zeros((h, w), np.float32)
        count = int(600 * s)
        x = self.rng.integers(0, w, count)
        y = self.rng.integers(0, h, count)
        near = self.rng.random(count) < 0.2  # drops close to the lens: wider, longer, brighter
        length = np.where(near, self.rng.integers(20, 40, count), self.rng.integers(8, 22, count))
        angle = np.radians(self.rng.normal(78, 3, count))
        brightness = np.where(near, self.rng.uniform(0.35, 0.7, count), self.rng.uniform(0.15, 0.45, count))
        for x0, y0, n, a, b, wide in zip(x, y, length, angle, brightness, near):
            x1, y1 = int(x0 + n * math.cos(a)), int(y0 + n * math.sin(a))
            cv2.line(streaks, (int(x0), int(y0)), (x1, y1), float(b), 2 if wide else 1, cv2.LINE_AA)
        alpha = np.clip(streaks, 0, 1)[..., None]
        return scene * (1 - alpha) + np.float32(235.0) * alpha, 1.0 - 0.35 * s

    def _shaken(self, scene: np.ndarray, t: float) -> np.ndarray:
        dx, dy = self.shift(t)
        h, w = scene.shape[:2]
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        return cv2.warpAffine(scene, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    def _make_lens(self, rng: np.random.Generator) -> dict:
        """What sits on the lens: its soft-edged mask (out of focus) and how it changes the light."""
        w, h = self.size
        cx, cy = self.where or (w / 2, h / 2)
        mask = np.zeros((h, w), np.float32)
        if self.name == "drop":
            r = 0.06 * min(w, h) + 8  # ~30 px on 640×360
            cv2.ellipse(mask, (int(cx), int(cy)), (int(r), int(r * 0.85)), float(rng.uniform(0, 180)), 0, 360, 1.0, -1,
                        cv2.LINE_AA)
            mask = cv2.GaussianBlur(mask, (0, 0), 0.15 * r)  # on the lens, far out of focus: a soft edge
            return {"mask": mask, "centre": (cx, cy), "radius": r}
        for _ in range(5):  # a splash of mud: a few blotches around one spot
            ox, oy = rng.normal(0, 10, 2)
            axes = (int(rng.uniform(8, 20)), int(rng.uniform(6, 16)))
            cv2.ellipse(mask, (int(cx + ox), int(cy + oy)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 4.0) * 0.92  # out of focus; a little light still gets through
        colour = np.array([55, 75, 90], np.float32)  # brown mud, BGR
        return {"mask": mask, "colour": colour}

    def _through_lens(self, scene: np.ndarray) -> np.ndarray:
        lens = self._lens
        alpha = lens["mask"][..., None]
        if self.name == "dirt":
            # Dirt scatters some of the light around it too: what shows through is blurred.
            seen = cv2.GaussianBlur(scene, (0, 0), 3.0)
            return scene * (1 - alpha) + (seen * 0.25 + lens["colour"] * 0.75) * alpha
        # A water drop is a small lens of its own: it shows a shrunken, inverted and very blurred
        # picture of what lies around it, a little brighter, with a dark rim where light is bent away.
        h, w = scene.shape[:2]
        cx, cy = lens["centre"]
        r = lens["radius"]
        m = cv2.getRotationMatrix2D((cx, cy), 180.0, 0.6)
        refracted = cv2.warpAffine(scene, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        refracted = cv2.GaussianBlur(refracted, (0, 0), 0.25 * r) * 1.08 + 6.0
        rim = np.clip(lens["mask"] * (1 - lens["mask"]) * 4, 0, 1)[..., None] * 0.3
        out = scene * (1 - alpha) + refracted * alpha
        return out * (1 - rim)


def weather(name: str, size: tuple[int, int], seed: int = 0, **kwargs) -> Weather:
    return Weather(name=name, size=size, seed=seed, **kwargs)
