"""Device health as data, and device faults that suspend an attempt (设备故障).

:class:`HealthWatch` runs in its own thread. Every ``interval`` (wall
seconds) it reads each :class:`~devices.runner.DeviceRunner`'s health and

* publishes it on the live feed as a ``health`` event (at most once per
  ``publish_every`` seconds): per device alive, line state and diagnosis,
  measured and expected rate, error counts, age of the last reading, and for
  GNSS the fix quality (RTK fixed / float / single ...), satellites and age
  of corrections;
* for every running attempt, checks the devices that attempt depends on (its
  vehicle's GNSS receiver and signal board, and every course board) and,
  when one is at fault for ``fault_after`` clock seconds in a row (and at
  least ``fault_after_wall`` wall seconds: a simulation on a faster clock must
  not turn a host scheduling hiccup into a fault), calls
  :meth:`Controller.device_fault` with the reason. The judge *suspends* the
  attempt (设备故障, never a deduction); the supervisor resumes it once the
  devices are healthy again (:meth:`HealthWatch.resume`, the suspended time
  does not count) or ends it and re-runs it as a new attempt
  (:func:`rerun_attempt`).

The judge also reads fix quality from the poses and suspends an attempt itself when the
GNSS fix has been lost for longer than ``measurement.fix_loss_allowance`` (which the site's
``fault_after`` sets): often before the watch has confirmed the fault. The watch then reports
the fault it saw within the last ``RECENT_FAULT`` seconds at once, naming the device; that
command joins the judge's suspension (:attr:`scoring.judge.Judge.fault_unreported`).

A camera's vision sensor (:meth:`HealthWatch.add_vision`) is watched the same
way, for the attempts of vehicles in the items it serves. A fault is a device
that is not alive (disconnected, silent, garbled, or for a camera: obstructed,
low contrast, noisy, moved — the line state says which), a course board over its limit of mismatched replies,
a GNSS receiver whose fixes have had no speed for a second, a GNSS fix worse than the site requires for judging
(``health.required_fix``, RTK fixed unless the site allows float), or RTK
corrections older than ``health.max_correction_age``. ``fault_after``
debounces a single late read on a loaded machine; detection itself (alive
false) takes two expected periods.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from devices.readings import CourseInputs, GnssFix, SignalFrame
from devices.runner import DeviceRunner
from devices.worker import PeriodicWorker
from examroom.station.hardware import gnss_device, signals_device
from examroom.live.feed import LiveFeed
from examroom.records.models import AttemptStatus
from examroom.messages import N_, SupervisorError
from examroom.site.settings import REQUIRED_FIX, SiteSettings

log = logging.getLogger(__name__)

# Clock seconds a device fault the watch saw counts as the one behind a suspension the judge made
# itself (the judge suspends once the fix has been lost for measurement.fix_loss_allowance).
RECENT_FAULT = 5.0
# Wall seconds a fault must last too before it suspends an attempt (a host hiccup is no fault).
FAULT_AFTER_WALL = 1.5

FIX_NAMES = {0: "无定位", 1: "单点定位", 2: "差分定位", 3: "PPS", 4: "RTK固定解", 5: "RTK浮点解",
             6: "推算定位", 7: "手动输入", 8: "模拟"}
DEVICE_NAMES = {"gnss": "卫星定位接收机", "signalboard": "车载信号板", "courseboard": "场地信号板",
                "vision": "视觉传感器"}
LINE_NAMES = {"disconnected": "串口断开", "silent": "无数据", "garbled": "乱码（波特率或校验位不符？）",
              "no_fix": "有数据但未定位", "rejected": "设备应答错误（地址或寄存器配置？）",
              "mismatch": "应答与请求不符（地址、功能码或寄存器配置？总线上有其他主站？）",
              "starting": "等待首个数据", "ok": "正常",
              # a camera's vision sensor that cannot see (devices.camera.zones.FAULTS)
              "obstructed": "镜头被遮挡（水滴、污物），看不清", "low_contrast": "画面对比度不足（雾或光线太暗）",
              "noisy": "画面噪声过大（光线太暗）", "moved": "画面与空场景对不上（摄像机移动或被遮挡）"}
# Kinds of Modbus replies a course board rejects (devices.courseboard.driver.REJECT_KINDS).
REJECT_NAMES = {"wrong_unit": "地址不符", "wrong_function": "功能码不符", "byte_count": "数据长度不符",
                "bad_crc": "校验错误", "short": "应答不完整", "late": "超时后应答", "unsolicited": "未请求的帧"}


def reading_summary(reading) -> dict:
    """What a device said last, short enough for a health event."""
    if isinstance(reading, GnssFix):
        return {"latitude": round(reading.latitude, 8), "longitude": round(reading.longitude, 8),
                "quality": reading.quality, "speed": reading.speed, "heading": reading.heading}
    if isinstance(reading, SignalFrame):
        return {"flags": sorted(reading.flags), "gear": reading.gear, "roll": reading.roll}
    if isinstance(reading, CourseInputs):
        return {"active": [i for i, on in enumerate(reading.inputs) if on]}
    return {}


def device_status(runner: DeviceRunner, vehicle: str | None, mono: float, last: dict | None = None) -> dict:
    """One device's health as plain data (JSON-ready); ``last``: summary of its last reading."""
    h = runner.health()
    d = h.as_dict()
    d["vehicle"] = vehicle
    d["last_reading"] = last
    d["last_reading_age"] = None if h.last_reading_mono is None else round(mono - h.last_reading_mono, 3)
    d["line_text"] = LINE_NAMES.get(d.get("line", ""), d.get("line", ""))
    if h.kind == "gnss":
        q = d.get("fix_quality")
        d["fix_text"] = FIX_NAMES.get(q, "未知") if q is not None else "未知"
    return d


def device_fault(status: dict, settings: SiteSettings) -> str | None:
    """Why this device makes judging impossible now, or None (reason in Chinese, names the device)."""
    name = f"{DEVICE_NAMES.get(status['kind'], status['kind'])} {status['device']}"
    if status.get("faulted"):
        # A board over its limit of mismatched replies: faulted even while some replies match.
        # The reason names the kinds, not their counts: it must stay the same from one check
        # to the next for fault_after to confirm it.
        kinds = "、".join(REJECT_NAMES.get(k, k) for k, n in status.get("rejected", {}).items() if n)
        return f"{name} {LINE_NAMES['mismatch']}：{kinds}"
    if not status["alive"]:
        if status["kind"] == "gnss" and status.get("line") == "no_fix":
            return f"{name} 未定位"
        if status["kind"] == "vision" and status.get("blind"):
            return f"{name} {LINE_NAMES.get(status.get('line'), '无数据')}：{'、'.join(status['blind'])}"
        return f"{name} {LINE_NAMES.get(status.get('line'), '无数据')}"
    if status["kind"] == "gnss":
        quality = status.get("fix_quality")
        if quality not in REQUIRED_FIX[settings.required_fix]:
            return f"{name} 定位质量不足：{FIX_NAMES.get(quality, quality)}"
        if status.get("speed_missing_streak", 0) >= max(1.0, status.get("expected_rate", 1.0)):
            return f"{name} 无速度数据（接收机未输出 RMC 或 VTG）"
        age = status.get("correction_age")
        if age is not None and age > settings.max_correction_age:
            return f"{name} 差分数据龄期 {age:g} 秒，超过 {settings.max_correction_age:g} 秒"
    return None


class ResumeRefused(SupervisorError, ValueError):
    """A resume or re-run the supervisor asked for that the attempt's state does not allow."""


class DevicesStillFaulty(SupervisorError, RuntimeError):
    """A resume refused because the vehicle's devices are still at fault."""


class AttemptNotFound(SupervisorError, LookupError):
    """A re-run of an attempt that is not in the records."""


class HealthWatch(PeriodicWorker):
    thread_name = "health-watch"

    def __init__(self, settings: SiteSettings, runners: list[DeviceRunner], controller, feed: LiveFeed,
                 clock, *, interval: float = 0.1, publish_every: float = 1.0,
                 fault_after: float = 1.0, fault_after_wall: float = FAULT_AFTER_WALL, vision=(),
                 snapshot_listeners: list[Callable[[list[dict]], None]] | None = None,
                 wall: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.runners = runners
        self.controller = controller
        self.feed = feed
        self.clock = clock
        self.interval = interval
        self.publish_every = publish_every
        self.fault_after = fault_after
        self.fault_after_wall = fault_after_wall
        # The wall clock (publishing pace, fault_after_wall); a lockstep run gives its own clock's,
        # where no host hiccup can happen.
        self.wall = wall
        self._vehicle_of: dict[str, str] = {}
        for v in settings.vehicles:
            self._vehicle_of[gnss_device(v.id)] = v.id
            self._vehicle_of[signals_device(v.id)] = v.id
        self._boards = {b.id for b in settings.course_boards}
        self._serves: dict[str, frozenset[str]] = {}  # vision device -> the items its regions belong to
        self._last: dict[str, object] = {}
        self._recent: dict[str, dict[str, float]] = {}  # vehicle -> reason -> last seen (clock)
        self._since: dict[tuple[str, str], tuple[float, float]] = {}  # (vehicle, reason) -> first seen
                                                                       # (clock, wall)
        super().__init__()
        self._last_publish = float("-inf")  # the first check publishes
        self.faults_raised: list[tuple[str, int, str]] = []  # (vehicle, attempt, reason)
        self.on_fault: Callable[[str, int, str], None] | None = None
        # Called with each published snapshot (once per publish_every), in the watch thread.
        self.snapshot_listeners: list[Callable[[list[dict]], None]] = list(snapshot_listeners or [])
        self.add_vision(vision)

    def add_vision(self, runners) -> None:
        """Watch cameras' vision sensors too (``devices.camera.zones.VisionRunner``).

        A vision sensor that cannot see (lens obstructed, fog, night, a moved
        camera) suspends the attempt of a vehicle in an item whose lines or
        zones it watches — that item cannot be judged — and only those: a
        vehicle elsewhere on the course goes on.
        """
        for runner in runners:
            self.runners.append(runner)
            self._serves[runner.device] = frozenset(runner.items)

    def observe(self, reading) -> None:
        """Called from driver threads with every reading: keeps the last one per device."""
        self._last[reading.device] = reading  # one dict store: atomic under the GIL

    def snapshot(self) -> list[dict]:
        mono, _ = self.clock.now()
        return [device_status(r, self._vehicle_of.get(r.device), mono,
                              reading_summary(self._last[r.device]) if r.device in self._last else None)
                for r in self.runners]

    def vehicle_faults(self, vehicle_id: str, snapshot: list[dict]) -> list[str]:
        """Reasons the devices this vehicle's attempt depends on cannot be trusted now."""
        reasons = []
        item = self.controller.current_item(vehicle_id) if self._serves else None
        for status in snapshot:
            serves = self._serves.get(status["device"])
            if serves is not None and item in serves:
                reason = device_fault(status, self.settings)
                if reason:
                    reasons.append(reason)
            elif status["vehicle"] == vehicle_id or status["device"] in self._boards:
                reason = device_fault(status, self.settings)
                if reason:
                    reasons.append(reason)
        return reasons

    def check(self) -> list[dict]:
        """One round: publish health if due, raise confirmed faults. Returns the snapshot."""
        snap = self.snapshot()
        now = self.wall()
        if now - self._last_publish >= self.publish_every:
            self._last_publish = now
            self.feed.publish({"type": "health", "devices": snap})
            for listener in self.snapshot_listeners:
                try:
                    listener(snap)
                except Exception:
                    log.exception("health watch: snapshot listener failed")
        mono, _ = self.clock.now()
        seen = set()
        for vehicle_id in self.controller.vehicles:
            attempt = self.controller.running_attempt(vehicle_id)
            if attempt is None:
                continue
            current = self.vehicle_faults(vehicle_id, snap)
            recent = self._recent.setdefault(vehicle_id, {})
            recent.update({reason: mono for reason in current})
            if self.controller.suspended(vehicle_id):
                # A suspended attempt waits for the supervisor, not for another fault. One the judge
                # suspended itself (it saw the GNSS fix lost for longer than the allowance) gets the
                # report of the fault the watch saw meanwhile, naming the device, at once: the judge
                # has already confirmed it.
                lately = [reason for reason, at in recent.items() if mono - at <= RECENT_FAULT]
                if self.controller.fault_unreported(vehicle_id) and lately:
                    self._raise(vehicle_id, attempt, "；".join(lately))
                continue
            for reason in current:
                key = (vehicle_id, reason)
                seen.add(key)
                first, first_wall = self._since.setdefault(key, (mono, now))
                if mono - first >= self.fault_after and now - first_wall >= self.fault_after_wall:
                    self._raise(vehicle_id, attempt, reason)
        for key in list(self._since):
            if key not in seen:
                del self._since[key]
        return snap

    def _raise(self, vehicle_id: str, attempt: int, reason: str) -> None:
        log.warning("vehicle %s attempt %d: device fault: %s", vehicle_id, attempt, reason)
        try:
            self.controller.device_fault(vehicle_id, reason)
        except RuntimeError:
            return  # the attempt ended meanwhile
        self.faults_raised.append((vehicle_id, attempt, reason))
        for key in [k for k in self._since if k[0] == vehicle_id]:
            del self._since[key]
        self._recent.pop(vehicle_id, None)
        if self.on_fault is not None:
            self.on_fault(vehicle_id, attempt, reason)

    def resume(self, vehicle_id: str, actor: str, reason: str = "") -> None:
        """The supervisor resumes a suspended attempt; refused while its devices are still at fault."""
        if not actor.strip():
            raise ResumeRefused(N_("继续考试须写明考试员姓名"))
        faults = self.vehicle_faults(vehicle_id, self.snapshot())
        if faults:
            raise DevicesStillFaulty(N_("车辆 %(vehicle)s 的设备仍有故障，不能继续考试：%(faults)s"),
                                     vehicle=vehicle_id, faults="；".join(faults))
        self.controller.resume_attempt(vehicle_id, actor, reason)



def rerun_attempt(controller, records, attempt_id: int, actor: str, reason: str) -> int:
    """Start a new attempt for the candidate and vehicle of an attempt stopped by a device fault.

    A still suspended attempt is ended first (it stays ``device_fault``, with
    ``actor``'s reason added); a running or judged one cannot be re-run. The
    old attempt keeps its journal and raw capture; the new one starts from the
    beginning.
    """
    attempt = records.attempt(attempt_id)
    if attempt is None:
        raise AttemptNotFound(N_("没有考试%(attempt)s"), attempt=attempt_id)
    if attempt.status == AttemptStatus.SUSPENDED.value:
        controller.stop_attempt(attempt.vehicle_id, actor, reason)
        attempt = records.attempt(attempt_id)
    if attempt.status != AttemptStatus.DEVICE_FAULT.value:
        raise ResumeRefused(N_("考试%(attempt)s的状态为%(status)s，不是设备故障（device_fault），不能重新考试"),
                            attempt=attempt_id, status=attempt.status)
    log.info("re-run of attempt %d by %s: %s", attempt_id, actor, reason)
    # The same booking and try: a device fault never costs the candidate their 补考.
    return controller.begin_attempt(attempt.vehicle_id, attempt.candidate_id, attempt.candidate.name,
                                    booking_id=attempt.booking_id, attempt_no=attempt.attempt_no)
