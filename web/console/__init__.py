"""Supervisor actions on a running attempt: stop, manual 不合格 (人工评判), device fault."""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console")

from web.console import routes  # noqa: E402,F401
