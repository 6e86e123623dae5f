"""The cameras page: each camera live (pictures come from the controller), and the recording alarms."""

from flask import Blueprint

bp = Blueprint("cameras", __name__)

from web.cameras import routes  # noqa: E402,F401  (registers the views)
