"""Self-check views. The check itself runs in the controller process (it owns the ports) and
stores its progress in ``sitting_checks`` whenever it changes; this page reads that row, polls
it while the walk-round goes on, and records a supervisor's override with name and reason."""

from flask import jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from examroom.records.attempt_log import utc_now
from examroom.station.selfcheck import sitting_checks_of
from examroom_web.filters import local_time
from flask_login import current_user

from examroom_web.security import STAFF, SUPERVISORS, audit, roles
from examroom_web.selfcheck import bp
from examroom_web.services import records


def _checks():
    return sitting_checks_of(records())


def _as_dict(row) -> dict | None:
    if row is None:
        return None
    return {"id": row.id, "passed": row.passed, "report": row.report,
            "updated": local_time(row.finished_utc, "%H:%M:%S"),
            "override": {"actor": row.override_actor, "reason": row.override_reason,
                         "time": local_time(row.override_utc)} if row.override_actor else None}


@bp.get("/")
@roles(*STAFF)
def page():
    return render_template("selfcheck.html", check=_as_dict(_checks().latest()), error=request.args.get("error"))


@bp.get("/state.json")
@roles(*STAFF)
def state():
    return jsonify(_as_dict(_checks().latest()))


@bp.post("/override")
@roles(*SUPERVISORS)
def override():
    row = _checks().latest()
    if row is None:
        return redirect(url_for("selfcheck.page", error=_("尚无场地信号检测记录")))
    # Who overrides is the signed-in supervisor (a typed name is kept beside it as given).
    typed = request.form.get("actor", "").strip()
    actor = current_user.account.username + (f" ({typed})" if typed and typed != current_user.account.username else "")
    reason = request.form.get("reason", "")
    try:
        _checks().override(row.id, actor, reason, utc_now())
    except ValueError:
        return redirect(url_for("selfcheck.page", error=_("放行须填写考场负责人姓名和原因")))
    audit("selfcheck_override", f"check {row.id}", reason)
    return redirect(url_for("selfcheck.page"))
