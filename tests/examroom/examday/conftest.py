"""Exam-day fixtures: the scheduler's clock, owned by the test."""

from __future__ import annotations

from datetime import datetime, timedelta

import apscheduler.schedulers.base
import pytest


@pytest.fixture
def move_scheduler_clock(monkeypatch):
    """``move_scheduler_clock(timedelta)``: APScheduler's clock runs that much later from now on.

    APScheduler 3 reads ``datetime.now`` when it looks for due jobs; a test that needs phases to
    fall due while the controller is down moves that clock instead of sleeping for real time.
    """

    def move(by: timedelta) -> None:
        class Later(datetime):
            @classmethod
            def now(cls, tz=None):
                return datetime.now(tz) + by

        monkeypatch.setattr(apscheduler.schedulers.base, "datetime", Later)

    return move
