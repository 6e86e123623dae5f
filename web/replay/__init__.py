"""The auditor's replay of an attempt: track on the course plan, deduction timeline, video, re-judge, review,
export of the clip."""

from flask import Blueprint

bp = Blueprint("replay", __name__, url_prefix="/attempts")

from examroom_web.replay import routes  # noqa: E402,F401
from examroom_web.replay import video  # noqa: E402,F401
from examroom_web.replay import exports  # noqa: E402,F401
from examroom_web.replay import faces  # noqa: E402,F401
