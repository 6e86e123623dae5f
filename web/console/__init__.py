"""Supervisor actions: stop, manual 不合格 (人工评判), device fault; resume or re-run a suspended attempt."""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console")

from examroom_web.console import routes  # noqa: E402,F401
