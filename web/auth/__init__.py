"""Signing in and out."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from examroom_web.auth import routes  # noqa: E402,F401
