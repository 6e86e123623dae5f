"""End to end: a simulated attempt filmed by the demo's cameras, replayed by an auditor in Chromium.

The demo course runs at real speed with its cameras (see
``tests/examroom/video/test_replay.py``); V1 drives until the judge deducts,
its evidence is linked, and the replay page jumps to the deduction: every
camera's frame must show the deduction's moment (decoded time code) within 0.5 s.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from examroom.accounts.users import Accounts, Role
from examroom.simulation.demo import DemoCourse
from examroom.video.index import as_utc
from tests.examroom.video.browser import require_browser
from tests.examroom.video.test_replay import SEGMENT, _drive_until_deduction
from tests.waiting import wait_for
from tests.web.conftest import PASSWORD
from tests.web.test_replay_video import TOLERANCE, open_replay_and_read_deduction

# Out of the default run, and it stays out: the demo runs on the wall clock with live cameras
# (two 4 s chase segments before driving, a drive until the judge deducts, segments past it), so it
# takes a minute and its course depends on the machine's speed; no test can own that clock.
# tests/web/test_replay_video.py (made footage) and test_replay_player_browser.py check the same
# page deterministically. Run it with: make test PYTEST_ARGS="-m recorded_video".
pytestmark = [pytest.mark.slow, pytest.mark.recorded_video]


def test_auditor_jumps_to_a_recorded_deduction_and_every_camera_shows_it(tmp_path):
    require_browser()
    from examroom_web import create_app

    demo = DemoCourse(tmp_path, speed=1.0, cameras=True, segment_seconds=SEGMENT).start()
    try:
        video = demo.service.video
        chase = demo.cameras.chase.id
        wait_for(lambda: len(video.index.all_segments(chase)) >= 2, 30, what="two chase segments")
        video.calibrate(chase, video.index.all_segments(chase)[1:2])
        outcome = _drive_until_deduction(demo, "V1", "pole_touch")
        attempt = demo.service.records.attempt(outcome.attempt_id)
        assert attempt.deductions
        wanted = as_utc(attempt.deductions[0].utc)
        for camera in video.recorders:
            wait_for(lambda c=camera: (s := video.index.last_segment(c)) and s.end_utc > wanted + timedelta(seconds=1),
                     30, what=f"segments of {camera} past the deduction")
        video.link_evidence()
        Accounts(demo.service.records.sessions).create("auditor", PASSWORD, Role.AUDITOR)
        app = create_app(demo.service.records, demo.service.feed,
                         {"SECRET_KEY": "test", "RECORDINGS_DIR": str(video.settings.recordings_dir)})
        # The attempt's own cameras (its vehicle's and the course's that see it), not every recorder.
        cameras = {s.camera for s in video.index.evidence(attempt.id)}
        errors = open_replay_and_read_deduction(app, attempt.id, wanted, cameras, within=TOLERANCE)
        print(f"replay frame vs deduction (s): {errors}")
        assert all(abs(e) <= TOLERANCE for e in errors.values()), errors
    finally:
        demo.stop()
