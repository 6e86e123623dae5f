"""The attempt judge: observations in, events and a result out.

One :class:`Judge` follows one vehicle through one attempt. It starts at the
``start`` command, places the vehicle model on the course from each GNSS fix,
starts and finishes items as the vehicle crosses their entry and exit lines,
hands observations to the current item judge and the general judge, and keeps
the score. It is pure and deterministic: the same stream gives the same result.

A ``device_fault`` command *suspends* a running attempt (设备故障): nothing is
judged until the supervisor's ``resume``, and the time it was suspended does
not count, for any timer (a stop on the hill, a time limit): from the resume
on, every observation's ``t`` is shifted back by the suspended time, so
deduction times are exam time. The vehicle's previous position is forgotten,
so a vehicle moved while suspended crosses no line. A ``stop`` or a second
``device_fault`` while suspended ends the attempt as ``device_fault`` (the
supervisor re-runs it as a new attempt); a stream that ends while suspended
reports status ``suspended``. A device fault is never a deduction.

The judge also reads fix quality itself (:mod:`scoring.pose_reading`): only RTK
fixed poses with a fresh correction are placed, and a loss of them longer than
``measurement.fix_loss_allowance`` suspends the attempt just as a
``device_fault`` command would; the controller's command for the same fault,
arriving after, joins that suspension. So a journal judged again with or
without the controller's command reaches the same verdict.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Iterable

from . import limits
from .course import Course
from .events import AttemptResult, DataGap, Deduction, EventKind, ItemRecord, JudgeEvent, Snapshot, Status
from .general import GeneralJudge
from .item_geometry import Item
from .items.base import Context, Frame, ItemJudge, crossing
from .items.bridge import BridgeJudge
from .items.hill import HillJudge
from .items.angle import AngleJudge
from .items.bay_shift import BayShiftJudge
from .items.curve import CurveJudge
from .items.parallel import ParallelJudge
from .items.pile import PileJudge
from .items.reverse import ReverseJudge
from .motion import StopTracker
from .pose_reading import PoseReader, Reading
from .observations import Command, CommandAction, CourseSensor, Observation, Pose, Signals
from .rules import Rule, RuleSet
from .vehicle import VehicleModel

ITEM_JUDGES: dict[str, type[ItemJudge]] = {
    "pile": PileJudge, "hill": HillJudge, "bridge": BridgeJudge, "reverse": ReverseJudge,
    "parallel": ParallelJudge, "angle": AngleJudge, "curve": CurveJudge, "field": BayShiftJudge,
}


def item_judge_class(item: Item) -> type[ItemJudge]:
    """The judge of an item: by its type, and for 桩考 by its layout (slalom or bay shift)."""
    if getattr(item, "layout", None) == "bay_shift":
        return BayShiftJudge
    return ITEM_JUDGES[item.type]

# The point whose path starts an item (crossing its entry line); each item judge says what
# finishes it (by default the rear axle over the exit line, ItemJudge.exit_crossing).
ENTRY_POINT = "front_axle"


class JudgeError(ValueError):
    """The stream cannot be judged as given (no start command, unknown vehicle or rule)."""


class Judge:
    """Judges one attempt of one vehicle; feed it observations in time order."""

    def __init__(self, course: Course, vehicle_model: VehicleModel, ruleset: RuleSet, vehicle_class: str,
                 vehicle: str | None = None) -> None:
        self.course = course
        self.model = vehicle_model
        self.ruleset = ruleset.with_overrides(course.overrides, f"course:{course.name}")
        self.vehicle_class = vehicle_class
        self.vehicle = vehicle
        self.order: tuple[Item, ...] = course.items_for(vehicle_class)
        if not self.order:
            raise JudgeError(f"course {course.name} has no items for class {vehicle_class}")
        needs_hill = any(item.type == "hill" for item in self.order)
        if needs_hill and vehicle_class not in self.ruleset.hill_reference_point:
            raise JudgeError(f"rule set {self.ruleset.id} has no hill reference point for class {vehicle_class}")
        self.status = Status.WAITING
        self.score = self.ruleset.start_score
        self.reason = ""
        self._suspended_at: float | None = None  # raw t of the device fault that suspended it
        self._paused = 0.0  # seconds suspended so far: subtracted from every later t
        self.deductions: list[Deduction] = []
        self.items: list[ItemRecord] = []
        self.started_t: float | None = None
        self.finished_t: float | None = None
        self.stops = StopTracker(self.ruleset.measure("stop_speed"), self.ruleset.measure("speed_noise"),
                                 self.ruleset.measure("standstill_radius"))
        self.ctx = Context(self.ruleset, vehicle_model, vehicle_class, self.stops, self._apply)
        self.general = GeneralJudge(self.ctx)
        self.current: ItemJudge | None = None
        self._next_index = 0
        self._previous: Frame | None = None
        self._last_fix: Pose | None = None  # the latest usable pose (placed or settling)
        self.poses = PoseReader(self.ruleset)
        self._fix_loss_allowance = self.ruleset.measure("fix_loss_allowance")
        self._good_fix_t: float | None = None  # the latest pose that was not lost (pose_reading)
        self._lost_why = ""  # what was wrong with the latest lost pose
        self._self_suspended = False  # suspended by the judge's own fix-loss check, no command yet
        self._last_t: float | None = None
        self._events: list[JudgeEvent] = []
        self.data_gaps: list[DataGap] = []

    # --- feeding ---------------------------------------------------------------------------

    def feed(self, obs: Observation) -> list[JudgeEvent]:
        """Judge one observation; returns the events it caused."""
        if self.status.ended or not self._is_mine(obs):
            return []
        raw_t = obs.t
        if self._paused:
            obs = dataclasses.replace(obs, t=obs.t - self._paused)
        if isinstance(obs, Command):
            self._on_command(obs, raw_t)
        elif self.status == Status.RUNNING:
            if isinstance(obs, Pose):
                self._on_pose(obs)
            elif isinstance(obs, Signals):
                self._on_signals(obs)
            elif isinstance(obs, CourseSensor) and self.current is not None:
                self.current.on_sensor(obs)
            self._tick(obs.t, obs.utc)
        events, self._events = self._events, []
        return events

    def _is_mine(self, obs: Observation) -> bool:
        if isinstance(obs, CourseSensor):
            return obs.vehicle is None or self.vehicle is None or obs.vehicle == self.vehicle
        return self.vehicle is None or obs.vehicle == self.vehicle

    def _on_command(self, cmd: Command, raw_t: float) -> None:
        if cmd.action == CommandAction.START and self.status == Status.WAITING:
            self.status = Status.RUNNING
            self.started_t = cmd.t
            self.vehicle = self.vehicle or cmd.vehicle
        elif self.status == Status.SUSPENDED:
            self._while_suspended(cmd, raw_t)
        elif self.status != Status.RUNNING:
            return
        elif cmd.action == CommandAction.STOP:
            self._end(Status.ABORTED, cmd.t, cmd.utc, cmd.reason or "stopped by the supervisor")
        elif cmd.action == CommandAction.DEVICE_FAULT:
            self.status = Status.SUSPENDED
            self._suspended_at = raw_t
            self.reason = cmd.reason or "device fault"
            self._events.append(JudgeEvent(EventKind.ATTEMPT_SUSPENDED, cmd.t, cmd.utc, item=self._item_id(),
                                           status=self.status, score=self.score))
        elif cmd.action == CommandAction.MANUAL_FAIL:
            self._manual(cmd)

    def _while_suspended(self, cmd: Command, raw_t: float) -> None:
        if cmd.action == CommandAction.DEVICE_FAULT and self._self_suspended:
            # The controller's report of the fault the judge already suspended for: the same fault.
            self._self_suspended = False
            self.reason += f"; {cmd.reason}" if cmd.reason else ""
            self._events.append(JudgeEvent(EventKind.ATTEMPT_SUSPENDED, cmd.t, cmd.utc, item=self._item_id(),
                                           status=self.status, score=self.score))
        elif cmd.action == CommandAction.RESUME:
            self._paused += raw_t - self._suspended_at
            self._suspended_at = None
            self._self_suspended = False
            self.status = Status.RUNNING
            self._previous = None  # the vehicle may have been moved: no line crossed over the gap
            self._last_fix = None
            self.poses.reset()
            self._good_fix_t = raw_t - self._paused  # the loss is timed afresh from the resume
            t = raw_t - self._paused
            self._events.append(JudgeEvent(EventKind.ATTEMPT_RESUMED, t, cmd.utc, item=self._item_id(),
                                           status=self.status, score=self.score))
        elif cmd.action in (CommandAction.STOP, CommandAction.DEVICE_FAULT):
            reason = self.reason + (f"; {cmd.reason}" if cmd.reason else "")
            self._end(Status.DEVICE_FAULT, cmd.t, cmd.utc, reason)

    @property
    def fault_unreported(self) -> bool:
        """Suspended by the judge's own fix-loss check, and no ``device_fault`` command has come since:
        the controller's report of the fault (naming the device) is still to come, and is welcome."""
        return self.status == Status.SUSPENDED and self._self_suspended

    def _item_id(self) -> str | None:
        return self.current.item.id if self.current is not None else None

    def _manual(self, cmd: Command) -> None:
        if cmd.rule is None or cmd.rule not in self.ruleset.rules:
            raise JudgeError(f"manual_fail at t={cmd.t}: unknown rule {cmd.rule!r}")
        rule = self.ruleset.rule(cmd.rule)
        if not rule.applies_to(self.vehicle_class):
            raise JudgeError(f"manual_fail at t={cmd.t}: rule {rule.id} does not apply to class {self.vehicle_class}")
        detail = f"manual ({cmd.actor})" + (f": {cmd.reason}" if cmd.reason else "")
        self._apply(rule, cmd.t, cmd.utc, None, None, detail)

    def _on_signals(self, signals: Signals) -> None:
        self.ctx.signals = signals
        self.general.on_signals(signals)
        if self.current is not None and not self.status.ended:
            self.current.on_signals(signals)

    def _on_pose(self, pose: Pose) -> None:
        if self._fix_lost_too_long(pose):
            return
        gear = self.ctx.signals.gear if self.ctx.signals is not None else None
        read = self.poses.read(pose, gear)
        if read.standstill is not None and self._last_fix is not None:
            self._place(read.standstill, read.standstill.x, read.standstill.y, read.standstill.heading,
                        read.standstill_count, read.standstill_since)
            if self.status.ended:
                return
        if read.reading.lost:
            self._lost_why = read.why
            if self._good_fix_t is None:
                self._good_fix_t = pose.t  # the loss is timed from the first pose the judge saw
            return
        self._good_fix_t, self._lost_why = pose.t, ""
        if self.current is not None:
            self._note_gap(pose)
        self.stops.update(pose.t, pose.speed, (pose.x, pose.y))
        self.ctx.last_fix_t = pose.t
        if read.reading != Reading.PLACED:
            self._last_fix = pose
            return  # settling: usable, not placed yet (pose_reading)
        self._place(pose, read.x, read.y, read.heading, read.fixes, read.since)

    def _place(self, pose: Pose, x: float, y: float, heading: float, fixes: int = 1,
               since: tuple[float, datetime] | None = None) -> None:
        """Place the vehicle (antenna at ``x``, ``y``) as of ``pose`` and judge the frame; ``fixes`` and
        ``since``: what a standstill mean counts for and since when it stood there (pose_reading)."""
        frame = Frame(
            t=pose.t,
            utc=pose.utc,
            speed=pose.speed,
            placement=self.model.place(x, y, heading),
            previous=self._previous.placement if self._previous is not None else None,
            position=(x, y),
            previous_t=self._previous.t if self._previous is not None else None,
            previous_utc=self._previous.utc if self._previous is not None else None,
            fixes=fixes,
            reached=since,
        )
        if self.current is None:
            self._maybe_enter(frame)
            if self.current is not None:
                self._note_gap(pose)  # the gap spans the entry
        if self.current is not None and not self.status.ended:
            self.current.on_pose(frame)
            self._maybe_exit(frame)
        if not self.status.ended:
            owns = self.current is not None and (self.current.owns_rollback or self.current.reverses)
            self.general.on_pose(frame, owns)
        self._previous = frame
        self._last_fix = pose

    def _note_gap(self, pose: Pose) -> None:
        """Record a fix gap in an item, while moving, too long for the detection bounds (insufficient data)."""
        previous = self._last_fix
        if previous is None or self.current is None:
            return
        moving = max(previous.speed, pose.speed) > self.stops.stop_speed
        if moving and limits.exceeds(pose.t - previous.t, self.ruleset.measure("max_fix_gap"), "s"):
            self.data_gaps.append(DataGap(self.current.item.id, previous.t, pose.t))

    def _tick(self, t: float, utc: datetime) -> None:
        if self.status.ended:
            return
        self._last_t = t
        self.general.on_tick(t, utc)
        if self.current is not None and not self.status.ended:
            self.current.on_tick(t, utc)

    def _fix_lost_too_long(self, pose: Pose) -> bool:
        """No judging fix for longer than the allowance (the site's, via the rule set) by this pose's
        time: the attempt is suspended, and True.

        Inside an item and between items alike: the controller's health watch suspends a running
        attempt whose receiver is at fault wherever the vehicle is, and a journal judged again
        without its command must reach the same verdict (a loss between items would otherwise
        let the vehicle enter an item over the gap, past what it should have been judged on).
        Measured on the receiver's own clock, pose to pose: readings of other devices may arrive
        ahead of fixes delayed on a loaded host, which is no loss. A receiver that falls silent
        is the health watch's to report; its first fix after the silence shows the gap.
        """
        if self._good_fix_t is None or pose.t - self._good_fix_t <= self._fix_loss_allowance:
            return False
        why = self.poses.unusable_because(pose) or self._lost_why or f"no fix for {pose.t - self._good_fix_t:.1f} s"
        self._lost_why = why
        self._suspend_for_fix_loss(pose.t, pose.utc)
        return True

    def _suspend_for_fix_loss(self, t: float, utc: datetime) -> None:
        """A device fault the judge sees itself in the pose stream: the same suspension a
        ``device_fault`` command causes, so a journal judged again with or without the
        controller's command reaches the same verdict."""
        self.status = Status.SUSPENDED
        self._suspended_at = t + self._paused
        self._self_suspended = True
        where = f"in item {self._item_id()}" if self.current is not None else "between items"
        self.reason = (f"GNSS fix lost for more than {self._fix_loss_allowance:g} s {where}"
                       + (f" ({self._lost_why})" if self._lost_why else ""))
        self._events.append(JudgeEvent(EventKind.ATTEMPT_SUSPENDED, t, utc, item=self._item_id(),
                                       status=self.status, score=self.score))

    # --- items ---------------------------------------------------------------------------

    def _maybe_enter(self, frame: Frame) -> None:
        if self._next_index >= len(self.order):
            return
        item = self.order[self._next_index]
        crossed = crossing(frame, self._previous, ENTRY_POINT, item.entry, self.ruleset.measure("line_margin"))
        if crossed is None:
            return
        t, utc = crossed
        self.current = item_judge_class(item)(item, self.ctx, t)
        self.items.append(ItemRecord(item.id, item.type, t))
        self._events.append(JudgeEvent(EventKind.ITEM_STARTED, t, utc, item=item.id))

    def _maybe_exit(self, frame: Frame) -> None:
        assert self.current is not None
        item = self.current.item
        crossed = self.current.exit_crossing(frame, self._previous)
        if crossed is None:
            return
        t, utc = crossed
        self.current.finish(frame.t, frame.utc)
        if self.status.ended:
            return
        self.items[-1] = ItemRecord(item.id, item.type, self.items[-1].started_t, t)
        self._events.append(JudgeEvent(EventKind.ITEM_FINISHED, t, utc, item=item.id))
        self.current = None
        self._next_index += 1
        if self._next_index == len(self.order):
            passed = self.score >= self.ruleset.pass_mark
            self._end(Status.PASSED if passed else Status.FAILED, frame.t, frame.utc, "all items finished")

    # --- scoring -------------------------------------------------------------------------

    def _apply(self, rule: Rule, t: float, utc: datetime, value: float | None, unit: str | None,
               detail: str) -> None:
        if self.status.ended:
            return
        item = self.current.item.id if self.current is not None else None
        deduction = Deduction(rule=rule.id, code=rule.code, title=rule.title, title_en=rule.title_en,
                              points=rule.deducted, disqualify=rule.disqualify, item=item, t=t, utc=utc,
                              value=value, unit=unit, detail=detail)
        self.deductions.append(deduction)
        self.score = max(self.score - deduction.points, 0)
        self._events.append(JudgeEvent(EventKind.DEDUCTION, t, utc, item=item, deduction=deduction, score=self.score))
        if rule.disqualify:
            self._end(Status.FAILED, t, utc, f"不合格: {rule.title}")
        elif self.score < self.ruleset.pass_mark:
            # Below the pass mark the attempt cannot pass any more: it ends, as on real courses.
            self._end(Status.FAILED, t, utc, "score below the pass mark")

    def _end(self, status: Status, t: float, utc: datetime, reason: str) -> None:
        self.status = status
        self.finished_t = t
        self.reason = reason
        self._events.append(JudgeEvent(EventKind.ATTEMPT_FINISHED, t, utc, status=status, score=self.score))

    # --- views ---------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return Snapshot(
            status=self.status,
            vehicle=self.vehicle,
            vehicle_class=self.vehicle_class,
            current_item=self.current.item.id if self.current is not None and not self.status.ended else None,
            score=self.score,
            deductions=tuple(self.deductions),
            items=tuple(self.items),
            t=self._last_t,
        )

    def result(self) -> AttemptResult:
        return AttemptResult(
            vehicle=self.vehicle,
            vehicle_class=self.vehicle_class,
            vehicle_model=self.model.id,
            course=self.course.name,
            rule_set=self.ruleset.id,
            status=self.status,
            score=self.score,
            passed=self.status == Status.PASSED,
            deductions=tuple(self.deductions),
            items=tuple(self.items),
            started_t=self.started_t,
            finished_t=self.finished_t,
            reason=self.reason,
            data_gaps=tuple(self.data_gaps),
        )


def judge_for_start(course: Course, ruleset: RuleSet, start: Command) -> Judge:
    """A judge for the vehicle class and model a ``start`` command names."""
    if start.vehicle_class is None or start.vehicle_model is None:
        raise JudgeError(f"start command at t={start.t} lacks vehicle_class or vehicle_model")
    try:
        model = course.vehicle(start.vehicle_model)
    except KeyError as exc:
        raise JudgeError(str(exc.args[0])) from None
    return Judge(course, model, ruleset, start.vehicle_class, vehicle=start.vehicle)


def judge_stream(observations: Iterable[Observation], course: Course, ruleset: RuleSet) -> AttemptResult:
    """Judge a recorded attempt: from its first ``start`` command to its end."""
    judge: Judge | None = None
    for obs in observations:
        if judge is None:
            if isinstance(obs, Command) and obs.action == CommandAction.START:
                judge = judge_for_start(course, ruleset, obs)
                judge.feed(obs)
            continue
        judge.feed(obs)
        if judge.status.ended:
            break
    if judge is None:
        raise JudgeError("no start command in the stream")
    return judge.result()
