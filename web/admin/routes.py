"""The audit log, readable by administrators, editable by nobody; sign-in throttles, seen and lifted."""

from datetime import datetime, timezone

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from examroom.accounts.users import Role
from examroom.accounts.signin_throttle import SignInThrottles
from examroom_web.admin import bp
from examroom_web.security import audit as record, audit_log, roles
from examroom_web.services import records


@bp.get("/audit")
@roles(Role.ADMIN)
def audit():
    log = audit_log()
    return render_template("audit.html", entries=log.entries(), problems=log.verify())


@bp.get("/throttles")
@roles(Role.ADMIN)
def throttles():
    now = datetime.now(timezone.utc)
    return render_template("throttles.html", throttles=SignInThrottles(records().sessions).current(now), now=now)


@bp.post("/throttles/lift")
@roles(Role.ADMIN)
def lift_throttle():
    key = request.form.get("key", "")[:160]
    if SignInThrottles(records().sessions).lift(key):
        record("lift_throttle", key)
        flash(_("已解除限制：%(key)s", key=key), "ok")
    return redirect(url_for("admin.throttles"))
