"""Jinja filters for what people read: masked IDs, local times, statuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Flask
from flask_babel import gettext as _

from examroom.identity import mask_id_number

# Course screens show Beijing time; storage stays UTC.
_CHINA = timezone(timedelta(hours=8))


def status_text(status: str) -> str:
    return {
        "checked_in": _("已检录"),
        "running": _("考试中"),
        "passed": _("合格"),
        "failed": _("不合格"),
        "aborted": _("已中止"),
        "device_fault": _("设备故障"),
        "interrupted": _("中断"),
        "suspended": _("设备故障，暂停中"),
    }.get(status, status)


def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite returns naive datetimes for stored UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(_CHINA).strftime(fmt)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.filters["status_text"] = status_text
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["item_title"] = item_title
    app.jinja_env.filters["sitting_status"] = sitting_status
    app.jinja_env.filters["booking_state"] = booking_state
    app.jinja_env.filters["slip_field"] = slip_field


def sitting_status(status: str) -> str:
    return {"planned": _("未开始"), "open": _("签到中"), "running": _("考试中"), "closed": _("已结束")}.get(status, status)


def booking_state(state: str) -> str:
    return {"booked": _("已预约"), "checked_in": _("候考"), "called": _("已叫号"), "on_vehicle": _("考试中"),
            "done": _("考试结束"), "no_show": _("缺考")}.get(state, state)


def item_title(item_type: str | None) -> str:
    return {
        "pile": _("桩考"),
        "hill": _("坡道定点停车和起步"),
        "bridge": _("通过单边桥"),
        "general": _("通用评判"),
    }.get(item_type or "", item_type or "")


def slip_field(name: str) -> str:
    """A field of a slip's signed statement (examroom.slip_token), as the verify page names it."""
    return {"a": _("考试编号"), "c": _("准驾车型"), "d": _("考试日期"), "n": _("姓名"), "i": _("身份证明号码"),
            "s": _("成绩"), "r": _("考试结果"), "it": _("各项目结果")}.get(name, name)
