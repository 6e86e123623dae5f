"""Sign-in, roles, CSRF, rate limits and the audit trail of the web layer.

Every view declares who may call it: ``@roles(...)`` for signed-in roles,
``@public`` for the few pages anyone may open (sign-in, the candidate portal).
A test walks the URL map and fails on any view that declares neither.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Callable

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf import CSRFProtect

from examroom.accounts import Account, Accounts, Role
from examroom.audit import AuditLog

csrf = CSRFProtect()


class SignedIn(UserMixin):
    def __init__(self, account: Account) -> None:
        self.account = account
        self.id = str(account.id)

    @property
    def role(self) -> Role:
        return self.account.role


def accounts() -> Accounts:
    return current_app.extensions["examroom.accounts"]


def audit_log() -> AuditLog:
    return current_app.extensions["examroom.audit"]


def audit(action: str, target: str = "", detail: str = "", actor: str | None = None, role: str | None = None) -> None:
    """Record an action of the person making this request."""
    if actor is None:
        actor = current_user.account.username if current_user.is_authenticated else "-"
        role = current_user.role.value if current_user.is_authenticated else "-"
    audit_log().record(datetime.now(timezone.utc), actor, role or "-", action, target, detail,
                       request.remote_addr or "")


def roles(*allowed: Role) -> Callable:
    """Only signed-in users with one of these roles; others are sent to sign in or refused."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path))
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = frozenset(allowed)
        return wrapper
    return decorate


def public(view: Callable) -> Callable:
    view.allowed_roles = None  # anyone, signed in or not
    return view


STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR)
SUPERVISORS = (Role.ADMIN, Role.SUPERVISOR)


def visible_courses() -> tuple[str, ...] | None:
    """The courses the signed-in person may see records of (None: all; an auditor's scope limits)."""
    return current_user.account.courses


def may_see(attempt) -> bool:
    """Whether the signed-in person may see this attempt (an auditor only within their scope)."""
    courses = visible_courses()
    return courses is None or attempt.course in courses


def init_app(app: Flask, accounts_service: Accounts, audit_service: AuditLog) -> Limiter:
    app.extensions["examroom.accounts"] = accounts_service
    app.extensions["examroom.audit"] = audit_service
    csrf.init_app(app)
    login = LoginManager(app)
    login.login_view = "auth.login"

    @login.user_loader
    def load(user_id: str):
        account = accounts_service.get(int(user_id))
        return SignedIn(account) if account else None

    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", default_limits=[])
    app.extensions["examroom.limiter"] = limiter
    return limiter
