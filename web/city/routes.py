"""City console views. Each lists only the courses of the signed-in inspector's scope
(``security.visible_courses``): the scope rule of every view here is FILTERED."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from examroom.city import attempt_classes
from examroom.city.review_book import OUTCOMES, ReviewBook, ReviewError
from examroom.city.warnings import CityWarning, all_warnings
from examroom.messages import SupervisorError
from examroom.records.database import session_factory
from examroom.records.models import Attempt, Deduction
from sqlalchemy import select

from examroom_web.city import bp
from examroom_web.city.console import console
from examroom_web.security import Role, audit, roles, visible_courses

CITY_ROLES = (Role.INSPECTOR, Role.ADMIN)


def _in_scope(course: str) -> bool:
    courses = visible_courses()
    return courses is None or course in courses


def _warning_courses(warning: CityWarning, known: set[str]) -> set[str]:
    """The courses a warning tells about: its attempts' courses, and the course its subject names."""
    found = {course for course, _attempt in warning.attempts}
    head = warning.subject.split("/", 1)[0]
    if head in known:
        found.add(head)
    return found


@bp.get("/")
@roles(*CITY_ROLES)
def overview():
    city = console()
    days = city.overview(visible_courses())
    return render_template("city/overview.html", days=days, now=city.now(),
                           refresh_ms=int(1000 * current_app.config.get("CITY_REFRESH_SECONDS", 10)))


@bp.get("/overview/rows")
@roles(*CITY_ROLES)
def overview_rows():
    """The overview's live part alone, sampled again: the page asks for it by itself (web/static/cityoverview.js)."""
    city = console()
    response = make_response(render_template("city/overview_rows.html", days=city.overview(visible_courses()),
                                             now=city.now()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/warnings")
@roles(*CITY_ROLES)
def warnings():
    city = console()
    week, start, end = attempt_classes.week_of(city.now())
    known = set(city.courses())
    # A warning is shown only to whom every course it tells about is in scope: one naming two
    # courses' attempts (the same ID number at both) would otherwise show another course's records.
    found = [w for w in all_warnings(session_factory(city.city, None), start, end, city.settings.warnings)
             if all(_in_scope(course) for course in _warning_courses(w, known))]
    return render_template("city/warnings.html", warnings=found, week=week)


@bp.get("/attempts/<course>/<int:attempt_id>")
@roles(*CITY_ROLES)
def attempt(course: str, attempt_id: int):
    if not _in_scope(course):
        abort(404)  # out of scope, as if it did not exist
    city = console()
    with session_factory(city.city, course)() as session:
        found = session.get(Attempt, attempt_id)
        if found is None:
            abort(404)
        deductions = session.scalars(select(Deduction).where(Deduction.attempt_id == attempt_id)
                                     .order_by(Deduction.id)).all()
        return render_template("city/attempt.html", course=course, attempt=found, deductions=deductions)


@bp.get("/review")
@roles(*CITY_ROLES)
def review():
    city = console()
    # The week just ended by default: a week's sample is drawn once it is over.
    week = request.args.get("week") or attempt_classes.week_of(city.now() - timedelta(days=7))[0]
    book = ReviewBook(city.city, city.settings.city_code, city.settings.sampling)
    try:
        samples = [s for s in book.samples(week) if _in_scope(s.course)]
        error = request.args.get("error")
    except ReviewError as exc:
        samples, error = [], _(exc.msgid, **exc.params)
    from examroom_web.city.draws import inspector_names

    return render_template("city/review.html", week=week, samples=samples, outcomes=OUTCOMES, error=error,
                           me=current_user.account.username, names=inspector_names())


@bp.post("/review/<int:sample_id>")
@roles(Role.INSPECTOR)
def record_outcome(sample_id: int):
    city = console()
    week = request.form.get("week", "")
    book = ReviewBook(city.city, city.settings.city_code, city.settings.sampling)
    mine = {s.id: s for s in book.samples(week)} if week else {}
    if sample_id not in mine or not _in_scope(mine[sample_id].course):
        abort(404)
    try:
        # ReviewBook refuses anyone but the assigned inspector, and writes the city's audit chain.
        book.record_outcome(sample_id, current_user.account.username, request.form.get("outcome", ""),
                            request.form.get("notes", ""), city.now())
    except SupervisorError as exc:
        audit("city_review_refused", f"sample {sample_id}", str(exc))
        return redirect(url_for("city.review", week=week, error=_(exc.msgid, **exc.params)))
    return redirect(url_for("city.review", week=week))


def _course_in_scope(course: str) -> None:
    if not _in_scope(course):
        abort(404)  # out of scope, as if it did not exist


@bp.get("/courses/<course>/cameras")
@roles(*CITY_ROLES)
def course_cameras(course: str):
    """A course's live cameras, relayed through its web process (pictures stay at the course)."""
    from examroom.city.evidence import CourseOffline, CourseRefused

    _course_in_scope(course)
    cameras = console().cameras
    listed, error = [], None
    if not cameras.configured(course):
        error = _("城市中心未配置到这个考场的连接")
    else:
        try:
            answer = cameras.listed(course)
            listed = answer.get("cameras", [])
            if not answer.get("reachable", True):
                error = _("无法连接考场控制器的实时画面")
        except (CourseOffline, CourseRefused):
            error = _("考场暂时无法连接")
    audit("city_view_cameras", course)
    return render_template("city/cameras.html", course=course, cameras=listed, error=error)


@bp.get("/courses/<course>/cameras/<camera>/live.jpg")
@roles(*CITY_ROLES)
def course_frame(course: str, camera: str):
    """A camera's newest picture from the course, through its web process."""
    from flask import Response

    from examroom.city.evidence import CourseOffline, CourseRefused

    _course_in_scope(course)
    cameras = console().cameras
    if not cameras.configured(course):
        abort(404)
    try:
        picture = cameras.frame(course, camera)
    except (CourseOffline, CourseRefused):
        abort(503, description=_("考场暂时无法连接"))
    return Response(picture, content_type="image/jpeg", headers={"Cache-Control": "no-cache, no-store"})
