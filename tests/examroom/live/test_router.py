"""The observation router (examroom.live.routing): readings in, routed observations out.

The controller, the raw replay, ``examroom judge`` and the re-judge route through it; these
tests hold it to its rules directly, and show that the same readings routed live (one stream,
as the controller's queue takes them) and in replay (captured per device, merged again by
arrival) reach the same judges in the same order.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.readings import CourseInputs, GnssFix, SignalFrame
from examroom.live.observing import CourseOrigin
from examroom.live.routing import JudgedItems, ObservationRouter, Routed, judge_journal
from examroom.simulation.scenarios import default_ruleset, scenario
from examroom.station.raw_replay import arrival_order
from scoring.judge import JudgeError, judge_stream
from scoring.item_geometry import BridgeItem, PileItem
from scoring.observations import Command, CommandAction, CourseSensor, FixQuality, Gear, Pose, Signals
from scoring.report import result_to_dict

UTC = datetime(2026, 12, 5, 2, 0, tzinfo=timezone.utc)
ORIGIN = CourseOrigin(33.40, 104.92, 1000.0)
OWNERS = {"V1.gnss": "V1", "V1.signals": "V1", "V2.gnss": "V2", "V2.signals": "V2"}
BOARDS = {"B1": ["pile.pole1", "bridge.A", None, "pile.pole2"], "B2": ["bridge.B", "hill.line"]}


def router() -> ObservationRouter:
    return ObservationRouter(ORIGIN, OWNERS, BOARDS)


def fix(device: str, mono: float, speed: float | None = 1.5, lat: float = 33.4001) -> GnssFix:
    return GnssFix(mono=mono, utc=UTC + timedelta(seconds=mono), device=device, latitude=lat, longitude=104.9201,
                   altitude=1000.0, quality=4, satellites=20, hdop=0.6, correction_age=1.0, speed=speed,
                   course=90.0, heading=None)


def frame(device: str, mono: float, engine: bool = True) -> SignalFrame:
    flags = frozenset({"ignition", "engine"} if engine else {"ignition"})
    return SignalFrame(mono=mono, utc=UTC + timedelta(seconds=mono), device=device, sequence=int(mono * 10) % 256,
                       flags=flags, present=frozenset({"ignition", "engine", "starter"}), gear="1", roll=None)


def board(device: str, mono: float, inputs: tuple[bool, ...]) -> CourseInputs:
    return CourseInputs(mono=mono, utc=UTC + timedelta(seconds=mono), device=device, unit=1, inputs=inputs)


@pytest.fixture(scope="module")
def pole_touch():
    sc = scenario("E", "pole_touch")
    return sc, list(sc.observations())


# -- its rules, one by one --------------------------------------------------------------------

def test_a_fix_goes_to_the_judged_vehicle_its_receiver_is_on():
    r = router()
    [routed] = r.route_reading(fix("V1.gnss", 1.0), {"V1": None})
    assert isinstance(routed.observation, Pose) and routed.observation.vehicle == "V1" and routed.to == "V1"
    [signals] = r.route_reading(frame("V2.signals", 1.1), {"V1": None, "V2": "pile"})
    assert isinstance(signals.observation, Signals) and signals.to == "V2"


def test_a_vehicle_not_judged_gets_its_pose_made_but_sent_to_no_judge():
    [routed] = router().route_reading(fix("V2.gnss", 1.0), {"V1": None})
    assert routed.observation.vehicle == "V2" and routed.to is None  # the map still shows it


def test_readings_of_unknown_devices_give_nothing():
    r = router()
    assert list(r.route_reading(fix("V9.gnss", 1.0), {"V1": None})) == []
    assert list(r.route_reading(board("B9", 1.0, (True,)), {"V1": "pile"})) == []
    assert r.unrouted_course_events == 0


def test_a_fix_without_speed_is_counted_and_never_judged():
    r = router()
    assert list(r.route_reading(fix("V1.gnss", 1.0, speed=None), {"V1": None})) == []
    assert r.fixes_without_speed == 1
    assert len(list(r.route_reading(fix("V1.gnss", 1.1, speed=0.0), {"V1": None}))) == 1  # 0 is a speed
    assert r.fixes_without_speed == 1


def test_a_board_reports_every_input_first_then_changes_only():
    r = router()
    first = list(r.route_reading(board("B1", 1.0, (False, True, True, False)), {}))
    assert [(x.observation.element, x.observation.active) for x in first] == [
        ("pile.pole1", False), ("bridge.A", True), ("pile.pole2", False)]  # input 3 is wired to nothing
    assert list(r.route_reading(board("B1", 1.1, (False, True, False, False)), {})) == []
    [change] = r.route_reading(board("B1", 1.2, (True, True, False, False)), {})
    assert (change.observation.element, change.observation.active, change.observation.t) == ("pile.pole1", True, 1.2)


def test_a_course_sensor_goes_to_the_vehicle_in_its_item_and_names_it():
    r = router()
    list(r.route_reading(board("B1", 1.0, (False, False, False, False)), {}))
    [routed] = r.route_reading(board("B1", 1.1, (True, False, False, False)), {"V1": "bridge", "V2": "pile"})
    assert routed.to == "V2" and routed.observation.vehicle == "V2" and routed.observation.element == "pile.pole1"


def test_a_course_sensor_with_nobody_in_its_item_is_unrouted_and_counted():
    r = router()
    list(r.route_reading(board("B1", 1.0, (False, False, False, False)), {}))
    [routed] = r.route_reading(board("B1", 1.1, (True, False, False, False)), {"V1": "bridge", "V2": None})
    assert routed.to is None and routed.observation.vehicle is None
    assert r.unrouted_course_events == 1 + 3  # the first poll's three, with nobody judged, too


def test_two_vehicles_in_one_item_the_first_to_start_takes_its_sensors():
    obs = CourseSensor(t=1.0, utc=UTC, element="pile.pole1", active=True)
    assert router().route(obs, {"V2": "pile", "V1": "pile"}).to == "V2"


def test_each_change_is_routed_after_the_one_before_it_was_fed():
    # Two changes in one reading: the first moves the judge on; the second goes where the judge is then.
    r = router()
    list(r.route_reading(board("B1", 1.0, (False, False, False, False)), {}))
    items = {"V1": "pile"}
    routed = []
    for one in r.route_reading(board("B1", 1.1, (True, True, False, False)), items):
        routed.append(one)
        items["V1"] = "bridge"  # what a judge fed pile.pole1 might do: leave the pile, enter the bridge
    assert [(x.observation.element, x.to) for x in routed] == [("pile.pole1", "V1"), ("bridge.A", "V1")]


def test_judged_items_reads_the_judges_only_when_asked():
    asked = []

    class Judge:
        def __init__(self, item):
            self.item = item

    judges = {"V1": Judge("pile"), "V2": Judge("bridge")}
    judged = JudgedItems(judges, lambda judge: asked.append(judge.item) or judge.item)
    assert "V1" in judged and "V3" not in judged and asked == []  # membership reads no judge
    obs = CourseSensor(t=1.0, utc=UTC, element="pile.pole1", active=True)
    assert router().route(obs, judged).to == "V1" and asked == ["pile"]  # stops at the first in the item


def test_a_journal_keeps_its_routing():
    r = router()
    routed = CourseSensor(t=1.0, utc=UTC, element="pile.pole1", active=True, vehicle="V1")
    assert r.route_recorded(routed, ("V1",)) == Routed(routed, "V1")  # not re-routed by item
    assert r.route_recorded(dataclasses.replace(routed, vehicle="V2"), ("V1",)).to is None
    written_by_hand = CourseSensor(t=1.0, utc=UTC, element="pile.pole1", active=True)
    assert r.route_recorded(written_by_hand, ("V1",)).to == "V1"
    stop = Command(t=2.0, utc=UTC, vehicle="V2", action=CommandAction.STOP, actor="a", reason="b")
    assert r.route_recorded(stop, ("V1",)).to is None
    assert r.unrouted_course_events == 0


def test_a_journal_without_a_start_is_refused(pole_touch):
    sc, observations = pole_touch
    with pytest.raises(JudgeError, match="no start command"):
        judge_journal([o for o in observations if not isinstance(o, Command)], sc.course, default_ruleset())


# -- the same readings, live and in replay ------------------------------------------------------

DEVICES = sorted(OWNERS) + sorted(BOARDS)


@st.composite
def course_readings(draw):
    """One stream of readings as the controller's queue takes them: devices interleaved, each
    arriving later than the last (a reading's own stamp may be earlier than its arrival)."""
    n = draw(st.integers(min_value=1, max_value=40))
    arrival, out = 0.0, []
    for _ in range(n):
        arrival += draw(st.floats(min_value=0.001, max_value=0.5))
        device = draw(st.sampled_from(DEVICES))
        stamp = arrival - draw(st.sampled_from([0.0, 0.02, 0.08]))
        if device in BOARDS:
            reading = board(device, stamp, tuple(draw(st.lists(st.booleans(), min_size=len(BOARDS[device]),
                                                                max_size=len(BOARDS[device])))))
        elif device.endswith(".gnss"):
            reading = fix(device, stamp, speed=draw(st.sampled_from([None, 0.0, 2.5])),
                          lat=33.4 + draw(st.integers(0, 50)) * 1e-5)
        else:
            reading = frame(device, stamp, engine=draw(st.booleans()))
        out.append((arrival, reading))
    return out


class FakeJudge:
    """Moves through a fixed list of items, one step for each observation it is fed."""

    def __init__(self, items):
        self.items, self.fed = items, 0

    @property
    def item(self):
        return self.items[self.fed % len(self.items)]

    def feed(self, _obs) -> None:
        self.fed += 1


def route_all(readings, schedule) -> list[tuple[str | None, object]]:
    """Route readings in order with fresh judges, feeding each routed observation before the next."""
    judges = {vehicle: FakeJudge(items) for vehicle, items in schedule.items()}
    r = router()
    out = []
    for reading in readings:
        for routed in r.route_reading(reading, JudgedItems(judges, lambda judge: judge.item)):
            out.append((routed.to, routed.observation))
            if routed.to is not None:
                judges[routed.to].feed(routed.observation)
    return out + [("unrouted", r.unrouted_course_events), ("no speed", r.fixes_without_speed)]


ITEMS = st.lists(st.sampled_from(["pile", "bridge", "hill", None]), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(stream=course_readings(), schedule=st.dictionaries(st.sampled_from(["V1", "V2"]), ITEMS, max_size=2))
def test_readings_routed_live_and_in_replay_give_the_same_routed_stream(stream, schedule):
    live = route_all([reading for _arrival, reading in stream], schedule)
    captured: dict[str, list] = {}  # the raw capture keeps each device's readings apart
    for arrival, reading in stream:
        captured.setdefault(reading.device, []).append((arrival, reading))
    replayed = route_all(arrival_order(captured), schedule)
    assert replayed == live


# -- a journal judged through the router, and as a plain stream ---------------------------------

def sensed_elements(course) -> list[str]:
    """The course's pole and bridge-deck elements (the ones a board can report)."""
    found = []
    for item in course.items.values():
        if isinstance(item, PileItem):
            found += [pole.element for pole in item.poles]
        elif isinstance(item, BridgeItem):
            found += [deck.element for deck in item.decks.values()]
    return sorted(found)


FOREIGN = st.sampled_from(["other_pose", "other_signals", "other_stop", "unrouted_sensor", "other_sensor"])


def _foreign(kind: str, t: float, utc: datetime, element: str):
    if kind == "other_pose":
        return Pose(t=t, utc=utc, vehicle="other", x=0.0, y=0.0, heading=0.0, speed=0.0,
                    fix=FixQuality.RTK_FIXED)
    if kind == "other_signals":
        return Signals(t=t, utc=utc, vehicle="other", ignition=False, engine=False, starter=False,
                       gear=Gear.NEUTRAL)
    if kind == "other_stop":
        return Command(t=t, utc=utc, vehicle="other", action=CommandAction.STOP, actor="a", reason="b")
    return CourseSensor(t=t, utc=utc, element=element, active=True, vehicle=None if kind == "unrouted_sensor" else "other")


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_a_journal_judged_through_the_router_gets_the_plain_streams_verdict(pole_touch, data):
    sc, observations = pole_touch
    elements = sensed_elements(sc.course)
    stream = list(observations)
    for _ in range(data.draw(st.integers(0, 8))):
        at = data.draw(st.integers(1, len(stream) - 1))
        before = stream[at - 1]
        stream.insert(at, _foreign(data.draw(FOREIGN), before.t, before.utc, data.draw(st.sampled_from(elements))))
    ruleset = default_ruleset()
    assert result_to_dict(judge_journal(stream, sc.course, ruleset)) == \
        result_to_dict(judge_stream(stream, sc.course, ruleset))
