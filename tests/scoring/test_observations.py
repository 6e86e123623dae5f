"""The observation stream's JSON Lines form is lossless."""

from datetime import datetime, timezone

import pytest

from scoring.observations import (
    Command,
    CommandAction,
    CourseSensor,
    FixQuality,
    Gear,
    ObservationFormatError,
    Pose,
    Signals,
    from_json,
    read_jsonl,
    to_json,
    write_jsonl,
)

UTC = datetime(2025, 5, 6, 1, 30, 0, 123456, tzinfo=timezone.utc)

SAMPLES = [
    Pose(t=1.5, utc=UTC, vehicle="v1", x=12.345678, y=-0.5, heading=None, speed=0.0, fix=FixQuality.RTK_FLOAT,
         satellites=21, hdop=0.7, correction_age=1.2),
    Signals(t=1.6, utc=UTC, vehicle="v1", ignition=True, engine=False, starter=True, gear=Gear.NEUTRAL,
            helmet=True, left_footpeg=False, right_footpeg=True, roll=-12.5),
    CourseSensor(t=1.7, utc=UTC, element="e_pile.pole3", active=True, vehicle=None),
    Command(t=0.0, utc=UTC, vehicle="v1", action=CommandAction.START, actor="考试员", reason="开始",
            vehicle_class="E", vehicle_model="E-01"),
    Command(t=2.0, utc=UTC, vehicle="v1", action=CommandAction.MANUAL_FAIL, rule="general.gear_clash"),
]


@pytest.mark.parametrize("obs", SAMPLES, ids=lambda o: o.kind)
def test_round_trip(obs):
    assert from_json(to_json(obs)) == obs


def test_jsonl_round_trip_and_chinese_stays_readable():
    lines = list(write_jsonl(SAMPLES))
    assert "考试员" in lines[3]
    assert list(read_jsonl(lines)) == SAMPLES


def test_bad_line_names_its_number():
    with pytest.raises(ObservationFormatError, match="j:2: pose: missing field 'vehicle'"):
        list(read_jsonl([to_json(SAMPLES[0]), '{"kind":"pose","t":1,"utc":"2025-05-06T01:30:00Z"}'], "j"))
