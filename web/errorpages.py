"""The pages a person sees when something is refused, missing or broken: Chinese, with a way back.

Only pages: a JSON client (the API, the console's buttons) keeps its JSON answers.
A refusal says which roles may open the page and which role the reader has.
"""

from __future__ import annotations

from flask import Flask, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException, InternalServerError


def role_name(role: str) -> str:
    return {"admin": _("管理员"), "supervisor": _("考试员"), "auditor": _("审核员"),
            "inspector": _("巡查员")}.get(role, role)


def _wants_page() -> bool:
    if request.path.startswith("/api/"):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best != "application/json"


def _home() -> str:
    if current_user.is_authenticated and "examroom.city.console" in current_app.extensions:
        return url_for("city.overview")  # the city console has no course pages
    return url_for("live.course") if current_user.is_authenticated else url_for("candidate.lookup")


def _back() -> str | None:
    """The page the reader came from, if it is one of ours."""
    referrer = request.referrer or ""
    root = request.host_url
    return referrer if referrer.startswith(root) and referrer != request.url else None


def _forbidden_reason() -> str:
    view = current_app.view_functions.get(request.endpoint or "")
    allowed = sorted(r.value for r in (getattr(view, "allowed_roles", None) or ()))
    mine = role_name(current_user.role.value) if current_user.is_authenticated else _("未登录")
    if not allowed:
        return _("您的账号（%(role)s）不能进行此操作。", role=mine)
    return _("此页面仅限%(allowed)s打开，您的账号是%(role)s。",
             allowed="、".join(role_name(r) for r in allowed), role=mine)


def _page(error: HTTPException, title: str, reason: str):
    if not _wants_page():
        return error
    if error.description and error.description != type(error).description:
        reason = error.description  # the view's own words (Chinese), e.g. 没有编号为 99999 的考试
    return render_template("error.html", code=error.code, title=title, reason=reason, home=_home(),
                           back=_back()), error.code


def init_app(app: Flask) -> None:
    @app.errorhandler(403)
    def forbidden(error):
        return _page(error, _("无权打开此页面"), _forbidden_reason())

    @app.errorhandler(404)
    def not_found(error):
        return _page(error, _("找不到此页面"), _("地址有误，或要找的记录不存在。"))

    @app.errorhandler(405)
    def wrong_method(error):
        return _page(error, _("无法这样打开此页面"), _("请从页面上的按钮或链接进入。"))

    @app.errorhandler(500)
    def broken(error):
        error = error if isinstance(error, HTTPException) else InternalServerError()
        return _page(error, _("服务器出错"), _("此错误已记入日志。请稍后再试；如仍出错，请联系管理员。"))
