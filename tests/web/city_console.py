"""A city console over a real PostgreSQL city database holding two courses' records (fixtures)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from examroom.accounts.users import Accounts, Role
from examroom.city.watch_settings import CityWatchSettings, EvidenceSettings, SamplingSettings, WarningSettings
from examroom.records.database import session_factory
from examroom.records.models import AttemptStatus
from examroom_web.city.console import EXTENSION, city_app as city_app_of
from tests.examroom.city.city_records import MONDAY, CourseWriter, china, city_engine
from tests.web.conftest import PASSWORD

CITY_CODE = "4201000"
COURSES = ("4201001", "4201002")
NOW = china(MONDAY + timedelta(days=2), 11)  # a Wednesday's morning, China time
SETTINGS = CityWatchSettings(
    city_code=CITY_CODE, sampling=SamplingSettings(share=0.5, always=("manual_fail", "device_fault")),
    warnings=WarningSettings(test="binomial_exact", alpha=0.001, min_attempts=20, min_difference=0.10,
                             max_journal_gap_seconds=5.0, tries_per_sitting=2, rebook_after_days=10,
                             bookings_per_validity=5, validity_days=1095),
    evidence=EvidenceSettings(cache_dir=Path("/nonexistent"), timeout_seconds=1.0))


def fill(engine, tmp_path: Path) -> dict[str, dict]:
    """Two courses' day: 4201001 with a journal gap, a device fault, an override and a vehicle running;
    4201002 with two quiet attempts. Returns what each course holds."""
    one = CourseWriter(engine, COURSES[0], tmp_path / "k1")
    two = CourseWriter(engine, COURSES[1], tmp_path / "k2")
    today = NOW - timedelta(hours=2)
    gap = one.attempt("1", today, gap_rows=3)  # journal rows lost: a warning
    fault = one.attempt("2", today + timedelta(minutes=10), fault_resumed=True)
    one.overridden_check(today - timedelta(minutes=30))
    running = one.records.check_in(one.candidate("3"), "V1", "demo", "ga1026-2022", NOW - timedelta(minutes=3),
                                   booking_id=one.booking("3", NOW.date(), "考试员甲"))
    one.records.mark_running(running, NOW - timedelta(minutes=3))
    two.attempt("7", today)
    two.attempt("8", today + timedelta(minutes=5), status=AttemptStatus.FAILED, passed=False)
    return {"gap": gap, "fault": fault}


@pytest.fixture
def city(postgres_urls, tmp_path):
    (url,) = postgres_urls(1, migrated=True)
    engine = city_engine(url)
    made = fill(engine, tmp_path)
    made["url"] = url
    yield engine, made
    engine.dispose()


@pytest.fixture
def city_app(city):
    """The web app in city mode, as ``python -m examroom_web --city-file`` makes it, on the test's clock."""
    engine, made = city
    app = city_app_of(made["url"], SETTINGS, {}, {"TESTING": True, "SECRET_KEY": "test-secret"})
    app.extensions[EXTENSION].now = lambda: NOW
    yield app
    app.extensions[EXTENSION].city.dispose()


@pytest.fixture
def inspectors(city):
    engine, _made = city
    accounts = Accounts(session_factory(engine, CITY_CODE))  # the city's own accounts
    accounts.create("inspector", PASSWORD, Role.INSPECTOR, display_name="巡查员甲")
    accounts.create("inspector1", PASSWORD, Role.INSPECTOR, display_name="巡查员乙", scope=COURSES[0])
    accounts.create("supervisor", PASSWORD, Role.SUPERVISOR)
    accounts.create("admin", PASSWORD, Role.ADMIN)
    return accounts
