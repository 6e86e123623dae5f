"""Statistics for auditors."""

from flask import Blueprint

bp = Blueprint("stats", __name__, url_prefix="/stats")

from web.stats import routes  # noqa: E402,F401
