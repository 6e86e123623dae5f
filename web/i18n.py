"""Language: Chinese first, English on request.

Messages are written in Chinese in the code and templates (the msgids), so a
screen is Chinese with no catalogue at all; ``web/translations/en`` holds the
English. A person switches with the link in the page header; the choice lives
in their session.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, session
from flask_babel import Babel

from web.redirects import local_target

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    return session.get("lang", DEFAULT)


@bp.get("/lang/<code>")
def switch(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(local_target(request.args.get("next"), "/"))


switch.allowed_roles = None  # anyone may choose their language


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)

    @app.context_processor
    def languages():
        return {"languages": LANGUAGES, "current_language": select_locale()}
