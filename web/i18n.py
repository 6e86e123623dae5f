"""Language: Chinese first, English on request.

Messages are written in Chinese in the code and templates (the msgids), so a
screen is Chinese with no catalogue at all; ``web/translations/en`` holds the
English. A person switches with the link in the page header; the choice lives
in their session.

Errors from examroom that a supervisor reads (``examroom.messages.SupervisorError``) carry
their msgid and parameters; :func:`translated` shows them in the reader's language, also when
they come from the controller's process as the ``message`` of its answer (:func:`answer_error`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, request, session
from flask_babel import Babel, gettext

from examroom.messages import SupervisorError

from examroom_web.redirects import local_target

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


def translated(error: BaseException) -> str:
    """An error for the screen: a SupervisorError in the reader's language, anything else as it reads."""
    if isinstance(error, SupervisorError):
        return gettext(error.msgid, **error.params)
    return str(error)


def answer_error(answer: dict[str, Any]) -> str:
    """The error of the controller's answer in the reader's language (its ``message``, else its words)."""
    message = answer.get("message")
    if isinstance(message, dict) and isinstance(message.get("msgid"), str):
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        try:
            return gettext(message["msgid"], **params)
        except (KeyError, TypeError, ValueError):  # a catalogue entry that does not fit the parameters
            return str(answer.get("error") or message["msgid"])
    return str(answer.get("error") or "")


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)

    @app.context_processor
    def languages():
        return {"languages": LANGUAGES, "current_language": select_locale()}
