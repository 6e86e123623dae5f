"""The simulated camera draws each frame at its own moment, however late its thread wakes."""

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.readings import ManualClock
from examroom.simulation.cameras import CourseRenderer, SimCamera
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.simulation.world import VehicleTruth
from scoring.course import load_course

COURSE = load_course(DEMO_COURSE_PATH)
FRAMES = 12


class TimedRenderer(CourseRenderer):
    """The course renderer, noting the clock time it is asked to draw each frame at."""

    def __init__(self) -> None:
        super().__init__(COURSE, {"V1": COURSE.vehicle("E-01")}, 160, 90, labels=False)
        self.times: list[float] = []

    def render(self, truths, caption, mono=0.0):
        self.times.append(mono)
        return super().render(truths, caption, mono)


class LateWaker(ManualClock):
    """Every sleep ends ``lag`` clock seconds late: the camera's thread on a starved host."""

    def __init__(self, lag: float) -> None:
        super().__init__(start_mono=100.0)
        self.lag = lag

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds) + self.lag)


@settings(max_examples=40, deadline=None)
@given(fps=st.sampled_from([5.0, 10.0, 15.0]), lag=st.one_of(st.just(0.0), st.floats(0.001, 0.25)))
def test_each_frame_shows_the_world_at_the_time_it_is_stamped_with(fps, lag):
    clock = LateWaker(lag)
    origin, origin_utc = clock.now()
    asked: list[tuple[float, float]] = []  # (the time the world was drawn at, the clock on waking)
    stamps: list[float] = []

    def stamp() -> float:
        return (camera.fanout.latest.utc - origin_utc).total_seconds()

    def truths(mono: float) -> dict:
        if asked:
            stamps.append(stamp())  # the frame drawn at the call before
        asked.append((mono, clock.now()[0]))
        if len(asked) == FRAMES:
            camera.stop()  # ends the loop after this frame (no thread to join: it runs in this one)
        return {"V1": VehicleTruth(x=mono - origin, y=0.0, heading=90.0, speed=1.0)}

    renderer = TimedRenderer()
    camera = SimCamera("top", renderer, truths, clock, fps=fps)
    camera._run()  # in this thread, on the clock the test owns
    stamps.append(stamp())
    assert len(stamps) == FRAMES
    assert renderer.times == [drawn for drawn, _ in asked], "the renderer draws the same moment"
    for (drawn, woke), stamp in zip(asked, stamps):
        assert abs((drawn - origin) - stamp) < 1e-6, "the world drawn at the frame's own time (to the µs of a UTC)"
        assert woke >= drawn + lag - 1e-9  # the thread woke that late, and it did not matter
    if lag > 0:
        assert any(woke > drawn for drawn, woke in asked)
