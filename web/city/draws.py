"""Running the week's random review (抽检) from the city console: commit the coming week's seed, reveal
it and draw the week just ended, assign each drawn attempt to an inspector, and check a draw.

Who runs it: a city administrator (``Role.ADMIN`` in the city's own accounts), never an inspector —
whoever draws and assigns must not be one who then reviews, or an inspector could steer an attempt to
themselves; and a draw covers every course of the city, which only an unscoped account sees
(docs/city-console.md). Checking a draw is open to every inspector: that is what makes it public.

Every step is ``examroom.city.review_book.ReviewBook``'s, which refuses steps out of order (drawing
before the week's end or a week never committed, a seed that does not hash to the commitment,
assigning twice) and writes each step into the city's audit chain; a refusal is audit-logged here
(``city_review_refused``) and shown in Chinese, and nothing of what was done before is touched.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from examroom.accounts.users import Account, Accounts
from examroom.city import attempt_classes, sampling
from examroom.city.review_book import OUTCOMES, ReviewBook, ReviewError
from examroom.courseclock import CHINA
from examroom.records.database import session_factory

from examroom_web.city import bp
from examroom_web.city.console import console
from examroom_web.city.words import sample_reason, week_name
from examroom_web.security import Role, audit, roles, visible_courses

REVIEW_RUNNERS = (Role.ADMIN,)
CHECKERS = (Role.INSPECTOR, Role.ADMIN)
WEEK = re.compile(r"\d{4}-W\d{2}")


def _book() -> ReviewBook:
    city = console()
    return ReviewBook(city.city, city.settings.city_code, city.settings.sampling)


def _week(week: str) -> str:
    if not WEEK.fullmatch(week):
        abort(404)
    return week


def _in_scope(course: str) -> bool:
    courses = visible_courses()
    return courses is None or course in courses


def _said(exc: ReviewError) -> str:
    """A refusal in the reader's words (a week as people say it: 2026年第49周)."""
    params = {k: week_name(v) if k == "week" else v for k, v in exc.params.items()}
    return _(exc.msgid, **params)


def _refused(exc: ReviewError, target: str) -> None:
    """A step the review book refused: in the audit chain, and on the next page in Chinese."""
    audit("city_review_refused", target, str(exc))
    flash(_said(exc), "error")


def inspector_names() -> dict[str, str]:
    """Username -> the name people read, of the city's inspectors (pages show the name)."""
    return {i.username: i.display_name for i in _inspectors()}


def _inspectors() -> list[Account]:
    """The city's inspectors who may sign in (the city's own accounts)."""
    city = console()
    return Accounts(session_factory(city.city, city.settings.city_code)).active(Role.INSPECTOR)


def _may_review(inspector: Account, course: str) -> bool:
    courses = inspector.courses
    return courses is None or course in courses


@bp.get("/draws")
@roles(*REVIEW_RUNNERS)
def draws():
    city = console()
    now = city.now()
    coming = attempt_classes.week_of((now + timedelta(days=7)).astimezone(CHINA).date())
    weeks = _book().weeks()
    committed = {w["week"] for w in weeks}
    return render_template("city/draws.html", weeks=weeks, coming=coming[0], coming_starts=coming[1],
                           coming_committed=coming[0] in committed, now=now)


@bp.post("/draws/commit")
@roles(*REVIEW_RUNNERS)
def commit_seed():
    """Fix the coming week's seed; the page that answers shows the commitment to publish (and the seed,
    once, when the administrator keeps it off the database)."""
    city = console()
    now = city.now()
    day = (now + timedelta(days=7)).astimezone(CHINA).date()
    week = attempt_classes.week_of(day)[0]
    held = request.form.get("hold") == "1"
    seed = sampling.new_seed()
    try:
        digest = _book().commit_week(day, current_user.account.username, now, seed=seed, keep_seed=not held)
    except ReviewError as exc:
        _refused(exc, week)
        return redirect(url_for("city.draws"))
    # Rendered, not redirected: a held seed is shown this once and kept by no page, cache or database.
    response = make_response(render_template("city/committed.html", week=week, commitment=digest,
                                             seed=seed.hex() if held else None))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/draws/<week>/draw")
@roles(*REVIEW_RUNNERS)
def draw_week(week: str):
    week = _week(week)
    city = console()
    try:
        samples = _book().reveal_and_draw(week, current_user.account.username, city.now(),
                                          beacon=request.form.get("beacon", "").strip(),
                                          seed=request.form.get("seed", ""))
    except ReviewError as exc:
        _refused(exc, week)
        return redirect(url_for("city.draws"))
    flash(_("已公布种子并抽取：共 %(count)s 场考试待抽检", count=len(samples)), "ok")
    return redirect(url_for("city.assignments", week=week))


@bp.get("/draws/<week>/assign")
@roles(*REVIEW_RUNNERS)
def assignments(week: str):
    week = _week(week)
    try:
        samples = [s for s in _book().samples(week) if _in_scope(s.course)]
    except ReviewError as exc:
        flash(_said(exc), "error")
        return redirect(url_for("city.draws"))
    inspectors = _inspectors()
    names = {i.username: i.display_name for i in inspectors}
    eligible = {s.id: [i for i in inspectors if _may_review(i, s.course)] for s in samples}
    return render_template("city/assign.html", week=week, samples=samples, eligible=eligible, names=names,
                           outcomes=OUTCOMES)


@bp.post("/draws/<week>/assign/<int:sample_id>")
@roles(*REVIEW_RUNNERS)
def assign(week: str, sample_id: int):
    week = _week(week)
    book = _book()
    try:
        sample = next((s for s in book.samples(week) if s.id == sample_id), None)
    except ReviewError as exc:
        _refused(exc, week)
        return redirect(url_for("city.draws"))
    if sample is None or not _in_scope(sample.course):
        abort(404)
    username = request.form.get("inspector", "").strip()
    inspector = next((i for i in _inspectors() if i.username == username), None)
    target = f"{sample.course}/{sample.attempt}"
    if inspector is None:
        audit("city_review_refused", target, f"sample {sample_id} → {username!r}: no such inspector")
        flash(_("没有巡查员 %(name)s，未分派", name=username or "-"), "error")
    elif not _may_review(inspector, sample.course):
        audit("city_review_refused", target, f"sample {sample_id} → {username}: course out of their scope")
        flash(_("巡查员 %(name)s 的巡查范围不含考场 %(course)s，未分派", name=inspector.display_name,
                course=sample.course), "error")
    else:
        try:
            book.assign(sample_id, inspector.username, current_user.account.username, console().now())
        except ReviewError as exc:
            _refused(exc, target)
        else:
            flash(_("%(attempt)s 已分派给 %(name)s", attempt=target, name=inspector.display_name), "ok")
    return redirect(url_for("city.assignments", week=week))


def _finding_text(finding) -> str:
    # Class lists name the always-reviewed classes by code: shown in the reader's words.
    params = {k: ("、".join(sample_reason(c) for c in v) or _("无")) if isinstance(v, list)
              else week_name(v) if k == "week" else v for k, v in finding.params.items()}
    return _(finding.msgid, **params)


@bp.get("/draws/<week>/check")
@roles(*CHECKERS)
def check_draw(week: str):
    """A week's draw re-run from its published seed and population: 一致, or each difference named.

    Anyone in the city may run it; a scoped inspector sees their courses' populations and differences
    (and those of the week as a whole), as every city page shows only the courses of the scope."""
    week = _week(week)
    book = _book()
    try:
        facts = book.published(week)
    except ReviewError as exc:
        flash(_said(exc), "error")
        return render_template("city/check.html", week=week, facts=None, findings=[], populations={}, sampled={},
                               against_records=False)
    # By default the draw is re-run from what was published (quick); ``?records=1`` also reads the week's
    # attempts and their classes from the records again, which verifies every seal of the week (slow:
    # seconds for a city's week), so it is asked for, not done on every look.
    against_records = request.args.get("records") == "1"
    findings = []
    if facts["seed"] is not None:
        findings = [_finding_text(f) for f in book.findings(week, against_records)
                    if f.course is None or _in_scope(f.course)]
    populations = {c: p for c, p in sorted((facts["populations"] or {}).items()) if _in_scope(c)}
    sampled = Counter(course for course, _attempt, _reasons in facts["sample"] or [] if _in_scope(course))
    return render_template("city/check.html", week=week, facts=facts, findings=findings, populations=populations,
                           sampled=sampled, against_records=against_records)
