"""Real pictures for the face tests: scikit-image's astronaut photo (one face), tiled, and a face-free frame."""

import cv2
import numpy as np
from skimage import data


def one_face() -> np.ndarray:
    """Eileen Collins' NASA portrait, BGR 512×512: exactly one frontal face."""
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def two_faces() -> np.ndarray:
    return np.hstack([one_face(), one_face()])


def no_face() -> np.ndarray:
    """The cat photo from the same data set: a real scene with no human face."""
    return cv2.cvtColor(data.chelsea(), cv2.COLOR_RGB2BGR)


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image)[1].tobytes()
