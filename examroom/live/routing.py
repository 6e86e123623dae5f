"""The one routing of course inputs to the vehicles' judges, live, in replay and from a journal.

A GNSS fix or a signal frame belongs to the vehicle its device is mounted on; a course-sensor
change (a signal-board line, a camera's vision sensor) belongs to no vehicle until it is
routed: it goes to the judged vehicle that is inside the element's item, or to nobody. The
live controller (:mod:`examroom.live.controller`), the raw replay
(:mod:`examroom.station.raw_replay`), ``examroom judge`` and the re-judge all route here, so
the same observations reach the same judges.

The router is pure: readings in, routed observations out. It does no I/O, reads no clock and
holds no judges. What it must know of the judges (which vehicles are being judged, and the
item each is in now) the caller hands it with each observation as a mapping (``judged``);
the caller asks for each observation in turn, after feeding the previous one, because a change
the judge has just taken can move it into the next item. Its only state is what a change
detector needs (each course board's last inputs) and three counters for device health.

A journal was routed when it was written: each line names the vehicle it went to, and judging
it again does not route it anew (:func:`judge_journal`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Collection, Iterable, Iterator, Mapping, Sequence

from devices.readings import CourseInputs, GnssFix, SignalFrame
from examroom.live.observing import CourseInputTracker, CourseOrigin, pose_from_fix, signals_from_frame
from scoring.course import Course
from scoring.events import AttemptResult
from scoring.judge import JudgeError, judge_for_start
from scoring.observations import Command, CommandAction, CourseSensor, Observation
from scoring.rules import RuleSet

# vehicle id -> the item its judge is in now (None: between items), for every vehicle being
# judged, in the order their attempts started (the first vehicle in an item takes its sensors).
Judged = Mapping[str, "str | None"]


@dataclass(frozen=True)
class Routed:
    """One observation and the vehicle whose judge gets it."""

    observation: Observation  # as the judge gets it: a routed course sensor names its vehicle
    to: str | None  # the judged vehicle it goes to; None: to no judge


def item_of(element: str) -> str:
    """The item a course element belongs to (``pile_e.pole1`` -> ``pile_e``)."""
    return element.split(".", 1)[0]


class ObservationRouter:
    """Turns device readings into observations in the course frame and routes them to judges.

    ``owners``: device id -> the vehicle it is mounted on (GNSS receivers, signal boards);
    ``boards``: course board (or vision sensor) id -> its inputs' course elements by index.
    """

    def __init__(self, origin: CourseOrigin, owners: Mapping[str, str] | None = None,
                 boards: Mapping[str, Sequence[str | None]] | None = None) -> None:
        self.origin = origin
        self._owners = dict(owners or {})
        self._boards = {board: CourseInputTracker(list(inputs)) for board, inputs in (boards or {}).items()}
        self.unrouted_course_events = 0  # course-sensor changes no judged vehicle was in the item of
        self.fixes_without_speed = 0  # GNSS fixes not judged because their epoch had no speed

    @classmethod
    def for_course(cls, course: Course, owners: Mapping[str, str] | None = None,
                   boards: Mapping[str, Sequence[str | None]] | None = None) -> "ObservationRouter":
        return cls(CourseOrigin(course.origin.latitude, course.origin.longitude, course.origin.altitude),
                   owners, boards)

    def attach(self, device: str, vehicle: str) -> None:
        """Say which vehicle a GNSS receiver or signal board is mounted on."""
        self._owners[device] = vehicle

    def owner(self, device: str) -> str | None:
        return self._owners.get(device)

    def observe(self, reading: object) -> list[Observation]:
        """A device reading as observations in the course frame, not yet routed.

        A course board gives its changed inputs (the first reading: all of them), each a
        course sensor naming no vehicle; a receiver or signal board on a vehicle gives a
        pose or signals of that vehicle. A fix without a speed gives nothing (counted), as
        does a device that is neither a known board nor on a vehicle."""
        if isinstance(reading, CourseInputs):
            tracker = self._boards.get(reading.device)
            return tracker.changes(reading) if tracker is not None else []
        vehicle = self._owners.get(getattr(reading, "device", None))
        if vehicle is None:
            return []
        if isinstance(reading, GnssFix):
            pose = pose_from_fix(reading, vehicle, self.origin)
            if pose is None:
                self.fixes_without_speed += 1  # never judged as standing still; health reports it
                return []
            return [pose]
        if isinstance(reading, SignalFrame):
            return [signals_from_frame(reading, vehicle)]
        return []

    def route(self, obs: Observation, judged: Judged) -> Routed:
        """Where one observation goes, given the vehicles being judged and their items now.

        A course sensor naming no vehicle goes to the first judged vehicle inside the
        element's item, and names it from then on; none there: to nobody (counted). Anything
        else goes to the vehicle it names, if that vehicle is being judged: a pose, signals, a
        command, a course sensor routed before (a journal's)."""
        if isinstance(obs, CourseSensor) and obs.vehicle is None:
            item = item_of(obs.element)
            for vehicle, current in judged.items():
                if current == item:
                    return Routed(replace(obs, vehicle=vehicle), vehicle)
            self.unrouted_course_events += 1
            return Routed(obs, None)
        return Routed(obs, obs.vehicle if obs.vehicle in judged else None)

    def route_reading(self, reading: object, judged: Judged) -> Iterator[Routed]:
        """A reading's observations, each routed (:meth:`route`) only when the caller asks for it.

        A generator, and ``judged`` a view of the judges as they are now
        (:class:`JudgedItems`): the caller feeds one routed observation to its judge before it
        asks for the next, so a change that moved the judge into the next item decides where
        the next change of the same reading goes, live and in replay alike."""
        for obs in self.observe(reading):
            yield self.route(obs, judged)

    def route_recorded(self, obs: Observation, judged: Collection[str]) -> Routed:
        """Where a journal's observation goes: where it went when it was recorded.

        ``judged``: the vehicles being judged (their items do not matter: no routing is
        redone). The controller writes every course sensor with the vehicle it routed it to; a
        journal line naming none was written by hand or by a simulator, for the one attempt the
        journal holds, and goes to that attempt's judge (the first judged) as it stands."""
        if isinstance(obs, CourseSensor) and obs.vehicle is None:
            return Routed(obs, next(iter(judged), None))
        return Routed(obs, obs.vehicle if obs.vehicle in judged else None)


class JudgedItems(Mapping[str, "str | None"]):
    """The vehicles being judged and the item each judge is in, read when asked (a :data:`Judged`).

    ``judges``: vehicle -> what judges it, in the order the attempts started (kept by the
    caller and read live); ``item``: the item one of them is in now. A vehicle's item is read
    only when a course sensor is routed, and the search stops at the first vehicle in the item."""

    def __init__(self, judges: Mapping[str, Any], item: Callable[[Any], "str | None"] = None) -> None:
        self._judges = judges
        self._item = item or (lambda judge: judge.snapshot().current_item)

    def __getitem__(self, vehicle: str) -> str | None:
        return self._item(self._judges[vehicle])

    def __contains__(self, vehicle: object) -> bool:
        return vehicle in self._judges

    def __iter__(self) -> Iterator[str]:
        return iter(self._judges)

    def __len__(self) -> int:
        return len(self._judges)


def judge_journal(observations: Iterable[Observation], course: Course, ruleset: RuleSet) -> AttemptResult:
    """Judge one attempt's journal: from its first ``start`` command to its end.

    Every line after the start goes through the router's recorded routing
    (:meth:`ObservationRouter.route_recorded`) to the attempt's judge; lines of other vehicles
    go nowhere. ``examroom judge`` and the re-judge judge journals with this."""
    router = ObservationRouter.for_course(course)
    judge = None
    judged: tuple[str, ...] = ()
    for obs in observations:
        if judge is None:
            if isinstance(obs, Command) and obs.action == CommandAction.START:
                judge = judge_for_start(course, ruleset, obs)
                judged = (judge.vehicle,)
                judge.feed(obs)
            continue
        routed = router.route_recorded(obs, judged)
        if routed.to is None:
            continue
        judge.feed(routed.observation)
        if judge.status.ended:
            break
    if judge is None:
        raise JudgeError("no start command in the stream")
    return judge.result()
