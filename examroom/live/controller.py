"""The controller: one thread that turns readings into judged, journaled attempts.

Device drivers call :meth:`Controller.submit` from their own threads; supervisor
and system actions arrive through the same queue, so every change to an
attempt happens in one thread in arrival order. Readings become observations and
go to the judges through the one observation router (:mod:`examroom.live.routing`),
which the replays use too. For each running attempt the controller journals each observation *before* the judge sees it (record raw,
judge from the record), feeds the live judge, stores deductions and the final
result, and publishes the vehicle's state on the live feed, with its pose and
every course sensor's state for the live course map (examroom.live.course_view).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from devices.readings import Clock
from examroom.records.course_snapshot import course_snapshot
from examroom.live.course_view import CourseView
from examroom.live.feed import LiveFeed
from examroom.records.models import AttemptStatus
from examroom.live.routing import JudgedItems, ObservationRouter, Routed
from examroom.messages import N_, SupervisorError
from examroom.records.attempt_log import Records
from scoring.course import Course
from scoring.events import Status
from scoring.judge import Judge
from scoring.observations import (
    Command, CommandAction, CourseSensor, Observation, ObservationFormatError, Pose, TimeOrder, checked_line,
)
from scoring.report import deduction_to_dict, result_to_dict
from scoring.rules import RuleSet, ruleset_to_dict

log = logging.getLogger(__name__)

# Journal rows are committed in batches at most this old (seconds of wall time):
# a crash loses no more than this much of an attempt's record.
JOURNAL_FLUSH_SECONDS = 0.05


FinishListener = Callable[[int, AttemptStatus], None]
AttemptListener = Callable[[str, int, str], None]


@dataclass
class LiveAttempt:
    attempt_id: int
    vehicle: str
    judge: Judge
    seq: int = 0
    pending: list[tuple[int, Observation]] = field(default_factory=list)
    deductions: list[dict] = field(default_factory=list)
    candidate: str = ""
    finished: threading.Event = field(default_factory=threading.Event)
    final_status: AttemptStatus | None = None
    head: str | None = None  # hash of the last journal row written (None: none yet)
    order: TimeOrder = field(default_factory=TimeOrder)  # the journal's time order, as the reader checks it


class AttemptStateError(SupervisorError, RuntimeError):
    """A supervisor's action that the vehicle's attempt is not in the state for (none running, not suspended...)."""


class ActionIncomplete(SupervisorError, ValueError):
    """A supervisor's action without who took it or why."""


def _who_and_why(actor: str, reason: str) -> None:
    # A supervisor action goes into the journal with who took it and why; neither may be blank.
    if not (actor or "").strip() or not (reason or "").strip():
        raise ActionIncomplete(N_("监考操作须注明操作人和理由"))


@dataclass(frozen=True)
class VehicleInfo:
    id: str
    plate: str
    vehicle_class: str
    model: str


class Controller:
    def __init__(self, course: Course, ruleset: RuleSet, records: Records, feed: LiveFeed,
                 clock: Clock, vehicles: list[VehicleInfo],
                 board_inputs: dict[str, list[str | None]] | None = None, *,
                 owners: Mapping[str, str] | None = None,
                 finish_listeners: list[FinishListener] | None = None,
                 attempt_listeners: list[AttemptListener] | None = None,
                 begin_guard: Callable[[str], None] | None = None) -> None:
        self.course = course
        self._course_snapshot = course_snapshot(course)
        self.ruleset = ruleset
        self.records = records
        self.feed = feed
        self.clock = clock
        self.vehicles = {v.id: v for v in vehicles}
        # Which judge each course input goes to: the one router the replays use too.
        self.router = ObservationRouter.for_course(course, boards=board_inputs)
        for device, vehicle in (owners or {}).items():  # device id -> the vehicle it is mounted on
            self.attach_device(device, vehicle)
        self._queue: queue.Queue = queue.Queue()
        self._live: dict[str, LiveAttempt] = {}
        self._judged = JudgedItems(self._live, lambda live: live.judge.snapshot().current_item)
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._last_flush = time.monotonic()
        # Readings the journal schema refuses (scoring.observations): never journaled, never judged.
        self.refused_readings = 0
        self.refused_by_device: dict[str, int] = {}  # device id -> readings refused (for device health)
        self.last_refusal: dict[str, str] = {}  # device id -> why its last refused reading was refused
        # Called in the controller thread once an attempt's final status is stored (sealing,
        # the booking's next step); a failing listener is logged and never stops the course.
        self.finish_listeners: list[FinishListener] = list(finish_listeners or [])
        # Called in the controller thread as listener(event, attempt_id, vehicle_id), event
        # "started" (before the start command is judged) or "finished" (after the result is stored).
        self.attempt_listeners: list[AttemptListener] = list(attempt_listeners or [])
        self.begin_guard = begin_guard  # raises to refuse begin_attempt
        self.view = CourseView(course, {v.id: v.model for v in vehicles})
        self._shown: dict[str, dict] = {}  # vehicle id -> the state last published for it
        for v in vehicles:
            self._publish_idle(v.id)

    # -- wiring -------------------------------------------------------------------
    def attach_device(self, device_id: str, vehicle_id: str) -> None:
        """Say which vehicle a GNSS receiver or signal board is mounted on."""
        if vehicle_id not in self.vehicles:
            raise KeyError(f"unknown vehicle {vehicle_id!r}")
        self.router.attach(device_id, vehicle_id)

    @property
    def unrouted_course_events(self) -> int:
        """Course-sensor changes that came while no judged vehicle was in the element's item."""
        return self.router.unrouted_course_events

    @property
    def fixes_without_speed(self) -> int:
        """GNSS fixes not judged because their epoch had no speed."""
        return self.router.fixes_without_speed

    def submit(self, reading: Any) -> None:
        """Called by drivers from their threads."""
        self._queue.put(("reading", reading))

    def start(self) -> None:
        self._running.set()
        self._thread = threading.Thread(target=self._loop, name="controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._flush_all()

    # -- actions (thread-safe; executed in the controller thread) -----------------
    def begin_attempt(self, vehicle_id: str, candidate_id: int, candidate_name: str = "",
                      booking_id: int | None = None, attempt_no: int | None = None) -> int:
        """Check a candidate in on a vehicle and start judging at once."""
        return self._call(self._begin, vehicle_id, candidate_id, candidate_name, booking_id, attempt_no)

    def stop_attempt(self, vehicle_id: str, actor: str, reason: str) -> None:
        _who_and_why(actor, reason)
        self._call(self._command, vehicle_id, CommandAction.STOP, actor, reason, None)

    def manual_fail(self, vehicle_id: str, rule: str, actor: str, reason: str) -> None:
        _who_and_why(actor, reason)
        self._call(self._command, vehicle_id, CommandAction.MANUAL_FAIL, actor, reason, rule)

    def device_fault(self, vehicle_id: str, reason: str, actor: str = "system") -> None:
        """Suspend the running attempt (设备故障); a second one, or a stop, ends it as device_fault."""
        _who_and_why(actor, reason)
        self._call(self._command, vehicle_id, CommandAction.DEVICE_FAULT, actor, reason, None)

    def resume_attempt(self, vehicle_id: str, actor: str, reason: str = "") -> None:
        """Continue judging an attempt suspended by a device fault."""
        self._call(self._resume, vehicle_id, actor, reason)

    def suspended(self, vehicle_id: str) -> bool:
        live = self._live.get(vehicle_id)
        return live is not None and live.judge.status is Status.SUSPENDED

    def fault_unreported(self, vehicle_id: str) -> bool:
        """The judge suspended the attempt itself (GNSS fix lost in an item); no device_fault command yet."""
        live = self._live.get(vehicle_id)
        return live is not None and live.judge.fault_unreported

    def wait_finished(self, attempt_id: int, timeout: float) -> AttemptStatus | None:
        live = next((a for a in list(self._live.values()) if a.attempt_id == attempt_id), None)
        if live is None:
            attempt = self.records.attempt(attempt_id)
            return AttemptStatus(attempt.status) if attempt else None
        live.finished.wait(timeout)
        return live.final_status

    def drain(self) -> None:
        """Return once everything queued before this call has been handled and written to the records.

        The queue is first in, first out: the flush runs in the controller's thread after
        every reading and action put before it (in the caller's thread where none runs).
        """
        self._call(self._flush_all)

    def current_item(self, vehicle_id: str) -> str | None:
        """The item the vehicle's running attempt is in, as the judge sees it now."""
        live = self._live.get(vehicle_id)
        return live.judge.snapshot().current_item if live else None

    def running_attempt(self, vehicle_id: str) -> int | None:
        live = self._live.get(vehicle_id)
        return live.attempt_id if live else None

    def _call(self, fn: Callable, *args) -> Any:
        if self._thread is None or threading.current_thread() is self._thread:
            return fn(*args)
        done: queue.Queue = queue.Queue(1)
        self._queue.put(("call", (fn, args, done)))
        ok, value = done.get(timeout=10)
        if not ok:
            raise value
        return value

    # -- the loop -----------------------------------------------------------------
    def _loop(self) -> None:
        while self._running.is_set():
            try:
                kind, payload = self._queue.get(timeout=JOURNAL_FLUSH_SECONDS)
            except queue.Empty:
                self._flush_all()
                continue
            try:
                if kind == "reading":
                    self._on_reading(payload)
                else:
                    fn, args, done = payload
                    try:
                        done.put((True, fn(*args)))
                    except Exception as exc:  # handed back to the caller's thread
                        done.put((False, exc))
            except Exception:
                # One bad reading must not stop the course; it is logged with its trace.
                log.exception("controller: failed to handle %s", kind)
            if time.monotonic() - self._last_flush >= JOURNAL_FLUSH_SECONDS or self._queue.empty():
                self._flush_all()

    def run_pending(self, flush: bool = True) -> None:
        """Handle every queued reading now, in the caller's thread; write the journal if ``flush``.

        For a lockstep run (``examroom.simulation.lockstep``), which never starts the
        thread: it owns the clock, calls this after each step of the devices and flushes
        at the pace of its clock. Actions (begin, stop, ...) already run at once in the
        caller's thread then (``_call``).
        """
        if self._thread is not None:
            raise RuntimeError("run_pending() while the controller thread runs")
        while True:
            try:
                kind, payload = self._queue.get_nowait()
            except queue.Empty:
                break
            try:
                self._on_reading(payload)
            except Exception:
                log.exception("controller: failed to handle %s", kind)
        if flush:
            self._flush_all()

    def _on_reading(self, reading: Any) -> None:
        device = reading.device
        # One observation at a time (a generator): a course change the judge has just taken can
        # move it into the item the next change belongs to.
        for routed in self.router.route_reading(reading, self._judged):
            obs = routed.observation
            if isinstance(obs, CourseSensor):
                # The map shows every sensor change, routed to a judge or not.
                sensor = self.view.sensor(obs, device)
                if sensor is not None:
                    self.feed.publish({"type": "sensor", "element": obs.element}, sensor_state=sensor)
                if routed.to is not None:
                    self._observe_reading(self._live[routed.to], routed.observation, device)
            elif isinstance(obs, Pose):
                self._show_pose(obs, routed, device)
            elif routed.to is not None:
                self._observe_reading(self._live[routed.to], routed.observation, device)

    def _show_pose(self, pose: Pose, routed: Routed, device: str) -> None:
        """Judge a vehicle's pose if its attempt runs, and show it on the map either way."""
        if routed.to is not None and not self._observe_reading(self._live[routed.to], pose, device):
            return  # refused by the journal schema: not judged, not shown
        # The map shows every vehicle with a receiver, judged or not (one driving to its start).
        if self.view.pose(pose) is None:
            return
        vehicle = pose.vehicle
        live = self._live.get(vehicle)  # the pose may have finished the attempt
        if live is not None:
            self._publish(live, {"type": "pose"})
        else:  # not judged: the card keeps what it last showed (a result stays up)
            state = {**self._shown.get(vehicle, self._vehicle_state(None, vehicle)),
                     "pose": self.view.latest(vehicle)}
            self._shown[vehicle] = state
            self.feed.publish({"type": "pose", "vehicle": vehicle}, vehicle_state=state)

    def _observe_reading(self, live: LiveAttempt, obs: Observation, device: str) -> bool:
        """A device's observation: one the journal schema refuses is counted and logged, not judged.

        Returns whether it was taken."""
        try:
            self._observe(live, obs)
            return True
        except ObservationFormatError as exc:
            self.refused_readings += 1
            self.refused_by_device[device] = self.refused_by_device.get(device, 0) + 1
            self.last_refusal[device] = str(exc)
            # One line per refusal would flood the log at 20 Hz: the first and every 100th.
            if self.refused_readings % 100 == 1:
                log.warning("controller: attempt %d: refused reading (%d so far): %s",
                            live.attempt_id, self.refused_readings, exc)
            return False

    def _observe(self, live: LiveAttempt, obs: Observation) -> None:
        # The same schema and time order `examroom judge` applies when it reads the journal back:
        # what it would refuse is refused here (ObservationFormatError), before the journal.
        checked_line(obs)
        live.order.check(obs)
        live.seq += 1
        live.pending.append((live.seq, obs))
        events = live.judge.feed(obs)
        self._apply_events(live, events)

    def _apply_events(self, live: LiveAttempt, events: list) -> None:
        for event in events:
            kind = event.kind
            if kind == "deduction":
                deduction = deduction_to_dict(event.deduction)
                live.deductions.append(deduction)
                self._flush(live)  # the record holds what a deduction was judged from
                self.records.add_deduction(live.attempt_id, deduction)
                self._publish(live, {"type": "deduction", "deduction": deduction})
            elif kind in ("item_started", "item_finished"):
                self._publish(live, {"type": kind.value, "item": event.item})
            elif kind in ("attempt_suspended", "attempt_resumed"):
                suspended = kind == "attempt_suspended"
                self._flush(live)
                self.records.set_suspended(live.attempt_id, suspended, live.judge.reason if suspended else "")
                self._publish(live, {"type": "suspended" if suspended else "resumed",
                                     "reason": live.judge.reason if suspended else ""})
            elif kind == "attempt_finished":
                self._finish(live)

    def _finish(self, live: LiveAttempt) -> None:
        self._flush(live)
        result = live.judge.result()
        result_dict = result_to_dict(result)
        status = AttemptStatus(result_dict["status"])
        _, utc = self.clock.now()
        # A verdict explains itself by its deductions; a stop or a device fault needs
        # the supervisor's or the system's words, which the command carried.
        reason = result.reason if status in (AttemptStatus.ABORTED, AttemptStatus.DEVICE_FAULT) else ""
        self.records.finish(live.attempt_id, status, utc, result=result_dict, reason=reason)
        live.final_status = status
        self._publish(live, {"type": "finished", "result": result_dict})
        # Listeners run while the attempt still counts as on its vehicle, so whoever waits
        # for the vehicle to be free sees the seal and the booking's next step done.
        for listener in self.finish_listeners:
            try:
                listener(live.attempt_id, status)
            except Exception:
                log.exception("controller: finish listener failed for attempt %s", live.attempt_id)
        del self._live[live.vehicle]
        self._notify("finished", live.attempt_id, live.vehicle)
        live.finished.set()

    def _notify(self, event: str, attempt_id: int, vehicle_id: str) -> None:
        for listener in self.attempt_listeners:
            try:
                listener(event, attempt_id, vehicle_id)
            except Exception:
                log.exception("controller: attempt listener failed on %s of attempt %d", event, attempt_id)

    # -- actions, in the controller thread ----------------------------------------
    def _begin(self, vehicle_id: str, candidate_id: int, candidate_name: str,
               booking_id: int | None = None, attempt_no: int | None = None) -> int:
        if vehicle_id in self._live:
            raise AttemptStateError(N_("车辆%(vehicle)s已有考试%(attempt)s在进行"), vehicle=vehicle_id,
                                    attempt=self._live[vehicle_id].attempt_id)
        vehicle = self.vehicles[vehicle_id]
        if self.begin_guard is not None:
            self.begin_guard(vehicle_id)
        mono, utc = self.clock.now()
        start = Command(t=mono, utc=utc, vehicle=vehicle_id, action=CommandAction.START, actor="system",
                        vehicle_class=vehicle.vehicle_class, vehicle_model=vehicle.model)
        checked_line(start)  # a start the journal would refuse checks no one in
        judge = Judge(self.course, self.course.vehicle(vehicle.model), self.ruleset, vehicle.vehicle_class,
                      vehicle=vehicle_id)
        # The effective rule set (version + overrides) and the course file are stored with the
        # attempt: a re-judge uses what applied that day.
        attempt_id = self.records.check_in(candidate_id, vehicle_id, self.course.name, judge.ruleset.id, utc,
                                           booking_id=booking_id, attempt_no=attempt_no,
                                           rule_set_snapshot=ruleset_to_dict(judge.ruleset),
                                           course_snapshot=self._course_snapshot)
        self.records.mark_running(attempt_id, utc)
        live = LiveAttempt(attempt_id=attempt_id, vehicle=vehicle_id, judge=judge, candidate=candidate_name)
        self._live[vehicle_id] = live
        self._notify("started", attempt_id, vehicle_id)
        self._publish(live, {"type": "started"})
        self._observe(live, start)
        return attempt_id

    def _command(self, vehicle_id: str, action: CommandAction, actor: str, reason: str,
                 rule: str | None) -> None:
        live = self._live.get(vehicle_id)
        if live is None:
            raise AttemptStateError(N_("车辆%(vehicle)s当前没有进行中的考试"), vehicle=vehicle_id)
        mono, utc = self.clock.now()
        self._observe(live, Command(t=mono, utc=utc, vehicle=vehicle_id, action=action, actor=actor,
                                    reason=reason, rule=rule))

    def _resume(self, vehicle_id: str, actor: str, reason: str) -> None:
        if not self.suspended(vehicle_id):
            raise AttemptStateError(N_("车辆%(vehicle)s没有暂停中的考试"), vehicle=vehicle_id)
        self._command(vehicle_id, CommandAction.RESUME, actor, reason, None)

    # -- journal and feed ---------------------------------------------------------
    def _flush(self, live: LiveAttempt) -> None:
        if live.pending:
            live.head = self.records.append_journal(live.attempt_id, live.pending, prev_hash=live.head)
            live.pending = []

    def _flush_all(self) -> None:
        for live in list(self._live.values()):
            self._flush(live)
        self._last_flush = time.monotonic()

    def _vehicle_state(self, live: LiveAttempt | None, vehicle_id: str) -> dict:
        v = self.vehicles[vehicle_id]
        state = {"vehicle": v.id, "plate": v.plate, "vehicle_class": v.vehicle_class,
                 "attempt": None, "candidate": "", "status": "idle", "item": None, "item_type": None,
                 "score": None, "deductions": [], "pose": self.view.latest(vehicle_id)}
        if live is not None:
            snap = live.judge.snapshot()
            item = self.course.items.get(snap.current_item) if snap.current_item else None
            running = (AttemptStatus.SUSPENDED if snap.status is Status.SUSPENDED else AttemptStatus.RUNNING).value
            state.update(attempt=live.attempt_id, candidate=live.candidate,
                         status=live.final_status.value if live.final_status else running,
                         item=snap.current_item, item_type=item.type if item else None, score=snap.score,
                         deductions=list(live.deductions))
        return state

    def _publish(self, live: LiveAttempt, event: dict) -> None:
        state = self._vehicle_state(live, live.vehicle)
        if event["type"] == "finished":
            state["status"] = event["result"]["status"]
            state["score"] = event["result"]["score"]
        self._shown[live.vehicle] = state
        self.feed.publish({**event, "vehicle": live.vehicle, "attempt": live.attempt_id},
                          vehicle_state=state)

    def _publish_idle(self, vehicle_id: str) -> None:
        state = self._vehicle_state(None, vehicle_id)
        self._shown[vehicle_id] = state
        self.feed.publish({"type": "idle", "vehicle": vehicle_id}, vehicle_state=state)
