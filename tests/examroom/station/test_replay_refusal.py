"""Judging again from raw bytes refuses what the controller refused live (the journal schema)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from devices.gnss import GnssTruth, build_epoch
from devices.rawcapture import RawChunk, RawWriter
from examroom.station.raw_replay import replay_attempt
from examroom.site.settings import parse_settings
from examroom.simulation.scenarios import default_ruleset, demo_course
from scoring.observations import Command, CommandAction, Pose, to_json

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
SITE = {"database_url": "sqlite:///x.sqlite3", "course_file": "c.toml", "rule_set_file": "r.toml",
        "vehicles": [{"id": "V1", "plate": "甘K·0001学", "model": "E-01", "gnss": {"port": "loop://"},
                      "signals": {"port": "loop://?signals"}}]}


def test_a_fix_1000_km_away_is_refused_in_the_replay_as_live(tmp_path):
    course = demo_course()
    writer = RawWriter(tmp_path, "V1.gnss")
    far = 12
    for k in range(30):
        when = T0 + timedelta(seconds=1 + k / 10)
        latitude = course.origin.latitude + (10.0 if k == far else 0.0)  # 10° north: about 1100 km
        truth = GnssTruth(latitude, course.origin.longitude - 0.0002, course.origin.altitude, speed=0.0,
                          course=90.0, heading=90.0)
        data = "".join(s + "\r\n" for s in build_epoch(truth, when)).encode()
        writer.write(RawChunk(mono=1 + k / 10 + 0.02, utc=when + timedelta(seconds=0.02), direction="rx", data=data))
    writer.close()
    start = Command(t=0.5, utc=T0 + timedelta(seconds=0.5), vehicle="V1", action=CommandAction.START,
                    vehicle_class="E", vehicle_model="E-01")
    replayed = replay_attempt(tmp_path, [to_json(start)], parse_settings(SITE, base=tmp_path), course,
                              default_ruleset())
    poses = [o for o in replayed.observations if isinstance(o, Pose)]
    assert poses and all(abs(p.x) < 100 and abs(p.y) < 100 for p in poses)
    assert replayed.refused == 1
