"""Attempt result views."""

from flask import abort, render_template
from flask_login import current_user

from examroom.accounts import Role

from web.results import bp
from web.security import STAFF, roles
from web.services import records


@bp.get("/")
@roles(*STAFF)
def recent():
    return render_template("attempts.html", attempts=[a for a in records().recent_attempts() if _visible(a)])


@bp.get("/<int:attempt_id>")
@roles(*STAFF)
def result(attempt_id: int):
    attempt = records().attempt(attempt_id)
    if attempt is None or not _visible(attempt):
        abort(404)
    # Deductions name the course item by id; the judged result knows each item's type.
    item_types = {item["id"]: item["type"] for item in (attempt.result or {}).get("items", [])}
    return render_template("result.html", attempt=attempt, item_types=item_types)


def _visible(attempt) -> bool:
    """An auditor with a scope sees only that course's attempts."""
    account = current_user.account
    return account.role is not Role.AUDITOR or not account.scope or attempt.course == account.scope
