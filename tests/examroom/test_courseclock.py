"""One clock for people: the course's local time, its zone stated once; UTC only in storage."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from examroom import courseclock
from examroom.site.settings import SettingsError, parse_settings
from examroom.video.exportjobs import chapter_title, export_name

MOMENT = datetime(2026, 12, 5, 1, 2, 3, 456000, tzinfo=timezone.utc)
BASE = {"database_url": "sqlite://", "course_file": "c.toml", "rule_set_file": "r.toml"}


@pytest.fixture
def zone():
    yield courseclock
    courseclock.use_zone(courseclock.DEFAULT_ZONE)


def test_people_read_the_courses_local_time_with_the_zone_named(zone):
    assert zone.local_text(MOMENT) == "2026-12-05 09:02:03"
    assert zone.local_text(MOMENT.replace(tzinfo=None)) == "2026-12-05 09:02:03", "SQLite's naive UTC"
    assert zone.zone_note(MOMENT) == "北京时间（UTC+08:00）"
    assert zone.file_stamp(MOMENT) == "20261205-090203+0800"
    zone.use_zone("Asia/Urumqi")
    assert zone.local_text(MOMENT) == "2026-12-05 07:02:03" and zone.zone_note(MOMENT) == "乌鲁木齐时间（UTC+06:00）"


def test_exports_are_named_and_chaptered_in_local_time_and_a_disqualification_reads_buhege(zone):
    job = {"camera": "top", "start_utc": MOMENT, "id": 7, "overlay": False}
    assert export_name(job) == "top_20261205-090203+0800_7.mp4"
    assert "Z" not in export_name(job)
    fail = SimpleNamespace(utc=MOMENT, points=100, disqualify=True, title="车辆行驶中骑轧车道边线")
    minus = SimpleNamespace(utc=MOMENT, points=10, disqualify=False, title="中途停车")
    assert chapter_title(fail) == "09:02:03 不合格 车辆行驶中骑轧车道边线"
    assert chapter_title(minus) == "09:02:03 扣10分 中途停车"


def test_the_site_file_names_the_zone_and_a_wrong_one_is_refused():
    assert parse_settings(BASE).timezone == "Asia/Shanghai"
    assert parse_settings({**BASE, "timezone": "Asia/Urumqi"}).timezone == "Asia/Urumqi"
    with pytest.raises(SettingsError, match="timezone: timezone 'Asia/Beijing' is not a known zone"):
        parse_settings({**BASE, "timezone": "Asia/Beijing"}, base=Path("."))


def test_the_export_child_is_told_the_courses_zone(zone, tmp_path):
    from examroom.video.exportprocess import ExportProcess

    zone.use_zone("Asia/Urumqi")
    command = ExportProcess("sqlite://").command(1, tmp_path, tmp_path, parent_pid=1)
    assert command[command.index("--timezone") + 1] == "Asia/Urumqi"


def test_one_way_to_utc_a_naive_moment_being_utc():
    assert courseclock.as_utc(MOMENT.replace(tzinfo=None)) == MOMENT and courseclock.as_utc(None) is None
    eight = courseclock.local(MOMENT)
    assert courseclock.as_utc(eight) == MOMENT and courseclock.as_utc(eight).tzinfo is timezone.utc


def test_a_local_day_is_its_utc_bounds_in_the_courses_zone_or_the_one_named(zone):
    from datetime import date, timedelta

    start, end = courseclock.day_bounds(date(2026, 12, 5))
    assert start == datetime(2026, 12, 4, 16, tzinfo=timezone.utc) and end - start == timedelta(days=1)
    zone.use_zone("Asia/Urumqi")
    assert courseclock.day_bounds(date(2026, 12, 5))[0] == datetime(2026, 12, 4, 18, tzinfo=timezone.utc)
    assert courseclock.day_bounds(date(2026, 12, 5), courseclock.CHINA)[0] == start


def test_the_national_record_and_the_slip_are_in_china_time_whatever_the_courses_zone(zone):
    from examroom.examday.upload_export import _stamp
    from examroom.records.slip_token import exam_day

    late = datetime(2026, 12, 5, 17, 30, tzinfo=timezone.utc)  # 01:30 on the 6th in Beijing, 23:30 in Urumqi
    zone.use_zone("Asia/Urumqi")
    assert _stamp(late) == "20261206013000"
    assert exam_day(SimpleNamespace(started_utc=late.replace(tzinfo=None), checked_in_utc=None)) == "2026-12-06"
