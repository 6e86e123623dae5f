"""Record simulated attempts, export them and replay the exports in headless Chromium.

The demo course runs at real speed with its two cameras: the view from above
(frames encoded once to H.264) and the chase camera of V1 (a real H.264 stream
over TCP, recorded by stream copy). Every frame carries its UTC time code, so
the test reads back, from the picture the browser shows, which moment it is.
"""

from __future__ import annotations

import json
import re
import urllib.request
import threading
from datetime import timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from examroom.simulation.demo import DemoCourse
from examroom.simulation.scenarios import scenario
from examroom.video import timecode
from examroom.video.index import as_utc
from examroom.video.segments import tree_path
from tests.examroom.video.browser import GRAB, chromium, require_browser, serve
from tests.examroom.video.footage import probe
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

SEGMENT = 4  # seconds; short segments keep the test short (sites use 10)
TOLERANCE = 0.2  # seconds between a deduction and the frame shown at its chapter
FPS = 15  # the demo cameras' frame rate


def _drive_until_deduction(demo: DemoCourse, vehicle: str, name: str):
    """Drive a scenario; once the judge deducts, the candidate leaves the course 2 s later."""
    driver = demo.drivers[vehicle]
    subscription = demo.service.feed.subscribe()

    def watch():
        with subscription:
            while not driver.stopping.is_set():
                event = subscription.get(0.5)
                if event and event.get("type") == "deduction" and event.get("vehicle") == vehicle:
                    # Not a wait for anything: the candidate drives on for 2 s of course time
                    # (the clip's evidence after the deduction), as the script says.
                    demo.clock.sleep(2.0)
                    driver.stopping.set()

    threading.Thread(target=watch, daemon=True).start()
    outcome = driver.drive(scenario(demo.class_of(vehicle), name))
    driver.stopping.set()
    return outcome


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replay")
    demo = DemoCourse(folder, speed=1.0, cameras=True, segment_seconds=SEGMENT).start()
    video = demo.service.video
    try:
        chase = demo.cameras.chase.id
        # Calibrate the network camera on a segment that is not its connection's first (that one
        # begins with frames buffered while the camera waited for the recorder).
        wait_for(lambda: len(video.index.all_segments(chase)) >= 2, timeout=30, interval=0.2,
                 what="two chase segments")
        offset = video.calibrate(chase, video.index.all_segments(chase)[1:2])
        outcomes = {}
        threads = [threading.Thread(target=lambda v=v: outcomes.__setitem__(v, _drive_until_deduction(
            demo, v, "pole_touch"))) for v in ("V1", "V2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        attempts = {v: demo.service.records.attempt(o.attempt_id) for v, o in outcomes.items()}
        last_end = max(as_utc(a.ended_utc) for a in attempts.values())
        for camera in video.recorders:
            wait_for(lambda c=camera: (s := video.index.last_segment(c)) and
                     s.end_utc > last_end + timedelta(seconds=demo.service.video.settings.evidence_post),
                     timeout=30, interval=0.2, what=f"segments of {camera} past the attempts")
        video.link_evidence()
        exports = {}
        for vehicle, camera in (("V1", chase), ("V2", "top")):
            job = video.exports.request_attempt(attempts[vehicle].id, camera)
            exports[vehicle] = video.exports.wait(job, 60)
        overlay = video.exports.wait(video.exports.request_attempt(attempts["V1"].id, chase, overlay=True), 90)
        exports_with_overlay = {**exports, "V1-overlay": overlay}
        yield demo, attempts, exports_with_overlay, offset
    finally:
        demo.stop()


def test_segments_are_checked_and_filed_by_utc(recorded):
    demo, *_ = recorded
    video = demo.service.video
    segments = video.index.all_segments()
    assert {s.camera for s in segments} == {"top", demo.cameras.chase.id, demo.cameras.rider.id}
    for segment in segments:
        path = video.settings.recordings_dir / segment.path
        assert re.fullmatch(r"\d{4}-\d\d-\d\d/\d\d/[\w-]+/\d\d\.\d\d(-\d+)?\.mp4", segment.path)
        assert segment.path.split("-")[0:1] and segment.path.startswith(tree_path(segment.camera,
                                                                                  segment.start_utc)[:-4])
        assert path.stat().st_size == segment.size
        checked = probe(path)
        assert checked.frames_ok and abs(checked.duration - segment.duration) < 1e-3
        assert abs((segment.end_utc - segment.start_utc).total_seconds() - segment.duration) < 1e-3
    # The maintenance job files closed segments every few seconds; run it now rather than depend on
    # when the scheduler last ran it on a loaded machine. What stays is each camera's open segment.
    video.maintain()
    assert not list(video.settings.cache_dir.glob("*/run-*/seg*.mp4"))[5:], "the cache keeps only open segments"


def test_chase_camera_is_recorded_by_stream_copy(recorded):
    demo, *_ = recorded
    segment = demo.service.video.index.all_segments(demo.cameras.chase.id)[1]
    with av.open(str(demo.service.video.settings.recordings_dir / segment.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        # The recorder never re-encodes: the source's encoder settings (zerolatency ultrafast x264
        # writes its options into the stream) reach the file unchanged.
        packet = next(p for p in container.demux(stream) if p.size)
        assert b"x264" in bytes(packet) or stream.codec_context.extradata


def test_frames_carry_their_recorded_time(recorded):
    demo, *_ = recorded
    video = demo.service.video
    from examroom.video.calibration import frame_errors

    for camera in video.recorders:
        segment = video.index.all_segments(camera)[2]
        errors = frame_errors(video.settings.recordings_dir, segment)
        fps = video.recorders[camera].spec.fps  # the in-car camera runs slower than the others
        assert len(errors) > SEGMENT * fps * 0.66
        spread = sorted(abs(e) for e in errors)
        if video.recorders[camera].spec.mode == "encode":
            # Frames laid on the frame-rate grid by their own time: exact, except that a frame the
            # busy simulator skipped is filled with the one before (a whole frame period late).
            # How late a repeated frame is depends on how starved the simulator was (seen: 0.4 s with
            # the machine's two cores over-committed), so what is bounded is how many frames are exact.
            exact = sum(e < 0.002 for e in spread)
            assert exact >= 0.75 * len(spread), (camera, exact, len(spread), spread[-5:])
            assert all(e < 0.002 or abs(e * fps - round(e * fps)) < 0.03 for e in spread), (camera, spread[-5:])
        else:
            # Stamped by the wall clock on arrival (calibrated): network and scheduling jitter only.
            # A machine starved of CPU delays single packets further (docs/video.md), so the
            # bound is on the bulk of the frames; the deductions' frames are checked in the browser.
            assert spread[len(spread) // 2] < 0.05, (camera, spread[-5:])
            assert spread[int(len(spread) * 0.95)] < 0.15, (camera, spread[-5:])


def test_each_attempt_links_its_segments_and_pins_them(recorded):
    demo, attempts, _, _ = recorded
    video = demo.service.video
    # Each attempt has its own vehicle's cameras and the camera above the course, never another vehicle's.
    own = {"V1": ["chase-V1", "top"], "V2": ["car-V2", "top"]}
    assert {v: sorted({s.camera for s in video.index.evidence(a.id)}) for v, a in attempts.items()} == own
    for vehicle, attempt in attempts.items():
        start, end = as_utc(attempt.started_utc), as_utc(attempt.ended_utc)
        for camera in own[vehicle]:
            linked = video.index.evidence(attempt.id, camera)
            assert linked and all(s.pinned for s in linked)
            assert linked[0].start_utc <= start - timedelta(seconds=video.settings.evidence_pre)
            assert linked[-1].end_utc >= end + timedelta(seconds=video.settings.evidence_post)
            wanted = video.index.segments(camera, start - timedelta(seconds=video.settings.evidence_pre),
                                          end + timedelta(seconds=video.settings.evidence_post))
            assert [s.id for s in wanted] == [s.id for s in linked], "no segment in the range is left out"


def test_export_plays_in_chromium_and_each_deduction_lands_on_its_frame(recorded, tmp_path):
    require_browser()
    demo, attempts, exports, _ = recorded
    exports_dir = demo.service.video.settings.exports_dir
    width, height = timecode.strip_size()
    checked = 0
    with serve(exports_dir) as base, chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        for name, job in exports.items():
            assert job["status"] == "done", job
            deductions = attempts[name.split("-")[0]].deductions
            assert deductions
            with av.open(str(exports_dir / job["path"])) as container:
                chapters = container.chapters()
            assert len(chapters) == len(deductions) + 1  # the lead-in, then one per deduction
            page.goto(f"{base}/play/{job['path']}")
            for deduction, chapter in zip(deductions, chapters[1:]):
                assert chapter["metadata"]["title"].endswith(deduction.title)
                position = float(chapter["start"] * chapter["time_base"])
                shown = page.evaluate(GRAB, [position, width, height])
                assert shown["error"] is None and shown["duration"] > position
                pixels = np.array(shown["pixels"], np.uint8).reshape(height, width, 4)
                moment = timecode.read(pixels)
                assert moment is not None, f"no time code in the frame at {position:.2f} s"
                error = (moment - as_utc(deduction.utc)).total_seconds()
                assert abs(error) <= TOLERANCE, f"{job['camera']}: frame shows {moment}, deduction at {deduction.utc}"
                checked += 1
    assert checked == 3


def _red_text(image: np.ndarray) -> int:
    """Pixels of deduction-red text on the overlay's dark panel.

    The panel is translucent black (alpha 140/255), so every panel pixel but the text has all
    channels below 120, whatever the scene under it. A red pixel counts only with such a pixel
    within 3 px beside it: glyph strokes are thin, while the scene outside a short panel (a red
    cone, a vehicle) shows red blobs whose pixels lie among their own.
    """
    region = image[24:160, 4:420].astype(int)
    red = (region[..., 2] > 200) & (region[..., 1] < 140) & (region[..., 0] < 140)
    dark = (region.max(axis=2) < 120).astype(np.uint8)
    beside_dark = cv2.dilate(dark, np.ones((1, 7), np.uint8)) > 0
    return int(np.count_nonzero(red & beside_dark))


def test_overlay_export_shows_each_deduction_from_its_moment(recorded):
    from examroom.video.overlay import FONT_PATHS

    if not any(Path(p).exists() for p in FONT_PATHS):
        pytest.skip("no CJK font installed (the Makefile installs Debian's fonts-wqy-microhei)")
    demo, attempts, exports, _ = recorded
    job = exports["V1-overlay"]
    assert job["status"] == "done" and job["path"].endswith("_overlay.mp4")
    deduction = attempts["V1"].deductions[0]
    with av.open(str(demo.service.video.settings.exports_dir / job["path"])) as container:
        chapters = container.chapters()
        at = float(chapters[1]["start"] * chapters[1]["time_base"])
        stream = container.streams.video[0]
        before = after = None
        for frame in container.decode(stream):
            if frame.time < at - 1.0:
                before = frame.to_ndarray(format="bgr24")
            elif frame.time > at + 0.5:
                after = frame.to_ndarray(format="bgr24")
                break
    assert stream.codec_context.name == "h264"
    assert chapters[1]["metadata"]["title"].endswith(deduction.title)
    assert _red_text(before) < 20 <= _red_text(after)
    assert timecode.read(after) is not None, "the overlay leaves the time code readable"


def test_killed_camera_comes_back_and_leaves_a_gap_event(recorded):
    demo, *_ = recorded
    video = demo.service.video
    chase = demo.cameras.chase.id
    before = video.index.last_segment(chase)
    demo.cameras.chase_source.kill()
    killed = demo.clock.now()[0]  # the course clock, which stamps the camera's frames
    gap = wait_for(lambda: [e for e in video.index.events(chase, "gap") if e.start_utc >= before.end_utc],
                   timeout=30, interval=0.2, what="the gap to open")[0]
    assert gap.end_utc is None
    # The watchdog restarts the recorder while the camera is still off: that try fails, and the
    # gap stays open through it.
    wait_for(lambda: video.watchdog.restarts(chase) >= 1, timeout=30, interval=0.2,
             what="the watchdog to restart the recorder of the camera that is off")
    assert [e for e in video.index.events(chase, "gap") if e.id == gap.id][0].end_utc is None
    demo.cameras.chase_source.start()
    off_for = demo.clock.now()[0] - killed
    closed = wait_for(lambda: [e for e in video.index.events(chase, "gap") if e.id == gap.id and e.end_utc],
                      timeout=40, interval=0.2, what="the gap to close")[0]
    after = [s for s in video.index.all_segments(chase) if s.start_utc >= closed.end_utc]
    assert after and after[0].start_utc == closed.end_utc
    # The gap spans the whole time the camera was off (no frame of it was taken then), less at
    # most one frame: the camera's first picture after the return may be one rendered just before.
    assert (closed.end_utc - closed.start_utc).total_seconds() >= off_for - 1.0 / FPS, (closed, off_for)


def _mjpeg_frames(url: str, count: int):
    """The first ``count`` JPEG frames of an MJPEG stream, with the moment each arrived."""
    import cv2

    with urllib.request.urlopen(url, timeout=10) as response:
        buffer = b""
        while count:
            buffer += response.read1(65536)
            start = buffer.find(b"\xff\xd8")
            end = buffer.find(b"\xff\xd9", start + 2)
            if start >= 0 and end > 0:
                image = cv2.imdecode(np.frombuffer(buffer[start:end + 2], np.uint8), cv2.IMREAD_COLOR)
                buffer = buffer[end + 2:]
                count -= 1
                yield image


def test_live_view_shows_each_camera_within_a_second_without_opening_it_again(recorded):
    demo, *_ = recorded
    video = demo.service.video
    listing = json.loads(urllib.request.urlopen(video.live.url, timeout=5).read())
    # The in-car camera is live and analysed only, not recorded: it is listed with the others.
    assert {c["camera"] for c in listing} == {"top", demo.cameras.chase.id, demo.cameras.rider.id}
    for camera in ("top", demo.cameras.chase.id):
        delays = []
        for image in _mjpeg_frames(f"{video.live.url}{camera}.mjpg", 20):
            shown = timecode.read(image)
            if shown is not None:
                delays.append((demo.clock.now()[1] - shown).total_seconds())
        assert len(delays) >= 15, camera
        assert 0 <= sorted(delays)[len(delays) // 2] < 1.0 and max(delays) < 1.0, (camera, delays)
    # The network camera has exactly one client: its recorder (the live frames come from the
    # recorder's local re-stream), so the simulated camera would refuse a second one anyway.
    assert video.readers[demo.cameras.chase.id].url.startswith("udp://127.0.0.1:")


def test_each_attempts_filed_video_is_sealed_by_the_course_and_verifies(recorded):
    """The controller's evidence job seals each attempt's video once its cameras filed past it."""
    from examroom.records.evidence_seals import sealed_segments
    from examroom.records.models import EvidenceSeal
    from examroom.records.verify import verify

    demo, attempts, *_ = recorded
    video = demo.service.video
    video.seal_evidence()  # the job (every 5 s) may have sealed them already: then this seals nothing
    sessions = demo.service.sessions
    for vehicle, attempt in attempts.items():
        with sessions() as session:
            statement = json.loads(session.get(EvidenceSeal, attempt.id).payload)
        by_camera = {c["camera"]: c["segments"] for c in statement["cameras"]}
        own = demo.cameras.chase.id if vehicle == "V1" else demo.cameras.rider.id
        assert set(by_camera) == {"top", own} and all(by_camera.values())
        linked = {(s.camera, s.id, s.sha256) for s in video.index.evidence(attempt.id)}
        assert {(s.camera, s.segment, s.sha256) for s in sealed_segments(statement)} == linked
    report = verify(sessions, attempts=[a.id for a in attempts.values()],
                    recordings_dir=video.settings.recordings_dir)
    assert report.ok, [str(p) for p in report.problems]
