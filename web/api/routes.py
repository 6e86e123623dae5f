"""JSON views: the same records and roles as the pages, errors as JSON."""

from __future__ import annotations

import functools
from datetime import date, datetime, timezone

from flask import jsonify, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from examroom.accounts.users import Role
from examroom.records.people import mask_id_number
from examroom.records.sealing import chain_heads
from examroom.records.statistics import compute
from scoring.observations import utc_text
from examroom_web.api import bp
from examroom_web.api.openapi import DOCUMENT, STATUSES
from examroom_web.params import parse_day
from examroom_web.security import STAFF, may_see, public, visible_courses
from examroom_web.services import feed, records


class BadRequest(ValueError):
    pass


@bp.errorhandler(HTTPException)
def as_json(error: HTTPException):
    return jsonify(error=error.description or error.name), error.code


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest):
    return jsonify(error=str(error)), 400


def api_roles(*allowed: Role):
    """Like web.security.roles, but answers 401/403 in JSON instead of sending to the sign-in page."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return jsonify(error="not signed in"), 401
            if current_user.role not in allowed:
                return jsonify(error="role not allowed"), 403
            return view(*args, **kwargs)

        wrapper.allowed_roles = frozenset(allowed)
        return wrapper
    return decorate


def _date(name: str) -> date | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        return parse_day(name, text)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _text(name: str, limit: int) -> str | None:
    text = request.args.get(name)
    if text is not None and len(text) > limit:
        raise BadRequest(f"{name}: at most {limit} characters")
    return text or None


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return utc_text(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))


def attempt_json(a) -> dict:
    return {
        "id": a.id, "status": a.status, "score": a.score, "passed": a.passed, "vehicle_class": a.vehicle_class,
        "vehicle": a.vehicle.plate, "examiner": a.examiner, "course": a.course, "rule_set": a.rule_set,
        "candidate": {"name": a.candidate.name, "id_number": mask_id_number(a.candidate.id_number),
                      "exam_number": a.candidate.exam_number},
        "started_utc": _time(a.started_utc), "ended_utc": _time(a.ended_utc),
        "deductions": [{"rule": d.rule, "code": d.code, "title": d.title, "points": d.points,
                        "disqualify": d.disqualify, "item": d.item, "t": d.t, "utc": _time(d.utc), "value": d.value}
                       for d in a.deductions],
    }


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(DOCUMENT)


@bp.get("/v1/attempts")
@api_roles(*STAFF)
def attempts():
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status: one of {', '.join(STATUSES)}")
    limit_text = request.args.get("limit", "100")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 500:
        raise BadRequest("limit: a whole number from 1 to 500")
    found = records().search(day=_date("day"), vehicle_class=_text("vehicle_class", 4), status=status,
                             rule=_text("rule", 64), candidate=_text("candidate", 64),
                             examiner=_text("examiner", 64), courses=visible_courses(), limit=int(limit_text))
    return jsonify(attempts=[attempt_json(a) for a in found])


@bp.get("/v1/attempts/<int:attempt_id>")
@api_roles(*STAFF)
def attempt(attempt_id: int):
    found = records().attempt(attempt_id)
    if found is None or not may_see(found):
        return jsonify(error="no such attempt"), 404
    return jsonify(attempt_json(found))


@bp.get("/v1/live")
@api_roles(*STAFF)
def live():
    return jsonify(vehicles=feed().state())


@bp.get("/v1/seals/heads")
@api_roles(*STAFF)
def seal_heads():
    courses = visible_courses()
    with records().sessions() as session:
        heads = chain_heads(session, chains=None if courses is None else list(courses))
    return jsonify(heads=heads)


@bp.get("/v1/statistics")
@api_roles(*STAFF)
def statistics():
    stats = compute(records().sessions, since=_date("since"), until=_date("until"), courses=visible_courses())
    rates = lambda rs: [{"key": r.key, "attempts": r.attempts, "passed": r.passed, "rate": r.rate} for r in rs]  # noqa: E731
    return jsonify(attempts=stats.attempts, by_day=rates(stats.by_day), by_class=rates(stats.by_class),
                   by_item=rates(stats.by_item), by_vehicle=rates(stats.by_vehicle),
                   by_examiner=rates(stats.by_examiner))
