"""The replay plays: play/pause, speed, frame step, deduction marks, full screen, cameras in step.

The footage is the time-coded footage of test_replay_video (every frame shows the
moment it was taken), so each check reads back from the pictures the browser draws
which moment each camera shows.

Every wait is on the page's state (``wait_for_function``), never on time: a busy machine
makes the page slower, not different. The footage runs from before the attempt's start
to 3 s after its one deduction (journal t 22.4); playing starts at the attempt's start,
so even a slow machine pauses inside it.
"""

from __future__ import annotations

import numpy as np

from examroom.video import timecode
from tests.web.browser import chromium_page, screenshots, served, sign_in
from tests.web.conftest import PASSWORD
from tests.web.test_replay import judged  # noqa: F401  (the stored E hill_short attempt)
from tests.web.test_replay_video import CAMERAS, FPS, footage  # noqa: F401

VIDEO = "document.querySelector(`#videos video[data-camera=\"${camera}\"]`)"

# At rest on the page's moment: the right segment loaded, seeked there, a picture decoded.
AT_REST = """([camera, within]) => {
  const v = %s;
  const wanted = parseFloat(document.getElementById('replay').dataset.nowUtc);
  return !v.seeking && v.readyState >= 2 && Math.abs(parseFloat(v.dataset.segStart) + v.currentTime - wanted) < within;
}""" % VIDEO

STATE = """() => ({box: {...document.getElementById('replay').dataset},
  videos: [...document.querySelectorAll('#videos video')].map(v => ({camera: v.dataset.camera,
    segStart: v.dataset.segStart, t: v.currentTime, paused: v.paused, seeking: v.seeking, ended: v.ended,
    readyState: v.readyState, rate: v.playbackRate}))})"""

READ_PICTURE = """async ([camera, w, h]) => {
  const v = %s;
  // The picture of a seek just finished may not be composited yet: wait for the next one,
  // or not at all when it already is (a paused video presents no further frame).
  if (v.requestVideoFrameCallback) {
    await Promise.race([new Promise(r => v.requestVideoFrameCallback(() => r())),
                        new Promise(r => setTimeout(r, 300))]);
  }
  const c = document.createElement('canvas');
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  return {wanted: parseFloat(document.getElementById('replay').dataset.nowUtc),
          pixels: Array.from(g.getImageData(0, 0, w, h).data)};
}""" % VIDEO

FRAME_OFF = 1.5 / FPS  # a resting camera shows the frame at or just before the wanted moment


def _until(page, function: str, arg=None, what: str = "") -> None:
    """Wait for the page's state; on a timeout, say what the page and its videos were doing."""
    try:
        page.wait_for_function(function, arg=arg)
    except Exception as e:  # playwright's TimeoutError (playwright is imported only where a browser runs)
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise AssertionError(f"{what or function}: {first}; page: {page.evaluate(STATE)}") from e


def _shown(page, camera) -> tuple[float, float]:
    """(moment wanted, moment the camera's picture shows), as UTC epoch seconds."""
    _until(page, AT_REST, [camera, 0.05], f"{camera} at rest on the page's moment")
    width, height = timecode.strip_size()
    shown = page.evaluate(READ_PICTURE, [camera, width, height])
    moment = timecode.read(np.array(shown["pixels"], np.uint8).reshape(height, width, 4))
    assert moment is not None, f"{camera}: no time code in the picture"
    return shown["wanted"], moment.timestamp()


def _in_step(page) -> list[float]:
    """Every camera rests on the page's moment; the moments they show."""
    moments = []
    for camera in CAMERAS:
        wanted, moment = _shown(page, camera)
        assert abs(moment - wanted) <= FRAME_OFF, f"{camera} shows {moment - wanted:+.3f} s off the cursor"
        moments.append(moment)
    assert max(moments) - min(moments) <= 2 * FRAME_OFF, f"cameras apart: {moments}"
    return moments


def _now(page) -> float:
    return float(page.evaluate("document.getElementById('replay').dataset.now"))


def _all_playing(page) -> None:
    _until(page, "() => [...document.querySelectorAll('#videos video')].every(v => !v.paused)", what="every camera plays")


def _to_start(page) -> None:
    """Drag the scrubber to the attempt's start (an input event, as a drag gives)."""
    page.evaluate("() => { const c = document.getElementById('cursor'); c.value = c.min;"
                  " c.dispatchEvent(new Event('input')); }")


def test_replay_plays_at_speed_steps_frames_and_keeps_cameras_in_step(app, accounts, footage, records,  # noqa: F811
                                                                       artefacts):
    attempt_id, _ = footage
    deductions = records.attempt(attempt_id).deductions
    with served(app) as base, chromium_page() as page:
        sign_in(page, base, "auditor", PASSWORD, then="/login")
        page.goto(f"{base}/attempts/{attempt_id}/replay")
        _until(page, "() => document.getElementById('replay').dataset.now !== undefined"
                     " && document.querySelectorAll('#videos video').length === 2")
        # Deductions are marked on the time axis, in order, and a mark jumps to its moment.
        marks = page.locator("#marks .mark")
        assert marks.count() == len(deductions)
        marks.first.dispatch_event("click")
        first_t = float(marks.first.get_attribute("data-t"))
        assert abs(_now(page) - first_t) < 1e-6
        _in_step(page)
        screenshots(page, artefacts, "replay-at-first-deduction")

        # Play at 1x from the start: the clock runs, every camera plays along.
        _to_start(page)
        start = _now(page)
        page.click("#play")
        _until(page, f"() => parseFloat(document.getElementById('replay').dataset.now) > {start + 0.8}")
        _all_playing(page)
        # 2x: the clock runs twice as fast as the wall clock (the frame times it advanced by),
        # without a jump, and the videos play at 2x.
        page.select_option("#speed", "2")
        sample = "() => [...['wall', 'now']].map(k => parseFloat(document.getElementById('replay').dataset[k]))"
        wall0, now0 = page.evaluate(sample)
        _until(page, f"() => parseFloat(document.getElementById('replay').dataset.wall) > {wall0 + 500}")
        wall1, now1 = page.evaluate(sample)
        rate = (now1 - now0) / ((wall1 - wall0) / 1000)
        assert abs(rate - 2) < 0.01, rate
        assert page.evaluate("[...document.querySelectorAll('#videos video')].map(v => v.playbackRate)") == [2, 2]
        page.click("#play")  # pause: every camera comes to rest on the same moment
        assert page.evaluate("document.getElementById('replay').dataset.playing") == ""
        _in_step(page)
        screenshots(page, artefacts, "replay-paused-after-playing")

        # Frame steps move the clock by one frame, back and forth.
        rest = _now(page)
        page.click("#frame-next")
        page.click("#frame-next")
        assert abs(_now(page) - (rest + 0.08)) < 1e-6
        page.click("#frame-back")
        assert abs(_now(page) - (rest + 0.04)) < 1e-6
        _in_step(page)

        # Moving one camera with its own controls moves the clock and every other camera (the
        # top camera into its next segment: the chase camera's 1.5 s on cross top's boundary).
        marks.first.dispatch_event("click")
        _in_step(page)
        chase = "document.querySelector('#videos video[data-camera=\"chase-V1\"]')"
        assert page.evaluate(f"{chase}.duration - {chase}.currentTime") > 1.5 + FRAME_OFF
        page.evaluate(f"() => {{ const v = {chase}; v.currentTime = v.currentTime + 1.5; }}")
        _until(page, f"() => Math.abs(parseFloat(document.getElementById('replay').dataset.now) - {first_t + 1.5})"
                     " < 0.002", what="the clock follows the moved camera")
        _in_step(page)

        # Starting one camera from its own controls plays them all; pausing it pauses them all
        # (at 1x from the start: the footage lasts 25 s of wall clock, however slow the machine).
        page.select_option("#speed", "1")
        _to_start(page)
        _in_step(page)
        start = _now(page)
        top = "document.querySelector('#videos video[data-camera=\"top\"]')"
        # (play()'s promise is the camera's own business: a segment change may interrupt it.)
        page.evaluate(f"() => {{ {top}.play().catch(() => {{}}); }}")
        _until(page, "() => document.getElementById('replay').dataset.playing === '1'", what="the page plays")
        _all_playing(page)
        _until(page, f"() => parseFloat(document.getElementById('replay').dataset.now) > {start + 1}")
        # The user pauses the camera while it plays (not while it loads its next segment, when
        # it is paused already and a pause does nothing).
        _until(page, f"() => {{ const v = {top}; if (v.paused) return false; v.pause(); return true; }}")
        _until(page, "() => document.getElementById('replay').dataset.playing === ''", what="the page pauses")
        _in_step(page)
        screenshots(page, artefacts, "replay-paused-by-a-camera")

        # Full screen per camera, with the shared controls inside it.
        page.click("#videos figure:nth-child(2) button.fullscreen")
        _until(page, "() => document.fullscreenElement && document.fullscreenElement.tagName === 'FIGURE'"
                     " && document.fullscreenElement.contains(document.getElementById('play'))")
        page.screenshot(path=str(artefacts / "replay-camera-fullscreen-desktop.png"))
        page.evaluate("document.exitFullscreen()")
        _until(page, "() => !document.fullscreenElement && document.getElementById('replay')"
                     ".contains(document.getElementById('play'))")
        screenshots(page, artefacts, "replay-controls")
