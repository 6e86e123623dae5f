"""Which course's records each view shows, and the check that keeps an auditor inside their scope.

An auditor's scope is a course or a city's courses (:attr:`examroom.accounts.users.Account.courses`);
admins and supervisors see everything. Every endpoint has one rule here, and
``tests/web/test_scope_matrix.py`` fails on an endpoint without one, so a new view cannot
forget its scope:

``ATTEMPT``  the view shows one attempt named by ``attempt_id``: out of scope it does not exist (404).
``COURSE``   the view shows this web process's course as it runs (live feed, queue, cameras, console,
             signal check): an auditor whose scope lacks this course is refused (403).
``FILTERED`` the view lists records and filters them itself with :func:`examroom_web.security.visible_courses`.
``NONE``     the view shows no course's records (sign-in, language, the API document, the audit log
             that only admins open, the candidate's own portal, the public verify page and hall screen).

The check runs before the view (and before its role check), so a view cannot leak by forgetting it.
"""

from __future__ import annotations

import enum

from flask import Flask, abort, current_app, request
from flask_login import current_user

from examroom_web.services import records


class Scope(enum.Enum):
    ATTEMPT = "attempt"
    COURSE = "course"
    FILTERED = "filtered"
    NONE = "none"


RULES: dict[str, Scope] = {
    "static": Scope.NONE,
    "favicon": Scope.NONE,
    "auth.login": Scope.NONE,
    "auth.logout": Scope.NONE,
    "i18n.switch": Scope.NONE,
    "admin.audit": Scope.NONE,
    "admin.throttles": Scope.NONE,  # sign-in throttles: addresses and names, no course's records
    "admin.lift_throttle": Scope.NONE,
    "api.openapi": Scope.NONE,
    "candidate.lookup": Scope.NONE,
    "candidate.results": Scope.NONE,
    "candidate.attempt": Scope.NONE,  # the candidate portal's session names the candidate
    "candidate.leave": Scope.NONE,
    "candidate.slip": Scope.NONE,  # the candidate's own slip: the portal's session names the candidate
    "examday.verify_attempt": Scope.NONE,  # public: what a slip must match
    "examday.waiting_hall": Scope.NONE,  # public: the hall screen
    "live.course": Scope.COURSE,
    "live.queue": Scope.COURSE,
    "live.stream": Scope.COURSE,
    "live.plan": Scope.COURSE,  # the course map's plan
    "api.live": Scope.COURSE,
    "cameras.cameras": Scope.COURSE,
    "cameras.cameras_json": Scope.COURSE,
    "cameras.live_stream": Scope.COURSE,
    "cameras.live_frame": Scope.COURSE,
    "cameras.rename": Scope.COURSE,
    "console.act": Scope.COURSE,
    "console.start": Scope.COURSE,
    "console.call_next": Scope.COURSE,
    "console.manual_rules": Scope.COURSE,
    "examday.sittings": Scope.COURSE,
    "examday.checkin": Scope.COURSE,
    "examday.reference_picture": Scope.COURSE,  # the check-in desk of this course
    "examday.identity_picture": Scope.COURSE,
    "examday.queue": Scope.COURSE,
    "selfcheck.page": Scope.COURSE,
    "selfcheck.state": Scope.COURSE,
    "selfcheck.override": Scope.COURSE,
    "results.recent": Scope.FILTERED,
    "api.attempts": Scope.FILTERED,
    "api.statistics": Scope.FILTERED,
    "stats.overview": Scope.FILTERED,
    "stats.export_csv": Scope.FILTERED,
    "stats.export_xlsx": Scope.FILTERED,
    "api.seal_heads": Scope.FILTERED,  # the chain heads of the courses in scope
    # The city console (web/city): each view lists or opens only the courses of the inspector's scope.
    "city.overview": Scope.FILTERED,
    "city.warnings": Scope.FILTERED,
    "city.attempt": Scope.FILTERED,  # /city/attempts/<course>/<id>: out of scope is 404, in the view
    "city.review": Scope.FILTERED,
    "city.record_outcome": Scope.FILTERED,
    "city.course_cameras": Scope.FILTERED,  # /city/courses/<course>/…: out of scope is 404, in the view
    "city.course_frame": Scope.FILTERED,
    "city.overview_rows": Scope.FILTERED,  # the overview's rows again, for its refresh
    # Running the week's review (web/city/draws.py): a draw covers the city; each page lists, and
    # each assignment accepts, only the courses of the scope (out of scope is 404, in the view).
    "city.draws": Scope.FILTERED,
    "city.commit_seed": Scope.FILTERED,
    "city.draw_week": Scope.FILTERED,
    "city.assignments": Scope.FILTERED,
    "city.assign": Scope.FILTERED,
    "city.check_draw": Scope.FILTERED,
    "results.result": Scope.ATTEMPT,
    "api.attempt": Scope.ATTEMPT,
    "examday.slip": Scope.ATTEMPT,
    "replay.replay": Scope.ATTEMPT,
    "replay.track": Scope.ATTEMPT,
    "replay.outline": Scope.ATTEMPT,
    "replay.video": Scope.ATTEMPT,
    "replay.segment_file": Scope.ATTEMPT,
    "replay.checkin_picture": Scope.ATTEMPT,
    "replay.rejudge_view": Scope.ATTEMPT,
    "replay.review": Scope.ATTEMPT,
    "replay.export_request": Scope.ATTEMPT,
    "replay.export_status": Scope.ATTEMPT,
    "replay.export_file": Scope.ATTEMPT,
    "replay.face_picture": Scope.ATTEMPT,
    "replay.face_thumbnail": Scope.ATTEMPT,
    "replay.face_review": Scope.ATTEMPT,
    "replay.reference_picture": Scope.ATTEMPT,
    "replay.identity_picture": Scope.ATTEMPT,
}


def course_name() -> str:
    """The name of the course this web process serves (``COURSE_NAME``, else the course file's name)."""
    name = current_app.config.get("COURSE_NAME")
    if not name:
        from scoring.course import load_course

        name = current_app.config["COURSE_NAME"] = load_course(current_app.config["COURSE_FILE"]).name
    return name


def sees_this_course() -> bool:
    """Whether the signed-in person may watch this course run."""
    courses = current_user.account.courses
    return courses is None or course_name() in courses


def _check() -> None:
    if request.endpoint is None or not current_user.is_authenticated:
        return  # no such page (404 follows), or no one signed in: the roles decide
    courses = current_user.account.courses
    if courses is None:
        return
    rule = RULES.get(request.endpoint)
    if rule is None:
        abort(403)  # an endpoint nobody classified: closed to scoped auditors (the matrix test names it)
    if rule in (Scope.NONE, Scope.FILTERED):
        return
    if rule is Scope.COURSE and course_name() not in courses:
        abort(403)
    if rule is Scope.ATTEMPT:
        attempt_id = (request.view_args or {}).get("attempt_id")
        found = records().attempt(attempt_id) if isinstance(attempt_id, int) else None
        if found is not None and found.course not in courses:
            abort(404)


def init_app(app: Flask) -> None:
    app.before_request(_check)
