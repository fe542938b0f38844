"""Notification pages, the bell, and the user's own channels."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qc_core.notify.choices import ChannelKind, DeliveryStatus
from qc_core.notify.models import Channel, Delivery, Notification
from qc_core.notify.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes(personas):
    """Two notifications for reporter A, one for reporter B (the outsider)."""
    notify("task.finished", [personas.reporter_a], {"label": "A 的导出"}, url="/jobs/")
    notify("task.failed", [personas.reporter_a], {"label": "A 的导入"})
    notify("task.finished", [personas.reporter_b], {"label": "B 的秘密任务"})
    return {
        "a": list(Notification.objects.filter(user=personas.reporter_a).order_by("id")),
        "b": Notification.objects.get(user=personas.reporter_b),
    }


def test_notification_page_lists_only_own_notifications(
    personas, notes, client_as, django_assert_max_num_queries
):
    client = client_as(personas.reporter_a)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("notify:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "A 的导出" in html and "A 的导入" in html
    assert "B 的秘密任务" not in html
    assert reverse("notify:channels") in html


def test_unread_filter_hides_read_notifications(personas, notes, client_as):
    first, second = notes["a"]
    client = client_as(personas.reporter_a)
    client.post(reverse("notify:read", args=[first.pk]))
    html = client.get(reverse("notify:list") + "?unread=1").content.decode()
    assert "A 的导入" in html and "A 的导出" not in html


def test_marking_one_read_and_all_read(personas, notes, client_as):
    first, second = notes["a"]
    client = client_as(personas.reporter_a)

    response = client.post(reverse("notify:read", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None

    client.post(reverse("notify:read_all"))
    assert not Notification.objects.filter(user=personas.reporter_a, read_at__isnull=True).exists()
    notes["b"].refresh_from_db()
    assert notes["b"].read_at is None  # the outsider's notification is untouched


def test_another_users_notification_cannot_be_read_opened_or_marked(personas, notes, client_as):
    client = client_as(personas.reporter_a)
    foreign = notes["b"]
    assert client.post(reverse("notify:read", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("notify:open", args=[foreign.pk])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.read_at is None


def test_opening_a_notification_marks_it_read_and_follows_its_link(personas, notes, client_as):
    note = notes["a"][0]
    response = client_as(personas.reporter_a).get(reverse("notify:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/jobs/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_an_offsite_link_is_not_followed(personas, client_as):
    [note] = notify("system.test", [personas.center], {}, url="https://evil.example/phish")
    response = client_as(personas.center).get(reverse("notify:open", args=[note.pk]))
    assert response["Location"] == reverse("notify:list")


def test_anonymous_visitors_are_sent_to_login_and_the_bell_answers_401(client, notes):
    for name in ["notify:list", "notify:channels"]:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(reverse("notify:read_all")).status_code == 302
    assert client.get(reverse("notify:bell")).status_code == 401


def test_bell_shows_the_unread_count_with_a_fixed_number_of_queries(
    personas, notes, client_as, django_assert_max_num_queries
):
    client = client_as(personas.reporter_a)
    with django_assert_max_num_queries(4):
        response = client.get(
            reverse("notify:bell"), HTTP_X_BACKGROUND_POLL="1", HTTP_HX_REQUEST="true"
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-unread="2"' in html
    assert 'hx-trigger="every 30s"' in html and "X-Background-Poll" in html
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    )

    Notification.objects.filter(user=personas.reporter_a).update(read_at="2026-01-01T00:00:00Z")
    assert "data-unread" not in client.get(reverse("notify:bell")).content.decode()


def test_bell_polling_does_not_keep_an_idle_session_alive(
    personas, notes, client_as, settings, time_machine
):
    """GIVEN a signed-in user WHEN only the bell polls for longer than the idle timeout THEN the
    session expires anyway."""
    time_machine.move_to("2026-11-02 09:00:00+08:00", tick=False)
    client = client_as(personas.reporter_a)
    assert client.get(reverse("notify:list")).status_code == 200
    for minute in range(0, 35, 5):
        time_machine.move_to(f"2026-11-02 09:{minute:02d}:30+08:00", tick=False)
        client.get(reverse("notify:bell"), HTTP_X_BACKGROUND_POLL="1", HTTP_HX_REQUEST="true")
    time_machine.move_to("2026-11-02 09:36:00+08:00", tick=False)
    response = client.get(reverse("notify:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_bell_include_renders_for_signed_in_users(personas, notes, rf):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = personas.reporter_a
    html = render_to_string("notify/_bell.html", {"user": personas.reporter_a, "request": request})
    assert reverse("notify:list") in html and 'data-unread="2"' in html


# --- channels ----------------------------------------------------------------------------------


def test_user_adds_an_email_channel(personas, client_as):
    response = client_as(personas.reporter_a).post(
        reverse("notify:channels"),
        {
            "name": "工作邮箱",
            "kind": "email",
            "target": "a@example.org",
            "events": ["task.failed"],
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    channel = Channel.objects.get()
    assert (channel.user, channel.role, channel.events, channel.enabled) == (
        personas.reporter_a,
        "",
        ["task.failed"],
        True,
    )


@pytest.mark.parametrize(
    ("kind", "target", "message"),
    [
        ("email", "not-an-address", "不是有效的电子邮件地址"),
        ("wecom", "https://qyapi.weixin.qq.com/x", "wecombot://"),
        ("dingtalk", "dingtalk://", "无法识别的钉钉机器人地址"),
        ("webhook", "ftp://gateway/x", "Webhook"),
    ],
)
def test_bad_channel_targets_are_refused_with_a_chinese_reason(
    personas, client_as, kind, target, message
):
    response = client_as(personas.reporter_a).post(
        reverse("notify:channels"), {"kind": kind, "target": target, "enabled": "on"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Channel.objects.exists()


def test_channel_page_lists_own_channels_and_deliveries_only(
    personas, client_as, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    Channel.objects.create(
        user=personas.reporter_a, kind=ChannelKind.EMAIL, target="mine@example.org"
    )
    Channel.objects.create(
        user=personas.reporter_b, kind=ChannelKind.EMAIL, target="theirs@example.org"
    )
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            notify("system.test", [personas.reporter_a, personas.reporter_b], {})

    client = client_as(personas.reporter_a)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("notify:channels"))
    html = response.content.decode()
    assert html.count("mine@example.org") == 4  # the channel and its three deliveries
    assert "theirs@example.org" not in html
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 6


def test_user_toggles_and_deletes_own_channel_but_not_anothers(personas, client_as):
    mine = Channel.objects.create(
        user=personas.reporter_a, kind=ChannelKind.EMAIL, target="a@example.org"
    )
    theirs = Channel.objects.create(
        user=personas.reporter_b, kind=ChannelKind.EMAIL, target="b@example.org"
    )
    client = client_as(personas.reporter_a)

    assert client.post(reverse("notify:channel_toggle", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.enabled is False

    assert client.post(reverse("notify:channel_toggle", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notify:channel_delete", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.enabled is True

    assert client.post(reverse("notify:channel_delete", args=[mine.pk])).status_code == 302
    assert list(Channel.objects.all()) == [theirs]


def test_role_channels_are_not_editable_from_the_profile(personas, client_as):
    group = Channel.objects.create(
        role="unit_reporter", kind=ChannelKind.EMAIL, target="g@example.org"
    )
    client = client_as(personas.reporter_a)
    assert client.post(reverse("notify:channel_delete", args=[group.pk])).status_code == 404
    assert "g@example.org" not in client.get(reverse("notify:channels")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_test_button_sends_to_every_channel_and_survives_dead_ones(
    personas, client_as, smtp_down, closed_port, http_receiver, inline_retries, settings
):
    """GIVEN a working webhook, an SMTP server that is down and a webhook on a closed port WHEN the
    user presses 发送测试通知 THEN the page answers normally, the working channel receives the
    message and the dead ones are logged as failed."""
    settings.NOTIFY_MAX_RETRIES = 1
    user = personas.reporter_a
    Channel.objects.create(user=user, kind=ChannelKind.WEBHOOK, target=http_receiver.url())
    Channel.objects.create(user=user, kind=ChannelKind.EMAIL, target="a@example.org")
    Channel.objects.create(
        user=user, kind=ChannelKind.WEBHOOK, target=f"json://127.0.0.1:{closed_port}/x"
    )

    response = client_as(user).post(reverse("notify:channel_test"), follow=True)

    assert response.status_code == 200
    assert "已发送测试通知" in response.content.decode()
    assert Notification.objects.filter(user=user, event="system.test").count() == 1
    assert len(http_receiver.requests) == 1
    statuses = sorted(Delivery.objects.values_list("kind", "status", "attempts"))
    assert statuses == [("email", "failed", 2), ("webhook", "failed", 2), ("webhook", "sent", 1)]
