"""The city console's load with nine courses: how long its pages take over a week of their records.

Makes a city database on the local PostgreSQL server (127.0.0.1:5432, user postgres) holding nine
courses' records of one week, written as each course's controller writes them (attempts with their
journals, sealed; ``tests/examroom/city/city_records.py``): ``--per-day`` attempts a course a day,
Monday to Friday, one in twenty with a device fault and one in ten a manual fail. The console runs in
city mode (``examroom_web.city.console.city_app``, as ``python -m examroom_web --city-file`` makes
it) on a Wednesday of that week, without the courses' own databases (every link shows offline: the
figure is the city database's side). An inspector of the whole city opens the overview (网上巡查),
the warnings (预警) and the review (抽检) page ``--repeat`` times each through the WSGI app in this
process; the script prints the median and the slowest time per page and the records behind them.

Before the pages, the city's verification pass (``examroom.city.verification``, what ``examroom
city watch`` runs) verifies the whole week once, with each course's key registered at the city:
the warnings page reads its stored results. After the pages, ten more attempts are written at one
course and an incremental pass verifies just those. Both passes are timed.

    python bench/city_console_load.py [--per-day 40] [--repeat 7]

The database is dropped at the end. Nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' record writer

import sqlalchemy  # noqa: E402

from examroom.accounts.users import Accounts, Role  # noqa: E402
from examroom.city.verification import register_key, verify_pass  # noqa: E402
from examroom.records.sealing import PUBLIC_KEY_FILE  # noqa: E402
from examroom.records.database import session_factory  # noqa: E402
from examroom.records.attempt_log import CandidateInfo  # noqa: E402
from examroom.records.models import AttemptStatus  # noqa: E402
from examroom_web.city.console import EXTENSION, city_app  # noqa: E402
from tests.examroom.attempts import id_number  # noqa: E402
from tests.examroom.city.city_records import MONDAY, CourseWriter, china, city_engine  # noqa: E402
from tests.web.city_console import CITY_CODE, SETTINGS  # noqa: E402
from tests.web.conftest import PASSWORD, login  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
COURSES = tuple(f"42010{n:02d}" for n in range(1, 10))
PAGES = ("/city/", "/city/warnings", "/city/review")


class WeekWriter(CourseWriter):
    """A course's controller whose candidates are all different people (distinct ID numbers)."""

    def candidate(self, person: str) -> int:
        n = int(person)
        born = (date(1970, 1, 1) + timedelta(days=n // 1000)).strftime("%Y%m%d")
        return self.records.ensure_candidate(CandidateInfo("张三", id_number(n, born), f"{self.code}-{person}", "E"))


def fill(engine, folder: Path, per_day: int) -> int:
    """A working week of ``per_day`` attempts a day at each course; returns how many attempts in all."""
    made = 0
    for index, code in enumerate(COURSES, 1):
        writer = WeekWriter(engine, code, folder / code)
        register_key(engine, CITY_CODE, code, (folder / code / PUBLIC_KEY_FILE).read_text(), "bench",
                     china(MONDAY, 7))
        writer.overridden_check(china(MONDAY, 7, 30))
        for day in range(5):
            start = china(MONDAY + timedelta(days=day), 8)
            for n in range(per_day):
                person = f"{index}{day}{n:03d}"  # nobody examined at two courses (that is a warning)
                at = start + timedelta(minutes=8 * n)
                if n % 20 == 7:
                    writer.attempt(person, at, status=AttemptStatus.DEVICE_FAULT, fault_resumed=True)
                elif n % 10 == 3:
                    writer.attempt(person, at, manual=True)
                else:
                    writer.attempt(person, at, passed=n % 4 != 1)
                made += 1
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-day", type=int, default=40, help="attempts a course a day (default 40)")
    parser.add_argument("--repeat", type=int, default=7, help="times each page is opened (default 7)")
    args = parser.parse_args()
    admin = sqlalchemy.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    name = f"examroom_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sqlalchemy.exc.OperationalError as exc:
        print(f"city_console_load: PostgreSQL is not reachable at 127.0.0.1:5432: {exc.orig}", file=sys.stderr)
        return 1
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        engine = city_engine(url)
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            attempts = fill(engine, Path(folder), args.per_day)
            filled = time.perf_counter() - began
            now = lambda: china(MONDAY + timedelta(days=2), 11)  # noqa: E731
            began = time.perf_counter()
            full = verify_pass(engine, now)
            full_s = time.perf_counter() - began
            late = WeekWriter(engine, COURSES[0], Path(folder) / COURSES[0])
        Accounts(session_factory(engine, CITY_CODE)).create("inspector", PASSWORD, Role.INSPECTOR,
                                                            display_name="巡查员甲")
        app = city_app(url, SETTINGS, {}, {"TESTING": True, "SECRET_KEY": "bench-secret"})
        app.extensions[EXTENSION].now = lambda: china(MONDAY + timedelta(days=2), 11)
        client = app.test_client()
        login(client, "inspector")
        print(f"city_console_load: {len(COURSES)} courses, {attempts} attempts in the week "
              f"({args.per_day} a course a day), written and sealed in {filled:.1f} s")
        print(f"city_console_load: verification pass over the week: {full.checked} seals in {full_s:.1f} s "
              f"({full_s / max(full.checked, 1) * 1000:.1f} ms a seal), {full.problems} problems")
        for page in PAGES:
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                answer = client.get(page)
                times.append(time.perf_counter() - began)
                if answer.status_code != 200:
                    print(f"city_console_load: {page} answered {answer.status_code}", file=sys.stderr)
                    return 1
            print(f"city_console_load: {page:16s} median {statistics.median(times) * 1000:7.0f} ms, "
                  f"slowest {max(times) * 1000:7.0f} ms ({args.repeat} times, {len(answer.data):,} bytes)")
        for n in range(10):  # ten more attempts arrive at one course on Thursday
            late.attempt(f"9{n:04d}", china(MONDAY + timedelta(days=3), 8) + timedelta(minutes=8 * n))
        began = time.perf_counter()
        incremental = verify_pass(engine, now)
        incremental_s = time.perf_counter() - began
        print(f"city_console_load: incremental pass after 10 new attempts: {incremental.checked} seals in "
              f"{incremental_s * 1000:.0f} ms, {incremental.problems} problems")
        began = time.perf_counter()
        quiet = verify_pass(engine, now)
        print(f"city_console_load: a pass with nothing new: {quiet.checked} seals in "
              f"{(time.perf_counter() - began) * 1000:.0f} ms")
        app.extensions[EXTENSION].city.dispose()
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
