from datetime import datetime, timezone

import cv2
import numpy as np
import pytest

from devices.camera import Frame
from devices.camera.zones import Region, VisionSensor


def _scene(box: tuple[int, int] | None = None) -> np.ndarray:
    image = np.full((120, 160, 3), (70, 110, 70), np.uint8)
    cv2.line(image, (80, 0), (80, 119), (245, 245, 245), 1)
    if box is not None:
        x, y = box
        cv2.rectangle(image, (x, y), (x + 12, y + 6), (0, 200, 255), -1)
    return image


def _frame(image, seq=0):
    return Frame(image, datetime.now(timezone.utc), float(seq), seq)


def test_zone_and_line_occupancy_follow_the_object():
    sensor = VisionSensor("vision-1", [Region("item.line", "line", ((80, 0), (80, 119))),
                                       Region("item.box", "zone", ((10, 10), (50, 10), (50, 50), (10, 50)))])
    sensor.learn_background([_scene((x, 100)) for x in range(0, 150, 15)])  # a vehicle passing drops out
    assert sensor.process(_frame(_scene())).inputs == (False, False)
    assert sensor.process(_frame(_scene((75, 60)))).inputs == (True, False)
    assert sensor.process(_frame(_scene((20, 20)))).inputs == (False, True)
    reading = sensor.process(_frame(_scene((60, 60))))
    assert reading.inputs == (False, False) and reading.device == "vision-1"
    assert sensor.health().alive and sensor.health().readings == 4


def test_a_covered_camera_reports_bad_health_instead_of_occupancy():
    sensor = VisionSensor("vision-1", [Region("item.line", "line", ((80, 0), (80, 119)))])
    sensor.learn_background([_scene()])
    assert sensor.process(_frame(np.zeros((120, 160, 3), np.uint8))) is None
    health = sensor.health()
    assert not health.alive and "camera moved or covered" in health.last_error
    assert sensor.process(_frame(_scene())) is not None and sensor.health().alive


def test_regions_need_enough_points():
    with pytest.raises(ValueError, match="at least 3 points"):
        Region("a.zone", "zone", ((0, 0), (1, 1)))
    with pytest.raises(ValueError, match="kind"):
        Region("a.x", "circle", ((0, 0), (1, 1)))
