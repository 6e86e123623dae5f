"""A camera that cannot see is a named device fault, in the words the supervisor reads."""

from datetime import datetime, timedelta, timezone

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


class _Clock:
    """The controller's and the health watch's clock, moved by the test."""

    def __init__(self) -> None:
        self.mono = 100.0

    def now(self):
        return self.mono, datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc) + timedelta(seconds=self.mono)


def test_a_camera_that_cannot_see_suspends_only_the_attempt_in_the_item_it_serves_and_gives_no_event(records):
    """The real path: sensor readings go to the controller's submit, the health watch suspends by item."""
    from types import SimpleNamespace

    from examroom.live.controller import Controller, VehicleInfo
    from examroom.station.device_health import HealthWatch
    from examroom.live.feed import LiveFeed
    from examroom.records.attempt_log import CandidateInfo
    from examroom.simulation.scenarios import default_ruleset, demo_course
    from scoring.observations import CourseSensor, read_jsonl
    from tests.examroom.attempts import id_number
    from tests.examroom.live.test_course_map_feed import fix

    course, clock = demo_course(), _Clock()
    vehicles = [VehicleInfo("V1", "甘K·0001学", "E", "E-01"), VehicleInfo("V2", "甘K·0002学", "C4", "C4-01")]
    for v in vehicles:
        records.ensure_vehicle(v.id, v.plate, v.vehicle_class, v.model)
    # The camera watches the E pile's lines only (as the site file's [[video.vision]] regions say).
    regions = [Region("e_pile.entry", "line", ((320, 100), (320, 260)), min_pixels=2)]
    sensor = VisionSensor("vision-pile", regions)
    controller = Controller(course, default_ruleset(), records, LiveFeed(), clock, vehicles,
                            board_inputs={"vision-pile": ["e_pile.entry"]})
    runner = VisionRunner(sensor, FrameFanout(), submit=controller.submit, clock=clock)
    watch = HealthWatch(SimpleNamespace(vehicles=[], course_boards=[]), [], controller, LiveFeed(), clock,
                        fault_after=1.0, fault_after_wall=0.0)
    watch.add_vision([runner])
    controller.attach_device("V1.gnss", "V1")
    controller.attach_device("V2.gnss", "V2")
    # The controller's thread is not started: the test hands it its queue (run_pending) after
    # each step, so every reading is judged before the next assertion, without waiting.
    try:
        attempts = {}
        for n, v in enumerate(vehicles):
            candidate = records.ensure_candidate(CandidateInfo("张伟", id_number(900 + n), f"6299{n:06d}",
                                                               v.vehicle_class))
            attempts[v.id] = controller.begin_attempt(v.id, candidate, "张伟")
        # V1 drives into the E pile, V2 into the C4 pile (east, across each item's entry line).
        for i in range(15):
            t = 100.5 + 0.1 * i
            controller.submit(fix(course, "V1.gnss", t, -3.0 + 0.25 * i, 0.0, 90.0))
            controller.submit(fix(course, "V2.gnss", t, -3.0 + 0.25 * i, 20.0, 90.0))
        controller.run_pending()
        assert controller.current_item("V1") == "e_pile" and controller.current_item("V2") == "c4_pile"
        clear = weather("clear", SIZE, seed=1)
        sensor.learn_background([clear.apply(_course(), 0.0) for _ in range(3)])
        drop = weather("drop", SIZE, seed=1, starts=0.4, where=(320.0, 180.0))
        for i in range(15):  # 1 s of frames: clear, then a drop lands on the line
            clock.mono = 102.0 + i / 15
            reading = sensor.process(Frame(drop.apply(_course(), i / 15), clock.now()[1], clock.mono, i))
            if reading is not None:
                controller.submit(reading)
            controller.run_pending()
            watch.check()
        assert not sensor.health().alive and sensor.health().extra["line"] == "obstructed"
        clock.mono += 1.5  # the fault lasts the site's fault_after
        sensor.process(Frame(drop.apply(_course(), 2.0), clock.now()[1], clock.mono, 99))
        watch.check()
        assert controller.suspended("V1")
        assert not controller.suspended("V2")  # its item is not on that camera: it goes on
        ((vehicle, attempt, reason),) = watch.faults_raised
        assert (vehicle, attempt) == ("V1", attempts["V1"])
        assert "vision-pile" in reason and "镜头被遮挡" in reason and "e_pile.entry" in reason
    finally:
        controller.stop()
    for vehicle_id, attempt in attempts.items():
        journal = list(read_jsonl(records.journal_lines(attempt)))
        assert not any(isinstance(o, CourseSensor) and o.active for o in journal), "a fault is never an event"
        assert records.attempt(attempt).deductions == []

