"""Server-rendered pages of the UI shell, checked through the Django test client (no browser)."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from qc_core.orgs.services import rebuild_tree_cache
from qc_core.system.choices import RunStatus
from qc_core.system.models import TaskRun
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _run(user, **fields) -> TaskRun:  # type: ignore[no-untyped-def]
    defaults = {"name": "orgs.rebuild_tree_cache", "label": "重建组织树缓存", "started_by": user}
    return TaskRun.objects.create(**(defaults | fields))


# --- layout --------------------------------------------------------------------------------------


def test_layout_loads_only_local_assets_and_carries_the_csrf_token(client_as, personas):
    html = client_as(personas.reporter_a).get(reverse("system:home")).content.decode()

    assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)
    sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert "/static/vendor/htmx/htmx.min.js" in sources
    assert "/static/vendor/bootstrap/bootstrap.bundle.min.js" in sources


def test_layout_offers_language_switch_and_logout_as_post_forms(client_as, personas):
    html = client_as(personas.reporter_a).get(reverse("system:home")).content.decode()

    assert re.search(rf'<form[^>]*action="{reverse("set_language")}" method="post"', html)
    assert 'name="language" value="en"' in html and 'name="language" value="zh-hans"' in html
    assert re.search(rf'<form action="{reverse("accounts:logout")}" method="post">', html)
    assert reverse("accounts:password_change") in html and reverse("accounts:profile") in html


def test_navigation_follows_the_roles(client_as, personas):
    reporter = client_as(personas.reporter_a).get(reverse("system:home")).content.decode()
    center = client_as(personas.center).get(reverse("system:home")).content.decode()

    assert 'data-nav-key="orgs"' in reporter and 'data-nav-key="audit"' not in reporter
    assert 'data-nav-key="audit"' in center
    assert "成员单位质控专员：" in reporter and "省质控中心管理员：" not in reporter


def test_switching_to_english_is_remembered(client_as, personas):
    client = client_as(personas.reporter_a)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("system:home")).content.decode()
    assert '<html lang="en">' in html


# --- sign-in pages -------------------------------------------------------------------------------


def test_wrong_password_names_the_problem_in_chinese(client, personas):
    response = client.post(
        reverse("accounts:login"), {"username": "reporter_a", "password": "wrong"}
    )
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_locked_account_gets_a_prominent_chinese_alert(client, personas, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "reporter_a", "password": "wrong"})
    response = client.post(
        reverse("accounts:login"), {"username": "reporter_a", "password": PASSWORD}
    )

    html = response.content.decode()
    assert response.status_code == 403
    assert 'id="locked-alert"' in html and "账户已锁定" in html
    assert "Traceback" not in html


def test_login_page_explains_an_expired_session(client, db):
    html = client.get(reverse("accounts:login") + "?expired=1&next=/jobs/").content.decode()
    assert "会话已过期" in html
    assert 'name="next" value="/jobs/"' in html


def test_password_page_lists_the_complexity_rules_and_the_forced_change_notice(client, personas):
    user = UserFactory(username="newcomer", must_change_password=True)
    client.force_login(user)

    response = client.get(reverse("system:home"), follow=True)
    html = response.content.decode()
    assert response.request["PATH_INFO"] == reverse("accounts:password_change")
    assert "请先修改密码" in html
    rules = html.split('id="password-rules"', 1)[1]
    assert "至少 10 个字符" in rules and "至少 3 类" in rules


def test_profile_shows_roles_with_their_scope_and_the_channels_link(client_as, personas):
    html = client_as(personas.subcenter).get(reverse("accounts:profile")).content.decode()

    roles = html.split('id="profile-roles"', 1)[1].split("</ul>", 1)[0]
    assert "州市分中心管理员" in roles and "昆明市" in roles
    assert reverse("notify:channels") in html


# --- jobs ----------------------------------------------------------------------------------------


def test_progress_fragment_polls_while_the_job_runs(client_as, personas):
    run = _run(personas.center, status=RunStatus.RUNNING, progress=40, message="已读取 148 个单位")

    html = (
        client_as(personas.center)
        .get(reverse("system:job_progress", args=[run.pk]))
        .content.decode()
    )

    assert f'hx-get="{reverse("system:job_progress", args=[run.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert "X-Background-Poll" in html
    assert 'aria-valuenow="40"' in html and "已读取 148 个单位" in html


def test_finished_fragment_stops_polling_and_offers_the_result_file(client_as, personas):
    run = _run(personas.center, status=RunStatus.SUCCEEDED, progress=100, log="[10:00:00] 完成\n")
    run.result_file.name = "taskruns/2026/11/tree.xlsx"
    run.save(update_fields=["result_file"])

    html = (
        client_as(personas.center)
        .get(reverse("system:job_progress", args=[run.pk]))
        .content.decode()
    )

    assert "hx-trigger" not in html
    assert reverse("system:job_result", args=[run.pk]) in html
    assert "[10:00:00] 完成" in html


def test_failed_job_shows_its_error(client_as, personas):
    run = _run(personas.center, status=RunStatus.FAILED, progress=30, error="磁盘已满")
    html = (
        client_as(personas.center).get(reverse("system:job_detail", args=[run.pk])).content.decode()
    )
    assert "任务失败" in html and "磁盘已满" in html
    assert 'data-finished="true"' in html
    assert reverse("system:job_progress", args=[run.pk]) not in html  # no polling


def test_job_list_shows_status_badges_with_bounded_queries(
    client_as, personas, django_assert_max_num_queries
):
    for status, progress in [
        (RunStatus.QUEUED, 0),
        (RunStatus.RUNNING, 50),
        (RunStatus.SUCCEEDED, 100),
    ] * 5:
        _run(personas.center, status=status, progress=progress)
    client = client_as(personas.center)

    with django_assert_max_num_queries(12):
        html = client.get(reverse("system:job_list")).content.decode()

    assert html.count('data-status="succeeded"') == 5
    assert html.count('data-status="running"') == 5
    assert "运行中" in html and "排队中" in html


def test_outsider_sees_neither_the_job_in_the_list_nor_its_page(client_as, personas):
    run = _run(personas.reporter_a, status=RunStatus.SUCCEEDED, progress=100, label="A 院导入")
    client = client_as(personas.reporter_b)
    assert "A 院导入" not in client.get(reverse("system:job_list")).content.decode()
    response = client.get(reverse("system:job_detail", args=[run.pk]))
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


# --- org pages -----------------------------------------------------------------------------------


def test_org_list_filters_by_level_and_name_with_bounded_queries(
    client_as, personas, django_assert_max_num_queries
):
    client = client_as(personas.center)
    with django_assert_max_num_queries(12):
        html = client.get(reverse("orgs:unit_list"), {"level": "prefecture"}).content.decode()
    assert "昆明市" in html and "五华区" not in html
    assert "共 16 个单位" in html

    html = client.get(reverse("orgs:unit_list"), {"q": "大理"}).content.decode()
    assert "大理市" in html and "昆明市第一人民医院" not in html


def test_org_list_pagination_keeps_the_filters(client_as, personas):
    html = (
        client_as(personas.center)
        .get(reverse("orgs:unit_list"), {"level": "county"})
        .content.decode()
    )
    assert "?level=county&amp;q=&amp;page=2" in html


def test_only_center_admins_get_the_rebuild_button_and_the_province_summary(client_as, personas):
    rebuild_tree_cache()
    center = client_as(personas.center).get(reverse("orgs:unit_list")).content.decode()
    subcenter = client_as(personas.subcenter).get(reverse("orgs:unit_list")).content.decode()

    assert 'id="rebuild-cache-form"' in center and "质控成员单位 2 家" in center
    assert 'id="rebuild-cache-form"' not in subcenter and 'id="tree-summary"' not in subcenter


def test_rebuild_by_a_reporter_gets_the_chinese_403_page(client_as, personas):
    response = client_as(personas.reporter_a).post(reverse("orgs:rebuild_cache"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问此页面" in html and "Traceback" not in html


def test_unit_detail_shows_ancestors_and_children(client_as, personas):
    html = (
        client_as(personas.center)
        .get(reverse("orgs:unit_detail", args=["530102"]))
        .content.decode()
    )
    crumbs = html.split('id="unit-breadcrumb"', 1)[1].split("</ol>", 1)[0]
    assert crumbs.index("云南省") < crumbs.index("昆明市") < crumbs.index("五华区")
    assert "昆明市第一人民医院（测试A）" in html.split('id="unit-children"', 1)[1]


def test_reporter_cannot_open_a_unit_outside_their_scope(client_as, personas):
    response = client_as(personas.reporter_a).get(reverse("orgs:unit_detail", args=["HB001"]))
    assert response.status_code == 404
    assert "大理州人民医院" not in response.content.decode()


# --- error pages and admin -----------------------------------------------------------------------


def test_server_error_page_renders_without_a_request():
    html = render_to_string("500.html")
    assert "系统暂时出现问题" in html and "/static/vendor/bootstrap/bootstrap.min.css" in html


def test_admin_is_in_chinese(client, db):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    html = client.get("/admin/").content.decode()
    assert "最近动作" in html and "云南省老年医学质控平台" in html


def test_idle_timeout_message_is_shown_on_the_login_page(client_as, personas, settings):
    from qc_core.accounts.middleware import SESSION_KEY
    from qc_core.system import clock

    client = client_as(personas.reporter_a)
    session = client.session
    session[SESSION_KEY] = (
        clock.now().timestamp() - settings.SESSION_IDLE_TIMEOUT.total_seconds() - 60
    )
    session.save()

    response = client.get(reverse("system:job_list"), follow=True)

    html = response.content.decode()
    assert response.request["PATH_INFO"] == reverse("accounts:login")
    assert 'class="alert alert-warning' in html and "会话已过期" in html
