from datetime import datetime, timezone

import cv2
import numpy as np
import pytest

from devices.camera import Frame
from devices.camera.zones import Region, VisionSensor

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

GROUND = (70, 110, 70)
PAINT = (245, 245, 245)


def _scene(box: tuple[int, int] | None = None, colour=(0, 200, 255), seed: int = 0) -> np.ndarray:
    """A textured patch of course with one painted line, a box for a vehicle, and camera noise."""
    rng = np.random.default_rng(seed)
    texture = np.random.default_rng(99).normal(0, 6, (120, 160)).astype(np.float32)
    image = np.full((120, 160, 3), GROUND, np.float32) + texture[..., None]
    cv2.line(image, (80, 0), (80, 119), PAINT, 1)
    if box is not None:
        x, y = box
        cv2.rectangle(image, (x, y), (x + 12, y + 6), colour, -1)
    image += rng.normal(0, 1.5, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def _feed(sensor, images):
    """Each image as a frame; returns {frame index: inputs} (a reading is of a frame ``lag`` frames back)."""
    seen = {}
    for i, image in enumerate(images):
        reading = sensor.process(Frame(image, datetime.now(timezone.utc), float(i), i))
        if reading is not None:
            seen[int(reading.mono)] = reading.inputs
    return seen


def test_zone_and_line_occupancy_follow_the_object():
    sensor = VisionSensor("vision-1", [Region("item.line", "line", ((80, 0), (80, 119))),
                                       Region("item.box", "zone", ((10, 10), (50, 10), (50, 50), (10, 50)))])
    sensor.learn_background([_scene((x, 100), seed=x) for x in range(0, 150, 15)])  # a vehicle passing drops out
    places = [None] * 3 + [(75, 60)] * 3 + [(20, 20)] * 3 + [(60, 60)] * 3
    seen = _feed(sensor, [_scene(p, seed=i + 50) for i, p in enumerate(places)])
    assert seen[1] == (False, False)
    assert seen[4] == (True, False)
    assert seen[7] == (False, True)
    assert seen[9] == (False, False)
    assert set(seen) == set(range(12 - sensor.lag)), "every frame but the last ones has its reading, lag frames late"
    assert sensor.health().alive and sensor.health().readings == 12


def test_a_body_close_to_the_paint_is_seen_by_colour_and_texture():
    """A pale yellow body differs from the painted line by about 40 grey levels: under the old single
    grey threshold of 45 the line read "off"; colour and the line's lost edges see it."""
    pale = (70, 205, 240)
    grey = lambda c: 0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2]  # noqa: E731
    assert abs(grey(pale) - grey(PAINT)) < 45
    sensor = VisionSensor("vision-1", [Region("item.line", "line", ((80, 0), (80, 119)), min_pixels=2)])
    sensor.learn_background([_scene(seed=i) for i in range(5)])
    seen = _feed(sensor, [_scene(None, seed=10), _scene((74, 60), pale, seed=11), _scene((74, 61), pale, seed=12),
                          _scene((74, 62), pale, seed=13), _scene((74, 63), pale, seed=14)])
    assert seen[0] == (False,)
    assert seen[1] == (True,) and seen[2] == (True,)


def test_a_shadow_on_the_line_is_not_a_vehicle():
    sensor = VisionSensor("vision-1", [Region("item.line", "line", ((80, 0), (80, 119)), min_pixels=2)])
    sensor.learn_background([_scene(seed=i) for i in range(5)])
    frames = []
    for i in range(6):
        image = _scene(seed=20 + i).astype(np.float32)
        image[40:70, 70:95] *= 0.55  # the shade of a vehicle standing beside the line
        frames.append(image.astype(np.uint8))
    assert not any(on for inputs in _feed(sensor, frames).values() for on in inputs)


def test_a_covered_camera_reports_a_named_fault_instead_of_occupancy():
    sensor = VisionSensor("vision-1", [Region("item.line", "line", ((80, 0), (80, 119)))])
    sensor.learn_background([_scene(seed=i) for i in range(3)])
    assert sensor.process(Frame(np.zeros((120, 160, 3), np.uint8), datetime.now(timezone.utc), 0.0, 0)) is None
    health = sensor.health()
    assert not health.alive and health.extra["line"] == "low_contrast" and "contrast" in health.last_error
    _feed(sensor, [_scene(seed=5), _scene(seed=6)])
    assert sensor.health().alive and sensor.health().extra["line"] == "ok"


def test_regions_need_enough_points():
    with pytest.raises(ValueError, match="at least 3 points"):
        Region("a.zone", "zone", ((0, 0), (1, 1)))
    with pytest.raises(ValueError, match="kind"):
        Region("a.x", "circle", ((0, 0), (1, 1)))
