"""Menus show only what a role may open; a refused or missing page is Chinese, says why, and leads back."""

from __future__ import annotations

from tests.web.browser import chromium_page, screenshots, served, sign_in
from tests.web.conftest import PASSWORD

MENU = {"考试实况", "考试记录", "考试场次", "场地信号检测", "摄像机", "统计分析", "审计日志"}
EXPECTED = {"admin": MENU, "supervisor": MENU - {"审计日志"}, "auditor": MENU - {"审计日志", "考试场次"}}


def test_each_role_sees_its_own_menu_and_a_chinese_refusal(app, accounts, artefacts):
    with served(app) as base:
        for role, expected in EXPECTED.items():
            with chromium_page() as page:
                sign_in(page, base, role, PASSWORD, then="/attempts/")
                page.locator("header nav a").first.wait_for()
                menu = set(page.locator("header nav a").all_inner_texts())
                assert menu == expected, (role, menu)
                # Every link of the menu opens (no 403 behind a menu entry).
                for link in page.locator("header nav a").all():
                    response = page.request.get(base + link.get_attribute("href"), max_redirects=0)
                    assert response.status == 200, (role, link.get_attribute("href"), response.status)
                if role == "admin":
                    continue
                response = page.goto(base + "/admin/audit", referer=base + "/attempts/")  # a bookmark, say
                assert response.status == 403
                problem = page.locator("#problem")
                assert problem.locator("h1").inner_text() == "无权打开此页面"
                why = problem.inner_text()
                assert "此页面仅限管理员打开" in why and ("考试员" in why or "审核员" in why)
                screenshots(page, artefacts, f"forbidden-{role}")
                page.click("#go-back")
                page.wait_for_url("**/attempts/")
        with chromium_page() as page:
            sign_in(page, base, "auditor", PASSWORD, then="/attempts/")
            response = page.goto(base + "/attempts/424242")
            assert response.status == 404 and page.locator("#problem h1").inner_text() == "找不到此页面"
            page.click("#go-home")
            page.wait_for_url(base + "/")
            screenshots(page, artefacts, "not-found-then-home")
        # The API still answers JSON, not the page.
        with chromium_page() as page:
            sign_in(page, base, "auditor", PASSWORD, then="/attempts/")
            answer = page.request.get(base + "/api/v1/attempts/424242")
            assert answer.status == 404 and answer.headers["content-type"].startswith("application/json")
