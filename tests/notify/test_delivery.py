"""External delivery against real peers: loopback SMTP (aiosmtpd) and a loopback HTTP receiver."""

from __future__ import annotations

import pytest
from django.db import transaction

from qc_core.notify.choices import ChannelKind, DeliveryStatus
from qc_core.notify.models import Channel, Delivery, Notification
from qc_core.notify.services import notify
from qc_core.notify.tasks import send_delivery

pytestmark = pytest.mark.django_db


def _channel(user, kind, target, **extra):
    return Channel.objects.create(user=user, kind=kind, target=target, **extra)


def test_email_reaches_the_smtp_server_with_a_readable_chinese_subject(
    personas, smtp_server, django_capture_on_commit_callbacks
):
    _channel(personas.reporter_a, ChannelKind.EMAIL, "reporter.a@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            "task.finished", [personas.reporter_a], {"label": "导出2026Q3质控数据"}, url="/jobs/"
        )

    [message] = smtp_server.messages
    assert smtp_server.subjects == ["后台任务完成：导出2026Q3质控数据"]
    assert "=?utf-8?" in message.as_string()  # RFC 2047-encoded on the wire, not raw UTF-8
    assert smtp_server.recipients == [["reporter.a@example.org"]]
    assert "您提交的后台任务“导出2026Q3质控数据”已完成" in message.get_content()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1
    assert delivery.sent_at is not None
    assert delivery.notification == Notification.objects.get(user=personas.reporter_a)
    assert "第 1 次发送成功" in delivery.log


def test_webhook_posts_title_and_body_as_json(
    personas, http_receiver, django_capture_on_commit_callbacks
):
    _channel(personas.engineer, ChannelKind.WEBHOOK, http_receiver.url("json", "/sms/send"))
    with django_capture_on_commit_callbacks(execute=True):
        notify("task.failed", [personas.engineer], {"label": "每日差异备份", "error": "磁盘已满"})

    [request] = http_receiver.requests
    assert request.path == "/sms/send"
    payload = request.json()
    assert payload["title"] == "后台任务失败：每日差异备份"
    assert "磁盘已满" in payload["message"]
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_plain_http_webhook_url_is_sent_as_json(
    personas, http_receiver, django_capture_on_commit_callbacks
):
    _channel(personas.engineer, ChannelKind.WEBHOOK, http_receiver.url("http", "/gateway"))
    with django_capture_on_commit_callbacks(execute=True):
        notify("system.test", [personas.engineer], {"actor": "测试员"})

    [request] = http_receiver.requests
    assert request.path == "/gateway"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json()["title"] == "【GeriQC】测试通知"


def test_external_message_carries_a_full_link_when_the_site_address_is_known(
    personas, settings, http_receiver, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://qc.example.cn"
    _channel(personas.engineer, ChannelKind.WEBHOOK, http_receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        [note] = notify("task.finished", [personas.engineer], {"label": "导出"}, url="/jobs/42/")

    assert "详情：https://qc.example.cn/jobs/42/" in http_receiver.requests[0].json()["message"]
    assert "https://" not in note.body  # the in-app message links by itself


def test_role_channel_gets_one_message_for_a_role_addressed_event(
    personas, http_receiver, django_capture_on_commit_callbacks
):
    from tests.factories import RoleAssignmentFactory, UserFactory

    RoleAssignmentFactory(user=UserFactory(username="engineer2"), role="engineer")
    Channel.objects.create(
        role="engineer", kind=ChannelKind.WEBHOOK, target=http_receiver.url(), name="运维群"
    )
    with django_capture_on_commit_callbacks(execute=True):
        notes = notify("task.failed", ["engineer"], {"label": "备份"})

    assert len(notes) == 2  # every engineer gets the in-app notification …
    assert len(http_receiver.requests) == 1  # … and the group channel one message
    delivery = Delivery.objects.get()
    assert (
        delivery.role == "engineer"
        and delivery.user is None
        and delivery.status == DeliveryStatus.SENT
    )


def test_smtp_down_is_retried_then_marked_failed_and_the_caller_is_unharmed(
    personas, settings, smtp_down, inline_retries, django_capture_on_commit_callbacks
):
    settings.NOTIFY_MAX_RETRIES = 2
    _channel(personas.center, ChannelKind.EMAIL, "center@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notes = notify("system.test", [personas.center], {"actor": "系统"})  # must not raise

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3  # first try + NOTIFY_MAX_RETRIES retries
    assert "邮件发送失败" in delivery.last_error
    assert "refused" in delivery.last_error.lower() or "111" in delivery.last_error
    assert delivery.log.count("次发送失败") == 3
    assert delivery.log.count("将自动重试") == 2
    assert delivery.sent_at is None
    assert Notification.objects.filter(pk=notes[0].pk, user=personas.center).exists()


def test_webhook_on_a_closed_port_is_retried_then_marked_failed(
    personas, settings, closed_port, inline_retries, django_capture_on_commit_callbacks
):
    settings.NOTIFY_MAX_RETRIES = 1
    _channel(personas.engineer, ChannelKind.WEBHOOK, f"json://127.0.0.1:{closed_port}/hook")
    with django_capture_on_commit_callbacks(execute=True):
        notify("system.test", [personas.engineer], {})

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 2
    assert "Connection error" in delivery.last_error
    assert Notification.objects.filter(user=personas.engineer).count() == 1


def test_webhook_answering_an_error_status_counts_as_a_failure(
    personas, settings, http_receiver, django_capture_on_commit_callbacks
):
    settings.NOTIFY_MAX_RETRIES = 0
    http_receiver.status = 500
    _channel(personas.engineer, ChannelKind.WEBHOOK, http_receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        notify("system.test", [personas.engineer], {})

    delivery = Delivery.objects.get()
    assert len(http_receiver.requests) == 1
    assert delivery.status == DeliveryStatus.FAILED
    assert "500" in delivery.last_error


def test_failed_attempt_leaves_the_delivery_retrying_until_the_last_one(
    personas, settings, smtp_down
):
    """GIVEN a delivery whose SMTP server is down WHEN the task runs as a worker would (not the last
    try) THEN it raises for Celery to retry and the row waits in *retrying* with the error."""
    from qc_core.notify.channels import DeliveryError
    from qc_core.notify.services import attempt_delivery

    _channel(personas.center, ChannelKind.EMAIL, "center@example.org")
    with transaction.atomic():
        notify("system.test", [personas.center], {})  # on_commit not run: nothing sent yet
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING

    with pytest.raises(DeliveryError):
        attempt_delivery(delivery.pk, final=False)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.RETRYING, 1)

    assert attempt_delivery(delivery.pk, final=True) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)


def test_a_sent_delivery_is_never_sent_twice(
    personas, smtp_server, django_capture_on_commit_callbacks
):
    _channel(personas.reporter_a, ChannelKind.EMAIL, "a@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notify("system.test", [personas.reporter_a], {})
    delivery = Delivery.objects.get()

    send_delivery.apply(args=[delivery.pk])
    send_delivery.apply(args=[delivery.pk])

    assert len(smtp_server.messages) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)


def test_a_vanished_delivery_is_logged_and_ignored(db):
    result = send_delivery.apply(args=[987654])
    assert result.successful()
    assert result.result == "missing"


def test_admin_resend_queues_a_failed_delivery_again(
    personas, settings, smtp_down, smtp_server, django_capture_on_commit_callbacks
):
    """GIVEN a delivery that failed while SMTP was down WHEN an administrator resends it after the
    server is back THEN it is sent and the log keeps the whole story."""
    from qc_core.notify.services import resend

    settings.NOTIFY_MAX_RETRIES = 0
    settings.EMAIL_PORT = (
        smtp_down  # smtp_server is running, but mail goes to the closed port first
    )
    _channel(personas.center, ChannelKind.EMAIL, "center@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notify("system.test", [personas.center], {})
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED

    settings.EMAIL_PORT = smtp_server.port
    with django_capture_on_commit_callbacks(execute=True):
        assert resend(delivery) is True
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 2
    assert "已重新加入发送队列" in delivery.log
    assert len(smtp_server.messages) == 1
    assert resend(delivery) is False  # a sent delivery is not eligible


def test_eager_errors_that_propagate_still_leave_the_caller_alone(
    personas, settings, smtp_down, django_capture_on_commit_callbacks
):
    """GIVEN eager Celery that re-raises task errors (the test default) WHEN a channel fails THEN
    notify() still returns and the delivery is marked failed with the reason."""
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    _channel(personas.center, ChannelKind.EMAIL, "center@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notify("system.test", [personas.center], {})

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "Connection refused" in delivery.last_error


def test_notify_test_command_checks_the_mail_server(smtp_server, smtp_down, settings):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="Connection refused"):
        call_command("notify_test", "--email", "ops@example.org")
    settings.EMAIL_PORT = smtp_server.port
    call_command("notify_test", "--email", "ops@example.org")
    assert smtp_server.subjects == ["【GeriQC】测试通知"]


def test_notify_test_command_posts_to_a_webhook(http_receiver):
    from django.core.management import call_command

    call_command("notify_test", "--url", http_receiver.url("http"))
    assert http_receiver.requests[0].json()["title"] == "【GeriQC】测试通知"
