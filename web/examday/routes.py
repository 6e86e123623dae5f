"""Exam-day views: thin over examroom's check-in, call-up, sealing and slip services.

These pages write only the records the supervisor's desk owns (check-in,
vehicle assignment, call-up); starting an attempt is the controller's, and
the console's actions go to the controller through web.console.
"""

from __future__ import annotations

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from examroom.examday.callup import CallUp, CallUpError, hall
from examroom.examday.checkin import CheckIn, CheckInError
from examroom.records.models import Attempt, Booking, Seal, SealKey, Sitting, Vehicle
from examroom.records.sealing import load_public_key, seal_digest
from examroom.examday.slip import SlipError, render_slip
from examroom.records.slip_token import SlipTokenError, differences, read_slip, slip_claims
from examroom.records.verify import verify
from examroom_web.examday import bp
from examroom_web.i18n import translated
from examroom_web.params import parse_id
from examroom_web.security import FACE_VIEWERS, STAFF, SUPERVISORS, audit, public, roles
from examroom_web.services import records


def _sessions():
    return records().sessions


def _booking() -> int:
    try:
        return parse_id("booking", request.form.get("booking", ""))
    except ValueError as exc:
        abort(400, description=str(exc))


def _sitting(sitting_id: int) -> Sitting:
    with _sessions()() as session:
        sitting = session.get(Sitting, sitting_id)
    if sitting is None:
        abort(404)
    return sitting


@bp.get("/")
@roles(*SUPERVISORS)
def sittings():
    with _sessions()() as session:
        rows = session.scalars(select(Sitting).order_by(Sitting.starts_utc)).all()
    return render_template("examday/sittings.html", sittings=rows)


@bp.route("/sitting/<int:sitting_id>/checkin", methods=["GET", "POST"])
@roles(*SUPERVISORS)
def checkin(sitting_id: int):
    """Identify by ID number, then the photo: compared 1:1 with the booking's reference photo; a
    mismatch or a photo that cannot tell shows both pictures for the supervisor's decision."""
    sitting = _sitting(sitting_id)
    service = CheckIn(_sessions())
    arrival = message = error = pending = None
    if request.method == "POST":
        try:
            if "decision" in request.form:
                message, pending = _decide(service)
            elif "booking" in request.form:
                message, pending = _present(service)
            else:
                arrival = service.identify(sitting_id, request.form.get("id_number", ""))
        except CheckInError as exc:
            error = translated(exc)
    status = 200 if error is None else 422
    return render_template("examday/checkin.html", sitting=sitting, arrival=arrival, message=message,
                           error=error, pending=pending, face_unavailable=_face_unavailable()), status


def _face_unavailable() -> bool:
    from examroom.faces.verification import unavailable_reason

    return unavailable_reason() is not None


def _present(service: CheckIn) -> tuple[str, dict | None]:
    """The photo presented: checked in, or a pending 1:1 check for the supervisor (both pictures shown)."""
    booking = _booking()
    photo = request.files.get("photo")
    picture = photo.read() if photo else b""
    # The confirming examiner is whoever is signed in, not a name typed into a field.
    presented = service.present(booking, picture, current_user.account.username)
    identity = presented.identity
    distance = "" if identity.distance is None else f" {identity.distance:.3f}"
    audit("identity_check", f"booking {booking} identity check {identity.check_id}",
          f"{identity.outcome}{distance} {identity.unclear}".strip())
    if presented.queue_no is None:
        return None, {"booking": booking, "check": identity.check_id, "outcome": identity.outcome,
                      "unclear": identity.unclear, "distance": identity.distance, "threshold": identity.threshold}
    audit("check_in", f"booking {booking}", f"queue {presented.queue_no}")
    message = _("签到成功，排队号 %(n)s", n=presented.queue_no)
    if identity.outcome == "match":
        message += _("；人脸比对一致（距离 %(d).3f）", d=identity.distance)
    elif identity.outcome == "enrolled":
        message += _("；本次照片已作为该预约的比对照片")
    faces = service.face_check(picture)
    if not faces.ok:  # the photo is kept with a review flag; say so while the candidate is here
        message += _("；照片%(faces)s，已标记待复核", faces=faces.describe())
    return message, None


def _decide(service: CheckIn) -> tuple[str, dict | None]:
    """The supervisor's decision on a pending 1:1 check, audit-logged (and sealed with the attempts)."""
    booking = _booking()
    try:
        check = parse_id("check", request.form.get("check", ""))
    except ValueError as exc:
        abort(400, description=str(exc))
    accepted = request.form.get("decision") == "accept"
    comment = (request.form.get("comment") or "").strip()[:500]
    queue_no = service.decide(booking, check, accepted, current_user.account.username, comment)
    audit("identity_decision", f"booking {booking} identity check {check}",
          ("accepted" if accepted else "refused") + (f": {comment}" if comment else ""))
    if queue_no is None:
        return _("已拒绝签到：%(why)s", why=comment), None
    audit("check_in", f"booking {booking}", f"queue {queue_no}")
    return _("考试员确认为本人，签到成功，排队号 %(n)s", n=queue_no), None


def _picture_response(data: bytes | None) -> Response:
    if not data:
        abort(404)
    from examroom.faces.review import thumbnail

    response = Response(thumbnail(data, 320), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"  # a candidate's face: not for shared caches
    return response


@bp.get("/sitting/<int:sitting_id>/booking/<int:booking_id>/reference.jpg")
@roles(*FACE_VIEWERS)
def reference_picture(sitting_id: int, booking_id: int):
    """The booking's reference photo, beside the check-in form; every view is in the audit log."""
    data = CheckIn(_sessions()).reference_photo(booking_id)
    audit("view_face_picture", f"booking {booking_id} reference photo", "check-in desk")
    return _picture_response(data)


@bp.get("/sitting/<int:sitting_id>/booking/<int:booking_id>/identity/<int:check_id>.jpg")
@roles(*FACE_VIEWERS)
def identity_picture(sitting_id: int, booking_id: int, check_id: int):
    """The photo presented at a pending check-in comparison; every view is in the audit log."""
    data = CheckIn(_sessions()).identity_picture(booking_id, check_id)
    audit("view_face_picture", f"booking {booking_id} identity check {check_id}", "check-in desk")
    return _picture_response(data)


@bp.route("/sitting/<int:sitting_id>/queue", methods=["GET", "POST"])
@roles(*SUPERVISORS)
def queue(sitting_id: int):
    sitting = _sitting(sitting_id)
    callup = CallUp(_sessions())
    error = None
    if request.method == "POST":
        try:
            vehicle = request.form.get("vehicle", "")
            if request.form.get("booking"):
                callup.assign(_booking(), vehicle)
                audit("assign", f"booking {request.form['booking']}", f"vehicle {vehicle}")
            elif callup.call_next(sitting_id, vehicle) is None:
                error = _("没有等候该车型的考生")
            else:
                audit("call_next", f"sitting {sitting_id}", f"vehicle {vehicle}")
        except CallUpError as exc:
            error = translated(exc)
    with _sessions()() as session:
        vehicles = session.scalars(select(Vehicle).order_by(Vehicle.id)).all()
        waiting = session.scalars(select(Booking).where(Booking.sitting_id == sitting_id,
                                                        Booking.queue_no.is_not(None))
                                  .order_by(Booking.queue_no)).all()
        rows = [(b, b.candidate) for b in waiting]
    plates = {v.id: v.plate for v in vehicles}
    return render_template("examday/queue.html", sitting=sitting, vehicles=vehicles, rows=rows, plates=plates,
                           error=error), (200 if error is None else 422)


@bp.get("/hall/<int:sitting_id>")
@public  # the waiting-hall screen: names are masked there
def waiting_hall(sitting_id: int):
    screen = hall(_sessions(), sitting_id)
    if not screen:
        abort(404)
    return render_template("examday/hall.html", screen=screen, sitting_id=sitting_id)


@bp.get("/verify/<int:attempt_id>")
@public  # the link in a slip's QR code: anyone holding the slip may check it
def verify_attempt(attempt_id: int):
    """The link in a slip's QR code: what the slip must say, and whether the record is sealed and intact.

    The page shows the sealed record's facts (masked), so a slip carrying a real seal digest but
    another score or verdict is caught by eye; a slip whose QR carries a signed statement
    (``?slip=``) is compared field by field.
    """
    with _sessions()() as session:
        attempt = session.scalar(select(Attempt).where(Attempt.id == attempt_id)
                                 .options(joinedload(Attempt.candidate), joinedload(Attempt.deductions)))
        if attempt is None:
            abort(404)
        seal = session.get(Seal, attempt_id)
        digest = seal_digest(seal) if seal else ""
        keys = {k.key_id: load_public_key(k.public_pem) for k in session.scalars(select(SealKey))}
        record = slip_claims(attempt, seal.key_id if seal else "")
        item_types = {i["id"]: i["type"] for i in (attempt.result or {}).get("items", [])}
    report = verify(_sessions(), attempts=[attempt_id])
    intact = seal is not None and report.ok and attempt_id in report.checked
    claimed = request.args.get("seal", "")[:64]
    seal_matches = bool(claimed) and len(claimed) >= 16 and digest.startswith(claimed)
    slip = _slip_check(request.args.get("slip", ""), keys, record, attempt_id)
    return render_template("examday/verify.html", attempt_id=attempt_id, report=report, digest=digest,
                           sealed=seal is not None, intact=intact, record=record, item_types=item_types,
                           claimed=claimed, seal_matches=seal_matches, slip=slip)


def _slip_check(text: str, keys: dict, record: dict, attempt_id: int) -> dict | None:
    """The slip's signed statement against the record: None when the link carries none."""
    if not text:
        return None
    try:
        check = read_slip(text[:4096], keys)
    except SlipTokenError:
        return {"readable": False, "signed": False, "differs": [], "claims": {}}
    differs = differences(check.claims, record)
    return {"readable": True, "signed": check.signed, "differs": differs, "claims": check.claims,
            "matches": check.signed and not differs and check.attempt == attempt_id}


@bp.get("/slip/<int:attempt_id>.pdf")
@roles(*STAFF)
def slip(attempt_id: int):
    return slip_response(attempt_id)


def slip_response(attempt_id: int, download: bool = False) -> Response:
    """The attempt's sealed result slip as a PDF (staff print it; the candidate downloads their own)."""
    try:
        pdf = render_slip(_sessions(), attempt_id, url_for("examday.verify_attempt", attempt_id=0, _external=True)
                          .rsplit("/", 1)[0] + "/")
    except SlipError as exc:
        abort(404, translated(exc))
    disposition = "attachment" if download else "inline"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"{disposition}; filename=slip-{attempt_id}.pdf"})
