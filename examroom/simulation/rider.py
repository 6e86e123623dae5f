"""The simulated in-car camera: the candidate in the driver's seat, facing the lens.

The face is a real photograph, so OpenCV's detector (``examroom.faces.detection``) finds
it as it would a candidate's: a crop of NASA's public-domain portrait of
Eileen Collins (the ``astronaut`` picture of scikit-image's data set), shipped
as ``rider_face.jpg``. A :class:`LookAway` script makes the candidate lean out
of the picture now and then, so the face watch of ``examroom demo`` has frames
without a face to flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import cv2
import numpy as np

FACE_FILE = files("examroom.simulation") / "rider_face.jpg"  # package data (setup.cfg package_data)
CABIN = (48, 44, 40)  # BGR
WINDOW = (150, 130, 110)
SEAT = (60, 60, 70)
# Share of the frame height the head-and-shoulders picture fills.
RIDER_HEIGHT = 0.82


@dataclass(frozen=True)
class LookAway:
    """Every ``period`` seconds the candidate leans out of the picture for ``duration`` seconds."""

    period: float = 50.0
    duration: float = 6.0

    def __post_init__(self) -> None:
        if not 0 < self.duration < self.period:
            raise ValueError(f"look-away of {self.duration} s must be shorter than its period of {self.period} s")

    def away(self, t: float) -> bool:
        """Whether the candidate is out of the picture at clock time ``t`` (the last part of each period)."""
        return t % self.period >= self.period - self.duration


def load_face() -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(FACE_FILE.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise RuntimeError(f"the rider picture {FACE_FILE} is unreadable")
    return image


def _feathered_oval(height: int, width: int) -> np.ndarray:
    """An alpha mask (0..1, height × width × 1): the head and shoulders, soft at the edge, no photo corners."""
    mask = np.zeros((height, width), np.float32)
    cv2.ellipse(mask, (width // 2, height // 2 + height // 8), (width // 2 - 4, height // 2 + height // 8),
                0, 0, 360, 1.0, -1)
    blur = max(3, (min(height, width) // 10) | 1)
    return cv2.GaussianBlur(mask, (blur, blur), 0)[..., None]


class RiderRenderer:
    """Draws the in-car view; the same interface as the course renderers, for a ``SimCamera``."""

    def __init__(self, width: int, height: int, script: LookAway = LookAway(), start: float = 0.0) -> None:
        """``script`` runs from clock time ``start``."""
        self.width, self.height = width, height
        self.start = start
        self.script = script
        face = load_face()
        scale = height * RIDER_HEIGHT / face.shape[0]
        self._rider = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA).astype(np.float32)
        self._alpha = _feathered_oval(*self._rider.shape[:2])
        self._base = self._cabin()

    def _cabin(self) -> np.ndarray:
        w, h = self.width, self.height
        image = np.full((h, w, 3), CABIN, np.uint8)
        cv2.rectangle(image, (0, 0), (w, int(h * 0.4)), WINDOW, -1)  # the rear window behind the seat
        cv2.rectangle(image, (int(w * 0.3), int(h * 0.26)), (int(w * 0.7), h), SEAT, -1)
        return image

    def _place(self, image: np.ndarray, left: int) -> None:
        """Blend the rider into the picture with the picture's left edge at ``left`` (may be off-frame)."""
        rh, rw = self._rider.shape[:2]
        top = self.height - rh
        x0, x1 = max(0, left), min(self.width, left + rw)
        if x1 <= x0:
            return
        region = image[top:, x0:x1].astype(np.float32)
        alpha = self._alpha[:, x0 - left:x1 - left]
        rider = self._rider[:, x0 - left:x1 - left]
        image[top:, x0:x1] = (rider * alpha + region * (1 - alpha)).astype(np.uint8)

    def render(self, truths, caption: str, mono: float = 0.0) -> np.ndarray:
        """The rider as the script has them at clock time ``mono`` (``truths``: the course's
        vehicles, not in this picture)."""
        image = self._base.copy()
        rw = self._rider.shape[1]
        centred = (self.width - rw) // 2
        # Leaning towards the side window: only a shoulder stays in the picture.
        self._place(image, -rw * 3 // 4 if self.script.away(mono - self.start) else centred)
        cv2.putText(image, caption, (8, self.height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                    cv2.LINE_AA)
        return image
