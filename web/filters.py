"""Jinja filters for what people read: masked IDs, local times, statuses."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask
from flask_babel import gettext as _

from examroom import courseclock
from examroom.records.models import AttemptStatus, BookingState, SittingStatus
from examroom.records.people import mask_id_number


def status_text(status: str) -> str:
    return {
        AttemptStatus.CHECKED_IN.value: _("已检录"),
        AttemptStatus.RUNNING.value: _("考试中"),
        AttemptStatus.PASSED.value: _("合格"),
        AttemptStatus.FAILED.value: _("不合格"),
        AttemptStatus.ABORTED.value: _("已中止"),
        AttemptStatus.DEVICE_FAULT.value: _("设备故障"),
        AttemptStatus.INTERRUPTED.value: _("中断"),
        AttemptStatus.SUSPENDED.value: _("设备故障，暂停中"),
    }.get(status, status)


def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """The course's local time (its zone is stated once per page, at its foot)."""
    return courseclock.local_text(moment, fmt)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.filters["status_text"] = status_text
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals["zone_note"] = courseclock.zone_note
    app.jinja_env.globals["zone_offset"] = courseclock.offset_seconds
    app.jinja_env.globals["camera_title"] = camera_title
    app.jinja_env.globals["may_open"] = may_open
    app.jinja_env.globals["is_sealed"] = is_sealed
    app.jinja_env.globals["selfcheck_text"] = selfcheck_text
    for f in (audit_action, audit_text, role_title, rule_set_name, camera_title, selfcheck_text):
        app.jinja_env.filters[f.__name__] = f
    app.jinja_env.filters["item_title"] = item_title
    app.jinja_env.globals["item_title"] = item_title
    app.jinja_env.filters["sitting_status"] = sitting_status
    app.jinja_env.filters["booking_state"] = booking_state
    app.jinja_env.filters["slip_field"] = slip_field


def sitting_status(status: str) -> str:
    return {SittingStatus.PLANNED.value: _("未开始"), SittingStatus.OPEN.value: _("签到中"),
            SittingStatus.RUNNING.value: _("考试中"), SittingStatus.CLOSED.value: _("已结束")}.get(status, status)


def booking_state(state: str) -> str:
    return {BookingState.BOOKED.value: _("已预约"), BookingState.CHECKED_IN.value: _("候考"),
            BookingState.CALLED.value: _("已叫号"), BookingState.ON_VEHICLE.value: _("考试中"),
            BookingState.DONE.value: _("考试结束"), BookingState.NO_SHOW.value: _("缺考")}.get(state, state)


def item_title(item_type: str | None) -> str:
    return {
        "pile": _("桩考"),
        "hill": _("坡道定点停车和起步"),
        "bridge": _("通过单边桥"),
        "general": _("通用评判"),
    }.get(item_type or "", item_type or "")


def slip_field(name: str) -> str:
    """A field of a slip's signed statement (examroom.records.slip_token), as the verify page names it."""
    return {"a": _("考试编号"), "c": _("准驾车型"), "d": _("考试日期"), "n": _("姓名"), "i": _("身份证明号码"),
            "s": _("成绩"), "r": _("考试结果"), "it": _("各项目结果")}.get(name, name)


def audit_action(action: str) -> str:
    """An audit log action as a person reads it (the code stays in the entry's tooltip)."""
    return {
        "login": _("登录"), "login_refused": _("登录被拒绝"), "logout": _("退出登录"),
        "check_in": _("考生签到"), "assign": _("分配车辆"), "call_next": _("叫号"), "start": _("开始考试"),
        "stop": _("停止考试"), "manual_fail": _("人工评判不合格"), "device_fault": _("设备故障"),
        "resume": _("恢复考试"), "rerun": _("重新考试"), "export_video": _("导出视频"),
        "download_export": _("下载导出视频"), "face_review": _("人脸核查"), "rejudge": _("重新评判"),
        "review": _("审核"), "selfcheck_override": _("自检放行"), "rename_camera": _("摄像机命名"),
    }.get(action, action)


# The words the controller's audit targets and details are made of (``vehicle V1``, ``job 3, camera top``).
_AUDIT_WORDS = {
    "vehicle": "车辆", "booking": "预约", "sitting": "场次", "attempt": "考试", "account": "账号", "job": "任务",
    "camera": "摄像机", "overlay": "叠加信息", "done": "成功", "refused": "被拒绝", "queue": "排队号",
    "check": "自检", "face flag": "人脸标记", "difference(s)": "处不同", "locked": "已锁定",
}
_AUDIT_WORD = re.compile("|".join(re.escape(w) for w in sorted(_AUDIT_WORDS, key=len, reverse=True)))


def audit_text(text: str) -> str:
    """An audit target or detail in Chinese words; ids, names and free text stay as written."""
    text = re.sub(r"\bcamera ([\w-]+)", lambda m: "摄像机 " + camera_title(m.group(1)), text or "")
    return _AUDIT_WORD.sub(lambda m: _AUDIT_WORDS[m.group(0)], text)


def role_title(role: str) -> str:
    return {"admin": _("管理员"), "supervisor": _("考试员"), "auditor": _("审核员"), "inspector": _("巡查员"),
            "city": _("市级巡查"), "-": "—"}.get(role, role)


def rule_set_name(rule_set: str) -> str:
    """``ga1026-2022`` as the standard is written: GA 1026-2022."""
    match = re.fullmatch(r"ga(\d+)-(\d{4})(.*)", rule_set or "")
    return f"GA {match.group(1)}-{match.group(2)}{match.group(3)}" if match else rule_set


def camera_title(camera: str) -> str:
    """The name people read for a camera (an administrator's, or the site file's); its id if it has none."""
    from flask import g

    from examroom.video.camera_names import CameraNames
    from examroom_web.services import records

    if "camera_names" not in g:
        g.camera_names = CameraNames(records().sessions).all()
    return g.camera_names.get(camera, camera)


def may_open(endpoint: str) -> bool:
    """Whether the signed-in person's role may open a page: menus list only those (web.security.roles)."""
    from flask import current_app
    from flask_login import current_user

    view = current_app.view_functions.get(endpoint)
    allowed = getattr(view, "allowed_roles", ())
    if allowed is None:  # public
        return True
    return current_user.is_authenticated and current_user.role in allowed


def selfcheck_text(passed: bool, overridden: bool = False) -> str:
    """The self-check's outcome in the same words on every page."""
    if passed:
        return _("通过")
    return _("未通过，已登记放行") if overridden else _("未通过")


def is_sealed(attempt_id: int) -> bool:
    """Whether the attempt's result is sealed, so its slip can be printed."""
    from examroom.records.models import Seal
    from examroom_web.services import records

    with records().sessions() as session:
        return session.get(Seal, attempt_id) is not None
