"""The warnings page (预警) shows what the city's verification pass stored, and verifies nothing itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from examroom.city.verification import register_key, verify_pass
from examroom.records.sealing import PUBLIC_KEY_FILE
from tests.examroom.attempts import allow_tampering
from tests.web.city_console import CITY_CODE, COURSES, NOW, city, city_app, inspectors  # noqa: F401  (fixtures)
from tests.web.conftest import login

pg = pytest.mark.postgres


def seal_rows(page: str) -> list[str]:
    return [row.split("</tr>")[0] for row in page.split('<tr data-kind="seal_chain">')[1:]]


def flip_passed(engine, attempt: int) -> None:
    with engine.begin() as connection:
        allow_tampering(connection)  # as the city database's owner: the replicated row changed
        connection.execute(text("UPDATE attempts SET passed = NOT passed WHERE course_key = '4201001' AND id = :a"),
                           {"a": attempt})


@pg
def test_the_warnings_page_shows_a_stored_problem_with_its_attempt_and_verifies_nothing(
        city_app, city, inspectors, tmp_path):
    engine, made = city
    for course, keys in zip(COURSES, ("k1", "k2")):
        register_key(engine, CITY_CODE, course, (tmp_path / keys / PUBLIC_KEY_FILE).read_text(), "管理员甲", NOW)
    client = city_app.test_client()
    assert login(client, "inspector").status_code == 302
    flip_passed(engine, made["gap"])
    assert seal_rows(client.get("/city/warnings").get_data(as_text=True)) == []  # not verified yet: not known
    assert verify_pass(engine, lambda: NOW).problems > 0
    flip_passed(engine, made["fault"])  # after the pass: the page does not verify, so it cannot know
    (row,) = seal_rows(client.get("/city/warnings").get_data(as_text=True))
    assert f'href="/city/attempts/4201001/{made["gap"]}"' in row
    assert f'/city/attempts/4201001/{made["fault"]}"' not in row
    assert "记录与其封存不符" in row
