"""Jinja filters for what people read: masked IDs, local times, statuses."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import gettext as _

from examroom import courseclock
from examroom.identity import mask_id_number


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
    """The course's local time (its zone is stated once per page, at its foot)."""
    return courseclock.local_text(moment, fmt)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.filters["status_text"] = status_text
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals["zone_note"] = courseclock.zone_note
    app.jinja_env.globals["zone_offset"] = courseclock.offset_seconds
    app.jinja_env.filters["item_title"] = item_title
    app.jinja_env.filters["sitting_status"] = sitting_status
    app.jinja_env.filters["booking_state"] = booking_state


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
