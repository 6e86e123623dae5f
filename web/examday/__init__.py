"""Exam-day pages for the supervisor and the waiting hall: sittings, check-in, call-up, verification."""

from flask import Blueprint

bp = Blueprint("examday", __name__, url_prefix="/examday")

from examroom_web.examday import routes  # noqa: E402,F401
