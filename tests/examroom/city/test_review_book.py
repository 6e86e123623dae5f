"""The city's weekly random review on a real PostgreSQL city database holding three courses' records:
the seed committed before the week, the draw after it (re-run by anyone from what is published),
the classes always reviewed, assignments and outcomes, each in the city's audit log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from examroom.accounts.audit import AuditLog
from examroom.city import sampling
from examroom.city.attempt_classes import week_of
from examroom.city.review_book import ReviewBook, ReviewError, outcome_counts
from examroom.city.watch_settings import SamplingSettings
from examroom.records.database import session_factory
from examroom.records.models import AttemptStatus
from tests.examroom.attempts import allow_tampering
from tests.examroom.city.city_records import MONDAY, WEEK, CourseWriter, china

pytestmark = pytest.mark.postgres

CITY = "420100"
ALWAYS = ("manual_fail", "device_fault", "override", "seal_warning")
SETTINGS = SamplingSettings(share=0.1, always=ALWAYS)
SEED = bytes.fromhex("5eed" * 16)



def fill_week(engine, tmp_path):
    """Three courses' week: plain attempts, and some of each class always reviewed. Returns the special ones."""
    a, b, c = (CourseWriter(engine, code, tmp_path / code) for code in ("4201001", "4201002", "4201003"))
    special = {}
    for n in range(40):
        a.attempt(str(100 + n), china(MONDAY + timedelta(days=n % 5), 9, n))
    special["manual_fail"] = ("4201001", a.attempt("200", china(MONDAY, 10), manual=True))
    special["device_fault"] = ("4201001", a.attempt("201", china(MONDAY, 11), status=AttemptStatus.DEVICE_FAULT))
    special["fault_resumed"] = ("4201001", a.attempt("202", china(MONDAY, 12), fault_resumed=True))
    b.overridden_check(china(MONDAY + timedelta(days=1), 8))
    special["override"] = ("4201002", b.attempt("300", china(MONDAY + timedelta(days=1), 9)))
    b.passed_check(china(MONDAY + timedelta(days=2), 8))
    for n in range(15):
        b.attempt(str(310 + n), china(MONDAY + timedelta(days=2), 9, n))
    for n in range(12):
        c.attempt(str(400 + n), china(MONDAY + timedelta(days=3), 9, n))
    tampered = c.attempt("420", china(MONDAY + timedelta(days=3), 11))
    special["seal_warning"] = ("4201003", tampered)
    with engine.begin() as connection:  # someone lifted the score of a sealed attempt at the course
        allow_tampering(connection)
        connection.execute(text("UPDATE attempts SET score = 99 WHERE course_key = '4201003' AND id = :id"),
                           {"id": tampered})
    # Outside the week: never in its draw.
    a.attempt("500", china(MONDAY + timedelta(days=7), 9), manual=True)
    return special


def test_a_week_is_committed_drawn_rechecked_assigned_and_reviewed(city, tmp_path):
    book = ReviewBook(city, CITY, SETTINGS)
    name, starts, ends = week_of(MONDAY)
    assert name == WEEK
    with pytest.raises(ReviewError, match="已经开始"):
        book.commit_week(MONDAY, "主任", starts + timedelta(seconds=1), seed=SEED)
    commitment = book.commit_week(MONDAY, "主任", starts - timedelta(hours=1), seed=SEED)
    assert commitment == sampling.commitment(SEED)
    with pytest.raises(ReviewError, match="承诺过"):
        book.commit_week(MONDAY, "主任", starts - timedelta(minutes=30))
    # During the week only the commitment is public: a course cannot compute its sample.
    assert book.published(WEEK)["seed"] is None and book.published(WEEK)["commitment"] == commitment
    special = fill_week(city, tmp_path)
    with pytest.raises(ReviewError, match="尚未结束"):
        book.reveal_and_draw(WEEK, "主任", ends - timedelta(seconds=1))
    samples = book.reveal_and_draw(WEEK, "主任", ends + timedelta(hours=1))
    with pytest.raises(ReviewError, match="不能重抽"):
        book.reveal_and_draw(WEEK, "主任", ends + timedelta(hours=2))

    by_key = {(s.course, s.attempt): s for s in samples}
    for reason in ("manual_fail", "device_fault", "override", "seal_warning"):
        assert reason in by_key[special[reason]].reasons, reason
    assert "device_fault" in by_key[special["fault_resumed"]].reasons  # suspended by a fault, then resumed
    published = book.published(WEEK)
    assert published["seed"] == SEED.hex()
    populations = published["populations"]
    assert {c: len(p["ids"]) for c, p in populations.items()} == {"4201001": 43, "4201002": 16, "4201003": 13}
    for course, population in populations.items():
        drawn_by_share = [s for s in samples if s.course == course and s.reasons == (sampling.SHARE,)]
        assert len(drawn_by_share) == sampling.share_count(0.1, len(population["ids"]))

    # Anyone re-runs the draw from what is published and gets the same sample.
    assert book.recheck(WEEK) == []
    again = []
    for course, population in published["populations"].items():
        attempts = [sampling.Attempt(course, i, frozenset(population["classes"].get(str(i), ())))
                    for i in population["ids"]]
        assert sampling.population_digest(attempts) == population["digest"]
        again += [(d.course, d.id, d.reasons) for d in sampling.draw(SEED, attempts, 0.1, ALWAYS)]
    assert sorted(again) == sorted((s.course, s.attempt, s.reasons) for s in samples)

    given = book.assign_evenly(WEEK, ["检查员甲", "检查员乙"], "主任", ends + timedelta(hours=2))
    assert sorted(given) == sorted(s.id for s in samples)
    assert abs(sum(1 for v in given.values() if v == "检查员甲") - len(given) / 2) <= 0.5
    first, second = sorted(samples, key=lambda s: s.id)[:2]
    mine, theirs = given[first.id], given[second.id]
    with pytest.raises(ReviewError, match="存疑或判定有误"):
        book.record_outcome(first.id, mine, "wrong", "  ", ends + timedelta(hours=3))
    with pytest.raises(ReviewError, match="一致、存疑或判定有误"):
        book.record_outcome(first.id, mine, "ok", "", ends + timedelta(hours=3))
    wrong_person = "检查员乙" if mine == "检查员甲" else "检查员甲"
    with pytest.raises(ReviewError, match="未分派给"):
        book.record_outcome(first.id, wrong_person, "consistent", "", ends + timedelta(hours=3))
    book.record_outcome(first.id, mine, "wrong", "桩考碰杆未扣分", ends + timedelta(hours=3))
    book.record_outcome(second.id, theirs, "consistent", "", ends + timedelta(hours=3))
    with pytest.raises(ReviewError, match="已有结论"):
        book.record_outcome(first.id, mine, "consistent", "", ends + timedelta(hours=4))
    with pytest.raises(ReviewError, match="不能再分派"):
        book.assign(first.id, "检查员丙", "主任", ends + timedelta(hours=4))
    assert outcome_counts(city, WEEK) == {"wrong": 1, "consistent": 1, "": len(samples) - 2}
    reviewed = {s.id: s for s in book.samples(WEEK)}
    assert (reviewed[first.id].outcome, reviewed[first.id].notes) == ("wrong", "桩考碰杆未扣分")

    # Outcomes are kept, never edited; the city's audit log holds every step and is intact.
    with pytest.raises(DBAPIError, match="append-only"):
        with city.begin() as connection:
            connection.execute(text("UPDATE city_review_outcomes SET outcome = 'consistent'"))
    log = AuditLog(session_factory(city, CITY))
    actions = [e.action for e in reversed(log.entries(500))]
    assert actions[0] == "city_commit_seed" and actions[1] == "city_draw"
    assert actions.count("city_assign_review") == len(samples)
    assert actions.count("city_review_outcome") == 2
    assert log.verify() == []
    # The courses' own audit chains are not touched by the city's.
    assert AuditLog(session_factory(city, "4201001")).entries() == []


def test_a_stored_sample_that_differs_from_the_seed_is_found(city, tmp_path):
    book = ReviewBook(city, CITY, SETTINGS)
    _, starts, ends = week_of(MONDAY)
    book.commit_week(MONDAY, "主任", starts - timedelta(hours=1), seed=SEED)
    fill_week(city, tmp_path)
    samples = book.reveal_and_draw(WEEK, "主任", ends)
    plain = next(s for s in samples if s.reasons == (sampling.SHARE,))
    with city.begin() as connection:  # someone swaps a drawn attempt for another
        connection.execute(text("UPDATE city_samples SET attempt_id = attempt_id + 1000 WHERE id = :id"),
                           {"id": plain.id})
    problems = book.recheck(WEEK)
    assert len(problems) == 1 and "differs from the draw re-run" in problems[0]


def test_a_population_that_left_an_attempt_out_is_found(city, tmp_path):
    book = ReviewBook(city, CITY, SETTINGS)
    _, starts, ends = week_of(MONDAY)
    book.commit_week(MONDAY, "主任", starts - timedelta(hours=1), seed=SEED)
    special = fill_week(city, tmp_path)
    book.reveal_and_draw(WEEK, "主任", ends)
    course, attempt = special["manual_fail"]
    with city.begin() as connection:  # the city's own record of the population edited afterwards
        populations = connection.execute(text("SELECT populations FROM city_draws")).scalar_one()
        populations[course]["ids"].remove(attempt)
        del populations[course]["classes"][str(attempt)]
        connection.execute(text("UPDATE city_draws SET populations = CAST(:p AS json)"), {"p": json.dumps(populations)})
    problems = book.recheck(WEEK)
    assert f"{course}/{attempt}: an attempt of the week left out of the draw's population" in problems
    assert any("does not match its published digest" in p for p in problems)


def test_a_seed_held_off_the_database_is_checked_against_its_commitment_when_revealed(city, tmp_path):
    book = ReviewBook(city, CITY, SETTINGS)
    _, starts, ends = week_of(MONDAY)
    commitment = book.commit_week(MONDAY, "主任", starts - timedelta(hours=1), seed=SEED, keep_seed=False)
    with city.connect() as connection:  # only the commitment is kept
        assert connection.execute(text("SELECT seed FROM city_draws")).scalar_one() is None
    CourseWriter(city, "4201001", tmp_path / "k").attempt("100", china(MONDAY, 9))
    with pytest.raises(ReviewError, match="请输入保管的种子"):
        book.reveal_and_draw(WEEK, "主任", ends)
    with pytest.raises(ReviewError, match="承诺值不符"):
        book.reveal_and_draw(WEEK, "主任", ends, seed=("ab" * 32))
    with pytest.raises(ReviewError, match="64 位十六进制"):
        book.reveal_and_draw(WEEK, "主任", ends, seed="5eed")
    assert book.published(WEEK)["seed"] is None and book.samples(WEEK) == []
    (drawn,) = book.reveal_and_draw(WEEK, "主任", ends, seed=SEED.hex())
    assert book.published(WEEK)["seed"] == SEED.hex() and sampling.commitment(SEED) == commitment
    assert book.recheck(WEEK) == []
    book.assign(drawn.id, "检查员甲", "主任", ends)
    with pytest.raises(ReviewError, match="已分派给 检查员甲，不能重复分派"):
        book.assign(drawn.id, "检查员乙", "主任", ends)
    book.assign(drawn.id, "检查员乙", "主任", ends, reassign=True)  # said so: the latest assignment counts
    assert book.samples(WEEK)[0].inspector == "检查员乙"
