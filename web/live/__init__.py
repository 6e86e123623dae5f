"""The live course page: every vehicle, its candidate, item, score and deductions."""

from flask import Blueprint

bp = Blueprint("live", __name__)

from examroom_web.live import routes  # noqa: E402,F401  (registers the views)
