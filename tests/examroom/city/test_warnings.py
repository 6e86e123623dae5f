"""The city's warnings over a real PostgreSQL city database holding several courses' records: each
names its numbers and the attempts behind it, and one just inside each limit gives none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from examroom.city.attempt_classes import week_of
from examroom.city.rate_test import binomial_two_sided
from examroom.city.verification import register_key, verify_pass
from examroom.city.warnings import (
    SEAL_HEAD, SEAL_LINK, all_warnings, journal_gaps, note_heads, rate_warnings, retest_warnings,
    same_id_two_courses, seal_chain_warnings,
)
from examroom.city.watch_settings import WarningSettings
from examroom.records.database import session_factory
from examroom.records.models import AttemptStatus
from examroom.records.sealing import PUBLIC_KEY_FILE
from tests.examroom.attempts import allow_tampering
from tests.examroom.city.city_records import MONDAY, CourseWriter, china

SETTINGS = WarningSettings(test="binomial_exact", alpha=0.001, min_attempts=20, min_difference=0.10,
                           max_journal_gap_seconds=5.0, tries_per_sitting=2, rebook_after_days=10,
                           bookings_per_validity=5, validity_days=1095)
NAME, START, END = week_of(MONDAY)


@pytest.mark.parametrize("k, n, p0", [(3, 40, 0.2), (0, 30, 0.05), (30, 30, 0.9), (15, 30, 0.5),
                                      (120, 2000, 0.05), (900, 3000, 0.33), (1, 25, 0.001)])
def test_the_binomial_test_agrees_with_scipy(k, n, p0):
    stats = pytest.importorskip("scipy.stats")
    assert binomial_two_sided(k, n, p0) == pytest.approx(stats.binomtest(k, n, p0).pvalue, rel=1e-9, abs=1e-300)


def test_the_binomial_test_at_the_edges():
    assert binomial_two_sided(0, 0, 0.3) == 1.0
    assert binomial_two_sided(0, 10, 0.0) == 1.0 and binomial_two_sided(1, 10, 0.0) == 0.0
    assert binomial_two_sided(10, 10, 1.0) == 1.0 and binomial_two_sided(9, 10, 1.0) == 0.0
    with pytest.raises(ValueError):
        binomial_two_sided(11, 10, 0.5)


pg = pytest.mark.postgres



def sessions_of(engine):
    return session_factory(engine, None)


@pg
def test_an_examiner_and_a_course_far_from_the_city_are_named_with_their_numbers(city, tmp_path):
    normal = [CourseWriter(city, code, tmp_path / code) for code in ("4201001", "4201004", "4201005", "4201006")]
    b, c = (CourseWriter(city, code, tmp_path / code) for code in ("4201002", "4201003"))
    for course in normal:  # the city: 90 % pass
        for n in range(50):
            course.attempt(str(1000 + n), china(MONDAY, 8) + timedelta(minutes=n), passed=n % 10 != 0)
    for n in range(30):  # course 4201002's 考试员乙: 30 % pass
        b.attempt(str(2000 + n), china(MONDAY + timedelta(days=1), 8) + timedelta(minutes=n), examiner="考试员乙",
                  passed=n % 10 < 3)
    for n in range(19):  # 4201003: every attempt failed, but one short of the minimum sample
        c.attempt(str(3000 + n), china(MONDAY + timedelta(days=2), 8) + timedelta(minutes=n), examiner="考试员丙",
                  passed=False)
    found = rate_warnings(sessions_of(city), START, END, SETTINGS)
    subjects = {(w.subject, w.numbers["metric"]) for w in found}
    assert ("4201002/考试员乙", "pass") in subjects and ("4201002", "pass") in subjects
    assert not any(w.subject.startswith("4201003") for w in found)  # below the minimum sample
    # A normal course is 90 % against the rest's 72 %: p = 0.004, not below alpha (0.001): no warning.
    assert not any(w.subject.startswith(("4201001", "4201004", "4201005", "4201006")) for w in found)
    examiner = next(w for w in found if w.subject == "4201002/考试员乙" and w.numbers["metric"] == "pass")
    assert examiner.numbers["k"] == 9 and examiner.numbers["n"] == 30
    assert examiner.numbers["rest_n"] == 219 and examiner.numbers["rest_k"] == 180
    assert examiner.numbers["p_value"] == pytest.approx(binomial_two_sided(9, 30, 180 / 219))
    assert examiner.numbers["p_value"] < SETTINGS.alpha and examiner.numbers["test"] == "binomial_exact"
    # The attempts behind a low pass rate are its failures.
    assert len(examiner.attempts) == 21 and all(course == "4201002" for course, _ in examiner.attempts)
    assert "30.0%（9/30）" in str(examiner)


@pg
def test_device_fault_and_override_rates(city, tmp_path):
    a, b = (CourseWriter(city, code, tmp_path / code) for code in ("4201001", "4201002"))
    for n in range(60):
        a.attempt(str(1000 + n), china(MONDAY, 8) + timedelta(minutes=n))
    b.overridden_check(china(MONDAY, 7))
    for n in range(25):  # under an override all day, and a device fault every third attempt
        b.attempt(str(2000 + n), china(MONDAY, 8) + timedelta(minutes=n),
                  status=AttemptStatus.DEVICE_FAULT if n % 3 == 0 else None)
    found = {(w.subject, w.numbers["metric"]): w for w in rate_warnings(sessions_of(city), START, END, SETTINGS)}
    assert found[("4201002", "device_fault")].numbers["k"] == 9
    assert found[("4201002", "override")].numbers == {**found[("4201002", "override")].numbers, "k": 25, "n": 25,
                                                      "rest_k": 0, "rest_n": 60}


@pg
def test_journal_gaps_missing_rows_and_silences(city, tmp_path):
    a = CourseWriter(city, "4201001", tmp_path)
    holed = a.attempt("1", china(MONDAY, 9), gap_rows=3)
    silent = a.attempt("2", china(MONDAY, 10), silence=10.0)
    a.attempt("3", china(MONDAY, 11), silence=4.4)  # 4.9 s between two rows: inside the 5 s limit
    headless = a.attempt("4", china(MONDAY, 12), first_rows_lost=2)
    found = journal_gaps(sessions_of(city), START, END, SETTINGS)
    assert [(w.attempts, w.numbers["missing_rows"]) for w in found] == [((("4201001", holed),), 3),
                                                                        ((("4201001", silent),), 0),
                                                                        ((("4201001", headless),), 2)]
    assert found[1].numbers["longest_silence_s"] == pytest.approx(10.5)


@pg
def test_the_same_id_number_at_two_courses_on_one_day(city, tmp_path):
    a, b = (CourseWriter(city, code, tmp_path / code) for code in ("4201001", "4201002"))
    one = a.attempt("777", china(MONDAY + timedelta(days=1), 9))
    other = b.attempt("777", china(MONDAY + timedelta(days=1), 15))
    a.attempt("778", china(MONDAY + timedelta(days=1), 23, 30))  # 23:30 and 00:30 China time: two days
    b.attempt("778", china(MONDAY + timedelta(days=2), 0, 30))
    found = same_id_two_courses(sessions_of(city), START, END)
    assert len(found) == 1
    assert found[0].attempts == (("4201001", one), ("4201002", other))
    assert found[0].numbers == {"day": "2026-12-01", "courses": ["4201001", "4201002"], "attempts": 2}
    assert "*" in found[0].subject  # the ID number masked


@pg
def test_re_examinations_outside_the_rules(city, tmp_path):
    a, b = (CourseWriter(city, code, tmp_path / code) for code in ("4201001", "4201002"))
    # Three tries in one sitting (one 补考 is allowed; a device-fault re-run keeps its try number).
    day = MONDAY + timedelta(days=1)
    tries = [a.attempt("10", china(day, 9), passed=False, attempt_no=1),
             a.attempt("10", china(day, 10), status=AttemptStatus.DEVICE_FAULT, attempt_no=2),
             a.attempt("10", china(day, 11), passed=False, attempt_no=2),
             a.attempt("10", china(day, 12), passed=True, attempt_no=3)]
    a.attempt("11", china(day, 9), passed=False, attempt_no=1)  # two tries: inside the rule
    a.attempt("11", china(day, 10), passed=False, attempt_no=2, outcome="failed")
    # Failed at 4201001 nine days before the week's Friday, booked again at 4201002 on it.
    before = a.attempt("20", china(MONDAY - timedelta(days=5), 9), passed=False, outcome="failed")
    after = b.attempt("20", china(MONDAY + timedelta(days=4), 9))
    # Ten days later: allowed.
    a.attempt("21", china(MONDAY - timedelta(days=6), 9), passed=False, outcome="failed")
    b.attempt("21", china(MONDAY + timedelta(days=4), 9))
    # Six bookings within the period of validity (one per month), the sixth in the week.
    for months in range(5, 0, -1):
        a.attempt("30", china(MONDAY - timedelta(days=30 * months), 9), passed=False, outcome="failed")
    sixth = b.attempt("30", china(MONDAY + timedelta(days=3), 9))
    found = retest_warnings(sessions_of(city), START, END, SETTINGS)
    rules = sorted((w.numbers["rule"], w.attempts[-1]) for w in found)
    assert rules == [("bookings_per_validity", ("4201002", sixth)), ("rebook_after_days", ("4201002", after)),
                     ("tries_per_sitting", ("4201001", tries[-1]))]
    tries_warning = next(w for w in found if w.numbers["rule"] == "tries_per_sitting")
    assert tries_warning.numbers["tries"] == [1, 2, 3] and set(tries_warning.attempts) == {("4201001", t) for t in tries}
    rebook = next(w for w in found if w.numbers["rule"] == "rebook_after_days")
    assert rebook.numbers["days"] == 9 and ("4201001", before) in rebook.attempts
    assert next(w for w in found if w.numbers["rule"] == "bookings_per_validity").numbers["bookings"][-1][0] == "4201002"


def registered(city, writer: CourseWriter, key_dir) -> CourseWriter:
    """The course's public key registered at the city (``examroom city key``), as the city verifies with it."""
    register_key(city, "420100", writer.code, (key_dir / PUBLIC_KEY_FILE).read_text(), "管理员甲", END)
    return writer


@pg
def test_a_seal_chain_break_and_a_head_that_went_backwards(city, tmp_path):
    a, b = (registered(city, CourseWriter(city, code, tmp_path / code), tmp_path / code)
            for code in ("4201001", "4201002"))
    a_ids = [a.attempt(str(n), china(MONDAY, 9, n)) for n in range(6)]
    b_ids = [b.attempt(str(50 + n), china(MONDAY, 9, n)) for n in range(4)]
    sessions = sessions_of(city)
    assert note_heads(sessions, END) == 2 and note_heads(sessions, END) == 0  # a head is kept once
    assert verify_pass(city, lambda: END).checked == 10
    assert seal_chain_warnings(sessions, START, END) == []
    with city.begin() as connection:
        allow_tampering(connection)
        # 4201001: a sealed attempt in the middle removed, seal and all; 4201002: its newest removed.
        for course, attempt in (("4201001", a_ids[2]), ("4201002", b_ids[-1])):
            for table, column in (("seals", "attempt_id"), ("journal", "attempt_id"), ("deductions", "attempt_id"),
                                  ("attempts", "id")):
                connection.execute(text(f"DELETE FROM {table} WHERE course_key = :c AND {column} = :a"),
                                   {"c": course, "a": attempt})
    assert seal_chain_warnings(sessions, START, END) == []  # the page verifies nothing: the pass finds it
    a.attempt("7", china(MONDAY, 10))  # seal 7 of 4201001 names seal 6, which is still there
    assert verify_pass(city, lambda: END).checked == 1
    found = seal_chain_warnings(sessions, START, END)
    assert [(w.subject, w.msgid == SEAL_HEAD) for w in found] == [("4201001", True), ("4201002", True)]
    missing, backwards = found
    # The seal the city verified as 3 is gone: its attempt is named although its rows are gone too.
    assert missing.attempts == (("4201001", a_ids[2]),)
    assert any("seal 3" in p and "is gone" in p for p in missing.numbers["problems"])
    assert "链头倒退" in str(backwards) and backwards.attempts == (("4201002", b_ids[-1]),)


@pg
def test_a_seal_that_does_not_link_is_a_break(city, tmp_path):
    a = registered(city, CourseWriter(city, "4201001", tmp_path / "k"), tmp_path / "k")
    ids = [a.attempt(str(n), china(MONDAY, 9, n)) for n in range(3)]
    with city.begin() as connection:
        allow_tampering(connection)  # seal 2 removed before the city verified it: seal 3 does not link
        connection.execute(text("DELETE FROM seals WHERE course_key = '4201001' AND attempt_id = :a"), {"a": ids[1]})
    verify_pass(city, lambda: END)
    (broken,) = [w for w in seal_chain_warnings(sessions_of(city), START, END) if w.msgid == SEAL_LINK]
    assert broken.attempts == (("4201001", ids[2]),) and "断开" in broken.msgid


@pg
def test_all_warnings_of_a_quiet_week_are_none(city, tmp_path):
    a, b = (registered(city, CourseWriter(city, code, tmp_path / code), tmp_path / code)
            for code in ("4201001", "4201002"))
    for n in range(25):
        a.attempt(str(n), china(MONDAY, 8) + timedelta(minutes=n), passed=n % 4 != 0)
        b.attempt(str(100 + n), china(MONDAY, 8) + timedelta(minutes=n), passed=n % 5 != 0)
    verify_pass(city, lambda: END)
    assert all_warnings(sessions_of(city), START, END, SETTINGS, evidence_cache=tmp_path / "none") == []
