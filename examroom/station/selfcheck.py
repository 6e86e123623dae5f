"""The pre-sitting self-check (场地信号检测): devices present and sane, every course sensor fired.

Before a sitting the supervisor checks that

* every configured device is present (its port exists, by path, by-id link
  or USB serial number) and alive, at a rate within ``RATE_TOLERANCE`` of
  what it should send;
* every GNSS receiver has the fix the site requires for judging (RTK fixed
  unless allowed otherwise), sends a speed with its fixes (a receiver set to
  send GGA and HDT only is a configuration fault, named), and reports a position inside the course (the
  items' zones, with a margin): a receiver configured on the wrong vehicle,
  or a base station that is off, shows here;
* every course sensor works: a walk-round touches each pole and presses each
  bridge switch once, and :class:`WalkRound` ticks each element off when its
  input goes from inactive to active (a sensor stuck active never ticks).

A check runs for a *session*: it starts with the controller (or the
``examroom devices check`` command), accumulates the walk-round, and is
stored in the ``sitting_checks`` table whenever its outcome changes; once it
has passed it stays passed for the session. The controller refuses
``begin_attempt`` unless the session's check passed or a supervisor recorded
an override with name and reason (:class:`SittingGate`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from shapely.geometry import Point
from shapely.ops import unary_union
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from devices.readings import CourseInputs, GnssFix
from examroom.station.device_health import FIX_NAMES, LINE_NAMES
from examroom.station.hardware import gnss_device, signals_device
from examroom.records.models import SittingCheck
from examroom.live.observing import CourseOrigin, course_xy
from examroom.messages import N_, SupervisorError
from examroom.station.serial_ports import PortNotFound, locate
from examroom.site.settings import REQUIRED_FIX, SerialSettings, SiteSettings
from scoring.course import Course

RATE_TOLERANCE = 0.3  # measured rate within ±30 % of the expected one
COURSE_MARGIN = 30.0  # metres around the items that still count as "on the course"
SPEED_MISSING = "接收机不输出速度（配置错误：需输出 RMC 或 VTG 语句）"


class SelfCheckRefused(SupervisorError, RuntimeError):
    """begin_attempt refused: no passed check and no override."""


@dataclass
class ConfiguredDevice:
    device: str
    kind: str
    vehicle: str | None
    serial: SerialSettings
    expected_rate: float


def configured_devices(settings: SiteSettings) -> list[ConfiguredDevice]:
    out = []
    for v in settings.vehicles:
        out.append(ConfiguredDevice(gnss_device(v.id), "gnss", v.id, v.gnss, v.gnss_rate))
        out.append(ConfiguredDevice(signals_device(v.id), "signalboard", v.id, v.signals, v.signals_rate))
    for b in settings.course_boards:
        out.append(ConfiguredDevice(b.id, "courseboard", None, b.serial, b.poll_rate))
    return out


def course_area(course: Course, margin: float = COURSE_MARGIN):
    """The course in its local metres: the items' zones, their hull, plus a margin."""
    zones = [item.zone for item in course.items.values()]
    return unary_union(zones).convex_hull.buffer(margin)


class WalkRound:
    """Ticks off course elements as their inputs go from inactive to active."""

    def __init__(self, settings: SiteSettings) -> None:
        self._inputs = {b.id: b.inputs for b in settings.course_boards}
        self.elements = [e for b in settings.course_boards for e in b.inputs if e is not None]
        self.fired: dict[str, datetime] = {}
        self._last: dict[str, tuple[bool, ...]] = {}

    def observe(self, reading: CourseInputs) -> list[str]:
        inputs = self._inputs.get(reading.device)
        if inputs is None:
            return []
        previous = self._last.get(reading.device)
        self._last[reading.device] = reading.inputs
        if previous is None:
            return []  # the first poll only says where each input starts
        newly = []
        for index, element in enumerate(inputs):
            if element is None or index >= len(reading.inputs) or index >= len(previous):
                continue
            if reading.inputs[index] and not previous[index] and element not in self.fired:
                self.fired[element] = reading.utc
                newly.append(element)
        return newly

    def pending(self) -> list[str]:
        return [e for e in self.elements if e not in self.fired]


class SelfCheck:
    """One check session: feed it readings (``observe``) and health snapshots (``report``)."""

    def __init__(self, settings: SiteSettings, course: Course, started_utc: datetime) -> None:
        self.settings = settings
        self.course = course
        self.started_utc = started_utc
        self.devices = configured_devices(settings)
        self.walk = WalkRound(settings)
        self.area = course_area(course)
        self._origin = CourseOrigin(course.origin.latitude, course.origin.longitude, course.origin.altitude)
        self._fixes: dict[str, GnssFix] = {}
        self._lock = threading.Lock()
        self.passed_utc: datetime | None = None

    def observe(self, reading) -> None:
        """Called from driver threads with every reading."""
        with self._lock:
            if isinstance(reading, GnssFix):
                self._fixes[reading.device] = reading
            elif isinstance(reading, CourseInputs):
                self.walk.observe(reading)

    def report(self, snapshot: list[dict], utc: datetime) -> dict:
        """The check now, as JSON-ready data (stored, shown on the page and by the command)."""
        health = {h["device"]: h for h in snapshot}
        with self._lock:
            devices = [self._device(d, health.get(d.device)) for d in self.devices]
            sensors = [{"element": e, "fired": e in self.walk.fired,
                        "utc": self.walk.fired[e].isoformat() if e in self.walk.fired else None}
                       for e in self.walk.elements]
        ok = all(d["ok"] for d in devices) and all(s["fired"] for s in sensors)
        if ok and self.passed_utc is None:
            self.passed_utc = utc
        return {"started_utc": self.started_utc.isoformat(), "devices": devices, "sensors": sensors,
                "devices_ok": all(d["ok"] for d in devices),
                "sensors_fired": sum(s["fired"] for s in sensors), "sensors_total": len(sensors),
                "passed": self.passed_utc is not None,
                "passed_utc": self.passed_utc.isoformat() if self.passed_utc else None}

    def _device(self, d: ConfiguredDevice, h: dict | None) -> dict:
        problems: list[str] = []
        try:
            where = locate(d.serial, d.device)
        except PortNotFound as exc:
            where = None
            problems.append(str(exc))
        out = {"device": d.device, "kind": d.kind, "vehicle": d.vehicle, "port": where,
               "expected_rate": d.expected_rate, "rate": None, "fix_quality": None, "fix_text": None,
               "inside_course": None}
        if h is None:
            problems.append("驱动未运行")
        else:
            out["rate"] = h["rate"]
            if not h["alive"]:
                if "exclusively lock" in (h.get("last_error") or ""):
                    problems.append("串口被其他程序占用（考场控制程序正在运行？）")
                elif where is not None:  # a missing port already says why nothing arrives
                    problems.append(LINE_NAMES.get(h.get("line"), "无数据"))
            elif abs(h["rate"] - d.expected_rate) > RATE_TOLERANCE * d.expected_rate:
                problems.append(f"数据频率 {h['rate']:g} Hz，应为 {d.expected_rate:g} Hz")
            if d.kind == "gnss" and h["alive"]:
                quality = h.get("fix_quality")
                out["fix_quality"] = quality
                out["fix_text"] = FIX_NAMES.get(quality, "未知")
                if quality not in REQUIRED_FIX[self.settings.required_fix]:
                    problems.append(f"定位质量不足：{out['fix_text']}")
                fix = self._fixes.get(d.device)
                if h.get("speed_missing_streak", 0) >= max(1.0, d.expected_rate):
                    # A second of fixes without RMC or VTG: the receiver is not set to send speed.
                    problems.append(SPEED_MISSING)
                if fix is not None:
                    x, y = course_xy(fix, self._origin)
                    out["inside_course"] = bool(self.area.contains(Point(x, y)))
                    if not out["inside_course"]:
                        problems.append("位置不在考场范围内（接收机装错车辆或基准站未开？）")
                else:
                    problems.append("尚无定位数据")
        out["ok"] = not problems
        out["problems"] = problems
        return out


class SittingChecks:
    """The ``sitting_checks`` table: check sessions and their overrides."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def save(self, check_id: int | None, report: dict, started: datetime, now: datetime) -> int:
        """Insert (check_id None) or update a session's row; returns its id."""
        with self._sessions.begin() as session:
            row = session.get(SittingCheck, check_id) if check_id is not None else None
            if row is None:
                row = SittingCheck(started_utc=started, finished_utc=now, passed=report["passed"], report=report)
                session.add(row)
            else:
                row.finished_utc, row.passed, row.report = now, report["passed"], report
            session.flush()
            return row.id

    def override(self, check_id: int, actor: str, reason: str, now: datetime) -> None:
        """Let exams start on a failed check: who and why are required and kept."""
        actor, reason = actor.strip(), reason.strip()
        if not actor or not reason:
            raise ValueError("an override needs the supervisor's name and a reason")
        with self._sessions.begin() as session:
            row = session.get(SittingCheck, check_id)
            if row is None:
                raise LookupError(f"no sitting check {check_id}")
            row.override_actor, row.override_reason, row.override_utc = actor[:64], reason, now

    def get(self, check_id: int) -> SittingCheck | None:
        with self._sessions() as session:
            return session.get(SittingCheck, check_id)

    def latest(self) -> SittingCheck | None:
        with self._sessions() as session:
            return session.scalar(select(SittingCheck).order_by(SittingCheck.id.desc()).limit(1))


@dataclass
class SittingGate:
    """``Controller.begin_guard``: exams start only after a passed check or a logged override."""

    checks: SittingChecks
    check_id: int | None = None  # the current session's row
    refused: list[str] = field(default_factory=list)

    def __call__(self, vehicle_id: str) -> None:
        why = self.problem()
        if why:
            self.refused.append(vehicle_id)
            raise SelfCheckRefused(N_("车辆 %(vehicle)s 不能开始考试：%(why)s"), vehicle=vehicle_id, why=why)

    def problem(self) -> str:
        """Why exams may not start yet ("" when the session's check passed or was overridden).

        The sitting's own self-check phase asks this too, so a sitting only shows as running
        when its attempts can in fact start.
        """
        row = self.checks.get(self.check_id) if self.check_id is not None else None
        if row is None:
            return "未进行场地信号检测"
        if row.passed or row.override_actor:
            return ""
        problems = [p for d in row.report.get("devices", []) for p in d.get("problems", [])]
        pending = [s["element"] for s in row.report.get("sensors", []) if not s["fired"]]
        detail = "；".join(problems[:3] + ([f"未触发传感器：{'、'.join(pending[:5])}"] if pending else []))
        return f"场地信号检测未通过且未登记放行（{detail}）"


def sitting_checks_of(records) -> SittingChecks:
    """The sitting checks in the same database as ``records`` (for the web process)."""
    return SittingChecks(records._sessions)  # same database, same session factory
