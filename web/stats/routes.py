"""Pass rates, common deductions, attempts per hour and outliers, drawn as bar charts."""

from __future__ import annotations

from datetime import date

from flask import abort, render_template, request

from examroom.accounts import Role
from examroom.statistics import compute
from web.params import parse_day
from web.security import roles, visible_courses
from web.services import records
from web.stats import bp


def _day(name: str) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_day(name, text)
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.get("/")
@roles(Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR)
def overview():
    stats = compute(records().sessions, since=_day("since"), until=_day("until"), courses=visible_courses())
    return render_template("stats.html", stats=stats, since=request.args.get("since", ""),
                           until=request.args.get("until", ""))

