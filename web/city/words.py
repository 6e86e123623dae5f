"""The city's codes (warning kinds, reasons a sample was drawn) in the words people read."""

from __future__ import annotations

from flask_babel import gettext as _


def warning_kind(kind: str) -> str:
    return {"rate": _("比率异常"), "journal_gap": _("过程记录缺失"), "video_gap": _("视频缺失"),
            "same_id_two_courses": _("同日两考场"), "retest_rules": _("补考规定"),
            "seal_chain": _("封存链异常")}.get(kind, kind)


def sample_reason(reason: str) -> str:
    return {"share": _("随机抽取"), "manual_fail": _("人工评判"), "device_fault": _("设备故障"),
            "override": _("自检放行"), "seal_warning": _("封存校验未通过")}.get(reason, reason)


def week_name(week: str) -> str:
    """An ISO week ("2026-W49") as people say it: 2026年第49周."""
    year, sep, number = week.partition("-W")
    if not sep or not (year.isdigit() and number.isdigit()):
        return week
    return _("%(year)s年第%(week)s周", year=year, week=int(number))
