"""People as screens name them: an account's display name (考试员 王) for its username.

The records keep usernames (a booking's ``confirmed_by``, the audit log's actor): they never change.
Screens show the name the administrator gave the account, looked up once per request.
"""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy import select

from examroom.records.models import User
from examroom_web.services import records


def person_name(username: str | None) -> str:
    """The account's display name, or the username itself when there is no such account."""
    if not username:
        return ""
    names = g.get("display_names")
    if names is None:
        with records().sessions() as session:
            names = g.display_names = dict(session.execute(select(User.username, User.display_name)).all())
    return names.get(username) or username


def init_app(app: Flask) -> None:
    app.jinja_env.filters["person_name"] = person_name
    app.jinja_env.globals["person_name"] = person_name
