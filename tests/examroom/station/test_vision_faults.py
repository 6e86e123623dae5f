"""A camera that cannot see is a named device fault, in the words the supervisor reads."""

from datetime import datetime, timezone

import cv2
import numpy as np

from devices.camera import Frame, FrameFanout
from devices.camera.zones import Region, VisionRunner, VisionSensor
from examroom.station.device_health import device_fault, device_status
from examroom.simulation.cameras import GROUND, PAINT, ZONE, ground_texture
from examroom.simulation.weather import weather

SIZE = (640, 360)


def _course() -> np.ndarray:
    image = np.full((360, 640, 3), GROUND, np.uint8)
    cv2.rectangle(image, (320, 90), (560, 270), ZONE, -1)
    cv2.line(image, (320, 90), (320, 270), PAINT, 1)
    ground_texture(image)
    return image


def test_a_drop_on_the_lens_is_a_vision_fault_naming_the_camera_and_what_it_cannot_see():
    sensor = VisionSensor("vision-hill", [Region("c4_hill.stake_line", "line", ((320, 100), (320, 260))),
                                          Region("c4_hill.zone_edge", "line", ((330, 100), (330, 260)))])
    runner = VisionRunner(sensor, FrameFanout(), submit=lambda reading: None)
    assert runner.device == "vision-hill" and runner.items == ("c4_hill",)
    clear = weather("clear", SIZE, seed=1)
    sensor.learn_background([clear.apply(_course(), 0.0) for _ in range(3)])
    sensor.process(Frame(clear.apply(_course(), 0.1), datetime.now(timezone.utc), 0.1, 1))
    assert device_fault(device_status(runner, None, 0.2), settings=None) is None
    drop = weather("drop", SIZE, seed=1, where=(320.0, 180.0))
    assert sensor.process(Frame(drop.apply(_course(), 0.2), datetime.now(timezone.utc), 0.2, 2)) is None
    status = device_status(runner, None, 0.3)
    assert not status["alive"] and status["line"] == "obstructed"
    reason = device_fault(status, settings=None)
    assert reason.startswith("视觉传感器 vision-hill 镜头被遮挡"), reason
    assert "c4_hill.stake_line" in reason
