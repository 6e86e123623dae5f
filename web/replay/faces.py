"""Face review on the replay page: flagged pictures, the check-in photo beside them, the review mark.

Pictures of candidates are served only to staff who may open the attempt
(an auditor's scope applies) and are not kept in shared caches.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from examroom.faces.review import (FaceReviewError, checkin_photo, face_data_deleted, flag_picture, flags_to_review, identity_checks,
                                  mark_reviewed, reference_photo, thumbnail)
from examroom.faces.review import identity_picture as identity_picture_of
from examroom_web.replay import bp
from examroom_web.replay.attempts import attempt_or_404
from examroom_web.security import FACE_VIEWERS, STAFF, audit, roles
from examroom_web.services import records

MAX_COMMENT = 500


def face_review_context(attempt_id: int) -> dict:
    """What the replay page shows of the attempt's face flags."""
    return {"face_flags": flags_to_review(records().sessions, attempt_id),
            "has_checkin_photo": checkin_photo(records().sessions, attempt_id) is not None,
            "has_reference_photo": reference_photo(records().sessions, attempt_id) is not None,
            "identity_checks": identity_checks(records().sessions, attempt_id),
            "face_data_deleted": face_data_deleted(records().sessions, attempt_id)}


def _jpeg(data: bytes) -> Response:
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"  # a candidate's face: not for shared caches
    return response


def _picture(attempt_id: int, flag_id: int) -> bytes:
    attempt_or_404(attempt_id)
    audit("view_face_picture", f"attempt {attempt_id} face flag {flag_id}")  # every look at a face is logged
    try:
        return flag_picture(records().sessions, attempt_id, flag_id)
    except FaceReviewError:
        abort(404)


@bp.get("/<int:attempt_id>/faces/<int:flag_id>.jpg")
@roles(*FACE_VIEWERS)
def face_picture(attempt_id: int, flag_id: int):
    return _jpeg(_picture(attempt_id, flag_id))


@bp.get("/<int:attempt_id>/faces/<int:flag_id>/thumb.jpg")
@roles(*FACE_VIEWERS)
def face_thumbnail(attempt_id: int, flag_id: int):
    return _jpeg(thumbnail(_picture(attempt_id, flag_id)))


@bp.get("/<int:attempt_id>/checkin-photo.jpg")
@roles(*FACE_VIEWERS)
def checkin_picture(attempt_id: int):
    attempt_or_404(attempt_id)
    audit("view_face_picture", f"attempt {attempt_id} check-in photo")
    photo = checkin_photo(records().sessions, attempt_id)
    if photo is None:
        abort(404)
    return _jpeg(thumbnail(photo))  # re-encoded: the kept photo may be a PNG or a phone's full-size JPEG


@bp.get("/<int:attempt_id>/reference-photo.jpg")
@roles(*FACE_VIEWERS)
def reference_picture(attempt_id: int):
    """The booking's reference photo the check-in and the in-cab camera were compared with."""
    attempt_or_404(attempt_id)
    audit("view_face_picture", f"attempt {attempt_id} reference photo")
    photo = reference_photo(records().sessions, attempt_id)
    if photo is None:
        abort(404)
    return _jpeg(thumbnail(photo))


@bp.get("/<int:attempt_id>/identity/<int:check_id>.jpg")
@roles(*FACE_VIEWERS)
def identity_picture(attempt_id: int, check_id: int):
    """The photo presented at one of the attempt's check-in comparisons."""
    attempt_or_404(attempt_id)
    audit("view_face_picture", f"attempt {attempt_id} identity check {check_id}")
    try:
        return _jpeg(thumbnail(identity_picture_of(records().sessions, attempt_id, check_id)))
    except FaceReviewError:
        abort(404)


@bp.post("/<int:attempt_id>/faces/<int:flag_id>/review")
@roles(*STAFF)
def face_review(attempt_id: int, flag_id: int):
    attempt_or_404(attempt_id)
    comment = (request.form.get("comment") or "").strip()[:MAX_COMMENT]
    try:
        mark_reviewed(records().sessions, attempt_id, flag_id, current_user.account.username, comment,
                      datetime.now(timezone.utc))
    except FaceReviewError:
        abort(404)
    audit("face_review", f"attempt {attempt_id} face flag {flag_id}", comment)
    flash(_("人脸标记已核查"), "ok")
    return redirect(url_for("replay.replay", attempt_id=attempt_id) + "#faces")
