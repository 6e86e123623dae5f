"""Vision sensors against the simulator's ground truth: hits, misses, false triggers, timing.

A scenario is filmed by the simulated camera from above, frame by frame (no
clock, no I/O), with the vehicle drawn as a camera sees it (a body close to the
paint's colour, a shadow, no outline) and in a chosen weather
(:mod:`examroom.simulation.weather`); a :class:`devices.camera.zones.VisionSensor` watches lines
drawn on that picture where the course has painted lines, and its on/off
intervals are matched with the intervals in which the vehicle's true outline
visibly touched each line (shapely, in course metres: covering at least half a pixel of the
painted band, ``VISIBLE_PIXELS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from devices.camera import Frame
from devices.camera.zones import Region, VisionSensor
from examroom.simulation.cameras import PAINT_LIKE_COLOURS, CourseRenderer, _pixels
from examroom.simulation.scenarios import Scenario
from scoring.geometry import Line

MATCH_SECONDS = 0.5  # a sensor interval starting this close to a true one (or overlapping it) is a hit
# A contact covering less of the painted band than half a pixel of the picture changes no pixel's
# majority colour: no camera sees it, so the truth does not count it (a body resting 3 mm into the
# hill's stake line is 0.2 px² at the bench's 12 cm per pixel). A crossing at walking pace covers
# this much within a few milliseconds, so onsets do not move.
VISIBLE_PIXELS = 0.5


@dataclass(frozen=True)
class Interval:
    on: float
    off: float


@dataclass
class LineReport:
    element: str
    truth: list[Interval] = field(default_factory=list)
    seen: list[Interval] = field(default_factory=list)
    hits: int = 0
    misses: int = 0
    false_triggers: int = 0
    onset_errors: list[float] = field(default_factory=list)  # seconds, sensor minus truth


def course_lines(scenario: Scenario) -> dict[str, Line]:
    """Painted transverse lines a vehicle of the scenario's class drives over: entries, exits, stake line."""
    lines = {}
    for item in scenario.course.items_for(scenario.vehicle_class):
        for name in ("entry", "exit", "stake_line"):
            line = getattr(item, name, None)
            if isinstance(line, Line):
                lines[f"{item.id}.{name}"] = line
    return lines


def regions_for(lines: dict[str, Line], transform: np.ndarray, width: int = 1) -> list[Region]:
    """The lines drawn on the camera's image, as an installer would draw them over a snapshot."""
    return [Region(element, "line", tuple(map(tuple, _pixels(line.points, transform).tolist())), width=width,
                   min_pixels=2) for element, line in lines.items()]


def _intervals(times: list[float], states: list[bool]) -> list[Interval]:
    out, start = [], None
    for t, on in zip(times, states):
        if on and start is None:
            start = t
        elif not on and start is not None:
            out.append(Interval(start, t))
            start = None
    if start is not None:
        out.append(Interval(start, times[-1]))
    return out


def _match(report: LineReport) -> None:
    used: set[int] = set()
    for truth in report.truth:
        found = None
        for i, seen in enumerate(report.seen):
            if i in used:
                continue
            if abs(seen.on - truth.on) <= MATCH_SECONDS or (seen.on < truth.off and truth.on < seen.off):
                found = i
                break
        if found is None:
            report.misses += 1
        else:
            used.add(found)
            report.hits += 1
            report.onset_errors.append(report.seen[found].on - truth.on)
    report.false_triggers = len(report.seen) - len(used)


@dataclass
class Evaluation:
    """One scenario filmed in one condition: the line reports, and what the sensor said of its own sight."""

    condition: str
    reports: list[LineReport]
    frames: int
    lens_hit: float | None = None  # clock seconds a drop or dirt landed on the lens
    target: str | None = None  # the line it landed on
    fault_at: float | None = None  # first frame the sensor refused (None: never)
    fault_frames: int = 0
    faults: dict[str, int] = field(default_factory=dict)  # reason -> frames
    events_after_hit: int = 0  # sensor intervals starting once the lens was hit (each one false)
    seconds: float = 0.0  # CPU time spent sensing


def _lens_target(lines: dict[str, Line], truth: dict[str, list[bool]], times: list[float],
                 transform: np.ndarray) -> tuple[str, float, tuple[float, float]]:
    """Where and when a drop or dirt lands: on the line a vehicle reaches next after 40 % of the run,
    at least 2 s before the vehicle does, so every later event on it would be false."""
    t0 = times[int(len(times) * 0.4)]
    best = None
    for element, states in truth.items():
        onsets = [t for t, on, before in zip(times[1:], states[1:], states) if on and not before and t > t0 + 2.0]
        if onsets and not any(on for t, on in zip(times, states) if abs(t - t0) < 0.5):
            if best is None or onsets[0] < best[1]:
                best = (element, onsets[0])
    if best is None:
        raise ValueError("no line is crossed after 40 % of the scenario")
    element = best[0]
    pts = _pixels(lines[element].points, transform).astype(float)
    centre = tuple(pts.mean(axis=0))
    return element, t0, (centre[0], centre[1])


def run(scenario: Scenario, condition: str = "clear", fps: float = 15.0, width: int = 640, height: int = 360,
        seed: int = 0, ramp: float = 20.0, sensor_factory=None) -> Evaluation:
    """Film ``scenario`` in ``condition`` (examroom.simulation.weather) and judge the line sensors.

    The background is learnt before the weather arrives: from frames of the
    same run in clear air (the vehicle drops out of their median). A gradual
    condition starts at 0 and reaches full strength after ``ramp`` seconds; a
    drop or dirt lands on a line at 40 % of the run, while no vehicle is on it.
    """
    import time
    from datetime import datetime, timezone

    from examroom.simulation.weather import OBSTRUCTIONS, weather

    model = scenario.course.vehicle(scenario.vehicle_model)
    renderer = CourseRenderer(scenario.course, {"V": model}, width, height, labels=False,
                              colours=(PAINT_LIKE_COLOURS[seed % len(PAINT_LIKE_COLOURS)],))
    lines = course_lines(scenario)
    regions = regions_for(lines, renderer._top)
    factory = sensor_factory or (lambda regions: VisionSensor("vision-top", regions, expected_rate=fps))
    sensor = factory(regions)
    states = list(scenario.samples(1.0 / fps))
    times = [s.t for s in states]
    truth: dict[str, list[bool]] = {e: [] for e in lines}
    bands = {element: line.geometry.buffer(line.width / 2) for element, line in lines.items()}
    visible = VISIBLE_PIXELS / abs(float(np.linalg.det(renderer._top[:, :2])))  # m² (det: pixels per m²)
    for state in states:
        outline = model.place(state.vehicle.x, state.vehicle.y, state.vehicle.heading).outline
        for element, band in bands.items():
            truth[element].append(outline.intersects(band) and outline.intersection(band).area >= visible)
    clear = weather("clear", (width, height), seed=seed + 1)
    sample = states[:: max(1, len(states) // 25)]
    sensor.learn_background([clear.apply(renderer.render({"V": s.vehicle}, ""), s.t) for s in sample])
    lens_hit = target = None
    kwargs: dict = {"ramp": ramp if condition != "rain" else 5.0}
    if condition in OBSTRUCTIONS:
        target, lens_hit, where = _lens_target(lines, truth, times, renderer._top)
        kwargs = {"starts": lens_hit, "where": where}
    sky = weather(condition, (width, height), seed=seed, **kwargs)
    seen: dict[str, list[bool]] = {e: [] for e in lines}
    evaluation = Evaluation(condition, [], len(states), lens_hit=lens_hit, target=target)
    took = 0.0
    shown: dict[float, tuple[bool, ...]] = {}  # frame time -> the sensor's inputs for that frame
    for i, state in enumerate(states):
        image = sky.apply(renderer.render({"V": state.vehicle}, ""), state.t)
        started = time.process_time()  # CPU, not wall: the bench shares the machine
        reading = sensor.process(Frame(image, datetime.now(timezone.utc), state.t, i))
        took += time.process_time() - started
        if reading is not None:
            shown[reading.mono] = reading.inputs
        if not sensor.health().alive:
            evaluation.fault_frames += 1
            if evaluation.fault_at is None:
                evaluation.fault_at = state.t
            health = sensor.health()
            reason = health.extra.get("line") if health.extra.get("line") not in (None, "ok") else \
                re.sub(r"\d+%", "N%", health.last_error or "?")
            evaluation.faults[reason] = evaluation.faults.get(reason, 0) + 1

    evaluation.seconds = took
    for state in states:  # a frame without a reading (a fault, the sensor's one-frame delay) is "off"
        for element, on in zip(lines, shown.get(state.t, (False,) * len(lines))):
            seen[element].append(on)
    for element in lines:
        report = LineReport(element, truth=_intervals(times, truth[element]), seen=_intervals(times, seen[element]))
        _match(report)
        evaluation.reports.append(report)
        if lens_hit is not None:
            evaluation.events_after_hit += sum(1 for s in report.seen if s.on >= lens_hit)
    return evaluation


def evaluate(scenario: Scenario, fps: float = 15.0, width: int = 640, height: int = 360,
             condition: str = "clear", seed: int = 0) -> list[LineReport]:
    return run(scenario, condition, fps, width, height, seed).reports
