"""Figures an auditor reads at a glance: pass rates, common deductions, load, outliers.

Only finished attempts with a verdict (passed or failed) count towards pass
rates; aborted and device-fault attempts are no one's result. Days and hours
are the course's local ones (Asia/Shanghai unless the caller names another
zone): a date range is a range of the days the course worked. The examiner
dimension counts only attempts whose examiner was recorded at check-in: an
"unknown examiner" group would be compared as if it were one person.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from examroom import courseclock
from examroom.records.models import Attempt, AttemptStatus

VERDICTS = (AttemptStatus.PASSED.value, AttemptStatus.FAILED.value)
# A group stands apart when its pass rate is this many standard errors from the rest's.
OUTLIER_SIGMAS = 2.0
MIN_GROUP = 5  # attempts a group needs before it can stand apart


@dataclass(frozen=True)
class Rate:
    key: str
    attempts: int
    passed: int

    @property
    def rate(self) -> float:
        return self.passed / self.attempts if self.attempts else 0.0


@dataclass(frozen=True)
class Outlier:
    dimension: str  # "vehicle", "examiner", ...
    key: str
    measure: str  # "pass rate" or "attempt length"
    value: float
    others: float
    sigmas: float


@dataclass(frozen=True)
class Statistics:
    attempts: int
    judged: int  # attempts with a verdict, the ones pass rates count
    passed: int
    by_day: list[Rate]
    by_class: list[Rate]
    by_item: list[Rate]
    by_vehicle: list[Rate]
    by_examiner: list[Rate]
    by_hour: list[Rate]  # keyed "00".."23", the local hour the attempt started
    common_deductions: list[tuple[str, str, int]]  # rule id, title, count
    per_hour: list[tuple[int, int]]  # local hour of day, attempts started (any outcome)
    outliers: list[Outlier]

    @property
    def rate(self) -> float:
        """The pass rate over every judged attempt: the reference each group is read against."""
        return self.passed / self.judged if self.judged else 0.0


def _rates(groups: dict[str, list[bool]]) -> list[Rate]:
    return [Rate(key, len(v), sum(v)) for key, v in sorted(groups.items())]


def pass_rate_outliers(dimension: str, groups: dict[str, list[bool]]) -> list[Outlier]:
    """Groups whose pass rate differs from all the others' by more than OUTLIER_SIGMAS standard errors."""
    out = []
    for key, results in groups.items():
        others = [r for k, v in groups.items() if k != key for r in v]
        if len(results) < MIN_GROUP or len(others) < MIN_GROUP:
            continue
        p_group, p_rest = sum(results) / len(results), sum(others) / len(others)
        pooled = (sum(results) + sum(others)) / (len(results) + len(others))
        se = math.sqrt(pooled * (1 - pooled) * (1 / len(results) + 1 / len(others)))
        if se == 0:
            continue
        sigmas = (p_group - p_rest) / se
        if abs(sigmas) >= OUTLIER_SIGMAS:
            out.append(Outlier(dimension, key, "pass rate", p_group, p_rest, sigmas))
    return out


def length_outliers(dimension: str, groups: dict[str, list[float]]) -> list[Outlier]:
    """Groups whose mean attempt length stands apart from the median of all attempts.

    Median and MAD rather than mean and standard deviation: one vehicle with very long
    attempts would otherwise drag the reference and make every other one look short.
    """
    everything = [x for v in groups.values() for x in v]
    if len(everything) < 2 * MIN_GROUP:
        return []
    centre = statistics.median(everything)
    spread = 1.4826 * statistics.median(abs(x - centre) for x in everything)
    out = []
    for key, lengths in groups.items():
        # With too few attempts outside the group, the reference is the group itself: only its skew would show.
        if len(lengths) < MIN_GROUP or len(everything) - len(lengths) < MIN_GROUP or spread == 0:
            continue
        mean_g = sum(lengths) / len(lengths)
        sigmas = (mean_g - centre) / (spread / math.sqrt(len(lengths)))
        if abs(sigmas) >= OUTLIER_SIGMAS:
            out.append(Outlier(dimension, key, "attempt length", mean_g, centre, sigmas))
    return out


def compute(sessions: sessionmaker[Session], since: date | None = None, until: date | None = None,
            courses: Sequence[str] | None = None, zone: ZoneInfo | None = None) -> Statistics:
    """The figures over the attempts of ``courses`` (None: all) started from ``since`` to ``until``.

    Both bounds are whole local days in ``zone`` (default: the course's, examroom.courseclock) and
    both are included.
    """
    zone = zone or courseclock.zone()
    with sessions() as session:
        query = select(Attempt).options(joinedload(Attempt.deductions), joinedload(Attempt.vehicle))
        if courses is not None:
            query = query.where(Attempt.course.in_(courses))
        attempts = [a for a in session.scalars(query).unique()
                    if a.started_utc is not None
                    and (since is None or courseclock.local(a.started_utc, zone).date() >= since)
                    and (until is None or courseclock.local(a.started_utc, zone).date() <= until)]
    judged = [a for a in attempts if a.status in VERDICTS]
    by_day, by_class, by_item, by_hour = (defaultdict(list) for _ in range(4))
    # The dimensions outliers are looked for in: each attempt's group, None for none.
    dimensions = {"vehicle": lambda a: a.vehicle.plate, "examiner": lambda a: a.examiner}
    results = {d: defaultdict(list) for d in dimensions}
    lengths: dict[str, dict[str, list[float]]] = {d: defaultdict(list) for d in dimensions}
    for a in judged:
        ok = a.status == AttemptStatus.PASSED.value
        started = courseclock.local(a.started_utc, zone)
        by_day[started.date().isoformat()].append(ok)
        by_hour[f"{started.hour:02d}"].append(ok)
        by_class[a.vehicle_class].append(ok)
        failed_items = {d.item for d in a.deductions if d.disqualify}
        for item in (a.result or {}).get("items", []):
            by_item[item["type"]].append(item["id"] not in failed_items)
        for dimension, group_of in dimensions.items():
            group = group_of(a)
            if group is None:
                continue
            results[dimension][group].append(ok)
            if a.ended_utc is not None:
                lengths[dimension][group].append((courseclock.local(a.ended_utc, zone) - started).total_seconds())
    counts = Counter((d.rule, d.title) for a in attempts for d in a.deductions)
    hours = Counter(courseclock.local(a.started_utc, zone).hour for a in attempts)
    return Statistics(
        attempts=len(attempts), judged=len(judged), passed=sum(a.status == AttemptStatus.PASSED.value for a in judged),
        by_day=_rates(by_day), by_class=_rates(by_class), by_item=_rates(by_item),
        by_vehicle=_rates(results["vehicle"]), by_examiner=_rates(results["examiner"]),
        by_hour=_rates(by_hour),
        common_deductions=[(rule, title, n) for (rule, title), n in counts.most_common(10)],
        per_hour=sorted(hours.items()),
        outliers=[o for d in dimensions for o in pass_rate_outliers(d, results[d]) + length_outliers(d, lengths[d])])
