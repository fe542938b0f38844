"""The UI shell in a real browser (headless Debian Chromium against pytest-django's live server)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def nav_keys(page) -> set[str]:  # type: ignore[no-untyped-def]
    return set(
        page.eval_on_selector_all(
            "#nav-desktop [data-nav-key]", "els => els.map(e => e.dataset.navKey)"
        )
    )


def test_reporter_sees_only_the_navigation_of_their_role(page, live_server, login, personas):
    login(page, personas.reporter_a)

    keys = nav_keys(page)
    assert {"home", "jobs", "orgs", "profile"} <= keys
    assert "audit" not in keys and "admin" not in keys
    assert page.locator("#home-roles").inner_text().count("成员单位质控专员") == 1
    assert "昆明市第一人民医院" in page.locator("#home-roles").inner_text()
    assert page.locator("[data-quick-link=audit]").count() == 0


def test_center_admin_sees_the_administration_menu(
    page, live_server, login, personas, save_screenshot
):
    login(page, personas.center)

    assert {"audit", "orgs", "jobs"} <= nav_keys(page)
    page.locator("#nav-desktop .dropdown-toggle", has_text="管理").click()
    audit_link = page.locator("#nav-desktop [data-nav-key=audit]")
    assert audit_link.is_visible()
    save_screenshot(page, "_menu")
    audit_link.click()
    page.wait_for_url("**/audit/**")
    assert page.locator("#nav-desktop .dropdown-toggle.active", has_text="管理").count() == 1


def test_wrong_password_shows_a_chinese_error_and_stays_on_the_login_page(
    page, live_server, personas
):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", personas.reporter_a.username)
    page.fill("#id_password", "not-the-password")
    page.click("#login-submit")

    error = page.locator("#login-errors")
    assert "用户名或密码错误" in error.inner_text()
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    assert page.input_value("#id_username") == personas.reporter_a.username


def test_user_menu_signs_out_through_a_post_form(page, live_server, login, personas):
    login(page, personas.engineer)
    page.click("#user-menu")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/accounts/login/**")
    page.goto(f"{live_server.url}/jobs/")
    assert "/accounts/login/" in page.url


def test_phone_screen_has_no_horizontal_scroll_and_the_menu_opens(
    phone_page, live_server, login, personas, save_screenshot
):
    page = phone_page
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    login(page, personas.center)

    for path in ("/", "/orgs/", "/jobs/", "/accounts/profile/", "/accounts/password/"):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide on a 375px screen"

    page.goto(f"{live_server.url}/")
    assert not page.locator("#nav-desktop").is_visible()
    page.click(".navbar-toggler")
    page.locator("#main-nav.show:not(.showing)").wait_for()  # slide-in transition done
    orgs_link = page.locator("#nav-mobile [data-nav-key=orgs]")
    orgs_link.wait_for(state="visible")
    assert page.locator("#nav-mobile [data-nav-key=audit]").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    save_screenshot(page, "_menu")
    orgs_link.click()
    page.wait_for_url("**/orgs/")
    assert page.locator("h1", has_text="组织机构").is_visible()


def test_job_started_from_the_org_page_shows_a_finished_progress_bar(
    page, live_server, login, personas
):
    login(page, personas.center)
    page.goto(f"{live_server.url}/orgs/")
    assert "组织树缓存尚未生成" in page.locator("#tree-summary").inner_text()

    page.get_by_role("button", name="重建组织树缓存").click()
    page.wait_for_url("**/jobs/*/")
    progress = page.locator("#job-progress[data-finished=true]")
    progress.wait_for()
    bar = progress.locator(".progress-bar")
    assert bar.inner_text().strip() == "100%"
    assert progress.locator("[data-status=succeeded]").inner_text().strip() == "已完成"
    assert "已统计成员单位" in page.locator("#job-log").inner_text()
    assert progress.get_attribute("hx-trigger") is None

    page.goto(f"{live_server.url}/orgs/")
    summary = page.locator("#tree-summary").inner_text()
    assert "质控成员单位 2 家" in summary
    assert "昆明市" in summary


def test_job_page_updates_itself_until_the_job_finishes(page, live_server, login, personas):
    """GIVEN a running job at 40 % WHEN the worker finishes it THEN the open page shows 100 %
    without a reload and stops polling."""
    from qc_core.system.choices import RunStatus
    from qc_core.system.models import TaskRun

    run = TaskRun.objects.create(
        name="orgs.rebuild_tree_cache",
        label="重建组织树缓存",
        started_by=personas.center,
        status=RunStatus.RUNNING,
        progress=40,
        message="已读取 148 个单位",
    )
    login(page, personas.center)
    page.goto(f"{live_server.url}/jobs/{run.pk}/")
    assert page.locator("#job-progress .progress-bar").inner_text().strip() == "40%"
    assert page.locator("#job-progress").get_attribute("hx-trigger") == "every 1s"

    TaskRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, progress=100, log="[10:00:00] 完成\n"
    )
    page.locator("#job-progress[data-finished=true]").wait_for(timeout=10_000)
    assert page.locator("#job-progress .progress-bar").inner_text().strip() == "100%"
    assert page.locator("#job-progress").get_attribute("hx-trigger") is None


def test_polling_page_goes_to_the_login_page_when_the_session_has_expired(
    page, live_server, login, personas, console_errors
):
    """GIVEN an open job page that polls WHEN the session passes the idle timeout THEN the page
    leaves for the login page, which says the session expired (no broken fragment)."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    from qc_core.accounts.middleware import SESSION_KEY
    from qc_core.system import clock
    from qc_core.system.choices import RunStatus
    from qc_core.system.models import TaskRun

    run = TaskRun.objects.create(
        name="orgs.rebuild_tree_cache",
        label="重建组织树缓存",
        started_by=personas.center,
        status=RunStatus.RUNNING,
        progress=10,
    )
    login(page, personas.center)
    page.goto(f"{live_server.url}/jobs/{run.pk}/")

    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=cookie["value"])
    idle = settings.SESSION_IDLE_TIMEOUT.total_seconds() + 60
    session[SESSION_KEY] = clock.now().timestamp() - idle
    session.save()

    page.wait_for_url("**/accounts/login/?expired=1*", timeout=10_000)
    assert "会话已过期" in page.locator("main").inner_text()
    assert f"next=%2Fjobs%2F{run.pk}%2F" in page.url
    assert any("401" in e for e in console_errors)  # the poll that found the session expired
    console_errors.clear()


def test_htmx_posts_carry_the_csrf_token(page, live_server, login, personas):
    from qc_core.system.models import TaskRun

    login(page, personas.center)
    status = page.evaluate(
        """url => new Promise(resolve => {
            document.body.addEventListener("htmx:afterRequest", e => resolve(e.detail.xhr.status), {once: true});
            htmx.ajax("POST", url, {target: "#page-notices", swap: "none"});
        })""",
        "/orgs/rebuild-cache/",
    )
    assert status == 200  # CSRF accepted, redirected to the job page
    assert TaskRun.objects.filter(started_by=personas.center).count() == 1
