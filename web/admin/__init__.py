"""Administration: the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from examroom_web.admin import routes  # noqa: E402,F401
