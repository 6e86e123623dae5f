import threading

from devices.worker import PeriodicWorker, Worker


class Counter(PeriodicWorker):
    thread_name = "counter"
    interval = 0.01

    def __init__(self, fail_first: bool = False):
        super().__init__()
        self.passes = 0
        self.fail_first = fail_first
        self.third_pass = threading.Event()

    def check(self):
        self.passes += 1
        if self.passes >= 3:
            self.third_pass.set()
        if self.fail_first and self.passes == 1:
            raise RuntimeError("first pass fails")


def test_periodic_worker_keeps_going_after_a_failed_pass_and_stops_cleanly():
    worker = Counter(fail_first=True).start()
    reached = worker.third_pass.wait(5)
    worker.stop()
    assert reached, "the worker stopped after its failed pass"
    assert worker.passes >= 3
    assert not any(t.name == "counter" for t in threading.enumerate())


def test_worker_runs_its_loop_in_a_named_thread():
    seen = []
    running = threading.Event()

    class Once(Worker):
        thread_name = "once"

        def _run(self):
            seen.append(threading.current_thread().name)
            running.set()
            self._stop.wait()

    worker = Once().start()
    assert running.wait(5), "the worker's loop never ran"
    worker.stop()
    worker.stop()  # twice is fine
    assert seen == ["once"]
