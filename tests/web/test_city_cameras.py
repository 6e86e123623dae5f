"""The city's live pictures: a course's cameras relayed through the course's own web process, signed
in as the city's auditor account there; only in the inspector's scope; a course out of reach says so."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from examroom.accounts.users import Accounts, Role
from examroom.city.watch_settings import CourseLink, EvidenceSettings
from examroom_web import create_app
from examroom_web.city.console import EXTENSION, city_app as city_app_of
from tests.web.browser import served
from tests.web.city_console import CITY_CODE, NOW, SETTINGS, city, inspectors  # noqa: F401  (fixtures)
from tests.web.conftest import PASSWORD, login
from tests.web.test_cameras import live  # noqa: F401  (a controller's live-view server with camera "top")

pg = pytest.mark.postgres


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def course_web(records, live):  # noqa: F811
    """The course 4201001's web process, with the city's auditor account."""
    Accounts(records.sessions).create("city", PASSWORD, Role.AUDITOR, display_name="市级巡查")
    app = create_app(records, config={"TESTING": True, "SECRET_KEY": "t", "LIVE_VIDEO_URL": live.url,
                                      "COURSE_NAME": "4201001"})
    with served(app) as base:
        yield base


@pytest.fixture
def city_web(city, inspectors, course_web, tmp_path):  # noqa: F811
    _engine, made = city
    links = {"4201001": CourseLink("4201001", course_web, "city", PASSWORD),
             "4201002": CourseLink("4201002", f"http://127.0.0.1:{_closed_port()}", "city", PASSWORD)}
    settings = dataclasses.replace(SETTINGS, evidence=EvidenceSettings(tmp_path / "evidence", 5.0, links))
    app = city_app_of(made["url"], settings, {}, {"TESTING": True, "SECRET_KEY": "test-secret"})
    app.extensions[EXTENSION].now = lambda: NOW
    yield app
    app.extensions[EXTENSION].city.dispose()


def _signed_in(app, name):
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


@pg
def test_an_inspector_sees_a_courses_cameras_through_its_web_process(city_web, city):  # noqa: F811
    client = _signed_in(city_web, "inspector")
    page = client.get("/city/courses/4201001/cameras").get_data(as_text=True)
    assert "考场俯视" in page and 'src="/city/courses/4201001/cameras/top/live.jpg"' in page
    frame = client.get("/city/courses/4201001/cameras/top/live.jpg")
    assert frame.status_code == 200 and frame.mimetype == "image/jpeg" and frame.data[:2] == b"\xff\xd8"
    assert client.get("/city/courses/4201001/cameras/nope/live.jpg").status_code == 503  # the course said 404
    engine, _made = city
    from sqlalchemy import text

    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_log WHERE course_key = :c AND action = "
                                       "'city_view_cameras' AND target = '4201001'"), {"c": CITY_CODE}).scalar() == 1


@pg
def test_a_course_out_of_reach_says_so(city_web):
    client = _signed_in(city_web, "inspector")
    assert "考场暂时无法连接" in client.get("/city/courses/4201002/cameras").get_data(as_text=True)
    assert client.get("/city/courses/4201002/cameras/top/live.jpg").status_code == 503
    assert "未配置" in client.get("/city/courses/4209999/cameras").get_data(as_text=True)
    assert client.get("/city/courses/4209999/cameras/top/live.jpg").status_code == 404


@pg
def test_cameras_only_in_scope_and_only_for_the_citys_roles(city_web):
    scoped = _signed_in(city_web, "inspector1")  # scope: 4201001
    assert scoped.get("/city/courses/4201001/cameras/top/live.jpg").status_code == 200
    assert scoped.get("/city/courses/4201002/cameras").status_code == 404
    assert scoped.get("/city/courses/4201002/cameras/top/live.jpg").status_code == 404
    supervisor = _signed_in(city_web, "supervisor")
    assert supervisor.get("/city/courses/4201001/cameras").status_code == 403
    assert supervisor.get("/city/courses/4201001/cameras/top/live.jpg").status_code == 403
