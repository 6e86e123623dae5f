"""Supervisor commands arriving from the web process, checked and handed to the controller.

The web process never touches the hardware or the judge: it sends a command
(stop, manual 不合格, device fault, resume or re-run after a fault) with who
and why; this desk checks it and calls the controller, which journals it as a
Command observation. Every refusal says why in a sentence the supervisor can
act on: a :class:`CommandRefused` with a Chinese msgid the web translates.
"""

from __future__ import annotations

from typing import Any, Callable

from examroom.live.controller import Controller
from examroom.messages import N_, SupervisorError
from scoring.rules import RuleSet


class CommandRefused(SupervisorError, ValueError):
    """A command the desk or the controller refused, and why."""

    @classmethod
    def of(cls, exc: Exception) -> "CommandRefused":
        """Another part's refusal: its translatable message when it has one, else its own words."""
        if isinstance(exc, SupervisorError):
            return cls(exc.msgid, **exc.params)
        return cls(str(exc))


class CommandDesk:
    def __init__(self, controller: Controller, ruleset: RuleSet,
                 resume: Callable[[str, str, str], None] | None = None,
                 rerun: Callable[[int, str, str], int] | None = None,
                 start: Callable[[int], int] | None = None) -> None:
        self.controller = controller
        self.ruleset = ruleset
        # Resume checks the devices first and re-run ends and restarts: the course service's.
        self._resume_fn = resume or controller.resume_attempt
        self._rerun_fn = rerun
        self._start_fn = start  # starts a called booking's attempt on its vehicle (exam day's call-up)

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        action = request.get("action")
        if action == "start":
            return self._start(request)
        handler = {"stop": self._stop, "manual_fail": self._manual_fail, "device_fault": self._device_fault,
                   "resume": self._resume, "rerun": self._rerun, "manual_rules": self._manual_rules}.get(action)
        if handler is None:
            raise CommandRefused(N_("未知操作（%(action)s）"), action=action)
        vehicle = request.get("vehicle")
        if vehicle not in self.controller.vehicles:
            raise CommandRefused(N_("没有这辆考试车（%(vehicle)s）"), vehicle=vehicle)
        try:
            return handler(vehicle, request)
        except (SupervisorError, RuntimeError, LookupError) as exc:  # the controller's refusal, in its own words
            raise CommandRefused.of(exc) from exc

    def _attempt(self, vehicle: str) -> int:
        attempt = self.controller.running_attempt(vehicle)
        if attempt is None:
            raise CommandRefused(N_("车辆%(vehicle)s当前没有进行中的考试"), vehicle=vehicle)
        return attempt

    @staticmethod
    def _who(request: dict[str, Any]) -> tuple[str, str]:
        actor, reason = str(request.get("actor") or "").strip(), str(request.get("reason") or "").strip()
        if not actor:
            raise CommandRefused(N_("操作人：须写明由谁下达指令"))
        if not reason:
            raise CommandRefused(N_("原因：考试员的操作须写明原因"))
        return actor, reason

    def _stop(self, vehicle: str, request: dict[str, Any]) -> dict[str, Any]:
        attempt = self._attempt(vehicle)
        self.controller.stop_attempt(vehicle, *self._who(request))
        return {"attempt": attempt}

    def _device_fault(self, vehicle: str, request: dict[str, Any]) -> dict[str, Any]:
        attempt = self._attempt(vehicle)
        actor, reason = self._who(request)
        self.controller.device_fault(vehicle, reason, actor=actor)
        return {"attempt": attempt}

    def _start(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._start_fn is None:
            raise CommandRefused(N_("本控制器不能从控制台开始考试"))
        if not str(request.get("actor") or "").strip():
            raise CommandRefused(N_("操作人：须写明由谁开始考试"))
        booking = request.get("booking")
        if not isinstance(booking, int):
            raise CommandRefused(N_("预约：须给出已叫号的预约编号"))
        try:
            return {"attempt": self._start_fn(booking)}
        except (ValueError, RuntimeError, LookupError) as exc:  # the call-up's refusal, e.g. 未被叫号
            raise CommandRefused.of(exc) from exc

    def _resume(self, vehicle: str, request: dict[str, Any]) -> dict[str, Any]:
        attempt = self._attempt(vehicle)
        if not self.controller.suspended(vehicle):
            raise CommandRefused(N_("车辆%(vehicle)s：考试%(attempt)s未暂停"), vehicle=vehicle, attempt=attempt)
        self._resume_fn(vehicle, *self._who(request))
        return {"attempt": attempt}

    def _rerun(self, vehicle: str, request: dict[str, Any]) -> dict[str, Any]:
        attempt = self._attempt(vehicle)
        if self._rerun_fn is None:
            raise CommandRefused(N_("本控制器不能重新考试"))
        if not self.controller.suspended(vehicle):
            raise CommandRefused(N_("车辆%(vehicle)s：只有因设备故障暂停的考试才能重新考试"), vehicle=vehicle)
        return {"attempt": attempt, "new_attempt": self._rerun_fn(attempt, *self._who(request))}

    def _manual_fail(self, vehicle: str, request: dict[str, Any]) -> dict[str, Any]:
        attempt = self._attempt(vehicle)
        actor, reason = self._who(request)
        rule = request.get("rule")
        if rule not in {r["id"] for r in self._manual_rules(vehicle, request)["rules"]}:
            raise CommandRefused(N_("扣分项：%(rule)s不是该车型可人工评判的扣分项"), rule=rule)
        self.controller.manual_fail(vehicle, rule, actor, reason)
        return {"attempt": attempt}

    def _manual_rules(self, vehicle: str, _request: dict[str, Any]) -> dict[str, Any]:
        vehicle_class = self.controller.vehicles[vehicle].vehicle_class
        rules = [r for r in self.ruleset.rules.values()
                 if r.enabled and r.detector == "manual" and vehicle_class in r.classes]
        return {"rules": [{"id": r.id, "title": r.title, "disqualify": r.disqualify, "points": r.deducted}
                          for r in rules]}
