"""``examroom serve --site FILE``: the controller on the site's ports and the web process."""

import re
import threading
import urllib.request

import pytest

from devices.readings import SystemClock
from examroom.simulation.demo import DEMO_VEHICLES
from examroom.cli.serve import serve
from examroom.simulation.course_twins import SimulatedCourse
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.accounts.users import Accounts, Role
from examroom.records.database import make_engine, session_factory
from examroom.site.settings import load_settings
from scoring.course import load_course
from examroom_web.signin_client import signed_in
from tests.examroom.cli.test_selfcheck_command import site_file
from tests.waiting import wait_for

pytestmark = pytest.mark.slow


def test_serve_runs_the_site_and_its_pages(tmp_path, capsys):
    sim = SimulatedCourse(load_course(DEMO_COURSE_PATH), list(DEMO_VEHICLES), SystemClock())
    sim.start()
    stop = threading.Event()
    result = {}
    site = site_file(tmp_path, sim)
    thread = threading.Thread(target=lambda: result.update(rc=serve(site, port=0, stop=stop)))
    thread.start()
    try:
        printed = []

        def address_printed():
            printed.append(capsys.readouterr().out)
            m = re.search(r"考试实况 (http://\S+/)", "".join(printed))
            return m.group(1) if m else None

        address = wait_for(address_printed, timeout=20, interval=0.1, what="serve to print its address")
        url = load_settings(site).database_url
        Accounts(session_factory(make_engine(url))).create("wang", "a long enough secret", Role.SUPERVISOR)
        page = signed_in(address, "wang", "a long enough secret").open(address + "selfcheck/", timeout=10).read().decode()
        assert "场地信号检测" in page and "board-1" in page
    finally:
        stop.set()
        thread.join(30)
        sim.stop()
    assert result.get("rc") == 0
