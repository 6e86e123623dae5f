"""A demo round whose sitting does not start is reported, closed and tried again: the course
goes on examining once its devices keep up (it once ended that course's rounds without a word)."""

import threading

from examroom.simulation.demo import open_running_round
from examroom.simulation.demo_sitting import DemoSittingError


class Sittings:
    """The rounds' sittings as DemoSittings offers them; the first ``failures`` do not start."""

    def __init__(self, failures: int, stop: threading.Event | None = None) -> None:
        self.failures, self.stop = failures, stop
        self.opened: list[int] = []
        self.closed: list[int] = []

    def open_round(self, per_class: dict[str, int]) -> int:
        sitting_id = len(self.opened) + 1
        self.opened.append(sitting_id)
        if len(self.opened) <= self.failures:
            if self.stop is not None:
                self.stop.set()  # the demo is stopped while the round waits
            raise DemoSittingError(f"场次{sitting_id}设备自检未通过：course-board-1: 数据率4.0Hz，应为20Hz", sitting_id)
        return sitting_id

    def close_round(self, sitting_id: int) -> None:
        self.closed.append(sitting_id)


def test_a_round_that_does_not_start_is_reported_closed_and_tried_again():
    sittings, told = Sittings(failures=2), []
    sitting = open_running_round(sittings, {"E": 7}, threading.Event(), told.append, retry_s=0.0)
    assert sitting == 3 and sittings.closed == [1, 2]
    assert told == ["场次1设备自检未通过：course-board-1: 数据率4.0Hz，应为20Hz",
                    "场次2设备自检未通过：course-board-1: 数据率4.0Hz，应为20Hz"]


def test_a_stop_while_a_round_waits_ends_the_rounds():
    stop = threading.Event()
    sittings, told = Sittings(failures=5, stop=stop), []
    assert open_running_round(sittings, {"C4": 6}, stop, told.append, retry_s=0.0) is None
    assert sittings.opened == [1] and sittings.closed == [1] and len(told) == 1


def test_without_a_screen_the_trouble_is_logged(caplog):
    sittings = Sittings(failures=1)
    with caplog.at_level("WARNING", logger="examroom.simulation.demo"):
        assert open_running_round(sittings, {"E": 7}, threading.Event(), retry_s=0.0) == 2
    assert sittings.closed == [1]
    assert "场次1设备自检未通过：course-board-1: 数据率4.0Hz，应为20Hz" in caplog.text
