"""One schema for every journal line: types, ranges, enums, required fields, time order.

The reader (:func:`read_jsonl`, what ``examroom judge`` uses) and the live path
(:func:`checked_line` and :class:`TimeOrder`, what the controller calls before it
journals) refuse the same observations with the same words.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.observations import (
    Command, CommandAction, CourseSensor, FixQuality, Gear, ObservationFormatError, Pose, Signals, TimeOrder,
    checked_line, from_dict, from_json, read_jsonl, to_dict, to_json,
)

UTC = datetime(2026, 11, 29, 3, 12, 7, 300000, tzinfo=timezone.utc)
POSE = ('{"kind":"pose","t":12.3,"utc":"2026-11-29T03:12:07.300000Z","vehicle":"V1","x":12.512,"y":40.031,'
        '"heading":90.0,"speed":1.8,"fix":"rtk_fixed","satellites":21,"hdop":0.6,"correction_age":1.0}')
SIGNALS = ('{"kind":"signals","t":12.35,"utc":"2026-11-29T03:12:07.350000Z","vehicle":"V1","ignition":true,'
           '"engine":true,"starter":false,"gear":"2","seatbelt":null,"helmet":true,"parking_brake":null,'
           '"left_footpeg":true,"right_footpeg":true,"left_turn":false,"right_turn":false,"roll":-1.5}')
COURSE = '{"kind":"course","t":20.1,"utc":"2026-11-29T03:12:15.100000Z","element":"pile_e.pole3","active":true,"vehicle":"V1"}'
COMMAND = ('{"kind":"command","t":0.0,"utc":"2026-11-29T03:11:55.000000Z","vehicle":"V1","action":"start",'
           '"actor":"system","reason":"","rule":null,"vehicle_class":"E","vehicle_model":"E-HJ110"}')


def test_the_documented_examples_read():
    pose, signals, course, command = map(from_json, (POSE, SIGNALS, COURSE, COMMAND))
    assert (pose.x, pose.fix, pose.satellites) == (12.512, FixQuality.RTK_FIXED, 21)
    assert (signals.helmet, signals.seatbelt, signals.gear) == (True, None, Gear.G2)
    assert (course.element, course.active) == ("pile_e.pole3", True)
    assert (command.action, command.vehicle_model) == (CommandAction.START, "E-HJ110")
    assert pose.utc == UTC and pose.utc.tzinfo is timezone.utc


# (line, words the one-line refusal must hold: the kind, the field and what is wrong)
BAD_LINES = {
    "helmet_string_false": (SIGNALS.replace('"helmet":true', '"helmet":"false"'), ["signals", "'helmet'", "str"]),
    "helmet_string_no": (SIGNALS.replace('"helmet":true', '"helmet":"no"'), ["signals", "'helmet'", "str"]),
    "bool_as_number": (SIGNALS.replace('"ignition":true', '"ignition":1'), ["'ignition'", "int"]),
    "number_as_string": (POSE.replace('"x":12.512', '"x":"12.512"'), ["pose", "'x'", "str"]),
    "time_as_string": (POSE.replace('"t":12.3', '"t":"12.3"'), ["pose", "'t'", "str"]),
    "nan": (POSE.replace('"x":12.512', '"x":NaN'), ["pose", "'x'", "nan", "not a number"]),
    "infinity": (POSE.replace('"heading":90.0', '"heading":Infinity'), ["pose", "'heading'", "inf"]),
    "minus_infinity": (SIGNALS.replace('"roll":-1.5', '"roll":-Infinity'), ["signals", "'roll'", "-inf"]),
    "overflow_to_infinity": (POSE.replace('"y":40.031', '"y":1e999'), ["pose", "'y'", "out of range"]),
    "null_for_a_number": (POSE.replace('"speed":1.8', '"speed":null'), ["pose", "'speed'", "null"]),
    "null_for_a_bool": (SIGNALS.replace('"engine":true', '"engine":null'), ["signals", "'engine'", "null"]),
    "negative_speed": (POSE.replace('"speed":1.8', '"speed":-0.1'), ["pose", "'speed'", ">= 0"]),
    "heading_past_360": (POSE.replace('"heading":90.0', '"heading":361.0'), ["'heading'", "<= 360"]),
    "absurd_position": (POSE.replace('"x":12.512', '"x":1e9'), ["pose", "'x'", "<="]),
    "roll_past_90": (SIGNALS.replace('"roll":-1.5', '"roll":-91'), ["'roll'", ">= -90"]),
    "float_satellites": (POSE.replace('"satellites":21', '"satellites":21.5'), ["'satellites'", "float"]),
    "negative_correction_age": (POSE.replace('"correction_age":1.0', '"correction_age":-1'), ["'correction_age'"]),
    "unknown_gear": (SIGNALS.replace('"gear":"2"', '"gear":"7"'), ["'gear'", "'7'"]),
    "unknown_action": (COMMAND.replace('"action":"start"', '"action":"explode"'), ["'action'", "explode"]),
    "unknown_fix": (POSE.replace('"fix":"rtk_fixed"', '"fix":"excellent"'), ["'fix'", "excellent"]),
    "missing_field": (POSE.replace('"vehicle":"V1",', ""), ["pose", "missing field 'vehicle'"]),
    "missing_kind": (POSE.replace('"kind":"pose",', ""), ["missing field 'kind'"]),
    "unknown_kind": (POSE.replace('"kind":"pose"', '"kind":"teleport"'), ["unknown kind", "teleport"]),
    "unknown_field": (POSE[:-1] + ',"colour":"red"}', ["pose", "unknown field 'colour'"]),
    "empty_vehicle": (POSE.replace('"vehicle":"V1"', '"vehicle":""'), ["'vehicle'", "length"]),
    "time_without_zone": (POSE.replace('07.300000Z', '07.300000'), ["'utc'", "timezone"]),
    "time_not_a_time": (POSE.replace('"2026-11-29T03:12:07.300000Z"', '"yesterday"'), ["'utc'"]),
    "deep_nesting_in_a_field": (POSE.replace('"heading":90.0', '"heading":' + "[" * 100_000 + "]" * 100_000),
                                ["'heading'"]),
    "deep_nesting_unknown_field": (POSE[:-1] + ',"deep":' + "[" * 100_000 + "]" * 100_000 + "}",
                                   ["unknown field 'deep'"]),
    "deep_nesting_before_the_kind": ('{"deep":' + "[" * 100_000 + "]" * 100_000 + "," + POSE[1:],
                                     ["not JSON", "nested too deeply"]),
    "top_level_nesting": ("[" * 100_000, ["JSON object"]),
    "array": ("[1, 2]", ["JSON object"]),
    "not_json": (POSE[:40], ["not JSON"]),
}


@pytest.mark.parametrize("line,words", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_each_bad_line_is_refused_naming_its_field(line, words):
    with pytest.raises(ObservationFormatError) as refused:
        from_json(line)
    message = str(refused.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_a_bad_line_in_a_journal_names_its_number():
    lines = [COMMAND, POSE, "", SIGNALS.replace('"helmet":true', '"helmet":"false"'), COURSE]
    with pytest.raises(ObservationFormatError, match=r"^j\.jsonl:4: signals: field 'helmet': "):
        list(read_jsonl(lines, "j.jsonl"))


def test_bytes_that_are_not_utf8_are_refused_with_their_line():
    lines = [COMMAND.encode(), POSE.encode().replace(b'"V1"', b'"V\xff1"')]
    with pytest.raises(ObservationFormatError, match=r"^j:2: not UTF-8"):
        list(read_jsonl(lines, "j"))


def test_an_offset_time_is_the_same_instant_kept_in_utc():
    pose = from_json(POSE.replace("03:12:07.300000Z", "11:12:07.300000+08:00"))
    assert pose.utc == UTC and pose.utc.tzinfo is timezone.utc


# ------------------------------------------------------------------------------- time order


def _pose(t: float, vehicle: str = "V1") -> Pose:
    return Pose(t=t, utc=UTC + timedelta(seconds=t), vehicle=vehicle, x=1.0, y=2.0, heading=None, speed=0.0,
                fix=FixQuality.RTK_FIXED)


def _signals(t: float) -> Signals:
    return Signals(t=t, utc=UTC + timedelta(seconds=t), vehicle="V1", ignition=True, engine=True, starter=False,
                   gear=Gear.NEUTRAL)


def test_time_going_backwards_within_a_source_is_refused():
    lines = [to_json(o) for o in (_pose(1.0), _pose(1.1), _pose(1.1), _pose(1.05))]
    with pytest.raises(ObservationFormatError,
                       match=r"^j:4: pose: field 't': 1.05 is before 1.1, .* \(time goes backwards\)$"):
        list(read_jsonl(lines, "j"))


def test_sources_interleave_out_of_order_as_the_live_journal_does():
    # A GNSS fix is timed by its epoch (earlier than its arrival), a signal frame on arrival:
    # the journal holds them in arrival order, so a pose may follow a later-timed signal frame.
    stream = [_signals(1.00), _pose(0.98), _signals(1.05), _pose(1.03), _pose(1.0, vehicle="V2"),
              CourseSensor(t=0.5, utc=UTC, element="pile.pole1", active=True),
              CourseSensor(t=0.4, utc=UTC, element="pile.pole2", active=True)]
    assert list(read_jsonl([to_json(o) for o in stream])) == stream


def test_course_elements_keep_their_own_order():
    order = TimeOrder()
    order.check(CourseSensor(t=2.0, utc=UTC, element="pile.pole1", active=True))
    with pytest.raises(ObservationFormatError, match="course of pile.pole1"):
        order.check(CourseSensor(t=1.9, utc=UTC, element="pile.pole1", active=False))


# ----------------------------------------------------------------- the live path refuses the same


LIVE_BAD = {
    "helmet_string": Signals(t=1.0, utc=UTC, vehicle="V1", ignition=True, engine=True, starter=False,
                             gear=Gear.NEUTRAL, helmet="false"),
    "nan_position": Pose(t=1.0, utc=UTC, vehicle="V1", x=math.nan, y=2.0, heading=None, speed=0.0,
                         fix=FixQuality.RTK_FIXED),
    "infinite_heading": Pose(t=1.0, utc=UTC, vehicle="V1", x=1.0, y=2.0, heading=math.inf, speed=0.0,
                             fix=FixQuality.RTK_FIXED),
    "negative_speed": Pose(t=1.0, utc=UTC, vehicle="V1", x=1.0, y=2.0, heading=None, speed=-0.5,
                           fix=FixQuality.RTK_FIXED),
    "string_time": Pose(t="1.0", utc=UTC, vehicle="V1", x=1.0, y=2.0, heading=None, speed=0.0,
                        fix=FixQuality.RTK_FIXED),
    "unknown_action": Command(t=1.0, utc=UTC, vehicle="V1", action="explode"),
    "nan_roll": Signals(t=1.0, utc=UTC, vehicle="V1", ignition=True, engine=True, starter=False,
                        gear=Gear.NEUTRAL, roll=math.nan),
}


@pytest.mark.parametrize("obs", LIVE_BAD.values(), ids=LIVE_BAD.keys())
def test_the_live_path_refuses_what_the_reader_refuses_with_the_same_words(obs):
    with pytest.raises(ObservationFormatError) as live:
        checked_line(obs)
    with pytest.raises(ObservationFormatError) as read:
        list(read_jsonl([to_json(obs)], "j"))
    assert str(read.value) == f"j:1: {live.value}"


def test_the_live_path_refuses_a_time_without_a_zone():
    obs = CourseSensor(t=1.0, utc=UTC.replace(tzinfo=None), element="pile.pole1", active=True)
    with pytest.raises(ObservationFormatError, match="^course: field 'utc': a time without a zone$"):
        checked_line(obs)


def test_the_live_path_returns_the_line_it_checked():
    obs = from_json(POSE)
    assert checked_line(obs) == to_json(obs) and from_json(checked_line(obs)) == obs


def test_from_dict_is_the_same_schema():
    assert from_dict(to_dict(from_json(SIGNALS))) == from_json(SIGNALS)
    data = to_dict(from_json(SIGNALS)) | {"helmet": "false"}
    with pytest.raises(ObservationFormatError, match="'helmet'"):
        from_dict(data)


def test_a_non_finite_number_beside_a_kind_that_is_not_a_string_is_refused():
    # Found by bench/fuzz_readers.py: naming the field of a NaN looked the kind up in a dict.
    with pytest.raises(ObservationFormatError, match=r"^field 'x': nan is not a number"):
        from_json('{"x":NaN,"kind":[1]}')


# Any value in any field: the live check and the reader agree, word for word (200 examples, ms each).
_ANY = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
                 st.sampled_from([math.nan, math.inf, 1e9, -1.0, "false", "12.5", UTC]))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from([from_json(POSE), from_json(SIGNALS), from_json(COURSE), from_json(COMMAND)]),
       st.data())
def test_the_live_check_and_the_reader_agree_on_any_field_value(obs, data):
    import dataclasses

    names = [f.name for f in dataclasses.fields(obs) if f.init]
    name = data.draw(st.sampled_from(names))
    changed = dataclasses.replace(obs, **{name: data.draw(_ANY)})
    try:
        line = to_json(changed)
    except (TypeError, ValueError):
        with pytest.raises(ObservationFormatError):
            checked_line(changed)
        return
    try:
        live = checked_line(changed)
    except ObservationFormatError as exc:
        with pytest.raises(ObservationFormatError) as read:
            list(read_jsonl([line], "j"))
        assert str(read.value) == f"j:1: {exc}"
    else:
        assert live == line and list(read_jsonl([line])) == [from_json(line)]
