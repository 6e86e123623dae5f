"""Result pages: one per attempt, and the list of recent attempts."""

from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/attempts")

from examroom_web.results import routes  # noqa: E402,F401
