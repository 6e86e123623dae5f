"""The city console (网上巡查): who may open it, what an inspector's scope shows, the review form."""

from __future__ import annotations

import pytest

from tests.web.city_console import COURSES, city, city_app  # noqa: F401  (fixtures)
from tests.web.conftest import login

pg = pytest.mark.postgres


def _signed_in(app, name):
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


@pg
def test_a_city_inspector_sees_every_course_and_its_day(city_app, city):
    client = _signed_in(city_app, "inspector")
    page = client.get("/city/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for course in COURSES:
        assert f'data-course="{course}"' in text
    row = text.split('data-course="4201001"')[1].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("</td>")[0].strip() for c in row.split("<td")[1:]]
    # offline (no subscription in this database), never heard from, 1 sitting, 3 attempts today,
    # V1 testing now, one attempt with a device fault, one self-check override.
    assert cells[1] == "离线" and cells[3] == "从未联系"
    assert cells[4:] == ["1", "3", "V1", "1", "1"]


@pg
def test_an_inspector_scoped_to_one_course_sees_only_it(city_app, city):
    _engine, made = city
    client = _signed_in(city_app, "inspector1")
    text = client.get("/city/").get_data(as_text=True)
    assert 'data-course="4201001"' in text and 'data-course="4201002"' not in text
    assert client.get(f"/city/attempts/4201001/{made['gap']}").status_code == 200
    assert client.get("/city/attempts/4201002/1").status_code == 404  # another course's: as if absent
    warnings = client.get("/city/warnings").get_data(as_text=True)
    assert f"/city/attempts/4201001/{made['gap']}" in warnings
    assert "4201002" not in warnings


@pg
def test_the_warnings_page_links_the_attempts_behind_each_warning(city_app, city):
    _engine, made = city
    client = _signed_in(city_app, "inspector")
    text = client.get("/city/warnings").get_data(as_text=True)
    assert 'data-kind="journal_gap"' in text
    assert f'href="/city/attempts/4201001/{made["gap"]}"' in text


@pg
def test_a_course_supervisor_cannot_open_the_city_pages(city_app):
    client = _signed_in(city_app, "supervisor")
    for path in ("/city/", "/city/warnings", "/city/review", "/city/attempts/4201001/1"):
        assert client.get(path).status_code == 403, path


def test_a_course_web_process_has_no_city_pages(app, accounts):
    client = app.test_client()
    assert login(client, "inspector").status_code == 302
    assert client.get("/city/").status_code == 404
    assert client.get("/").status_code == 403  # an inspector opens no course page
