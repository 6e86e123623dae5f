"""Face detection on real photographs: none, one and two faces."""

from pathlib import Path

import numpy as np
import pytest

from examroom.faces.detection import FaceDetector, shared_detector
from tests.examroom.face_pictures import jpeg, no_face, one_face, two_faces


@pytest.mark.parametrize("picture, count", [(no_face, 0), (one_face, 1), (two_faces, 2)])
def test_counts_faces_in_real_photos(picture, count):
    check = shared_detector().check(picture())
    assert check.count == count == len(check.boxes)
    assert check.ok is (count == 1)


def test_the_box_is_on_the_astronauts_face_and_the_tiled_copy_is_found_at_its_offset():
    (x, y, w, h), = shared_detector().check(one_face()).boxes
    assert 150 < x < 210 and 40 < y < 100 and 70 < w < 130  # her face, not the flag or the helmet
    left, right = shared_detector().check(two_faces()).boxes
    assert abs((right[0] - left[0]) - 512) < 10


@pytest.mark.parametrize("width, height", [(704, 576), (1280, 720)])
def test_a_face_within_a_larger_flat_frame_is_counted_once(width, height):
    canvas = np.full((height, width, 3), 128, np.uint8)
    canvas[:512, :512] = one_face()
    assert shared_detector().check(canvas).count == 1


def test_grey_images_blank_frames_and_encoded_pictures():
    detector = FaceDetector()
    assert detector.check(np.full((480, 640, 3), 128, np.uint8)).count == 0
    assert detector.check(one_face()[:, :, 1]).count == 1
    assert detector.check_encoded(jpeg(one_face())).ok
    assert shared_detector().check(no_face()).describe() == "未检测到人脸"
    assert shared_detector().check(two_faces()).describe() == "检测到2张人脸"


def test_refuses_what_is_not_a_picture():
    with pytest.raises(ValueError, match="shape"):
        shared_detector().check(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="decodable"):
        shared_detector().check_encoded(b"not a picture")
    with pytest.raises(RuntimeError, match="could not be loaded"):
        FaceDetector(cascade=Path("/nonexistent.xml"))
