"""Face detection on camera frames and check-in photos (OpenCV Haar cascade).

The frontal-face cascade ships inside the opencv-python-headless 4.x wheel
(``cv2.data.haarcascades``); the 5.0 wheels dropped it, hence the ``<5`` pin in
setup.cfg. Nothing is downloaded at run time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"
# Detector tuning: 5 neighbours suppresses most false hits on textured course
# backgrounds; faces smaller than 1/10 of the shorter image side are too small
# to tell who the candidate is, so they are not counted. No histogram
# equalisation: on a photo within a flat camera frame it raised false faces.
SCALE_FACTOR = 1.1
MIN_NEIGHBOURS = 5
MIN_FACE_FRACTION = 0.1


@dataclass(frozen=True)
class FaceCheck:
    """How many faces a picture shows and where (x, y, width, height in pixels)."""

    count: int
    boxes: tuple[tuple[int, int, int, int], ...]

    @property
    def ok(self) -> bool:
        """Exactly one face: the candidate alone, looking at the camera."""
        return self.count == 1

    def describe(self) -> str:
        """Why the picture is (not) acceptable, in Chinese for the supervisor."""
        if self.count == 0:
            return "未检测到人脸"
        if self.count == 1:
            return "检测到一张人脸"
        return f"检测到{self.count}张人脸"


class FaceDetector:
    """Counts frontal faces in BGR images; one instance may be shared by threads."""

    def __init__(self, cascade: Path | None = None) -> None:
        path = cascade or Path(cv2.data.haarcascades) / CASCADE_FILE
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise RuntimeError(f"face cascade {path} could not be loaded")
        # detectMultiScale is not documented as thread-safe on one classifier.
        self._lock = threading.Lock()

    def check(self, image: np.ndarray) -> FaceCheck:
        """Detect faces in a BGR (or grey) image."""
        if image.ndim != 2 and (image.ndim != 3 or image.shape[2] != 3):
            raise ValueError(f"expected a BGR or grey image, got an array of shape {image.shape}")
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        side = max(1, int(min(grey.shape[:2]) * MIN_FACE_FRACTION))
        with self._lock:
            found = self._cascade.detectMultiScale(grey, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBOURS,
                                                   minSize=(side, side))
        boxes = tuple(sorted(tuple(int(v) for v in box) for box in found))
        return FaceCheck(len(boxes), boxes)

    def check_encoded(self, picture: bytes) -> FaceCheck:
        """Detect faces in a JPEG/PNG picture; ValueError if it does not decode."""
        image = cv2.imdecode(np.frombuffer(picture, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError("picture is not a decodable image")
        return self.check(image)


_shared: FaceDetector | None = None
_shared_lock = threading.Lock()


def shared_detector() -> FaceDetector:
    """One process-wide detector (loading the cascade takes tens of milliseconds)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FaceDetector()
        return _shared
