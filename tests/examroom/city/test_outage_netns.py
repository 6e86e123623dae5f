"""Three courses and a city; each course's server in its own network namespace, joined to the city
by a veth pair. One course's link goes down in the middle of a sitting while it examines on; the
other courses keep replicating; after the link is back the city holds exactly every course's
records. Skipped where the machine does not allow network namespaces (test_replication.py cuts a
link with the TCP relay instead).

The suite holds the link down for as long as three attempts take to write (seconds);
``EXAMROOM_OUTAGE_SECONDS=180`` holds it down for minutes while the course goes on examining, an
attempt every ``OUTAGE_PACE`` seconds (the figure in the closing notes comes from such a run)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from examroom.city import replication
from examroom.city.watch import LinkWatch, course_engine
from examroom.records.attempt_log import Records
from examroom.records.database import make_engine, session_factory
from examroom.records.sealing import Sealer, load_or_create_key
from examroom.records.verify import verify
from examroom.simulation.busy_course import AttemptShape, BusyCourse
from tests.examroom.city.conftest import counts, row_sets, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.state_waits]  # real PostgreSQL servers, real links, real time

CODES = ("4201001", "4201002", "4201003")
START = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
SHAPE = AttemptShape(seconds=5.0, batch_s=1.0)
OUTAGE_SECONDS = float(os.environ.get("EXAMROOM_OUTAGE_SECONDS", "0"))  # more of the outage, on demand
OUTAGE_PACE = 5.0  # seconds of real time between the cut-off course's attempts in a long outage


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True)


class CourseLinks:
    """A network namespace per course, each joined to this (the city's) namespace by a veth pair:
    course k is 10.231.k.2 inside its namespace, the city's end 10.231.k.1."""

    def __init__(self) -> None:
        self.tag = f"{os.getpid() % 100000}"
        self.made: list[tuple[str, str]] = []

    def add(self, k: int) -> tuple[str, str]:
        namespace, host_end, course_end = f"er{self.tag}c{k}", f"erh{self.tag}{k}", f"ern{self.tag}{k}"
        for command in (["netns", "add", namespace],
                        ["link", "add", host_end, "type", "veth", "peer", "name", course_end],
                        ["link", "set", course_end, "netns", namespace],
                        ["addr", "add", f"10.231.{k}.1/30", "dev", host_end],
                        ["link", "set", host_end, "up"],
                        ["-n", namespace, "addr", "add", f"10.231.{k}.2/30", "dev", course_end],
                        ["-n", namespace, "link", "set", course_end, "up"],
                        ["-n", namespace, "link", "set", "lo", "up"]):
            done = _ip(*command)
            if done.returncode != 0:
                raise RuntimeError(f"ip {' '.join(command)}: {done.stderr.strip()}")
            if command[:2] == ["netns", "add"]:
                self.made.append((namespace, host_end))
        return namespace, host_end

    @staticmethod
    def down(host_end: str) -> None:
        assert _ip("link", "set", host_end, "down").returncode == 0

    @staticmethod
    def up(host_end: str) -> None:
        assert _ip("link", "set", host_end, "up").returncode == 0

    def remove(self) -> None:
        for namespace, host_end in reversed(self.made):
            # A server the test started and could not stop would keep the namespace alive.
            for pid in _ip("netns", "pids", namespace).stdout.split():
                os.kill(int(pid), signal.SIGKILL)
            _ip("link", "del", host_end)
            _ip("netns", "del", namespace)


@pytest.fixture
def course_links():
    probe = f"erprobe{os.getpid() % 100000}"
    tried = _ip("netns", "add", probe)
    if tried.returncode != 0:
        pytest.skip(f"network namespaces are not allowed here ({tried.stderr.strip()}); "
                    "test_replication.py cuts the link with the TCP relay")
    _ip("netns", "del", probe)
    links = CourseLinks()
    yield links
    links.remove()


def test_a_course_cut_off_mid_sitting_examines_on_and_the_city_catches_up(course_links, clusters, tmp_path):
    courses = {}
    for k, code in enumerate(CODES, start=1):
        namespace, host_end = course_links.add(k)
        cluster = clusters(f"course{k}", listen=(f"10.231.{k}.2",), netns=namespace,
                           allow_networks=(f"10.231.{k}.0/30",))
        cluster.create_database()
        local = make_engine(cluster.url(host="socket"))  # the course's own writer: its Unix socket
        remote = course_engine(cluster.url())  # the city's view of the course, over the link
        clusters.engines += [local, remote]
        replication.prepare_course(local, code)
        sessions = session_factory(local)
        sealer = Sealer(sessions, load_or_create_key(tmp_path / code))  # each course seals with its own key
        courses[code] = (cluster, local, remote, host_end,
                         BusyCourse(Records(sessions), code, shape=SHAPE, sealer=sealer))
    city = clusters("city")
    city_db = make_engine(city.create_database())
    clusters.engines.append(city_db)
    replication.prepare_city(city_db)
    for code, (cluster, local, _remote, _end, busy) in courses.items():
        busy.attempt(1, START)
        replication.subscribe(city_db, code, cluster.conninfo())

    def caught_up(code):
        return row_sets(city_db, code) == row_sets(courses[code][1], code)

    for code in CODES:
        wait_until(lambda: caught_up(code), what=f"the first copy of {code}")
    watch = LinkWatch(city_db, {code: remote for code, (_c, _l, remote, _e, _b) in courses.items()})
    wait_until(lambda: all(link.connected for link in watch.sample()), what="three connected links")

    cut, cut_end = CODES[0], courses[CODES[0]][3]
    course_links.down(cut_end)
    cut_at = time.monotonic()
    for n in range(2, 5):  # the sitting goes on everywhere; course 1 writes with its link down
        for code in CODES:
            courses[code][4].attempt(n, START + timedelta(minutes=6 * n))
    written = {code: 4 for code in CODES}
    while time.monotonic() - cut_at < OUTAGE_SECONDS:  # a long outage: the cut-off course examines on
        written[cut] += 1
        courses[cut][4].attempt(written[cut], START + timedelta(minutes=6 * written[cut]))
        time.sleep(OUTAGE_PACE)  # the outage's length is what is tested, not a wait for something
    for code in CODES[1:]:
        wait_until(lambda: caught_up(code), what=f"{code} to replicate while {cut} is cut off")
    down = wait_until(lambda: next((l for l in watch.sample() if l.course == cut and not l.connected), None),
                      what="the city to see the course's link down")
    assert down.last_contact is not None and down.slot is None  # the city cannot reach the course now
    assert counts(row_sets(city_db, cut))["attempts"] == 1
    assert counts(row_sets(courses[cut][1], cut))["attempts"] == written[cut]

    course_links.up(cut_end)
    outage = time.monotonic() - cut_at
    wait_until(lambda: caught_up(cut), timeout=90, what="the city to catch up with the course that was cut off")
    print(f"link down {outage:.0f} s with {written[cut] - 1} attempts written; caught up "
          f"{time.monotonic() - cut_at - outage:.1f} s after the link came back")
    for code in CODES:
        city_rows, course_rows = row_sets(city_db, code), row_sets(courses[code][1], code)
        assert city_rows == course_rows
        assert counts(city_rows)["attempts"] == written[code]
        assert counts(city_rows)["journal"] == written[code] * SHAPE.journal_rows
    back = wait_until(lambda: next((l for l in watch.sample() if l.course == cut and l.connected), None),
                      what="the link shown connected again")
    assert back.last_contact > down.last_contact
    for code in CODES:  # every course's records prove themselves at the city against its own key alone
        key = courses[code][4].sealer.public_key
        report = verify(session_factory(city_db, code), public_key=key, course=code)
        assert report.ok and report.checked == list(range(1, written[code] + 1)), [str(p) for p in report.problems]
