"""The attempt a replay view shows (looked up and scope-checked once for all of them), and the course drawn."""

from __future__ import annotations

from flask import abort, current_app
from flask_babel import gettext as _

from examroom.accounts.users import Role
from scoring.course import Course, load_course
from examroom_web.security import may_see
from examroom_web.services import records

AUDITORS = (Role.ADMIN, Role.AUDITOR)


def course() -> Course:
    """The web process's course, loaded once (a re-judge uses the attempt's own snapshot)."""
    if "examroom.course" not in current_app.extensions:
        current_app.extensions["examroom.course"] = load_course(current_app.config["COURSE_FILE"])
    return current_app.extensions["examroom.course"]


def attempt_or_404(attempt_id: int):
    """The attempt, if it exists and the signed-in user may see it; otherwise 404, never 403."""
    attempt = records().attempt(attempt_id)
    if attempt is None or not may_see(attempt):
        abort(404, description=_("没有编号为 %(id)s 的考试", id=attempt_id))
    return attempt
