"""Public-domain photos of real people for the 1:1 verification tests and bench, and degraded copies.

The photos are not in the repository: they are in the folder named by ``EXAMROOM_FACE_PHOTOS``
(default ../shared/data/faces beside the repository, whose README gives each file's provenance). Degraded copies
(JPEG quality, scale, brightness, grey) are made at run time, never stored.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from tests.shared_data import FACES_DIR

FOLDER = Path(os.environ.get("EXAMROOM_FACE_PHOTOS", FACES_DIR))

PHOTOS = {  # file -> person
    "obama_2012_official_portrait.jpg": "obama",
    "obama_2009_joint_session.jpg": "obama",
    "obama_2010_blue_room.jpg": "obama",
    "biden_2010_blue_room.jpg": "biden",
    "biden_2013_official_portrait.jpg": "biden",
    "collins_nasa_portrait.png": "collins",
}
PROFILE_ONLY = "varshney_camera_profile.png"  # a profile: the frontal detector finds no face
PATCH_FALSE_POSITIVE = "collins_nasa_portrait.png"  # the mission patch is a weak detection


def available() -> bool:
    return all((FOLDER / name).is_file() for name in [*PHOTOS, PROFILE_ONLY])


@lru_cache(maxsize=None)
def _original(name: str) -> np.ndarray:
    image = cv2.imread(str(FOLDER / name), cv2.IMREAD_COLOR)  # OpenCV applies the EXIF orientation
    if image is None:
        raise FileNotFoundError(FOLDER / name)
    return image


def photo(name: str) -> np.ndarray:
    """The photo as BGR, a fresh copy."""
    return _original(name).copy()


def fit_area(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scaled (aspect kept) so its pixel count is about width × height."""
    s = ((width * height) / (image.shape[0] * image.shape[1])) ** 0.5
    size = (max(1, round(image.shape[1] * s)), max(1, round(image.shape[0] * s)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)


def on_frame(image: np.ndarray, width: int = 640, height: int = 480) -> np.ndarray:
    """The photo fitted inside a camera frame of exactly width × height, on grey."""
    s = min(width / image.shape[1], height / image.shape[0])
    small = cv2.resize(image, (max(1, int(image.shape[1] * s)), max(1, int(image.shape[0] * s))),
                       interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 110, np.uint8)
    y, x = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    frame[y:y + small.shape[0], x:x + small.shape[1]] = small
    return frame


def jpeg_quality(image: np.ndarray, quality: int) -> np.ndarray:
    data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def brightness(image: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(image.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def encoded(image: np.ndarray, ext: str = ".jpg") -> bytes:
    return cv2.imencode(ext, image)[1].tobytes()


VARIANTS = {
    "clean 640x480": lambda im: fit_area(im, 640, 480),
    "JPEG q30": lambda im: jpeg_quality(fit_area(im, 640, 480), 30),
    "320x240": lambda im: fit_area(im, 320, 240),
    "grey": lambda im: grey(fit_area(im, 640, 480)),
    "dark -30%": lambda im: brightness(fit_area(im, 640, 480), 0.7),
    "bright +30%": lambda im: brightness(fit_area(im, 640, 480), 1.3),
    "all, dark": lambda im: jpeg_quality(brightness(grey(fit_area(im, 320, 240)), 0.7), 30),
    "all, bright": lambda im: jpeg_quality(brightness(grey(fit_area(im, 320, 240)), 1.3), 30),
}


def side_by_side(left: str, right: str, width: int = 640, height: int = 480) -> np.ndarray:
    """Two photos pasted into one frame of width × height: a picture with two people."""
    return np.hstack([on_frame(photo(left), width // 2, height), on_frame(photo(right), width - width // 2, height)])
