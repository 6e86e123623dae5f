"""``examroom demo --city 2`` as a person runs it: two simulated courses and their city on
clusters made in the data folder; typing ``2`` cuts course 2's link (its status line shows it
offline while its attempts wait at the course), ``2`` again restores it (the city catches up),
``q`` quits, and nothing of it is left running."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from examroom.city.clusters import Cluster

pytestmark = [pytest.mark.slow, pytest.mark.state_waits]  # real PostgreSQL servers and a real-time simulated course

STATUS = re.compile(r"考场 (\d)（(\d+)）：(在线|离线)，.*考试记录：考场 (\d+) 条，城市 (\d+) 条")


class Screen:
    """The demo's printed lines, read in a thread; ``until`` waits on the newest status of each course.

    Its standard error is read in another thread, so that a demo that writes much there never
    blocks on a full pipe; a wait that times out asks the demo for every thread's stack (SIGUSR1,
    examroom.cli.main) and names it with the end of its log."""

    def __init__(self, demo: subprocess.Popen, folder: Path) -> None:
        self.demo, self.folder = demo, folder
        self.lines: queue.Queue = queue.Queue()
        self.printed: list[str] = []
        self.errors: list[str] = []
        self.latest: dict[int, tuple[bool, int, int]] = {}  # course number -> (online, at course, at city)
        threading.Thread(target=self._read, args=(demo.stdout,), daemon=True).start()
        self._errors_changed = threading.Condition()
        self._errors_done = False
        threading.Thread(target=self._read_errors, args=(demo.stderr,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def _read_errors(self, stream) -> None:
        for line in stream:
            with self._errors_changed:
                self.errors.append(line)
                self._errors_changed.notify_all()
        with self._errors_changed:
            self._errors_done = True
            self._errors_changed.notify_all()

    def until(self, condition, what: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.latest):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; last lines:\n" + "".join(self.printed[-8:])
                                     + self.diagnosis())
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the demo ended while waiting for {what}:\n" + "".join(self.printed[-20:])
                                     + self.diagnosis())
            self.printed.append(line)
            if match := STATUS.search(line):
                self.latest[int(match[1])] = (match[3] == "在线", int(match[4]), int(match[5]))

    def diagnosis(self) -> str:
        """Every thread's stack (if the demo still runs), its standard error and its log's end."""
        if self.demo.poll() is None:
            before = len(self.errors)
            self.demo.send_signal(signal.SIGUSR1)
            with self._errors_changed:  # the dump arrives on the reader thread
                self._errors_changed.wait_for(lambda: self._errors_done or any(
                    "most recent call first" in line for line in self.errors[before:]), timeout=10.0)
        log = self.folder / "demo.log"
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:] if log.is_file() else []
        return ("\n-- standard error --\n" + "".join(self.errors[-200:])
                + "\n-- demo.log --\n" + "\n".join(tail))

    def rest(self, timeout: float = 300.0) -> str:
        """Everything printed until the demo closed its output (this thread is its one reader).

        The demo's stop is a row of bounded waits (the city's verification pass 30 s, each course's
        rounds 15 s, each of three servers' fast shutdown up to 60 s): on a loaded machine it may
        take minutes without anything being wrong, so the deadline, which only bounds a failure,
        is above their sum."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("the demo did not stop; last lines:\n" + "".join(self.printed[-8:])
                                     + self.diagnosis()) from None
            if line is None:
                return "".join(self.printed)
            self.printed.append(line)

    def error_text(self, timeout: float = 60.0) -> str:
        """Standard error, once the demo has closed it."""
        with self._errors_changed:
            self._errors_changed.wait_for(lambda: self._errors_done, timeout=timeout)
            return "".join(self.errors)


def _servers_of(folder: Path) -> list[int]:
    """PostgreSQL processes whose command line names a cluster in ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "postgres" in command and str(folder) in command:
            found.append(int(proc.name))
    return found


def test_the_city_demo_cuts_and_restores_a_course_and_stops_everything(pg_binaries, cluster_folder):
    folder = cluster_folder / "city-demo"
    # At 6x: the attempts that must finish while course 2 is cut take seconds, not a minute.
    demo = subprocess.Popen([sys.executable, "-m", "examroom.cli.main", "demo", "--city", "2", "--speed", "6",
                             "--dir", str(folder)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        screen = Screen(demo, folder)

        def send(key: str) -> None:
            demo.stdin.write(key + "\n")
            demo.stdin.flush()

        screen.until(lambda s: len(s) == 2 and all(online for online, _, _ in s.values()), "both courses online")
        assert _servers_of(folder), "the city and its courses run on servers in the data folder"
        send("2")
        # Offline, with an attempt the course holds and the city has not got: the cut holds it back.
        screen.until(lambda s: not s[2][0] and s[2][1] > s[2][2],
                     "course 2 offline with an attempt not yet at the city")
        assert screen.latest[1][0], "the other course stays online"
        send("2")
        screen.until(lambda s: s[2][0] and all(course == city for _, course, city in s.values()),
                     "the city caught up with both courses")
        send("q")
        out = screen.rest()  # the screen's thread reads stdout; communicate() would race it for the last lines
        demo.stdin.close()
        err = screen.error_text()
        assert demo.wait(timeout=120) == 0, err[-2000:]
        assert "done; the city and its courses are kept in" in out
        # The city verified the records as they arrived (a pass every few seconds) and found nothing wrong.
        assert "城市中心核验考场记录时发现" not in out
        assert not _servers_of(folder), "a PostgreSQL server of the demo outlived it"
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
            try:
                demo.wait(60)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()
        for settings in folder.glob("*/cluster.json"):  # whatever happened, no server outlives the test
            Cluster.open(settings.parent).stop()
