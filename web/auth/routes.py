"""Sign-in with lockout after repeated failures; every attempt goes into the audit log."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from examroom.accounts import LoginRefused
from web.auth import bp
from web.filters import local_time
from web.scope import sees_this_course
from web.security import STAFF, SignedIn, accounts, audit, public, roles


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired()])
    password = PasswordField(validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        limiter = current_app.extensions["examroom.limiter"]
        with limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], key_func=lambda: request.remote_addr or ""):
            pass
        try:
            account = accounts().authenticate(form.username.data, form.password.data, datetime.now(timezone.utc))
        except LoginRefused as refused:
            audit("login_refused", form.username.data, "locked" if refused.locked_until else "", actor="-")
            if refused.locked_until:
                flash(_("登录失败次数过多，账号已锁定至 %(time)s", time=local_time(refused.locked_until)), "error")
            else:
                flash(_("用户名或密码错误"), "error")
            return render_template("login.html", form=form), 401
        login_user(SignedIn(account))
        audit("login")
        target = request.args.get("next", "")
        # Only local paths: an open redirect would send a supervisor to a look-alike site.
        if not target.startswith("/") or target.startswith("//"):
            # An auditor of other courses is not shown this one running: their records instead.
            target = url_for("live.course" if sees_this_course() else "results.recent")
        return redirect(target)
    return render_template("login.html", form=form)


@bp.post("/logout")
@roles(*STAFF)
def logout():
    audit("logout")
    logout_user()
    return redirect(url_for("auth.login"))
