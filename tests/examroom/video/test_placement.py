"""Each attempt's evidence is its own vehicle's cameras and the course cameras that saw it."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from examroom.records.database import session_factory
from examroom.records.attempt_log import CandidateInfo, Records
from examroom.site.settings import SettingsError, parse_settings
from examroom.simulation.scenarios import demo_course
from examroom.site.cameras import check_cameras
from examroom.video.evidence import link_attempts
from examroom.video.index import VideoIndex
from examroom.video.placement import CameraPlace, cameras_for
from tests.examroom.video.test_config import BASE, VEHICLE, VIDEO

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

V1 = {**VEHICLE, "id": "V1", "plate": "甘K·0001学", "model": "E-01", "gnss": {"port": "/dev/ttyUSB2"},
      "signals": {"port": "/dev/ttyUSB3"}}
CAMERAS = [
    {"id": "top", "url": "rtsp://10.0.0.5/a"},                                   # the whole course
    {"id": "chase-V1", "url": "rtsp://10.0.0.6/a", "vehicle": "V1"},             # follows V1
    {"id": "car-V2", "url": "rtsp://10.0.0.9/a", "roles": ["record", "analyse"], "watches_rider": "V2"},
    {"id": "pile-c4", "url": "rtsp://10.0.0.7/a", "items": ["c4_pile"]},         # sees the C4 pile only
]
NOW = datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)


def _video(cameras=CAMERAS):
    return parse_settings({**BASE, "vehicles": [V1, VEHICLE], "video": {**VIDEO, "cameras": cameras}},
                          base=Path(".")).video


def test_the_site_file_places_cameras_on_vehicles_and_items():
    places = _video().places
    assert places == {"chase-V1": CameraPlace("chase-V1", vehicle="V1"),
                      "car-V2": CameraPlace("car-V2", vehicle="V2"),  # watches_rider puts it in V2's cab
                      "pile-c4": CameraPlace("pile-c4", items=("c4_pile",))}
    course = demo_course()
    check_cameras(_video(), ["V1", "V2"], list(course.items))
    e_items = [i.id for i in course.items_for("E")]
    c4_items = [i.id for i in course.items_for("C4")]
    all_cameras = [c["id"] for c in CAMERAS]
    assert cameras_for(all_cameras, places, "V1", e_items) == ["top", "chase-V1"]
    assert cameras_for(all_cameras, places, "V2", c4_items) == ["top", "car-V2", "pile-c4"]


@pytest.mark.parametrize("camera, vehicles, items, message", [
    ({"id": "chase-V9", "url": "x", "vehicle": "V9"}, ["V1", "V2"], None,
     r"video.cameras\[4\].vehicle: camera chase-V9 is on vehicle 'V9', which is not in vehicles \(known: V1, V2\)"),
    ({"id": "hill", "url": "x", "items": ["c4_hil"]}, ["V1", "V2"], ["c4_hill", "c4_pile"],
     r"video.cameras\[4\].items: camera hill names items \['c4_hil'\] that the course does not have"),
])
def test_a_camera_naming_a_missing_vehicle_or_item_stops_the_start(camera, vehicles, items, message):
    with pytest.raises(SettingsError, match=message):
        check_cameras(_video(CAMERAS + [camera]), vehicles, items)


@pytest.mark.parametrize("camera, message", [
    ({"id": "x", "url": "x", "vehicle": "V1", "items": ["c4_pile"]}, "on a vehicle or sees course items, not both"),
    ({"id": "x", "url": "x", "items": "c4_pile"}, r"items: must be a list of course item ids"),
    ({"id": "x", "url": "x", "vehicle": ""}, r"vehicle: must be a vehicle id"),
    ({"id": "car-V1", "url": "x", "roles": ["record", "analyse"], "watches_rider": "V1", "vehicle": "V2"},
     "watches the rider of V1 but is said to be on V2"),
])
def test_bad_placements_name_the_field(camera, message):
    with pytest.raises(SettingsError, match=message):
        _video(CAMERAS + [camera])


def test_an_attempt_is_linked_to_its_own_cameras_only(engine, tmp_path):
    sessions = session_factory(engine)
    records, index = Records(sessions), VideoIndex(sessions)
    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-01")
    records.ensure_vehicle("V2", "甘K·0002学", "C4", "C4-01")
    attempts = {}
    for vehicle, cls, n in (("V1", "E", 1), ("V2", "C4", 2)):
        candidate = records.ensure_candidate(CandidateInfo(f"考生{n}", f"62120219800101123{n}", f"6212000000{n}", cls))
        attempts[vehicle] = records.check_in(candidate, vehicle, "demo", "ga1026-2022", NOW)
        records.mark_running(attempts[vehicle], NOW)
    for camera in (c["id"] for c in CAMERAS):  # every camera recorded the whole time
        path = tmp_path / f"{camera}.mp4"
        path.write_bytes(os.urandom(64))
        index.add_segment(camera, path.name, NOW - timedelta(seconds=5), NOW + timedelta(seconds=60), 65.0, 64)
    video, course = _video(), demo_course()
    added = link_attempts(index, [c["id"] for c in CAMERAS], NOW + timedelta(seconds=30),
                          places=video.places, items_for_class=lambda c: [i.id for i in course.items_for(c)])
    cameras = {v: sorted(s.camera for s in index.evidence(a)) for v, a in attempts.items()}
    assert cameras == {"V1": ["chase-V1", "top"], "V2": ["car-V2", "pile-c4", "top"]}
    assert added == 5
