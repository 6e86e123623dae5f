"""The auditor's replay of an attempt: track on the course plan, deduction timeline, re-judge, review."""

from flask import Blueprint

bp = Blueprint("replay", __name__, url_prefix="/attempts")

from web.replay import routes  # noqa: E402,F401
from web.replay import video  # noqa: E402,F401
from web.replay import faces  # noqa: E402,F401
