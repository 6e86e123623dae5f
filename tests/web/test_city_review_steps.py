"""Running the week's random review (抽检) from the city console, on the real PostgreSQL city database
of the other city web tests: an administrator commits the coming week's seed, reveals it and draws
after the week, assigns each drawn attempt to an inspector whose scope holds its course; anyone in
the city checks the draw. Steps out of order, out of scope or without a CSRF token are refused in
Chinese, audit-logged, and leave what was done before as it was. The overview refreshes its rows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from examroom.accounts.users import Role
from examroom.city.review_book import ReviewBook
from examroom_web.city.console import EXTENSION
from tests.examroom.city.city_records import MONDAY, WEEK, china
from tests.web.city_console import CITY_CODE, NOW, SETTINGS, city, city_app, inspectors  # noqa: F401  (fixtures)
from tests.web.conftest import PASSWORD, csrf_token, login

pytestmark = pytest.mark.postgres

SUNDAY_BEFORE = china(MONDAY - timedelta(days=1), 10)  # the week before WEEK: its seed is committed now
AFTER = NOW + timedelta(days=6)  # the Tuesday after WEEK: it is drawn now
WEEK_NAME = "2026年第49周"


def _at(app, when) -> None:
    app.extensions[EXTENSION].now = lambda: when


def _signed_in(app, name):
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def _post(client, page_path: str, path: str, **data):
    """A form sent as a browser sends it: with the CSRF token of the page it is on."""
    token = csrf_token(client.get(page_path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=True)


def _actions(engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:  # the city's own audit chain
        return [tuple(r) for r in connection.execute(text(
            "SELECT actor, action FROM audit_log WHERE course_key = :c ORDER BY id"), {"c": CITY_CODE})]


@pytest.fixture
def admin(city_app, inspectors):
    inspectors.create("inspector2", PASSWORD, Role.INSPECTOR, display_name="巡查员丙", scope="4201002")
    return _signed_in(city_app, "admin")


def _commit_and_draw(city_app, admin, hold: bool = False) -> str:
    _at(city_app, SUNDAY_BEFORE)
    page = _post(admin, "/city/draws", "/city/draws/commit", **({"hold": "1"} if hold else {}))
    assert page.status_code == 200
    committed = page.get_data(as_text=True)
    _at(city_app, AFTER)
    return committed


@pytest.fixture
def book(city):
    engine, _made = city
    return ReviewBook(engine, CITY_CODE, SETTINGS.sampling)


def test_an_administrator_commits_draws_assigns_and_the_draw_checks_out(city_app, city, admin, book):
    engine, made = city
    _at(city_app, SUNDAY_BEFORE)
    page = admin.get("/city/draws").get_data(as_text=True)
    assert WEEK_NAME in page and 'action="/city/draws/commit"' in page  # the coming week is WEEK
    committed = _post(admin, "/city/draws", "/city/draws/commit").get_data(as_text=True)
    commitment = book.published(WEEK)["commitment"]
    assert f'<code class="digest" id="commitment">{commitment}</code>' in committed
    assert 'id="held-seed"' not in committed  # kept in the city's database: shown to nobody before the week ends
    listed = admin.get("/city/draws").get_data(as_text=True)
    assert commitment in listed and 'action="/city/draws/commit"' not in listed  # committed once

    _at(city_app, AFTER)
    drawn = _post(admin, "/city/draws", f"/city/draws/{WEEK}/draw")
    assert drawn.request.path == f"/city/draws/{WEEK}/assign"
    page = drawn.get_data(as_text=True)
    samples = book.samples(WEEK)
    assert "已公布种子并抽取" in page and samples
    fault = next(s for s in samples if (s.course, s.attempt) == ("4201001", made["fault"]))  # always drawn
    other = next(s for s in samples if s.course == "4201002")
    # Each sample's choice lists only the inspectors whose scope holds its course.
    row = page.split(f'data-sample="{other.id}"')[1].split("</tr>")[0]
    assert 'value="inspector2"' in row and 'value="inspector"' in row and 'value="inspector1"' not in row

    done = _post(admin, f"/city/draws/{WEEK}/assign", f"/city/draws/{WEEK}/assign/{fault.id}", inspector="inspector1")
    assert f"4201001/{made['fault']} 已分派给 巡查员乙" in done.get_data(as_text=True)
    assert book.samples(WEEK, "inspector1")[0].id == fault.id

    # Anyone in the city re-runs the draw from the published seed.
    check = _signed_in(city_app, "inspector").get(f"/city/draws/{WEEK}/check").get_data(as_text=True)
    assert 'id="draw-verdict">一致<' in check and book.published(WEEK)["seed"] in check
    # Against the records too: the week's attempts and their classes read again, every seal verified.
    full = _signed_in(city_app, "inspector").get(f"/city/draws/{WEEK}/check?records=1").get_data(as_text=True)
    assert 'id="draw-verdict">一致<' in full and "各考场参与抽取的考试与记录相符" in full
    assert ("admin", "city_commit_seed") in _actions(engine) and ("admin", "city_draw") in _actions(engine)
    assert ("admin", "city_assign_review") in _actions(engine)


def test_steps_out_of_order_are_refused_in_chinese_and_nothing_is_lost(city_app, city, admin, book):
    engine, _made = city
    # A week never committed cannot be drawn.
    refused = _post(admin, "/city/draws", "/city/draws/2026-W40/draw").get_data(as_text=True)
    assert "2026年第40周 没有承诺过抽检种子" in refused
    # The seed held by the administrator: shown once, not in the database.
    committed = _commit_and_draw(city_app, admin, hold=True)
    seed = committed.split('id="held-seed">')[1].split("<")[0]
    assert len(seed) == 64 and book.published(WEEK)["seed"] is None
    unchecked = admin.get(f"/city/draws/{WEEK}/check").get_data(as_text=True)  # the commitment only, so far
    assert "尚未抽取" in unchecked and book.published(WEEK)["commitment"] in unchecked and seed not in unchecked
    _at(city_app, SUNDAY_BEFORE)
    again = _post(admin, "/city/draws", "/city/draws/commit").get_data(as_text=True)
    assert f"{WEEK_NAME} 的抽检种子已经承诺过，不能更换" in again
    _at(city_app, NOW)  # the week is not over
    early = _post(admin, "/city/draws", f"/city/draws/{WEEK}/draw", seed=seed).get_data(as_text=True)
    assert f"{WEEK_NAME} 尚未结束，结束后才能公布种子并抽取" in early
    _at(city_app, AFTER)
    missing = _post(admin, "/city/draws", f"/city/draws/{WEEK}/draw").get_data(as_text=True)
    assert "种子未存入城市数据库，请输入保管的种子" in missing
    wrong = _post(admin, "/city/draws", f"/city/draws/{WEEK}/draw", seed="ab" * 32).get_data(as_text=True)
    assert f"输入的种子与 {WEEK_NAME} 事先公布的承诺值不符，未抽取" in wrong
    garbled = _post(admin, "/city/draws", f"/city/draws/{WEEK}/draw", seed="not a seed").get_data(as_text=True)
    assert "种子应为 64 位十六进制数" in garbled
    for page in (refused, again, early, missing, wrong, garbled):
        assert "Error" not in page and "Traceback" not in page
    assert book.published(WEEK)["seed"] is None and book.samples(WEEK) == []  # nothing drawn by any of them

    drawn = _post(admin, "/city/draws", f"/city/draws/{WEEK}/draw", seed=seed.upper())
    assert drawn.request.path == f"/city/draws/{WEEK}/assign" and book.published(WEEK)["seed"] == seed
    first = book.samples(WEEK)
    redraw = _post(admin, "/city/draws", f"/city/draws/{WEEK}/draw", seed=seed).get_data(as_text=True)
    assert f"{WEEK_NAME} 的抽检已经抽取，不能重抽" in redraw and book.samples(WEEK) == first

    sample = first[0]
    path = f"/city/draws/{WEEK}/assign/{sample.id}"
    assert "已分派给" in _post(admin, f"/city/draws/{WEEK}/assign", path, inspector="inspector").get_data(as_text=True)
    twice = _post(admin, f"/city/draws/{WEEK}/assign", path, inspector="inspector").get_data(as_text=True)
    assert f"抽检 {sample.id} 已分派给 inspector，不能重复分派" in twice
    assert [s.inspector for s in book.samples(WEEK) if s.id == sample.id] == ["inspector"]
    assert _actions(engine).count(("admin", "city_review_refused")) == 8
    assert _actions(engine).count(("admin", "city_assign_review")) == 1


def test_an_attempt_is_assigned_only_to_an_inspector_whose_scope_holds_its_course(city_app, city, admin, book):
    engine, _made = city
    _commit_and_draw(city_app, admin)
    _post(admin, "/city/draws", f"/city/draws/{WEEK}/draw")
    other = next(s for s in book.samples(WEEK) if s.course == "4201002")
    path = f"/city/draws/{WEEK}/assign/{other.id}"
    # inspector1 reviews course 4201001 only: a course 4201002 attempt is not theirs to review.
    refused = _post(admin, f"/city/draws/{WEEK}/assign", path, inspector="inspector1").get_data(as_text=True)
    assert "巡查员 巡查员乙 的巡查范围不含考场 4201002，未分派" in refused
    nobody = _post(admin, f"/city/draws/{WEEK}/assign", path, inspector="supervisor").get_data(as_text=True)
    assert "没有巡查员 supervisor，未分派" in nobody  # not an inspector of the city
    assert [s.inspector for s in book.samples(WEEK) if s.id == other.id] == [None]
    assert _actions(engine).count(("admin", "city_review_refused")) == 2

    # An inspector runs no step of the draw, and sees only their courses when checking it.
    scoped = _signed_in(city_app, "inspector1")
    for page in ("/city/draws", f"/city/draws/{WEEK}/assign"):
        assert scoped.get(page).status_code == 403
    token = csrf_token(scoped.get("/city/review").get_data(as_text=True))
    assert scoped.post(path, data={"inspector": "inspector1", "csrf_token": token}).status_code == 403
    assert scoped.post("/city/draws/commit", data={"csrf_token": token}).status_code == 403
    check = scoped.get(f"/city/draws/{WEEK}/check").get_data(as_text=True)
    assert 'data-course="4201001"' in check and "4201002" not in check and 'id="draw-verdict">一致<' in check
    supervisor = _signed_in(city_app, "supervisor")
    assert supervisor.get(f"/city/draws/{WEEK}/check").status_code == 403


def test_a_form_without_its_csrf_token_is_refused(city_app, city, admin, book):
    _at(city_app, SUNDAY_BEFORE)
    assert admin.post("/city/draws/commit").status_code == 400
    assert admin.post(f"/city/draws/{WEEK}/draw").status_code == 400
    with pytest.raises(Exception, match="没有承诺过"):
        book.published(WEEK)  # nothing committed


def test_the_check_names_a_stored_sample_that_differs_from_the_seed(city_app, city, admin, book):
    engine, _made = city
    _commit_and_draw(city_app, admin)
    _post(admin, "/city/draws", f"/city/draws/{WEEK}/draw")
    swapped = next(s for s in book.samples(WEEK) if s.course == "4201002")
    with engine.begin() as connection:  # someone swaps a drawn attempt for another
        connection.execute(text("UPDATE city_samples SET attempt_id = attempt_id + 1000 WHERE id = :id"),
                           {"id": swapped.id})
    page = admin.get(f"/city/draws/{WEEK}/check").get_data(as_text=True)
    assert 'id="draw-verdict">不一致<' in page
    assert (f"4201002：存储的抽检与按种子重算的不一致（仅存储中有：4201002/{swapped.attempt + 1000}；"
            f"仅重算有：4201002/{swapped.attempt}）") in page
    # Against the records: the city's own copy of the population edited afterwards shows too, in Chinese.
    _engine, made = city
    with engine.begin() as connection:
        populations = connection.execute(text("SELECT populations FROM city_draws")).scalar_one()
        populations["4201001"]["classes"].pop(str(made["fault"]))
        connection.execute(text("UPDATE city_draws SET populations = CAST(:p AS json)"),
                           {"p": json.dumps(populations)})
    page = admin.get(f"/city/draws/{WEEK}/check?records=1").get_data(as_text=True)
    assert f"4201001/{made['fault']}：抽取时的必检类别为 无，现在记录中为 设备故障" in page
    assert "4201001：参与抽取的考试与公布的摘要不符" in page
    assert "2026年第50周 没有承诺过抽检种子" in admin.get("/city/draws/2026-W50/check").get_data(as_text=True)


def test_the_overview_refreshes_its_rows_by_itself(city_app, city, inspectors):
    from tests.web.test_city_console import _free_port

    client = _signed_in(city_app, "inspector1")
    page = client.get("/city/").get_data(as_text=True)
    assert 'data-rows="/city/overview/rows"' in page and "cityoverview.js" in page
    rows = client.get("/city/overview/rows")
    assert rows.headers["Cache-Control"] == "no-store"
    fragment = rows.get_data(as_text=True)
    assert 'data-course="4201001"' in fragment and "4201002" not in fragment and "<html" not in fragment
    # A course whose database stops answering shows offline on the next refresh.
    city_app.extensions[EXTENSION].course_urls["4201001"] = f"postgresql://postgres@127.0.0.1:{_free_port()}/course"
    row = client.get("/city/overview/rows").get_data(as_text=True).split('data-course="4201001"')[1].split("</tr>")[0]
    assert "离线" in row and "未知" in row
    signed_out = city_app.test_client().get("/city/overview/rows")
    assert signed_out.status_code == 302 and "/login" in signed_out.location
