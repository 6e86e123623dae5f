"""Face checks per second on one core (Haar frontal-face cascade), to choose FaceWatch's interval.

Inputs: scikit-image's astronaut photo (one face) on a D1 704×576 and a 720p
frame, the same photo tiled twice (two faces), and a frame of the demo's
in-car camera (examroom.simulation.rider). CPU time is measured with
time.process_time on one thread. Run: python bench/face_detection.py
"""

from __future__ import annotations

import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from examroom.faces.detection import FaceDetector  # noqa: E402

cv2.setNumThreads(1)


def on_canvas(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """The photo unscaled on a grey frame of the camera's size (stretching it would distort the face)."""
    canvas = np.full((height, width, 3), 128, np.uint8)
    canvas[:image.shape[0], :image.shape[1]] = image[:height, :width]
    return canvas


def main() -> None:
    from skimage import data

    from examroom.simulation.cameras import RIDER_SIZE
    from examroom.simulation.rider import RiderRenderer

    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    detector = FaceDetector()
    cases = {"704x576 one face": on_canvas(face, 704, 576),
             "1280x720 one face": on_canvas(face, 1280, 720),
             "1280x720 two faces": on_canvas(np.hstack([face, face]), 1280, 720),
             "%dx%d demo in-car camera" % RIDER_SIZE: RiderRenderer(*RIDER_SIZE).render({}, "car-V2", 0.0)}
    for name, image in cases.items():
        count = detector.check(image).count
        n, cpu = 0, time.process_time()
        while time.process_time() - cpu < 2.0:
            detector.check(image)
            n += 1
        ms = (time.process_time() - cpu) / n * 1000
        print(f"{name}: {count} face(s) found, {ms:.1f} ms CPU per check = {1000 / ms:.1f} checks/s/core; "
              f"at one check per 2 s a core serves {2000 / ms:.0f} cameras")


if __name__ == "__main__":
    main()
