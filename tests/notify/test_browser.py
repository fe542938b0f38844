"""The bell and the notification pages in a real browser (headless Chromium)."""

from __future__ import annotations

import pytest

from qc_core.notify.services import notify

pytestmark = pytest.mark.django_db(transaction=True)


def test_bell_shows_unread_count_and_leads_to_the_notification_page(
    page, live_server, login, personas
):
    user = personas.reporter_a
    notify("task.finished", [user], {"label": "导出 2026Q3"}, url="/jobs/")
    notify("task.failed", [user], {"label": "导入 2026Q3", "error": "第 3 行：数值无效"})
    login(page, user)

    badge = page.locator("#notify-bell [data-unread]")
    assert badge.inner_text().startswith("2")
    page.click("#notify-bell")
    page.wait_for_url(f"{live_server.url}/notifications/")
    assert page.locator("text=第 3 行：数值无效").is_visible()

    page.click("text=全部标为已读")
    page.wait_for_load_state()
    assert page.locator("#notify-bell [data-unread]").count() == 0


def test_channel_page_adds_a_channel_and_shows_the_chinese_error(
    page,
    live_server,
    login,
    personas,
    console_errors,
):
    login(page, personas.reporter_a)
    page.goto(f"{live_server.url}/notifications/channels/")
    page.select_option("#id_kind", "email")
    page.fill("#id_target", "不是邮箱")
    page.click("button:has-text('添加')")
    assert page.locator(".invalid-feedback").inner_text().startswith("地址：")
    console_errors.clear()  # the refused form answers 400 on purpose
    page.fill("#id_target", "reporter.a@example.org")
    page.click("button:has-text('添加')")
    assert page.locator("text=reporter.a@example.org").first.is_visible()
