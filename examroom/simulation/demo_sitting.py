"""The demo's exam day: each round of scripted attempts is a real sitting (考试场次).

A round books one made-up candidate per scenario into a new sitting through the
roster import (a CSV, as 交管12123 exports it), lets the sitting scheduler open
it and run its self-check, and checks every candidate in at the desk as the
demo supervisor, with a photo. Each vehicle then calls its next candidate and
starts the attempt through the call-up, exactly as a supervisor does on the
queue page; a candidate who fails waits for the 补考 and is called again. So the
demo's attempts carry bookings, queue numbers and an examiner, and the console
shows a live queue.
"""

from __future__ import annotations

import csv
import itertools
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from examroom import courseclock
from examroom.examday.callup import CallUp
from examroom.examday.checkin import CheckIn
from examroom.records.models import Booking, Candidate, Sitting, SittingStatus
from examroom.examday.roster import COLUMNS, RosterImport
from examroom.simulation.drive import demo_candidate
from examroom.simulation.rider import FACE_FILE
from examroom.examday.sittings import SittingPlan, SittingScheduler, create_sitting

SITTING_HOURS = 12  # long enough for any round; the round closes its sitting when it ends
SELF_CHECK_TIMEOUT = 30.0  # seconds to wait for the sitting's self-check to let attempts start
DEMO_SCHOOL = "演示驾校"


class DemoSittingError(RuntimeError):
    """The demo's sitting ``sitting_id`` could not start (its roster was refused, or its
    self-check never passed); the message says why."""

    def __init__(self, message: str, sitting_id: int) -> None:
        super().__init__(message)
        self.sitting_id = sitting_id


def id_photo() -> bytes:
    """The check-in photo: the portrait the in-car camera shows, so the one-face check passes."""
    return FACE_FILE.read_bytes()


class DemoSittings:
    """Books, opens and checks in one sitting per demo round."""

    def __init__(self, sessions, scheduler: SittingScheduler, checkin: CheckIn, callup: CallUp,
                 classes: set[str], folder: Path, examiner: str,
                 photo: Callable[[], bytes] = id_photo) -> None:
        self._sessions = sessions
        self._scheduler = scheduler
        self._checkin = checkin
        self._callup = callup
        self._classes = classes
        self._folder = folder
        self.examiner = examiner
        self._photo = photo
        # The demo's supervisor checks candidates in inside the controller's process. Load the face
        # detector (and OpenCV with it) now, not at the first check-in: an import in the middle of a
        # running attempt holds the interpreter for a few hundred milliseconds, and on the demo's
        # faster clock that is a GNSS gap longer than the judge's fix-loss allowance.
        from examroom.faces.detection import shared_detector

        shared_detector()

    def open_round(self, bookings_per_class: dict[str, int]) -> int:
        """A new sitting with ``bookings_per_class`` candidates booked and checked in; its id."""
        now = datetime.now(timezone.utc)
        code = self._free_code(now)
        sitting_id = create_sitting(self._sessions, SittingPlan(
            code, now, now + timedelta(seconds=1), now + timedelta(hours=SITTING_HOURS), "DEMO"))
        self._book(code, bookings_per_class, sitting_id)
        self._scheduler.sync()
        self._wait_running(sitting_id)
        with self._sessions() as session:
            numbers = session.scalars(select(Candidate.id_number).join(Booking, Booking.candidate_id == Candidate.id)
                                      .where(Booking.sitting_id == sitting_id).order_by(Booking.id)).all()
        for number in numbers:
            arrival = self._checkin.identify(sitting_id, number)
            self._checkin.confirm(arrival.booking_id, self._photo(), self.examiner)
        return sitting_id

    def call_next(self, sitting_id: int, vehicle_id: str) -> int | None:
        """Call the vehicle's next waiting candidate; their booking id, or None when nobody waits."""
        return self._callup.call_next(sitting_id, vehicle_id)

    def close_round(self, sitting_id: int) -> None:
        self._scheduler.run_now(sitting_id, "close")

    def _free_code(self, now: datetime) -> str:
        day = courseclock.local(now, courseclock.CHINA).strftime("%Y%m%d")  # a demo sitting's code is in China time
        with self._sessions() as session:
            taken = set(session.scalars(select(Sitting.code)))
        return next(code for n in itertools.count(1) if (code := f"DEMO{day}-{n}") not in taken)

    def _book(self, code: str, bookings_per_class: dict[str, int], sitting_id: int) -> None:
        """Write the round's booking list as a CSV and import it the way a real roster comes in."""
        people = [(demo_candidate(cls), cls) for cls, count in sorted(bookings_per_class.items())
                  for _ in range(count)]
        path = self._folder / f"roster-{code}.csv"
        header = [COLUMNS[key][0] for key in ("name", "id_number", "exam_number", "vehicle_class", "school",
                                              "sitting", "exam_reason")]
        with open(path, "w", newline="", encoding="utf-8-sig") as out:
            csv.writer(out).writerows([header] + [[p.name, p.id_number, p.exam_number, cls, DEMO_SCHOOL, code, "初考"]
                                                  for p, cls in people])
        report = RosterImport(self._sessions, self._classes).run(path, commit=True)
        if report.bad:
            raise DemoSittingError(f"演示名单有误：{report.bad[0]}", sitting_id)

    def _wait_running(self, sitting_id: int) -> None:
        deadline = time.monotonic() + SELF_CHECK_TIMEOUT
        while time.monotonic() < deadline:
            with self._sessions() as session:
                sitting = session.get(Sitting, sitting_id)
                if sitting.status == SittingStatus.RUNNING.value:
                    return
                check = sitting.self_check
            time.sleep(0.2)
        problems = "；".join((check or {}).get("problems") or []) or "没有自检结果"
        raise DemoSittingError(f"场次{sitting_id}设备自检未通过：{problems}", sitting_id)
