"""The candidate portal: a candidate finds their own results with what their booking proves."""

from flask import Blueprint

bp = Blueprint("candidate", __name__, url_prefix="/candidate")

from examroom_web.candidate import routes  # noqa: E402,F401
