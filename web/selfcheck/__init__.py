"""The supervisor's pre-sitting self-check page (场地信号检测): devices, walk-round, override."""

from flask import Blueprint

bp = Blueprint("selfcheck", __name__, url_prefix="/selfcheck")

from examroom_web.selfcheck import routes  # noqa: E402,F401  (registers the views)
