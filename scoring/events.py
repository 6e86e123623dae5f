"""What the judge says: deductions, events, the live snapshot and the final result."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

VALUE_DECIMALS = 3  # measured values are kept to the millimetre / millisecond


class Status(str, enum.Enum):
    WAITING = "waiting"  # no start command yet
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ABORTED = "aborted"  # stopped by the supervisor: no verdict
    DEVICE_FAULT = "device_fault"  # 设备故障: never a candidate's fault
    SUSPENDED = "suspended"  # 设备故障, waiting for the supervisor: resume or end (then re-run)

    @property
    def ended(self) -> bool:
        return self not in _NOT_ENDED


_NOT_ENDED = frozenset((Status.WAITING, Status.RUNNING, Status.SUSPENDED))


class EventKind(str, enum.Enum):
    ITEM_STARTED = "item_started"
    ITEM_FINISHED = "item_finished"
    DEDUCTION = "deduction"
    ATTEMPT_FINISHED = "attempt_finished"
    ATTEMPT_SUSPENDED = "attempt_suspended"
    ATTEMPT_RESUMED = "attempt_resumed"


@dataclass(frozen=True)
class Deduction:
    """One applied rule. ``points`` is 100 for a 不合格 rule (``disqualify``)."""

    rule: str
    code: str
    title: str
    title_en: str
    points: int
    disqualify: bool
    item: str | None  # the item the vehicle was in, None between items
    t: float
    utc: datetime
    value: float | None = None  # the measured value, e.g. a rollback of 0.34
    unit: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class JudgeEvent:
    kind: EventKind
    t: float
    utc: datetime
    item: str | None = None
    deduction: Deduction | None = None
    status: Status | None = None  # for attempt_finished
    score: int | None = None


@dataclass(frozen=True)
class ItemRecord:
    id: str
    type: str
    started_t: float
    finished_t: float | None = None


@dataclass(frozen=True)
class Snapshot:
    """The judge's state for live display."""

    status: Status
    vehicle: str | None
    vehicle_class: str
    current_item: str | None
    score: int
    deductions: tuple[Deduction, ...]
    items: tuple[ItemRecord, ...]
    t: float | None


@dataclass(frozen=True)
class AttemptResult:
    vehicle: str | None
    vehicle_class: str
    vehicle_model: str
    course: str
    rule_set: str
    status: Status
    score: int
    passed: bool
    deductions: tuple[Deduction, ...]
    items: tuple[ItemRecord, ...]
    started_t: float | None
    finished_t: float | None
    reason: str = ""
    data_gaps: tuple["DataGap", ...] = ()  # where the data was too thin for the detection bounds


@dataclass(frozen=True)
class DataGap:
    """A stretch without GNSS fixes, while moving in an item, longer than the detection bounds allow.

    The judge decides only from the fixes it has, so nothing in the gap counts against the
    candidate; but the timing of anything judged across it is less precise than GA/T 1028.3
    asks, and the result says so.
    """

    item: str
    t_from: float
    t_to: float
