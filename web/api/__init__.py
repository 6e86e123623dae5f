"""The JSON API behind the pages, described by an OpenAPI document, with the same roles."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from examroom_web.api import routes  # noqa: E402,F401
