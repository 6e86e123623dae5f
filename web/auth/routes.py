"""Sign-in and sign-out; failed sign-ins slow down the next try, and every attempt goes into the audit log."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from examroom.accounts.users import LoginRefused
from examroom.accounts.signin_throttle import SignInThrottles
from examroom_web.auth import bp
from examroom_web.redirects import local_target
from examroom_web.scope import sees_this_course
from examroom_web.security import STAFF, accounts, audit, public, roles, sign_in, sign_out
from examroom_web.services import records


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])


def _refused(form: LoginForm, status: int, headers: dict | None = None):
    # One message for every failure: a wrong name, a wrong password, a disabled account, a throttle.
    flash(_("用户名或密码错误，或尝试过于频繁，请稍后再试"), "error")
    return render_template("login.html", form=form), status, headers or {}


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        now = datetime.now(timezone.utc)
        address, name = request.remote_addr or "", form.username.data
        throttles = SignInThrottles(records().sessions)
        wait = throttles.wait(address, name, now)
        if wait:
            audit("login_throttled", name, f"{wait} s", actor="-")
            return _refused(form, 429, {"Retry-After": str(wait)})
        try:
            account = accounts().authenticate(name, form.password.data, now)
        except LoginRefused:
            throttles.failed(address, name, now)
            audit("login_refused", name, actor="-")
            return _refused(form, 401)
        throttles.succeeded(address, name)
        sign_in(account)
        audit("login")
        # An auditor of other courses is not shown this one running: their records instead.
        # The city console opens on its overview; a course's web process has no city pages.
        if current_app.extensions.get("examroom.city.console") is not None:
            default = url_for("city.overview")
        else:
            default = url_for("live.course" if sees_this_course() else "results.recent")
        return redirect(local_target(request.args.get("next"), default, refuse_control=False))
    return render_template("login.html", form=form)


@bp.post("/logout")
@roles(*STAFF)
def logout():
    audit("logout")
    sign_out()
    return redirect(url_for("auth.login"))
