"""Judge an attempt again from its raw device bytes (the capture), not from its journal.

The journal holds what the drivers *made* of the bytes; the raw capture
(:mod:`examroom.station.capture`) holds the bytes. Replaying runs every
captured device's bytes through a fresh driver built from the same site
settings (so a parser fix is exercised), turns the readings into
observations exactly as the controller does (:mod:`examroom.live.observing`),
takes the supervisor and system commands (start, stop, device fault, manual
judgements) from the journal, since no device sent them, and judges the lot.

Course-sensor changes go to the judge only while its current item is the
element's item, which is what the controller's routing did live. A device
observation the journal schema refuses (a NaN, a position 1000 km away, a time
going backwards: :func:`scoring.observations.checked_line` and
:class:`~scoring.observations.TimeOrder`) is skipped, as the controller refused
it live.

Observations are judged in the order their bytes arrived, as the controller
got them live, each with its own stamp: a GNSS fix carries its receiver
epoch (:mod:`devices.gnss.epoch_clock`), earlier than its arrival, so a fix
that was read late comes after a signal frame that was read before it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from devices.rawcapture import captured_devices, read_raw, replay_arrivals
from devices.readings import CourseInputs, GnssFix, SignalFrame
from examroom.station.hardware import build_drivers, gnss_device, signals_device
from examroom.records.result_diff import difference_lines
from examroom.live.observing import CourseInputTracker, CourseOrigin, pose_from_fix, signals_from_frame
from examroom.site.settings import SiteSettings
from scoring.course import Course
from scoring.judge import judge_for_start
from scoring.observations import (
    Command, CommandAction, CourseSensor, Observation, ObservationFormatError, TimeOrder, checked_line, read_jsonl,
)
from scoring.events import AttemptResult
from scoring.rules import RuleSet


@dataclass
class Replayed:
    observations: list[Observation]  # what the judge was fed, in order
    result: AttemptResult
    readings: dict[str, int]  # device -> readings its bytes gave
    refused: int = 0  # device observations the journal schema refused (as the controller did live)


def replay_attempt(directory: Path, journal_lines: Iterable[str], settings: SiteSettings,
                   course: Course, ruleset: RuleSet) -> Replayed:
    journal = list(read_jsonl(journal_lines, "journal"))
    commands = [o for o in journal if isinstance(o, Command)]
    start = next((c for c in commands if c.action == CommandAction.START), None)
    if start is None:
        raise ValueError(f"{directory}: the journal has no start command")
    # Live, a reading stamped just before the start but queued behind it was judged after the
    # start; the journal's first device observation says from when on readings were judged.
    from_t = min((o.t for o in journal if not isinstance(o, Command)), default=start.t)
    vehicle = start.vehicle
    owner = {gnss_device(v.id): v.id for v in settings.vehicles}
    owner.update({signals_device(v.id): v.id for v in settings.vehicles})
    trackers = {b.id: CourseInputTracker(b.inputs) for b in settings.course_boards}
    origin = CourseOrigin(course.origin.latitude, course.origin.longitude, course.origin.altitude)
    drivers = build_drivers(settings)

    timeline: list[tuple[float, int, Observation]] = []
    counts: dict[str, int] = {}
    order = itertools.count()
    for device in captured_devices(directory):
        if device not in drivers:
            raise ValueError(f"{directory}: captured device {device!r} is not in the site settings")
        readings = replay_arrivals(drivers[device], read_raw(directory, device))
        counts[device] = len(readings)
        for arrival, reading in readings:
            if isinstance(reading, CourseInputs):
                for obs in trackers[device].changes(reading):
                    timeline.append((arrival, next(order), obs))
            elif owner.get(device) == vehicle:
                obs = pose_from_fix(reading, vehicle, origin) if isinstance(reading, GnssFix) \
                    else signals_from_frame(reading, vehicle) if isinstance(reading, SignalFrame) else None
                if obs is not None:
                    timeline.append((arrival, next(order), obs))
    for command in commands:
        timeline.append((command.t, next(order), command))
    timeline.sort(key=lambda entry: (entry[0], entry[1]))

    judge = judge_for_start(course, ruleset, start)
    fed: list[Observation] = [start]
    judge.feed(start)
    order = TimeOrder()
    order.check(start)
    refused = 0
    for _, _, obs in timeline:
        if obs is start or (obs.t < from_t and not isinstance(obs, Command)):
            continue  # the preroll before the start: the live judge never saw it either
        if isinstance(obs, CourseSensor):
            if judge.snapshot().current_item != obs.element.split(".", 1)[0]:
                continue
            obs = CourseSensor(t=obs.t, utc=obs.utc, element=obs.element, active=obs.active, vehicle=vehicle)
        try:
            checked_line(obs)
            order.check(obs)
        except ObservationFormatError:
            refused += 1  # the live controller refused it: never journaled, never judged
            continue
        fed.append(obs)
        judge.feed(obs)
        if judge.status.ended:
            break
    return Replayed(observations=fed, result=judge.result(), readings=counts, refused=refused)


def compare(stored: dict, replayed: AttemptResult) -> list[str]:
    """Differences between a stored result (``result_to_dict`` form) and a replayed one, one line each."""
    from scoring.report import result_to_dict

    return difference_lines(stored, result_to_dict(replayed))
