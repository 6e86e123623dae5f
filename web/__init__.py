"""The Flask application: thin views over examroom's records and live feed.

The web layer never opens a serial port or a camera; it reads the database and
subscribes to the controller's live feed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from examroom.live.feed import LiveFeed
    from examroom.records.attempt_log import Records
    from examroom_web.controlclient import ControllerClient


# The application's imports are made when it is created, not when the package is: ``python -m
# examroom_web`` imports this package in gunicorn's master too, which only watches the worker, and
# every page the master imported and the worker then wrote to was resident twice.
def create_app(records: Records, feed: LiveFeed | None = None,
               config: dict[str, Any] | None = None, controller: ControllerClient | None = None) -> Flask:
    from flask import Flask

    from examroom.accounts.audit import AuditLog
    from examroom.accounts.login_sessions import LoginSessions
    from examroom.accounts.users import Accounts
    from examroom.live.feed import LiveFeed
    from examroom_web import params
    from scoring import config_files

    app = Flask(__name__)

    params.init_app(app)  # bounded ids, finite JSON: before any route is added
    app.config.from_mapping(
        BABEL_DEFAULT_LOCALE="zh_CN",
        SSE_KEEPALIVE_SECONDS=15.0,
        JSON_AS_ASCII=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # A course LAN often has no TLS; set SESSION_COOKIE_SECURE where HTTPS is served.
        SESSION_COOKIE_SECURE=False,
        # Every 429 says when to come back (Retry-After); sign-in has its own throttle (examroom.accounts.signin_throttle).
        RATELIMIT_HEADERS_ENABLED=True,
        CANDIDATE_LOOKUP_LIMIT="5 per minute",
        COURSE_FILE=str(config_files.course_file()),
        RULES_FILE=str(config_files.rule_set_file()),
    )
    if config:
        app.config.update(config)
    app.extensions["examroom.records.attempt_log"] = records
    app.extensions["examroom.feed"] = feed or LiveFeed()
    if controller is not None:
        app.extensions["examroom.live.controller"] = controller
    if not app.config.get("SECRET_KEY"):
        raise ValueError("SECRET_KEY must be set: it signs the session cookies")
    app.json.ensure_ascii = False

    from examroom_web import errorpages, filters, i18n, people, scope, security
    from examroom_web.admin import bp as admin_bp
    from examroom_web.api import bp as api_bp
    from examroom_web.console import bp as console_bp
    from examroom_web.replay import bp as replay_bp
    from examroom_web.auth import bp as auth_bp
    from examroom_web.candidate import bp as candidate_bp
    from examroom_web.examday import bp as examday_bp
    from examroom_web.cameras import bp as cameras_bp
    from examroom_web.city import bp as city_bp
    from examroom_web.live import bp as live_bp
    from examroom_web.results import bp as results_bp
    from examroom_web.selfcheck import bp as selfcheck_bp
    from examroom_web.stats import bp as stats_bp

    i18n.init_app(app)
    filters.init_app(app)
    errorpages.init_app(app)
    people.init_app(app)
    scope.init_app(app)  # before CSRF: out of scope is out of scope, token or not
    security.init_app(app, Accounts(records.sessions), AuditLog(records.sessions), LoginSessions(records.sessions))
    # The API answers JSON clients that sign in with the pages' session; its GETs change nothing.
    for blueprint in (auth_bp, live_bp, results_bp, candidate_bp, admin_bp, stats_bp, api_bp, console_bp, replay_bp,
                      examday_bp, cameras_bp, selfcheck_bp, city_bp):
        app.register_blueprint(blueprint)
    @app.get("/favicon.ico")
    def favicon():
        from flask import redirect, url_for

        return redirect(url_for("static", filename="favicon.svg"))

    favicon.allowed_roles = None  # public, like the static files
    return app
