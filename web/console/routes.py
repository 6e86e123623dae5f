"""Each action is audited here with who and why, and journaled by the controller."""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from examroom.examday.callup import CallUp, CallUpError
from examroom_web.console import bp
from examroom_web.i18n import answer_error, translated
from examroom_web.redirects import local_target
from examroom_web.controlclient import ControllerClient, ControllerUnavailable
from examroom_web.security import SUPERVISORS, audit, roles
from examroom_web.services import records

ACTIONS = ("stop", "manual_fail", "device_fault", "resume", "rerun")


def _controller() -> ControllerClient | None:
    return current_app.extensions.get("examroom.live.controller")


def _send(**command):
    controller = _controller()
    if controller is None:
        return jsonify(ok=False, error=_("未连接考试控制器")), 503
    try:
        accepted, answer = controller.send(**command)
    except ControllerUnavailable as exc:
        return jsonify(ok=False, error=translated(exc)), 503
    if not accepted:
        answer = {**answer, "error": answer_error(answer)}  # the controller's refusal, in the reader's language
    return jsonify(answer), 200 if accepted else 400


@bp.post("/<vehicle>/<action>")
@roles(*SUPERVISORS)
def act(vehicle: str, action: str):
    if action not in ACTIONS:
        return jsonify(ok=False, error=_("未知操作（%(action)s）", action=action)), 404
    reason = (request.form.get("reason") or "").strip()
    rule = request.form.get("rule") or None
    response, status = _send(action=action, vehicle=vehicle, actor=current_user.account.username,
                             reason=reason, rule=rule)
    outcome = "done" if status == 200 else f"refused: {response.get_json().get('error')}"
    audit(action, f"vehicle {vehicle}", f"{reason} {rule or ''} ({outcome})".strip())
    return response, status


@bp.post("/start/<int:booking>")
@roles(*SUPERVISORS)
def start(booking: int):
    """Start the called candidate's attempt (from the call-up page); back to where it was asked."""
    response, status = _send(action="start", booking=booking, actor=current_user.account.username)
    answer = response.get_json()
    audit("start", f"booking {booking}", "done" if status == 200 else f"refused: {answer.get('error')}")
    if _wants_json():  # the console's queue panel
        return response, status
    if status == 200:
        flash(_("考试已开始（考试编号 %(n)s）", n=answer["attempt"]), "ok")
    else:
        flash(answer.get("error") or _("未连接考试控制器"), "error")
    return redirect(local_target(request.form.get("next"), url_for("live.course")))


@bp.post("/call/<int:sitting>/<vehicle>")
@roles(*SUPERVISORS)
def call_next(sitting: int, vehicle: str):
    """Call the vehicle's next waiting candidate of the sitting (the console's queue panel)."""
    try:
        booking = CallUp(records().sessions).call_next(sitting, vehicle)
    except CallUpError as exc:
        audit("call_next", f"sitting {sitting}", f"vehicle {vehicle} (refused: {exc})")
        return jsonify(ok=False, error=translated(exc)), 400
    if booking is None:
        return jsonify(ok=False, error=_("没有等候该车型的考生")), 409
    audit("call_next", f"sitting {sitting}", f"vehicle {vehicle} booking {booking}")
    return jsonify(ok=True, booking=booking)


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


@bp.get("/<vehicle>/manual-rules")
@roles(*SUPERVISORS)
def manual_rules(vehicle: str):
    return _send(action="manual_rules", vehicle=vehicle)
