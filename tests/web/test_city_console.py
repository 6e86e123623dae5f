"""The city console (网上巡查): who may open it, what an inspector's scope shows, the review form."""

from __future__ import annotations

import pytest

from tests.web.city_console import COURSES, city, city_app, inspectors  # noqa: F401  (fixtures)
from tests.web.conftest import login

pg = pytest.mark.postgres


def _signed_in(app, name):
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


@pg
def test_a_city_inspector_sees_every_course_and_its_day(city_app, city, inspectors):
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
def test_an_inspector_scoped_to_one_course_sees_only_it(city_app, city, inspectors):
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
def test_the_warnings_page_links_the_attempts_behind_each_warning(city_app, city, inspectors):
    _engine, made = city
    client = _signed_in(city_app, "inspector")
    text = client.get("/city/warnings").get_data(as_text=True)
    assert 'data-kind="journal_gap"' in text
    assert f'href="/city/attempts/4201001/{made["gap"]}"' in text


@pg
def test_a_course_supervisor_cannot_open_the_city_pages(city_app, inspectors):
    client = _signed_in(city_app, "supervisor")
    for path in ("/city/", "/city/warnings", "/city/review", "/city/attempts/4201001/1"):
        assert client.get(path).status_code == 403, path
    refusal = client.get("/city/").get_data(as_text=True)
    assert "巡查员" in refusal and "inspector" not in refusal and 'href="/city/"' in refusal


def test_a_course_web_process_has_no_city_pages(app, accounts):
    client = app.test_client()
    assert login(client, "inspector").status_code == 302
    assert client.get("/city/").status_code == 404
    assert client.get("/").status_code == 403  # an inspector opens no course page


@pg
def test_only_the_assigned_inspector_records_a_review_outcome(city_app, city, inspectors):
    from datetime import timedelta

    from sqlalchemy import text

    from examroom.city.review_book import ReviewBook
    from tests.examroom.city.city_records import MONDAY, WEEK, china
    from tests.web.city_console import CITY_CODE, NOW, SETTINGS
    from tests.web.conftest import csrf_token

    engine, made = city
    book = ReviewBook(engine, CITY_CODE, SETTINGS.sampling)
    book.commit_week(MONDAY, "主任", china(MONDAY - timedelta(days=1), 10))
    samples = book.reveal_and_draw(WEEK, "主任", NOW + timedelta(days=6))
    fault = next(s for s in samples if (s.course, s.attempt) == ("4201001", made["fault"]))  # always drawn
    book.assign(fault.id, "inspector1", "主任", NOW + timedelta(days=6))
    url = f"/city/review/{fault.id}"

    other = _signed_in(city_app, "inspector")  # sees the sample, is not assigned it
    page = other.get(f"/city/review?week={WEEK}").get_data(as_text=True)
    assert f'data-sample="{fault.id}"' in page and f'action="{url}"' not in page  # no form for them
    assert other.post(url, data={"week": WEEK, "outcome": "consistent"}).status_code == 400  # no CSRF token
    refused = other.post(url, data={"week": WEEK, "outcome": "consistent", "csrf_token": csrf_token(page)},
                         follow_redirects=True).get_data(as_text=True)
    assert "未分派给 inspector" in refused
    assert book.samples(WEEK, "inspector1")[0].outcome is None

    mine = _signed_in(city_app, "inspector1")
    page = mine.get(f"/city/review?week={WEEK}").get_data(as_text=True)
    assert f'action="{url}"' in page and "4201002/" not in page  # only their scope's samples
    done = mine.post(url, data={"week": WEEK, "outcome": "doubtful", "notes": "起步未开转向灯却未扣分",
                                "csrf_token": csrf_token(page)})
    assert done.status_code == 302
    assert book.samples(WEEK, "inspector1")[0].outcome == "doubtful"
    with engine.connect() as connection:  # the city's own audit chain
        actions = [tuple(r) for r in connection.execute(text(
            "SELECT actor, action FROM audit_log WHERE course_key = :c ORDER BY id"), {"c": CITY_CODE})]
    assert ("inspector", "city_review_refused") in actions
    assert ("inspector1", "city_review_outcome") in actions


def _free_port() -> int:
    import socket

    with socket.socket() as s:  # bound then closed: nothing listens there afterwards
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pg
def test_a_course_out_of_reach_shows_offline_and_the_page_answers(city_app, inspectors):
    from examroom_web.city.console import EXTENSION

    console = city_app.extensions[EXTENSION]
    console.course_urls["4201001"] = f"postgresql://postgres@127.0.0.1:{_free_port()}/course"
    client = _signed_in(city_app, "inspector")
    page = client.get("/city/")
    assert page.status_code == 200
    row = page.get_data(as_text=True).split('data-course="4201001"')[1].split("</tr>")[0]
    assert "离线" in row and "未知" in row


def test_course_database_options_are_code_equals_url():
    from examroom_web.city.console import parse_course_databases

    assert parse_course_databases(["4201001=postgresql://city@a/course", " 4201002 = postgresql://b/c "]) == {
        "4201001": "postgresql://city@a/course", "4201002": "postgresql://b/c"}
    with pytest.raises(ValueError, match="CODE=URL"):
        parse_course_databases(["postgresql://a/course"])


def test_the_web_command_needs_a_feed_or_a_city_file(capsys):
    from examroom_web.__main__ import main

    with pytest.raises(SystemExit):
        main(["--database-url", "sqlite:///x.db", "--secret-key-file", "/nonexistent/k"])
    assert "--feed-url is required (or --city-file for the city console)" in capsys.readouterr().err


@pg
def test_an_inspector_made_by_the_users_command_signs_in_to_the_city(city_app, city, monkeypatch, capsys):
    import io

    from examroom.cli.main import main

    _engine, made = city
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert main(["users", "add", "zhao", "--role", "inspector", "--scope", "4201002", "--database", made["url"]]) == 0
    assert "created inspector zhao" in capsys.readouterr().out
    client = _signed_in(city_app, "zhao")
    text = client.get("/city/").get_data(as_text=True)
    assert 'data-course="4201002"' in text and 'data-course="4201001"' not in text
