"""The attempt's video on the replay's time axis: segments served by Range, mapped from the cursor.

The footage is H.264 segments filed in the video index the way the recorder
files them (``recordings/…/<camera>/MM.SS.mp4``, UTC start/end) and linked to
the attempt as its evidence; every frame carries the time code of the moment
it shows, so the test reads back from the picture the browser draws which
moment the page is showing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import av
import numpy as np
import pytest

from examroom.accounts.users import Role
from examroom.records.attempt_log import CandidateInfo
from examroom.video import timecode
from examroom.video.index import VideoIndex, as_utc
from examroom.video.segments import tree_path
from tests.examroom.video.footage import write_time_coded_segment
from tests.web.browser import chromium_page, served, sign_in
from tests.web.conftest import PASSWORD, login
from tests.web.test_replay import UTC, judged  # noqa: F401  (the stored E hill_short attempt)

SEGMENT = 4.0  # seconds
FPS = 15
TOLERANCE = 0.5  # seconds between a deduction and the frame the page shows for it
# Two cameras whose segments do not start together, so each is mapped on its own.
CAMERAS = {"top": 0.0, "chase-V1": 1.3}


def _write_segment(path, start: datetime, seconds: float) -> None:
    """A camera's segment: one frame every 1/FPS s, each stamped with the moment it shows."""
    write_time_coded_segment(path, start, seconds, FPS, 480, 64, crf="28", g=str(FPS))


@pytest.fixture
def footage(app, records, judged, tmp_path):  # noqa: F811
    """Every camera's segments around the attempt, filed and linked as its evidence."""
    attempt_id, _ = judged
    attempt = records.attempt(attempt_id)
    deductions = [as_utc(d.utc) for d in attempt.deductions]
    folder = tmp_path / "recordings"
    index = VideoIndex(records.sessions)
    # The journal runs from UTC; cover the stretch up to just past the last deduction.
    begin, end = UTC - timedelta(seconds=5), max(deductions) + timedelta(seconds=3)
    for camera, lag in CAMERAS.items():
        start = begin + timedelta(seconds=lag)
        while start < end:
            relative = tree_path(camera, start)
            _write_segment(folder / relative, start, SEGMENT)
            index.add_segment(camera, relative, start, start + timedelta(seconds=SEGMENT), SEGMENT,
                              (folder / relative).stat().st_size)
            start += timedelta(seconds=SEGMENT)
    # A segment of the same camera outside the attempt: in the index, never served for it.
    stray = tree_path("top", end + timedelta(minutes=30))
    _write_segment(folder / stray, end + timedelta(minutes=30), 1.0)
    stray_id = index.add_segment("top", stray, end + timedelta(minutes=30), end + timedelta(minutes=30, seconds=1),
                                 1.0, 1).id
    assert index.link_evidence(attempt_id, list(CAMERAS), begin, end) > 4
    app.config["RECORDINGS_DIR"] = str(folder)
    return attempt_id, stray_id


def test_segments_are_listed_on_the_attempt_clock_and_served_with_ranges(app, accounts, footage, judged):  # noqa: F811
    attempt_id, stray_id = footage
    c = app.test_client()
    login(c, "auditor")
    listing = c.get(f"/attempts/{attempt_id}/video.json").get_json()
    # The journal's start command pairs its clock with UTC (the scenario's clock starts at UTC).
    assert listing["served"] and listing["anchor_t"] > 0
    assert abs(listing["anchor_utc"] - listing["anchor_t"] - UTC.timestamp()) < 1e-3
    assert [cam["camera"] for cam in listing["cameras"]] == sorted(CAMERAS)
    first = listing["cameras"][0]["segments"][0]
    whole = c.get(first["url"])
    assert whole.status_code == 200 and whole.mimetype == "video/mp4"
    part = c.get(first["url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == whole.data[100:200]
    assert c.get(f"/attempts/{attempt_id}/video/{stray_id}.mp4").status_code == 404, "not evidence of this attempt"
    app.config["RECORDINGS_DIR"] = ""
    assert c.get(first["url"]).status_code == 404
    assert c.get(f"/attempts/{attempt_id}/video.json").get_json()["served"] is False


def test_only_staff_may_fetch_footage(app, accounts, footage):
    attempt_id, _ = footage
    url = app.test_client()
    anonymous = url.get(f"/attempts/{attempt_id}/video.json")
    assert anonymous.status_code in (302, 401)
    for role in Role:
        c = app.test_client()
        login(c, role.value)
        listing = c.get(f"/attempts/{attempt_id}/video.json")
        if role is Role.INSPECTOR:  # the city's inspector opens no course page (the city console relays)
            assert listing.status_code == 403
            continue
        assert listing.status_code == 200, role
        assert c.get(listing.get_json()["cameras"][0]["segments"][0]["url"]).status_code == 200, role


READ_FRAME = """async ([camera, wanted, within, w, h]) => {
  const v = document.querySelector(`#videos video[data-camera="${camera}"]`);
  const deadline = Date.now() + 10000;
  while (!(Math.abs(parseFloat(v.dataset.wantedUtc) - wanted) <= within) || v.seeking || v.readyState < 2) {
    if (Date.now() > deadline) return {error: 'not seeked: ' + JSON.stringify(v.dataset) + ' rs=' + v.readyState + ' seeking=' + v.seeking + ' ns=' + v.networkState + ' err=' + (v.error && v.error.code) + ' dur=' + v.duration + ' t=' + v.currentTime + ' src=' + v.src + ' buf=' + JSON.stringify(Array.from({length: v.buffered.length}, (_, i) => [v.buffered.start(i), v.buffered.end(i)]))};
    await new Promise(r => setTimeout(r, 50));
  }
  if (v.requestVideoFrameCallback) {
    await Promise.race([new Promise(r => v.requestVideoFrameCallback(() => r())),
                        new Promise(r => setTimeout(r, 500))]);
  }
  const c = document.createElement('canvas');
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  return {error: null, segment: v.dataset.segment, pixels: Array.from(g.getImageData(0, 0, w, h).data)};
}"""


def open_replay_and_read_deduction(app, attempt_id: int, wanted: datetime, cameras,
                                   within: float = 0.0005) -> dict[str, float]:
    """Sign in as an auditor, open the replay, click the first deduction; seconds each camera's frame is off.

    ``within``: how far the moment the page puts the cameras on may be from ``wanted`` (the
    page maps the deduction's journal t through the start command's (t, utc) pair; a real
    recording's deduction UTC is its own stamp, a few milliseconds away).
    """
    width, height = timecode.strip_size()
    errors = {}
    with served(app) as base, chromium_page() as page:
        sign_in(page, base, "auditor", PASSWORD, then="/login")
        page.goto(f"{base}/attempts/{attempt_id}/replay")
        page.locator("#videos video").first.wait_for()
        assert page.locator("#videos video").count() == len(cameras)
        before = page.evaluate("[...document.querySelectorAll('#videos video')].map(v => v.src)")
        page.click("#timeline button")
        for camera in cameras:
            shown = page.evaluate(READ_FRAME, [camera, wanted.timestamp(), within, width, height])
            assert shown["error"] is None, shown["error"]
            moment = timecode.read(np.array(shown["pixels"], np.uint8).reshape(height, width, 4))
            assert moment is not None, f"{camera}: no time code in the frame shown"
            errors[camera] = (moment - wanted).total_seconds()
        after = page.evaluate("[...document.querySelectorAll('#videos video')].map(v => v.src)")
        assert after != before, "the cursor moved into later segments"
    return errors


def test_jump_to_a_deduction_shows_its_moment_on_every_camera(app, accounts, footage, records):
    attempt_id, _ = footage
    wanted = as_utc(records.attempt(attempt_id).deductions[0].utc)
    errors = open_replay_and_read_deduction(app, attempt_id, wanted, list(CAMERAS))
    assert all(abs(e) <= TOLERANCE for e in errors.values()), f"frames off the deduction by {errors} s"


def _frame_time_at(data: bytes, seconds: float, tmp_path) -> datetime | None:
    """The time code of the first frame at or after ``seconds`` into an MP4."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as clip:
        for frame in clip.decode(video=0):
            if frame.time >= seconds - 1e-3:
                return timecode.read(frame.to_ndarray(format="bgr24"))
    return None


def test_a_candidate_gets_a_clip_of_each_deduction_of_their_own_attempt(app, footage, records, tmp_path):
    from tests.web.conftest import csrf_token

    attempt_id, _ = footage
    wanted = as_utc(records.attempt(attempt_id).deductions[0].utc)
    c = app.test_client()
    token = csrf_token(c.get("/candidate/").get_data(as_text=True))
    c.post("/candidate/", data={"csrf_token": token, "id_number": "62120219900101123X", "name": "张伟",
                                "exam_number": "62000001"})
    page = c.get(f"/candidate/attempts/{attempt_id}").get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)" class="clip"', page)
    assert len(links) == len(CAMERAS), page
    for link in links:
        url, at = link.split("#t=")
        clip = c.get(url)
        assert clip.status_code == 200 and c.get(url, headers={"Range": "bytes=0-9"}).status_code == 206
        moment = _frame_time_at(clip.data, float(at), tmp_path)
        assert moment is not None and abs((moment - wanted).total_seconds()) <= TOLERANCE, (link, moment, wanted)
    # Nobody else: not signed in, or another candidate's session, gets the portal's 404.
    assert app.test_client().get(links[0].split("#")[0]).status_code == 404
    other = records.ensure_candidate(CandidateInfo("李娜", "620102199202021234", "62000002", "E"))
    stranger = app.test_client()
    token = csrf_token(stranger.get("/candidate/").get_data(as_text=True))
    signed_in = stranger.post("/candidate/", data={"csrf_token": token, "id_number": "620102199202021234",
                                                   "name": "李娜", "exam_number": "62000002"})
    assert signed_in.status_code == 302, "the other candidate has a portal session"
    assert other and stranger.get(links[0].split("#")[0]).status_code == 404
