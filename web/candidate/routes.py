"""Look-up by ID number, name and 准考证明编号; a candidate sees only their own attempts.

A wrong guess gets the same answer whatever was wrong, and look-ups are rate
limited per address, so the form cannot be used to find out who sat an exam.
"""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from examroom_web.candidate import bp
from examroom_web.replay.video import clips_of
from examroom_web.security import CANDIDATE_SESSION_KEY
from examroom_web.security import public
from examroom_web.services import records



class LookupForm(FlaskForm):
    id_number = StringField(validators=[DataRequired(), Length(max=32)])
    name = StringField(validators=[DataRequired(), Length(max=64)])
    exam_number = StringField(validators=[DataRequired(), Length(max=32)])


@bp.route("/", methods=["GET", "POST"])
@public
def lookup():
    form = LookupForm()
    if form.validate_on_submit():
        limiter = current_app.extensions["examroom.limiter"]
        with limiter.limit(lambda: current_app.config["CANDIDATE_LOOKUP_LIMIT"],
                           key_func=lambda: request.remote_addr or "", scope="candidate-lookup"):
            pass
        candidate = records().find_candidate(form.id_number.data, form.name.data, form.exam_number.data)
        if candidate is None:
            return render_template("candidate_lookup.html", form=form,
                                   error=_("未找到匹配的考试记录，请核对后重试")), 404
        session.clear()  # a shared phone or kiosk: nobody else's look-up survives this one
        session[CANDIDATE_SESSION_KEY] = candidate
        return redirect(url_for("candidate.results"))
    return render_template("candidate_lookup.html", form=form, error=None)


@bp.get("/results")
@public
def results():
    candidate = session.get(CANDIDATE_SESSION_KEY)
    if candidate is None:
        return redirect(url_for("candidate.lookup"))
    return render_template("candidate_results.html", attempts=records().attempts_of(candidate))


@bp.get("/attempts/<int:attempt_id>")
@public
def attempt(attempt_id: int):
    candidate = session.get(CANDIDATE_SESSION_KEY)
    found = records().attempt(attempt_id)
    if candidate is None or found is None or found.candidate_id != candidate:
        abort(404)  # the same answer for someone else's attempt and for none
    item_types = {item["id"]: item["type"] for item in (found.result or {}).get("items", [])}
    return render_template("result.html", attempt=found, item_types=item_types, clips=clips_of(found))


@bp.get("/attempts/<int:attempt_id>/slip.pdf")
@public
def slip(attempt_id: int):
    """The candidate's own result slip, to keep (only from their portal session, like the attempt page)."""
    from examroom_web.examday.routes import slip_response

    candidate = session.get(CANDIDATE_SESSION_KEY)
    found = records().attempt(attempt_id)
    if candidate is None or found is None or found.candidate_id != candidate:
        abort(404)
    return slip_response(attempt_id, download=True)


@bp.post("/leave")
@public
def leave():
    session.pop(CANDIDATE_SESSION_KEY, None)
    return redirect(url_for("candidate.lookup"))
