"""Statistics for auditors."""

from flask import Blueprint

bp = Blueprint("stats", __name__, url_prefix="/stats")

from examroom_web.stats import routes  # noqa: E402,F401
