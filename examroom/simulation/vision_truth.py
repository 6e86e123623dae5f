"""Vision sensors against the simulator's ground truth: hits, misses, false triggers, timing.

A scenario is filmed by the simulated camera from above, frame by frame (no
clock, no I/O); a :class:`devices.camera.zones.VisionSensor` watches lines
drawn on that picture where the course has painted lines, and its on/off
intervals are matched with the intervals in which the vehicle's true outline
really touched each line (shapely, in course metres).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from devices.camera import Frame
from devices.camera.zones import Region, VisionSensor
from examroom.simulation.cameras import CourseRenderer, _pixels
from examroom.simulation.scenarios import Scenario
from scoring.geometry import Line

MATCH_SECONDS = 0.5  # a sensor interval starting this close to a true one (or overlapping it) is a hit


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


def evaluate(scenario: Scenario, fps: float = 15.0, width: int = 640, height: int = 360) -> list[LineReport]:
    model = scenario.course.vehicle(scenario.vehicle_model)
    renderer = CourseRenderer(scenario.course, {"V": model}, width, height, labels=False)
    lines = course_lines(scenario)
    sensor = VisionSensor("vision-top", regions_for(lines, renderer._top), expected_rate=fps)
    states = list(scenario.samples(1.0 / fps))
    frames = [renderer.render({"V": s.vehicle}, "") for s in states]
    sensor.learn_background(frames[:: max(1, len(frames) // 25)])
    times = [s.t for s in states]
    seen: dict[str, list[bool]] = {e: [] for e in lines}
    truth: dict[str, list[bool]] = {e: [] for e in lines}
    from datetime import datetime, timezone

    for i, (state, image) in enumerate(zip(states, frames)):
        reading = sensor.process(Frame(image, datetime.now(timezone.utc), state.t, i))
        outline = model.place(state.vehicle.x, state.vehicle.y, state.vehicle.heading).outline
        for (element, line), on in zip(lines.items(), reading.inputs if reading else (False,) * len(lines)):
            seen[element].append(on)
            truth[element].append(outline.intersects(line.geometry.buffer(line.width / 2)))
    reports = []
    for element in lines:
        report = LineReport(element, truth=_intervals(times, truth[element]), seen=_intervals(times, seen[element]))
        _match(report)
        reports.append(report)
    return reports
