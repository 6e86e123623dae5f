"""Attempt result views."""

from flask import abort, render_template

from web.results import bp
from web.services import records


@bp.get("/")
def recent():
    return render_template("attempts.html", attempts=records().recent_attempts())


@bp.get("/<int:attempt_id>")
def result(attempt_id: int):
    attempt = records().attempt(attempt_id)
    if attempt is None:
        abort(404)
    # Deductions name the course item by id; the judged result knows each item's type.
    item_types = {item["id"]: item["type"] for item in (attempt.result or {}).get("items", [])}
    return render_template("result.html", attempt=attempt, item_types=item_types)
