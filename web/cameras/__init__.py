"""The cameras page: each camera live (the controller's pictures relayed to signed-in staff), and the recording
alarms."""

from flask import Blueprint

bp = Blueprint("cameras", __name__)

from examroom_web.cameras import routes  # noqa: E402,F401  (registers the views)
