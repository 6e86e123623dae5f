"""``examroom demo --city N``: N simulated courses and their city, each on its own PostgreSQL
cluster in the data folder (``examroom.city.local_city.LocalCity``), every course's link to the
city through a relay that a key press cuts and restores.

Each course is a ``DemoCourse`` (twins, drivers, controller) writing to its cluster's database
under its own code (4201001, 4201002, ...), running rounds as the single-course demo does, but
without cameras and without a web process, and with one exam vehicle each (alternately the E
motorcycle and the C4 three-wheeler): N courses and N + 1 PostgreSQL servers share the machine.
Every few seconds one status line per course is printed: the link as the city sees it (online or
not, lag, last contact) and the attempts held at the course and at the city. The city verifies
the courses' records as they arrive (``examroom.city.verification``: each course's key registered
at the city when the course starts, a pass every ``VERIFY_EVERY_S``), as ``examroom city watch``
does at a real city; a pass that finds a problem says so.
"""

from __future__ import annotations

import logging
import queue
import sys
import tempfile
import threading
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine, text

from examroom.city.clusters import find_binaries
from examroom.city.local_city import LocalCity
from examroom.city.verification import VerificationLoop, ensure_key
from examroom.city.watch import CourseLink
from examroom.messages import N_, SupervisorError
from examroom.records.database import make_engine
from examroom.records.sealing import PUBLIC_KEY_FILE
from examroom.simulation.demo import DEMO_VEHICLES, ROUND_RETRY_S, DemoCourse, _log_to, _stop_on_sigterm

log = logging.getLogger(__name__)

MAX_COURSES = 9  # one key (1..9) a course
FIRST_CODE = 4201001  # the first simulated course's 考场代码; the next ones count up
STATUS_EVERY_S = 3.0  # seconds between two status blocks
VERIFY_EVERY_S = 5.0  # seconds between two of the city's verification passes (a real city: its city file)
CITY_CODE = "420100"  # the demo city's own code (its audit log)
RUNNER_JOIN_S = 15.0  # how long the stop waits for a course's rounds to notice it

HELP = N_("按键（输入后回车）：1–%(last)s 断开或恢复该考场与城市中心的连接，q 退出；Ctrl-C 也可退出。")
STATUS = N_("考场 %(number)s（%(code)s）：%(state)s，滞后 %(lag)s，最后联系 %(contact)s，"
            "考试记录：考场 %(at_course)s 条，城市 %(at_city)s 条%(cut)s")
ONLINE, OFFLINE = N_("在线"), N_("离线")
UNKNOWN = N_("未知")
SECONDS = N_("%(seconds)s 秒")
SECONDS_AGO = N_("%(seconds)s 秒前")
NEVER = N_("从未")
CUT_MARK = N_("（连接已断开）")
CUT_DONE = N_("考场 %(number)s（%(code)s）与城市中心的连接已断开，考场照常考试。")
RESTORE_DONE = N_("考场 %(number)s（%(code)s）与城市中心的连接已恢复，城市中心正在补齐记录。")
UNKNOWN_KEY = N_("不认识的按键 %(key)s。")
VERIFY_FOUND = N_("城市中心核验考场记录时发现 %(count)s 个问题（已记入预警）：%(first)s")
COUNT_REFUSED = N_("--city 的考场数要在 1 到 %(most)s 之间（现在是 %(count)s）。")
DATABASE_REFUSED = N_("--city 的每个考场和城市中心都用数据文件夹里自建的 PostgreSQL 数据库，不能同时给 --database。")
ROUND_RETRY = N_("考场 %(number)s（%(code)s）这一轮考试没能开始，%(seconds)s 秒后重试：%(reason)s")
CODE_REFUSED = N_("--city 的考场代码自动编排（4201001 起），不能同时给 --course-code。")


def course_codes(count: int) -> list[str]:
    return [str(FIRST_CODE + i) for i in range(count)]


def check_arguments(count: int, database_url: str | None, course_code: str) -> None:
    """Refuse what ``--city`` cannot honour, before anything is made."""
    if not 1 <= count <= MAX_COURSES:
        raise SupervisorError(COUNT_REFUSED, most=MAX_COURSES, count=count)
    if database_url is not None:
        raise SupervisorError(DATABASE_REFUSED)
    if course_code:
        raise SupervisorError(CODE_REFUSED)


def attempts_at(engine: Engine, code: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM attempts WHERE course_key = :c"), {"c": code}).scalar()


def status_line(number: int, link: CourseLink, at_course: int, at_city: int, cut: bool, now: datetime) -> str:
    silent = link.silent_for(now)
    return STATUS % {
        "number": number, "code": link.course, "state": ONLINE if link.connected else OFFLINE,
        "lag": UNKNOWN if link.lag_s is None else SECONDS % {"seconds": f"{link.lag_s:.1f}"},
        "contact": NEVER if silent is None else SECONDS_AGO % {"seconds": f"{max(silent, 0):.0f}"},
        "at_course": at_course, "at_city": at_city, "cut": CUT_MARK if cut else ""}


class CityDemo:
    """The running city demo: its city, courses and their rounds; ``command(key)`` is a key press."""

    def __init__(self, city: LocalCity, courses: dict[str, DemoCourse], out: TextIO) -> None:
        self.city = city
        self.courses = courses
        self.codes = list(courses)
        self.out = out
        self.cut: set[str] = set()
        self._course_dbs = {code: make_engine(city.course_url(code)) for code in self.codes}

    def command(self, key: str) -> bool:
        """Handle one typed line; False when it asks to quit."""
        key = key.strip().lower()
        if not key:
            return True
        if key == "q":
            return False
        if key.isdigit() and 1 <= int(key) <= len(self.codes):
            number, code = int(key), self.codes[int(key) - 1]
            if code in self.cut:
                self.city.restore(code)
                self.cut.discard(code)
                self.say(RESTORE_DONE % {"number": number, "code": code})
            else:
                self.city.cut(code)
                self.cut.add(code)
                self.say(CUT_DONE % {"number": number, "code": code})
            return True
        self.say(UNKNOWN_KEY % {"key": key})
        self.say(HELP % {"last": len(self.codes)})
        return True

    def status(self) -> list[str]:
        links = {link.course: link for link in self.city.links()}
        now = datetime.now(timezone.utc)
        return [status_line(number, links[code], attempts_at(self._course_dbs[code], code),
                            attempts_at(self.city.city_db, code), code in self.cut, now)
                for number, code in enumerate(self.codes, start=1)]

    def say(self, line: str) -> None:
        print(f"examroom demo: {line}", file=self.out, flush=True)

    def close(self) -> None:
        for engine in self._course_dbs.values():
            engine.dispose()


def _read_keys(source: TextIO, keys: queue.Queue) -> None:
    """Typed lines into ``keys``; at the end of the input the demo runs on until Ctrl-C or SIGTERM."""
    for line in source:
        keys.put(line)


def run_city_demo(count: int, data_dir: Path | None, speed: float = 1.0, verbose: bool = False,
                  keys_from: TextIO | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    keys_from = keys_from or sys.stdin
    find_binaries()  # no PostgreSQL server programs: the Chinese sentence on how to install them, before anything
    _stop_on_sigterm()
    codes = course_codes(count)
    temporary = data_dir is None
    try:
        with ExitStack() as stack:
            if data_dir is None:
                data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="examroom-city-", dir="/tmp")))
                data_dir.chmod(0o755)  # run as root, the servers run as postgres and must reach their folders
            data_dir = data_dir.resolve()
            data_dir.mkdir(parents=True, exist_ok=True)
            log_file = _log_to(data_dir, verbose)
            print(f"examroom demo: starting a city and {count} course(s) in {data_dir}"
                  + (f" (log: {log_file}; --verbose shows it here)" if log_file else ""), file=out, flush=True)
            city = LocalCity.start(data_dir, codes)
            stack.callback(city.stop)
            stop = threading.Event()
            runners: list[threading.Thread] = []

            def join_runners() -> None:
                for runner in runners:
                    runner.join(RUNNER_JOIN_S)

            stack.callback(join_runners)  # after every course has stopped, before the servers stop
            courses: dict[str, DemoCourse] = {}
            for i, code in enumerate(codes):
                station = data_dir / f"station-{code}"
                station.mkdir(exist_ok=True)
                # One vehicle a course keeps N courses and N + 1 servers within a small machine.
                demo = DemoCourse(station, speed, cameras=False, vehicles=[DEMO_VEHICLES[i % len(DEMO_VEHICLES)]],
                                  database_url=city.course_url(code), course_code=code).start()
                stack.callback(demo.stop)
                courses[code] = demo
                # What a course's administrator hands the city when it joins: its public key.
                ensure_key(city.city_db, CITY_CODE, code, (station / PUBLIC_KEY_FILE).read_text(encoding="utf-8"),
                           "demo", datetime.now(timezone.utc))
            stack.callback(stop.set)  # first on the way out: the rounds stop calling candidates
            running = CityDemo(city, courses, out)
            stack.callback(running.close)

            def found(summary) -> None:
                if summary.problems:
                    first = next(p for c in summary.chains for p in c.problems)
                    running.say(VERIFY_FOUND % {"count": summary.problems, "first": first["message"]})

            verifier = VerificationLoop(city.city_db, VERIFY_EVERY_S, lambda: datetime.now(timezone.utc),
                                        on_pass=found).start()
            stack.callback(verifier.stop)  # before the servers stop
            for number, (code, demo) in enumerate(courses.items(), start=1):
                def report(message: str, number: int = number, code: str = code) -> None:
                    running.say(ROUND_RETRY % {"number": number, "code": code, "seconds": f"{ROUND_RETRY_S:g}",
                                               "reason": message})

                runner = threading.Thread(target=demo.run_rounds, args=(0, stop, report), name=f"rounds-{code}",
                                          daemon=True)
                runner.start()
                runners.append(runner)
            keys: queue.Queue = queue.Queue()
            threading.Thread(target=_read_keys, args=(keys_from, keys), name="keys", daemon=True).start()
            running.say(HELP % {"last": count})
            try:
                while True:
                    for line in running.status():
                        running.say(line)
                    try:
                        if not running.command(keys.get(timeout=STATUS_EVERY_S)):
                            break
                    except queue.Empty:
                        pass
            except KeyboardInterrupt:
                pass
            print("examroom demo: stopping", file=out, flush=True)
    except KeyboardInterrupt:  # during start-up or the stop: what was started is stopped above
        print("examroom demo: stopped", file=out, flush=True)
        return 130
    if temporary:
        print("examroom demo: done; the clusters were in a temporary folder, now removed "
              "(give --dir FOLDER to keep them)", file=out, flush=True)
    else:
        print(f"examroom demo: done; the city and its courses are kept in {data_dir} "
              "(the same --dir starts them again)", file=out, flush=True)
    return 0
