import threading
import time

from devices.worker import PeriodicWorker, Worker


class Counter(PeriodicWorker):
    thread_name = "counter"
    interval = 0.01

    def __init__(self, fail_first: bool = False):
        super().__init__()
        self.passes = 0
        self.fail_first = fail_first

    def check(self):
        self.passes += 1
        if self.fail_first and self.passes == 1:
            raise RuntimeError("first pass fails")


def test_periodic_worker_keeps_going_after_a_failed_pass_and_stops_cleanly():
    worker = Counter(fail_first=True).start()
    deadline = time.monotonic() + 5
    while worker.passes < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert worker.passes >= 3
    assert not any(t.name == "counter" for t in threading.enumerate())


def test_worker_runs_its_loop_in_a_named_thread():
    seen = []

    class Once(Worker):
        thread_name = "once"

        def _run(self):
            seen.append(threading.current_thread().name)
            self._stop.wait()

    worker = Once().start()
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    worker.stop()  # twice is fine
    assert seen == ["once"]
