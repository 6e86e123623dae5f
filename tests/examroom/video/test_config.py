from pathlib import Path

import pytest

from examroom.site.settings import SettingsError, parse_settings

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

BASE = {"database_url": "sqlite://", "course_file": "c.toml", "rule_set_file": "r.toml"}
VIDEO = {"recordings_dir": "rec", "cache_dir": "cache", "exports_dir": "exp", "free_floor_mb": 100,
         "cameras": [{"id": "gate", "url": "rtsp://10.0.0.5/stream", "roles": ["record", "live"], "offset": -0.1},
                     {"id": "usb", "url": "0", "mode": "encode", "fps": 10}]}


def test_video_settings_are_read_with_their_cameras(tmp_path):
    settings = parse_settings({**BASE, "video": VIDEO}, base=tmp_path)
    video = settings.video
    assert video.recordings_dir == (tmp_path / "rec").resolve()
    assert video.retention.floor_bytes == 100 * 1024**2 and video.segment_seconds == 10
    assert video.retention.evidence_days == 0  # sealed evidence is kept unless the site says otherwise
    kept_a_year = parse_settings({**BASE, "video": {**VIDEO, "evidence_retention_days": 365}}, base=tmp_path)
    assert kept_a_year.video.retention.evidence_days == 365
    assert video.camera("gate").mode == "copy" and video.camera("gate").offset == -0.1
    assert video.camera("usb").is_device and video.camera("usb").fps == 10


def test_no_video_table_means_no_cameras():
    assert parse_settings(BASE).video is None


@pytest.mark.parametrize("change, message", [
    ({"cameras": [{"id": "a", "url": "x", "roles": ["record", "fly"]}]}, r"cameras\[0\].*unknown roles"),
    ({"cameras": [{"id": "a", "url": "x", "mode": "transcode"}]}, r"cameras\[0\].*mode"),
    ({"cameras": [{"id": "a", "url": "x", "fps": 500}]}, r"cameras\[0\]\.fps"),
    ({"cameras": [{"id": "a", "url": "x"}, {"id": "a", "url": "y"}]}, "duplicate camera ids"),
    ({"cameras": [{"id": "a", "url": "x", "zoom": 2}]}, r"cameras\[0\]: unknown key\(s\): zoom"),
    ({"retention_days": -1}, "video.retention_days"),
    ({"evidence_retention_days": -1}, "video.evidence_retention_days"),
    ({"recordings_dir": ""}, "video.recordings_dir"),
    ({"cameras": [{"id": "a", "url": "x", "roles": 3}]}, r"cameras\[0\]\.roles: expected an array of strings"),
    ({"cameras": [{"id": "a", "url": "x", "fps": float("nan")}]}, r"cameras\[0\]\.fps: must be a finite number"),
    ({"cameras": 7}, r"video\.cameras: expected an array of tables"),
    ({"vision": [{"camera": "gate", "device": "v", "regions": []}]}, r"video\.vision\[0\]\.camera: .*'analyse'"),
    ({"evidence_pre_seconds": float("inf")}, r"video\.evidence_pre_seconds: must be a finite number between 0 and 120"),
])
def test_bad_video_settings_name_the_field(change, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings({**BASE, "video": {**VIDEO, **change}}, base=Path("."))


def test_vision_sensors_are_read_and_checked_against_their_camera(tmp_path):
    video = {**VIDEO, "cameras": [{"id": "top", "url": "0", "mode": "encode", "roles": ["record", "analyse"]}],
             "vision": [{"camera": "top", "device": "vision-top", "regions": [
                 {"element": "c4_hill.stake_line", "kind": "line", "points": [[10, 20], [10, 200]], "width": 2}]}]}
    settings = parse_settings({**BASE, "video": video}, base=tmp_path)
    assert settings.video.vision[0].elements == ["c4_hill.stake_line"]
    assert settings.video.vision[0].regions[0].width == 2
    bad = {**video, "vision": [{"camera": "top", "device": "v", "regions": [{"element": "x", "points": [[1, 2]]}]}]}
    with pytest.raises(SettingsError, match=r"video.vision\[0\].regions\[0\]"):
        parse_settings({**BASE, "video": bad}, base=tmp_path)
    no_role = {**video, "cameras": [{"id": "top", "url": "0", "mode": "encode", "roles": ["record"]}]}
    with pytest.raises(SettingsError, match="role 'analyse'"):
        parse_settings({**BASE, "video": no_role}, base=tmp_path)


VEHICLE = {"id": "V2", "plate": "甘K·0002学", "model": "C4-01", "gnss": {"port": "/dev/ttyUSB0"},
           "signals": {"port": "/dev/ttyUSB1"}}
CAR = {"id": "car-V2", "url": "rtsp://10.0.0.9/stream", "roles": ["record", "analyse"], "watches_rider": "V2"}


def test_an_in_car_camera_watches_its_vehicles_rider(tmp_path):
    settings = parse_settings({**BASE, "vehicles": [VEHICLE],
                               "video": {**VIDEO, "cameras": VIDEO["cameras"] + [CAR], "face_interval_seconds": 3}},
                              base=tmp_path)
    assert settings.video.riders == {"V2": "car-V2"} and settings.video.face_interval == 3
    assert parse_settings({**BASE, "video": VIDEO}, base=tmp_path).video.riders == {}
    assert parse_settings({**BASE, "video": VIDEO}, base=tmp_path).video.face_interval == 2.0


@pytest.mark.parametrize("cameras, extra, message", [
    ([{**CAR, "watches_rider": "V9"}], {}, r"video.cameras\[1\].watches_rider: camera car-V2 watches vehicle 'V9', "
                                           r"which is not in vehicles \(known: V2\)"),
    ([{**CAR, "roles": ["record"]}], {}, r"video.cameras\[1\].watches_rider: camera car-V2 needs the role 'analyse'"),
    ([{**CAR, "watches_rider": ""}], {}, r"video.cameras\[1\].watches_rider: must be a vehicle id"),
    ([{**CAR, "watches_rider": 2}], {}, r"video.cameras\[1\].watches_rider: must be a vehicle id"),
    ([CAR, {**CAR, "id": "car-V2b"}], {}, r"video.cameras\[2\].watches_rider: vehicle V2 is already watched by "
                                          r"camera car-V2"),
    ([CAR], {"face_interval_seconds": 0.1}, r"video.face_interval_seconds: must be between 0.5 and 60, got 0.1"),
])
def test_a_rider_camera_must_name_a_vehicle_and_analyse_its_frames(cameras, extra, message):
    video = {**VIDEO, "cameras": VIDEO["cameras"][:1] + cameras, **extra}
    with pytest.raises(SettingsError, match=message):
        parse_settings({**BASE, "vehicles": [VEHICLE], "video": video}, base=Path("."))
