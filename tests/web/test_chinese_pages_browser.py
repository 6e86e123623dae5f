"""Every page in zh-CN, as the supervisor, auditor, admin and candidate see it: no English, no codes.

The visible text of each page (tooltips excepted: auditors find the rule ids and
internal codes there) may hold numbers, plate numbers, vehicle classes, units and a
few names people use as they are (the language switch, GA standards, RTK); any
other ASCII word is a programmer's word on a person's screen and fails the test.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from examroom.accounts.audit import AuditLog
from examroom.examday.checkin import CheckIn
from examroom.records.models import Sitting
from examroom.examday.roster import RosterImport
from examroom.examday.sittings import SittingPlan, create_sitting
from tests.examroom.attempts import id_number
from tests.examroom.examday.test_checkin_callup import PHOTO
from tests.examroom.examday.test_roster import write_csv
from tests.web.browser import chromium_page, screenshots, served, sign_in
from tests.web.conftest import PASSWORD
from tests.web.test_replay import judged  # noqa: F401  (the stored E hill_short attempt)
from tests.web.test_replay_video import footage  # noqa: F401

WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.:/-]*")
ALLOWED = {
    "English",  # the language switch names the other language in that language
    "GA", "RTK", "km/h", "s", "m", "cm", "mm", "MB", "GB", "CSV", "PDF", "MP4", "Excel",
}
CLASS_OR_PLATE = re.compile(r"^[A-Z]\d?$")  # vehicle classes (E, C4) and plate letters (甘K·3071学)


ZONE_OFFSET = re.compile(r"UTC[+-]\d\d:\d\d")  # 北京时间（UTC+08:00）: the zone, stated once per page
# Login names are what people chose to type; the test accounts' (admin, supervisor, auditor) may show.
USERNAMES = {"admin", "supervisor", "auditor"}


def foreign_words(text: str) -> list[str]:
    text = ZONE_OFFSET.sub("", text)
    return sorted({w for w in WORD.findall(text)
                   if w not in ALLOWED and w not in USERNAMES and not CLASS_OR_PLATE.match(w)})


def test_the_word_check_catches_codes_and_lets_people_words_pass():
    assert foreign_words("甘K·3071学 · E · 速度 12.5 km/h · GA 1026-2022 · English") == []
    assert foreign_words("项目 bridge · checked_in · admin/login · car-V2 · 北京时间（UTC+08:00）") == [
        "admin/login", "bridge", "car-V2", "checked_in"]


@pytest.fixture
def course_day(records, accounts, tmp_path):
    """A running sitting with candidates waiting, next to the stored, filmed attempt."""
    sessions = records.sessions
    records.ensure_vehicle("V2", "甘K·3072学", "C4", "C4-01")
    now = datetime.now(timezone.utc)
    sitting = create_sitting(sessions, SittingPlan("S9", now, now + timedelta(seconds=1), now + timedelta(hours=1)))
    write_csv(tmp_path / "r.csv", [["", name, id_number(n), f"6201000000{n}", "", cls, "兰州驾校", "S9", "初考"]
                                   for name, n, cls in (("王建国", 51, "E"), ("李秀英", 52, "C4"))])
    RosterImport(sessions, {"E", "C4"}).run(tmp_path / "r.csv", commit=True)
    with sessions.begin() as session:
        session.get(Sitting, sitting).status = "running"
    checkin = CheckIn(sessions)
    checkin.confirm(checkin.identify(sitting, id_number(51)).booking_id, PHOTO, "supervisor")
    AuditLog(sessions).record(now, "admin", "admin", "login", "account admin")
    return sitting


def _pages(attempt_id: int, sitting: int) -> list[tuple[str, str]]:
    return [("/", "console"), ("/attempts/", "attempts"), (f"/attempts/{attempt_id}", "result"),
            (f"/attempts/{attempt_id}/replay", "replay"), ("/examday/", "sittings"),
            (f"/examday/sitting/{sitting}/checkin", "checkin"), (f"/examday/sitting/{sitting}/queue", "queue"),
            (f"/examday/hall/{sitting}", "hall"), ("/selfcheck/", "selfcheck"), ("/cameras", "cameras"),
            ("/stats/", "stats"), ("/admin/audit", "audit"), ("/attempts/999999", "not-found")]


def test_every_page_reads_chinese(app, feed, footage, course_day, artefacts):  # noqa: F811
    attempt_id, _ = footage
    # A running vehicle with its devices on the console.
    feed.publish({"type": "started"}, vehicle_state={
        "vehicle": "V1", "plate": "甘K·3071学", "vehicle_class": "E", "attempt": attempt_id, "candidate": "张伟",
        "status": "running", "item": "e_hill", "item_type": "hill", "score": 90, "deductions": [
            {"rule": "hill.stop_offset_minor", "title": "停车后，前保险杠未定于桩杆线上", "points": 10,
             "disqualify": False}]})
    health = {"type": "health", "devices": [
        {"device": "V1.gnss", "vehicle": "V1", "kind": "gnss", "alive": True, "fix_text": "RTK固定解"},
        {"device": "V1.signals", "vehicle": "V1", "kind": "signalboard", "alive": False, "line_text": "无数据"}]}
    found = {}
    with served(app) as base, chromium_page() as page:
        sign_in(page, base, "admin", PASSWORD, then="/login")
        # The administrator names the cameras in Chinese first (the footage's cameras have only ids).
        page.goto(base + "/cameras")
        for camera, title in (("top", "考场俯视"), ("chase-V1", "V1 跟拍")):
            row = page.locator(f"#camera-names tr[data-camera='{camera}']")
            row.locator("input[name=title]").fill(title)
            row.locator("button[type=submit]").click()
            page.locator(".flash.ok", has_text=title).wait_for()
        screenshots(page, artefacts, "zh-camera-names")
        for path, name in _pages(attempt_id, course_day):
            page.goto(base + path)
            if name == "console":  # health reaches a page that is listening
                page.locator("#link.up").wait_for()
                feed.publish(health)
                page.locator("#vehicle-V1 .health", has_text="信号板").wait_for()
            else:
                page.wait_for_load_state("networkidle")
            words = foreign_words(page.inner_text("body"))
            if words:
                found[path] = words
            screenshots(page, artefacts, f"zh-{name}")
        # The candidate's own pages, signed in on the portal.
        page.goto(base + "/candidate/")
        page.fill("input[name=id_number]", "62120219900101123X")
        page.fill("input[name=name]", "张伟")
        page.fill("input[name=exam_number]", "62000001")
        page.click("main button[type=submit]")
        page.wait_for_url("**/candidate/results")
        for path, name in (("/candidate/results", "candidate-results"),
                           (f"/candidate/attempts/{attempt_id}", "candidate-attempt")):
            page.goto(base + path)
            words = foreign_words(page.inner_text("body"))
            if words:
                found[path] = words
            screenshots(page, artefacts, f"zh-{name}")
    assert found == {}, "English or internal codes on the screen:\n" + "\n".join(
        f"  {path}: {' '.join(words)}" for path, words in found.items())
