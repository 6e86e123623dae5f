"""Judge an attempt again from its raw device bytes (the capture), not from its journal.

The journal holds what the drivers *made* of the bytes; the raw capture
(:mod:`examroom.station.capture`) holds the bytes. Replaying runs every
captured device's bytes through a fresh driver built from the same site
settings (so a parser fix is exercised), turns the readings into
observations and routes them with the controller's own router
(:mod:`examroom.live.routing`), takes the supervisor and system commands (start, stop, device fault, manual
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
from typing import Iterable, Mapping

from devices.rawcapture import captured_devices, read_raw, replay_arrivals
from examroom.live.routing import JudgedItems, ObservationRouter
from examroom.station.hardware import board_inputs, build_drivers, device_owners
from examroom.records.result_diff import difference_lines
from examroom.site.settings import SiteSettings
from scoring.course import Course
from scoring.judge import judge_for_start
from scoring.observations import (
    Command, CommandAction, Observation, ObservationFormatError, TimeOrder, checked_line, read_jsonl,
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
    router = ObservationRouter.for_course(course, device_owners(settings), board_inputs(settings))
    drivers = build_drivers(settings)

    arrivals: dict[str, list[tuple[float, object]]] = {}
    for device in captured_devices(directory):
        if device not in drivers:
            raise ValueError(f"{directory}: captured device {device!r} is not in the site settings")
        arrivals[device] = replay_arrivals(drivers[device], read_raw(directory, device))

    judge = judge_for_start(course, ruleset, start)
    judged = JudgedItems({vehicle: judge})  # the one vehicle judged here, its item read when asked
    fed: list[Observation] = [start]
    judge.feed(start)
    order = TimeOrder()
    order.check(start)
    refused = 0
    for entry in arrival_order(arrivals, commands):
        if isinstance(entry, Command):
            observations: Iterable[Observation] = () if entry is start else (entry,)
        else:  # a reading, turned into observations and routed as the controller did live (lazily:
            # each is routed after the one before it was fed)
            observations = (routed.observation for routed in router.route_reading(entry, judged)
                            if routed.to == vehicle)
        for obs in observations:
            if obs.t < from_t and not isinstance(obs, Command):
                continue  # the preroll before the start: the live judge never saw it either
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
        if judge.status.ended:
            break
    return Replayed(observations=fed, result=judge.result(), readings={d: len(a) for d, a in arrivals.items()},
                    refused=refused)


def arrival_order(arrivals: Mapping[str, list[tuple[float, object]]],
                  commands: Iterable[Command] = ()) -> list[object]:
    """Every captured reading and journaled command in the order the controller took them live.

    ``arrivals``: device -> (arrival, reading) in the order its bytes gave them. Readings go by
    arrival (a device's own in its order), commands by their stamp; on equal times the
    readings come first, then the commands. A GNSS fix carries its receiver epoch, earlier
    than its arrival, so a fix read late still comes after a frame read before it."""
    sequence = itertools.count()
    timeline = [(arrival, next(sequence), reading) for readings in arrivals.values()
                for arrival, reading in readings]
    timeline += [(command.t, next(sequence), command) for command in commands]
    timeline.sort(key=lambda entry: (entry[0], entry[1]))
    return [entry for _, _, entry in timeline]


def compare(stored: dict, replayed: AttemptResult) -> list[str]:
    """Differences between a stored result (``result_to_dict`` form) and a replayed one, one line each."""
    from scoring.report import result_to_dict

    return difference_lines(stored, result_to_dict(replayed))
