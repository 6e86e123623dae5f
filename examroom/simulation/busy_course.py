"""A busy course's records, written the way the controller writes them, for the city's tests and bench.

A county course examines about 400 candidates a day. ``BusyCourse.attempt(n, utc)`` writes one
whole attempt through ``records.attempt_log.Records``: the candidate, check-in, start, the
journal (GNSS poses at 10 Hz and signal-board snapshots at 20 Hz by default, committed in
batches of ``batch_s`` seconds as the controller does), its deductions and its end, and seals
it when a sealer is given. Everything is derived from ``n`` and ``utc``: the same calls write the
same rows. No devices and no judge: what the city tier moves is rows, and these are real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from examroom.records.attempt_log import CandidateInfo, Records
from examroom.records.models import AttemptStatus
from examroom.records.people import id_check_character
from examroom.records.sealing import Sealer
from scoring.observations import Command, CommandAction, FixQuality, Gear, Pose, Signals

ATTEMPTS_PER_DAY = 400  # a busy county course (issue 16)
EXAM_HOURS_PER_DAY = 8.0


@dataclass(frozen=True)
class AttemptShape:
    """How much one attempt writes."""

    seconds: float = 300.0  # an attempt of 科目二 on a small vehicle: about five minutes
    pose_hz: float = 10.0
    signals_hz: float = 20.0
    batch_s: float = 1.0  # the journal is committed in batches of this much attempt time
    deductions: int = 2

    @property
    def journal_rows(self) -> int:
        return 1 + int(self.seconds * self.pose_hz) + int(self.seconds * self.signals_hz) + 1


class BusyCourse:
    """Writes attempts of one course (``label`` names its candidates and plates) into ``records``."""

    def __init__(self, records: Records, label: str = "1", *, shape: AttemptShape = AttemptShape(),
                 sealer: Sealer | None = None, vehicle: str = "V1") -> None:
        self.records, self.label, self.shape, self.sealer, self.vehicle = records, label, shape, sealer, vehicle
        records.ensure_vehicle(vehicle, f"鄂A·{label[-4:]:0>4}学", "E", "E-HJ110")

    def attempt(self, n: int, utc: datetime) -> int:
        """Write attempt ``n`` starting at ``utc``; returns its id."""
        shape = self.shape
        first17 = f"420102199001{n % 100:02d}{n % 10000:04d}"[:17]
        candidate = self.records.ensure_candidate(CandidateInfo(
            f"考生{n}", first17 + id_check_character(first17), f"42{self.label[-4:]:0>4}{n:08d}", "E"))
        attempt = self.records.check_in(candidate, self.vehicle, "demo", "ga1026-2022", utc, attempt_no=1)
        self.records.mark_running(attempt, utc)
        rows = [(1, Command(t=0.0, utc=utc, vehicle=self.vehicle, action=CommandAction.START,
                            vehicle_class="E", vehicle_model="E-HJ110"))]
        samples = sorted([(i / shape.pose_hz, "pose") for i in range(1, int(shape.seconds * shape.pose_hz) + 1)]
                         + [(i / shape.signals_hz, "signals")
                            for i in range(1, int(shape.seconds * shape.signals_hz) + 1)])
        for t, kind in samples:
            at = utc + timedelta(seconds=t)
            if kind == "pose":
                rows.append((len(rows) + 1, Pose(t=t, utc=at, vehicle=self.vehicle, x=t * 0.8, y=(n % 7) * 0.1,
                                                 heading=90.0, speed=0.8, fix=FixQuality.RTK_FIXED,
                                                 satellites=18, hdop=0.7, correction_age=1.0)))
            else:
                rows.append((len(rows) + 1, Signals(t=t, utc=at, vehicle=self.vehicle, ignition=True, engine=True,
                                                    starter=False, gear=Gear.G1, helmet=True)))
        end = shape.seconds + 0.05
        rows.append((len(rows) + 1, Command(t=end, utc=utc + timedelta(seconds=end), vehicle=self.vehicle,
                                            action=CommandAction.STOP, reason="end")))
        head, batch_end, start = None, shape.batch_s, 0
        for index, (_seq, observation) in enumerate(rows + [(0, None)]):
            if observation is None or observation.t >= batch_end:
                head = self.records.append_journal(attempt, rows[start:index], prev_hash=head)
                start, batch_end = index, batch_end + shape.batch_s
        for d in range(shape.deductions):
            t = shape.seconds * (d + 1) / (shape.deductions + 1)
            self.records.add_deduction(attempt, {
                "rule": "general.stall", "code": "", "title": "发动机熄火", "points": 10, "disqualify": False,
                "item": "general", "t": t, "utc": (utc + timedelta(seconds=t)).isoformat()})
        score = 100 - 10 * shape.deductions
        self.records.finish(attempt, AttemptStatus.PASSED if score >= 80 else AttemptStatus.FAILED,
                            utc + timedelta(seconds=end), result={"score": score, "passed": score >= 80})
        if self.sealer is not None:
            self.sealer.seal(attempt)
        return attempt

    def hour(self, start_utc: datetime, first: int = 1,
             attempts_per_day: int = ATTEMPTS_PER_DAY, hours_per_day: float = EXAM_HOURS_PER_DAY) -> list[int]:
        """A busy hour's attempts (``attempts_per_day / hours_per_day``), spread over the hour."""
        count = round(attempts_per_day / hours_per_day)
        return [self.attempt(first + i, start_utc + timedelta(seconds=3600 * i / count)) for i in range(count)]
