"""Replay views; the course drawn comes from the web process's settings, a re-judge uses the attempt's own."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from examroom.coursetools.plan import plan_of
from examroom.records.reviews import Reviews
from examroom.coursetools.track import outline_at, track_of
from examroom.live.rejudge import RejudgeError, rejudge
from scoring.course import CourseError
from scoring.rules import RuleSetError
from examroom_web.replay import bp
from examroom_web.replay.attempts import AUDITORS, attempt_or_404, course
from examroom_web.i18n import translated
from examroom_web.params import parse_seconds
from examroom_web.security import STAFF, audit, roles
from examroom_web.services import records





@bp.get("/<int:attempt_id>/replay")
@roles(*STAFF)
def replay(attempt_id: int):
    from examroom_web.replay.exports import export_panel  # it builds on this module's views
    from examroom_web.replay.faces import face_review_context  # that module imports this one

    attempt = attempt_or_404(attempt_id)
    can_review = current_user.role in AUDITORS
    return render_template("replay.html", attempt=attempt, reviews=Reviews(records().sessions).of(attempt_id),
                           can_review=can_review, exports=export_panel(attempt_id) if can_review else None,
                           **face_review_context(attempt_id))


@bp.get("/<int:attempt_id>/track.json")
@roles(*STAFF)
def track(attempt_id: int):
    attempt = attempt_or_404(attempt_id)
    found = track_of(records().journal_lines(attempt_id))
    return jsonify(
        plan=plan_of(course()),
        start_t=found.start_t,
        end_t=found.poses[-1].t if found.poses else found.start_t,
        poses=[[round(p.t, 3), round(p.x, 3), round(p.y, 3), p.heading, round(p.speed, 2)] for p in found.poses],
        deductions=[{"t": d.t, "rule": d.rule, "title": d.title, "points": d.points, "disqualify": d.disqualify}
                    for d in attempt.deductions])


@bp.get("/<int:attempt_id>/outline.json")
@roles(*STAFF)
def outline(attempt_id: int):
    attempt_or_404(attempt_id)
    try:
        t = parse_seconds("t", request.args["t"])
    except (KeyError, ValueError):
        return jsonify(error="t: seconds on the attempt's clock (a finite number)"), 400
    return jsonify(t=t, outline=outline_at(track_of(records().journal_lines(attempt_id)), course(), t))


@bp.post("/<int:attempt_id>/rejudge")
@roles(*AUDITORS)
def rejudge_view(attempt_id: int):
    """Judge the journal again under the attempt's own rule set and course (as ``examroom rejudge``)."""
    attempt_or_404(attempt_id)
    try:
        again = rejudge(records(), attempt_id, course())
    except (RejudgeError, RuleSetError, CourseError) as exc:
        return jsonify(error=translated(exc)), 422
    differences = again.stored_differences()
    notes = []
    if again.course and again.course["changed"]:
        notes.append(_("该考试所用的考场文件已更改：已按考试时保存的考场重新评判。")
                     if again.course["source"] == "snapshot" else
                     _("考场文件自该考试以来已更改，且考试未保存考场：按当前考场重新评判，结果仅供参考。"))
    audit("rejudge", f"attempt {attempt_id}", f"{len(differences)} difference(s)")
    return jsonify(rule_set=again.own_rule_set["id"], rejudged=again.own, differences=differences,
                   course=again.course, notes=notes)


@bp.post("/<int:attempt_id>/review")
@roles(*AUDITORS)
def review(attempt_id: int):
    attempt_or_404(attempt_id)
    comment = (request.form.get("comment") or "").strip()
    Reviews(records().sessions).mark(attempt_id, current_user.account.username, comment, datetime.now(timezone.utc))
    audit("review", f"attempt {attempt_id}", comment)
    flash(_("已标记为已审核"), "ok")
    return redirect(url_for("replay.replay", attempt_id=attempt_id))
