"""Channel rules (one owner, valid target) and the admin screens for role channels and the log."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from qc_core.notify.channels import apprise_url, mask_target
from qc_core.notify.choices import ChannelKind, DeliveryStatus
from qc_core.notify.models import Channel, Delivery

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("owner", [{}, {"role": "engineer", "user_fixture": True}])
def test_a_channel_belongs_to_exactly_one_user_or_role(personas, owner):
    fields = {"kind": ChannelKind.EMAIL, "target": "x@example.org"}
    if owner.get("user_fixture"):
        fields.update(user=personas.engineer, role="engineer")
    channel = Channel(**fields)
    with pytest.raises(ValidationError, match="必须且只能属于一个用户或一个角色"):
        channel.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        channel.save()


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("email", "ops@example.org"),
        ("wecom", "wecombot://693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"),
        ("dingtalk", "dingtalk://3d9a8b7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b"),
        ("feishu", "feishu://ab12cd34-ef56-7890-abcd-ef1234567890"),
        ("webhook", "https://sms.example.cn/api/send?sign=abc"),
        ("webhook", "json://10.0.0.8:8080/sms"),
    ],
)
def test_valid_targets_pass_validation(personas, kind, target):
    Channel(role="engineer", kind=kind, target=target).full_clean()


def test_unknown_event_codes_are_refused(personas):
    channel = Channel(
        user=personas.center, kind="email", target="c@example.org", events=["task.finished", "nope"]
    )
    with pytest.raises(ValidationError) as excinfo:
        channel.full_clean()
    assert "nope" in str(excinfo.value.message_dict["events"])


def test_plain_webhook_urls_map_to_apprise_json_and_secrets_are_masked():
    assert apprise_url("webhook", "https://gw.example/send") == "jsons://gw.example/send"
    assert apprise_url("webhook", "http://10.0.0.8:8080/x") == "json://10.0.0.8:8080/x"
    assert apprise_url("wecom", "wecombot://KEY") == "wecombot://KEY"
    assert mask_target("wecom", "wecombot://abcdefghijkl") == "wecombot://abcd****"
    assert (
        mask_target("webhook", "https://gw.example:8443/send?token=s3cret")
        == "https://gw.example:8443/…"
    )
    assert mask_target("email", "a@example.org") == "a@example.org"


@pytest.fixture
def staff(personas):
    for user in (personas.center, personas.ops_manager, personas.engineer):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return personas


def test_center_admin_adds_a_role_channel_in_admin(staff, client_as):
    client = client_as(staff.center)
    assert client.get("/admin/notify/channel/").status_code == 200
    response = client.post(
        "/admin/notify/channel/add/",
        {
            "role": "engineer",
            "user": "",
            "name": "运维值班群",
            "kind": "wecom",
            "target": "wecombot://abc123",
            "events": ["task.failed"],
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    channel = Channel.objects.get()
    assert (channel.role, channel.user, channel.events) == ("engineer", None, ["task.failed"])


def test_admin_form_refuses_a_channel_with_two_owners(staff, client_as):
    response = client_as(staff.ops_manager).post(
        "/admin/notify/channel/add/",
        {
            "role": "engineer",
            "user": staff.engineer.pk,
            "kind": "email",
            "target": "x@example.org",
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "必须且只能属于一个用户或一个角色" in response.content.decode()
    assert not Channel.objects.exists()


def test_other_staff_cannot_manage_channels_or_read_the_log(staff, client_as):
    client = client_as(staff.engineer)
    assert client.get("/admin/notify/channel/").status_code == 403
    assert client.get("/admin/notify/delivery/").status_code == 403


def test_delivery_log_is_read_only_and_failed_rows_can_be_resent(
    staff, client_as, settings, smtp_down, django_capture_on_commit_callbacks
):
    from qc_core.notify.services import notify

    settings.NOTIFY_MAX_RETRIES = 0
    Channel.objects.create(role="engineer", kind=ChannelKind.EMAIL, target="ops@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notify("system.test", ["engineer"], {})
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED

    client = client_as(staff.center)
    page = client.get("/admin/notify/delivery/")
    assert page.status_code == 200 and "ops@example.org" in page.content.decode()
    assert (
        client.get(f"/admin/notify/delivery/{delivery.pk}/change/").status_code == 200
    )  # view only
    assert client.get("/admin/notify/delivery/add/").status_code == 403
    assert client.post(f"/admin/notify/delivery/{delivery.pk}/delete/").status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/notify/delivery/", {"action": "resend", "_selected_action": [delivery.pk]}
        )
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and "已重新加入发送队列" in delivery.log


def test_admin_test_action_sends_to_the_selected_role_channel_only(
    staff, client_as, http_receiver, django_capture_on_commit_callbacks
):
    chosen = Channel.objects.create(
        role="engineer", kind=ChannelKind.WEBHOOK, target=http_receiver.url()
    )
    Channel.objects.create(
        role="tester", kind=ChannelKind.WEBHOOK, target=http_receiver.url(path="/other")
    )
    with django_capture_on_commit_callbacks(execute=True):
        client_as(staff.ops_manager).post(
            "/admin/notify/channel/", {"action": "send_test", "_selected_action": [chosen.pk]}
        )
    assert [r.path for r in http_receiver.requests] == ["/hook"]
    assert Delivery.objects.get().status == DeliveryStatus.SENT
