"""Sign-in, sessions, roles, CSRF, rate limits, security headers and the audit trail of the web layer.

Every view declares who may call it: ``@roles(...)`` for signed-in roles,
``@public`` for the few pages anyone may open (sign-in, the candidate portal).
A test walks the URL map and fails on any view that declares neither.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Callable

from flask import Flask, Response, abort, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import CSRFProtect

from examroom.accounts.users import Account, Accounts, Role
from examroom.accounts.audit import AuditLog
from examroom.accounts.login_sessions import LoginSessions

# The candidate portal keeps the signed-in candidate under this session key (not a Flask-Login user).
CANDIDATE_SESSION_KEY = "candidate_id"

csrf = CSRFProtect()


class SignedIn(UserMixin):
    def __init__(self, account: Account) -> None:
        self.account = account
        self.id = str(account.id)

    @property
    def role(self) -> Role:
        return self.account.role


def accounts() -> Accounts:
    return current_app.extensions["examroom.accounts.users"]


def audit_log() -> AuditLog:
    return current_app.extensions["examroom.accounts.audit"]


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
# Candidates' face pictures (sensitive personal information, 个人信息保护法): supervisors and auditors
# only, each view audit-logged; an administrator manages the course, not its candidates' faces.
FACE_VIEWERS = (Role.SUPERVISOR, Role.AUDITOR)


def visible_courses() -> tuple[str, ...] | None:
    """The courses the signed-in person may see records of (None: all; an auditor's scope limits)."""
    return current_user.account.courses


def may_see(attempt) -> bool:
    """Whether the signed-in person may see this attempt (an auditor only within their scope)."""
    courses = visible_courses()
    return courses is None or attempt.course in courses


# Scripts only from this site's files (web/static), never inline; nothing may frame the pages.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                           "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: over HTTPS the CSRF check compares the form's Referer with the host.
    "Referrer-Policy": "same-origin",
}
SESSION_TOKEN = "login"  # the flask session's key for the server-side login session's token


class _Cookies(SecureCookieSessionInterface):
    """Session cookies marked Secure when configured, and whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def login_sessions() -> LoginSessions:
    return current_app.extensions["examroom.accounts.login_sessions"]


def sign_in(account: Account) -> None:
    """Start a server-side session for the account in a fresh cookie (no fixation of an old one)."""
    kept = {k: v for k, v in session.items() if k == "lang"}
    session.clear()
    session.update(kept)
    session[SESSION_TOKEN] = login_sessions().open(account.id, datetime.now(timezone.utc), request.remote_addr or "")
    login_user(SignedIn(account))


def sign_out() -> None:
    """End the session on the server, so the old cookie no longer signs anyone in."""
    token = session.pop(SESSION_TOKEN, None)
    if token:
        login_sessions().end(token)
    logout_user()


def init_app(app: Flask, accounts_service: Accounts, audit_service: AuditLog,
             sessions_service: LoginSessions) -> Limiter:
    app.extensions["examroom.accounts.users"] = accounts_service
    app.extensions["examroom.accounts.audit"] = audit_service
    app.extensions["examroom.accounts.login_sessions"] = sessions_service
    app.session_interface = _Cookies()
    csrf.init_app(app)
    login = LoginManager(app)
    login.login_view = "auth.login"

    @login.user_loader
    def load(user_id: str):
        token = session.get(SESSION_TOKEN)
        if not isinstance(token, str) or not user_id.isdigit():
            return None
        if login_sessions().user_of(token, datetime.now(timezone.utc)) != int(user_id):
            return None  # signed out, password changed, account disabled, or expired
        account = accounts_service.get(int(user_id))
        return SignedIn(account) if account else None

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.status_code == 429 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = "60"  # a refusal that does not say when is an invitation to hammer
        return response

    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", default_limits=[])
    app.extensions["examroom.limiter"] = limiter
    return limiter
