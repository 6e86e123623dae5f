"""The lockstep course's course board keeps its line timing on a clock of its own.

Its driver waits for replies, quiet lines and drains on the board's clock, which the board's
timed cable moves (examroom/simulation/lockstep.py). On wall time, with a 2 ms timeout, a host
that stalled the test's thread made a reply that was on the link at once look untimed, and a
reading was lost (a fresh-clone CI run of tests/examroom/station/test_replay.py).
"""

import pytest

from devices.courseboard import CourseBoardDriver
from examroom.simulation.lockstep import LockstepCourse


@pytest.fixture
def course(tmp_path, copy_migrated):
    copy_migrated(tmp_path / "examroom.sqlite3")
    course = LockstepCourse(tmp_path, raw_capture=False).start()
    yield course
    course.stop()


def board_driver(course: LockstepCourse) -> CourseBoardDriver:
    return next(r.driver for r in course.service.runners if isinstance(r.driver, CourseBoardDriver))


def test_each_poll_waits_out_its_quiet_guard_on_the_boards_clock_and_every_reply_is_timed(course):
    driver = board_driver(course)
    polls, board_time = driver.counts["polls"], course.board_clock.now()[0]
    course.advance(3.0)
    polls = driver.counts["polls"] - polls
    waited = course.board_clock.now()[0] - board_time
    assert polls >= 20
    # The reply waits on the link at once; the driver then listens for a quiet line, once a poll.
    assert waited == pytest.approx(polls * driver.quiet, rel=1e-6)
    assert driver.counts["untimed"] == driver.counts["timeouts"] == 0


def test_a_silent_board_times_out_on_the_boards_clock(course):
    driver = board_driver(course)
    course.sim.board_cable.answer("a", lambda request: b"")
    timeouts, board_time = driver.counts["timeouts"], course.board_clock.now()[0]
    course.advance(0.5)
    timeouts = driver.counts["timeouts"] - timeouts
    assert timeouts >= 3
    assert course.board_clock.now()[0] - board_time >= timeouts * driver.timeout
