"""Attempt result views."""

from flask import abort, render_template, request

from examroom_web.params import parse_day
from examroom_web.results import bp
from examroom_web.security import STAFF, may_see, roles, visible_courses
from examroom_web.services import records


FILTERS = ("day", "vehicle_class", "status", "rule", "candidate", "examiner")


@bp.get("/")
@roles(*STAFF)
def recent():
    """Attempts, newest first, filtered by day, class, result, rule, candidate or examiner."""
    given = {k: request.args.get(k, "").strip() for k in FILTERS}
    day = None
    if given["day"]:
        try:
            day = parse_day("day", given["day"])
        except ValueError as exc:
            abort(400, description=str(exc))
    scope = visible_courses()
    found = records().search(day=day, vehicle_class=given["vehicle_class"] or None, status=given["status"] or None,
                             rule=given["rule"] or None, candidate=given["candidate"] or None,
                             examiner=given["examiner"] or None, courses=scope, limit=200)
    return render_template("attempts.html", attempts=found, filters=given,
                           examiners=records().examiners(courses=scope), rules=records().deducted_rules(courses=scope))


@bp.get("/<int:attempt_id>")
@roles(*STAFF)
def result(attempt_id: int):
    attempt = records().attempt(attempt_id)
    if attempt is None or not may_see(attempt):
        abort(404)
    # Deductions name the course item by id; the judged result knows each item's type.
    item_types = {item["id"]: item["type"] for item in (attempt.result or {}).get("items", [])}
    return render_template("result.html", attempt=attempt, item_types=item_types)

