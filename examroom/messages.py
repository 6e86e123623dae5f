"""Messages a supervisor reads: errors that carry a Chinese msgid and its parameters.

An error that reaches a supervisor's screen or the command line of a supervisor's command is a
:class:`SupervisorError` (or a subclass naming what was refused). Its msgid is Chinese, marked
with :func:`N_` so ``pybabel extract`` finds it (``babel.cfg`` reads examroom/ too), and needs an
English entry in ``web/translations/en/LC_MESSAGES/messages.po``. ``str()`` of the error is the
Chinese sentence: the command line, the log, and any screen without a catalogue show that. The
web translates it into the reader's language (``web.i18n.translated``), also when it comes from
the controller's process over the link (``as_dict``). Programming errors stay plain exceptions.

The bottom of examroom: imports nothing, every room may import it.
"""

from __future__ import annotations

from typing import Any


def N_(msgid: str) -> str:  # noqa: N802 (gettext's name for a marker that translates later)
    """Mark a msgid for the catalogue; it is translated where it is shown, not here."""
    return msgid


class SupervisorError(Exception):
    """A refusal or failure a supervisor can act on, as msgid (Chinese) and parameters."""

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid % params if params else msgid)

    def as_dict(self) -> dict[str, Any]:
        """What the controller's link sends, so the web process can translate it."""
        return {"msgid": self.msgid, "params": self.params}
