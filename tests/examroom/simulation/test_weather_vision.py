"""A vision sensor in simulated mountain weather, at a small size: no event it cannot see, a named fault instead."""

from datetime import datetime, timezone

import cv2
import numpy as np

from devices.camera import Frame
from devices.camera.zones import Region, VisionSensor
from examroom.simulation.cameras import GROUND, PAINT, ZONE, ground_texture
from examroom.simulation.weather import weather

FPS = 15.0
SIZE = (640, 360)  # the demo camera's: a drop covers a few of the sensor's 16 px cells, as on a real lens
LINE = Region("hill.stake_line", "line", ((320, 100), (320, 260)), min_pixels=2)
BASE = np.full((360, 640, 3), GROUND, np.uint8)
cv2.rectangle(BASE, (60, 60), (260, 120), ZONE, -1)
cv2.rectangle(BASE, (320, 90), (560, 270), ZONE, -1)  # an item's zone, the watched line its entry
cv2.line(BASE, (320, 90), (320, 270), PAINT, 1)
ground_texture(BASE)


def _course(box: tuple[int, int] | None = None) -> np.ndarray:
    image = BASE.copy()
    if box is not None:
        cv2.rectangle(image, (box[0], box[1]), (box[0] + 12, box[1] + 8), (228, 232, 236), -1)  # a white body
    return image


def _sensor() -> VisionSensor:
    sensor = VisionSensor("vision-hill", [LINE], expected_rate=FPS)
    clear = weather("clear", SIZE, seed=3)
    sensor.learn_background([clear.apply(_course(), i / FPS) for i in range(5)])
    return sensor


def _run(sensor, sky, boxes):
    """Frames at FPS through ``sky``; returns (times the line read on, first fault time, fault name)."""
    on, fault, name = [], None, None
    for i, box in enumerate(boxes):
        t = i / FPS
        reading = sensor.process(Frame(sky.apply(_course(box), t), datetime.now(timezone.utc), t, i))
        if reading is not None and reading.inputs[0]:
            on.append(reading.mono)
        if not sensor.health().alive and fault is None:
            fault, name = t, sensor.health().extra["line"]
    return on, fault, name


def test_a_drop_on_the_lens_over_the_line_is_a_named_fault_within_a_second_and_never_an_event():
    sensor = _sensor()
    sky = weather("drop", SIZE, seed=1, starts=1.0, where=(320.0, 180.0))
    on, fault, name = _run(sensor, sky, [None] * 30)
    assert on == []
    assert name == "obstructed" and 1.0 <= fault <= 2.0
    assert sensor.health().extra["blind"] == ["hill.stake_line"]
    assert "lens" in sensor.health().last_error


def test_dirt_on_the_lens_over_the_line_is_a_named_fault():
    sensor = _sensor()
    on, fault, name = _run(sensor, weather("dirt", SIZE, seed=2, starts=0.5, where=(320.0, 180.0)), [None] * 30)
    assert on == [] and name == "obstructed" and fault <= 1.5


def test_a_shaking_mast_gives_no_event_and_a_vehicle_is_still_seen():
    sensor = _sensor()
    sky = weather("shake", SIZE, seed=4)
    boxes = [None] * 20 + [(312, 170)] * 5 + [None] * 3
    on, fault, _ = _run(sensor, sky, boxes)
    assert fault is None
    assert on and all(20 / FPS <= t < 25 / FPS for t in on), on
    assert max(abs(v) for v in sensor.health().extra["shift"]) > 0.3  # it did register the sway


def test_fog_rolling_in_and_dusk_keep_the_background_and_the_vehicle_is_seen():
    for name in ("fog", "dusk"):
        sensor = _sensor()
        sky = weather(name, SIZE, seed=5, ramp=1.0)
        boxes = [None] * 20 + [(312, 170)] * 4 + [None] * 2
        on, fault, _ = _run(sensor, sky, boxes)
        assert fault is None, name
        assert on and all(20 / FPS <= t < 24 / FPS for t in on), (name, on)


def test_rain_gives_no_event():
    sensor = _sensor()
    on, fault, _ = _run(sensor, weather("rain", SIZE, seed=6, ramp=1.0), [None] * 25)
    assert on == [] and fault is None
