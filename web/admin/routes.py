"""The audit log, readable by administrators, editable by nobody."""

from flask import render_template

from examroom.accounts import Role
from web.admin import bp
from web.security import audit_log, roles


@bp.get("/audit")
@roles(Role.ADMIN)
def audit():
    log = audit_log()
    return render_template("audit.html", entries=log.entries(), problems=log.verify())
