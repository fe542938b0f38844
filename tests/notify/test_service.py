"""The notify() service: recipients, events, channel selection, enqueue-on-commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from qc_core.accounts.choices import Role
from qc_core.notify.choices import ChannelKind, DeliveryStatus
from qc_core.notify.events import all_events, get_event, register_event
from qc_core.notify.models import Channel, Delivery, Notification
from qc_core.notify.services import notify, role_members
from tests.factories import RoleAssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _usernames(notes):
    return sorted(n.user.username for n in notes)


def test_each_user_gets_one_in_app_notification_with_rendered_title_and_body(personas):
    notes = notify(
        "task.failed",
        [personas.reporter_a, personas.center],
        {"label": "导入数据", "error": "第 3 行：数值无效"},
        url="/jobs/1/",
    )
    assert _usernames(notes) == ["center", "reporter_a"]
    note = Notification.objects.get(user=personas.reporter_a)
    assert note.title == "后台任务失败：导入数据"
    assert "第 3 行：数值无效" in note.body
    assert note.url == "/jobs/1/"
    assert note.read_at is None
    assert Delivery.objects.count() == 0  # no channels configured: in-app only


def test_unknown_event_is_refused():
    with pytest.raises(ValueError, match="no.such.event"):
        notify("no.such.event", [], {})


def test_unknown_role_code_is_refused(personas):
    with pytest.raises(ValueError, match="chief"):
        notify("system.test", ["chief"], {})


def test_context_values_are_not_html_escaped_in_plain_text_messages(personas):
    [note] = notify("task.finished", [personas.center], {"label": "A & B <2026Q3>"})
    assert note.title == "后台任务完成：A & B <2026Q3>"


def test_every_registered_platform_event_renders_a_chinese_subject_and_body():
    for code in [
        "system.test",
        "task.finished",
        "task.failed",
        "account.locked",
        "password.changed",
    ]:
        subject, body = get_event(code).render(
            {"label": "任务", "username": "reporter01", "time": None}
        )
        assert subject and body, code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in subject + body), code
    assert {e.code for e in all_events()} >= {"system.test", "task.finished", "account.locked"}


def test_apps_can_register_their_own_events(personas, settings, tmp_path, monkeypatch):
    from qc_core.notify import events

    monkeypatch.setattr(events, "_REGISTRY", dict(events._REGISTRY))  # keep the registry clean
    template_dir = tmp_path / "templates"
    (template_dir / "notify" / "events").mkdir(parents=True)
    (template_dir / "notify" / "events" / "test.custom.txt").write_text(
        "单位：{{ unit }}", encoding="utf-8"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [template_dir, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    register_event("test.custom", title="自定义事件", subject="提醒：{{ unit }}")

    [note] = notify("test.custom", [personas.center], {"unit": "昆明市"})
    assert (note.title, note.body) == ("提醒：昆明市", "单位：昆明市")


def test_a_role_reaches_its_active_holders_once_each(personas):
    second = UserFactory(username="engineer2")
    RoleAssignmentFactory(user=second, role=Role.ENGINEER)
    retired = UserFactory(username="engineer_retired", is_active=False)
    RoleAssignmentFactory(user=retired, role=Role.ENGINEER)

    notes = notify("system.test", [Role.ENGINEER, personas.engineer, Role.OPS_MANAGER], {})

    assert _usernames(notes) == ["engineer", "engineer2", "ops_manager"]


def test_role_recipients_are_limited_to_those_whose_scope_holds_the_unit(personas):
    """GIVEN a sub-center admin of 昆明市 and reporters of hospitals in 昆明 and 大理 WHEN an event
    about hospital A (昆明) goes to the admin and reporter roles THEN only those reaching A get it."""
    tree = personas.tree
    roles = [Role.CENTER_ADMIN, Role.SUBCENTER_ADMIN, Role.UNIT_REPORTER]

    about_a = notify("system.test", roles, {}, org_unit=tree.hospital_a)
    assert _usernames(about_a) == ["center", "reporter_a", "subcenter"]

    about_b = notify("system.test", roles, {}, org_unit=tree.hospital_b)
    assert _usernames(about_b) == ["center", "reporter_b"]


def test_scope_check_for_role_holders_does_not_query_per_user(
    personas, django_assert_max_num_queries
):
    for i in range(15):
        RoleAssignmentFactory(
            user=UserFactory(username=f"rep{i}"),
            role=Role.UNIT_REPORTER,
            org_unit=personas.tree.hospital_b,
        )
    with django_assert_max_num_queries(3):
        members = role_members([Role.UNIT_REPORTER], personas.tree.hospital_b)
    assert len(members) == 16


def test_a_user_listed_directly_is_not_filtered_by_the_unit(personas):
    notes = notify("system.test", [personas.reporter_b], {}, org_unit=personas.tree.hospital_a)
    assert _usernames(notes) == ["reporter_b"]


def test_channels_are_chosen_by_owner_enabled_flag_and_event_filter(
    personas, django_capture_on_commit_callbacks
):
    user = personas.reporter_a
    wanted = Channel.objects.create(user=user, kind=ChannelKind.EMAIL, target="a@example.org")
    Channel.objects.create(
        user=user, kind=ChannelKind.EMAIL, target="off@example.org", enabled=False
    )
    Channel.objects.create(
        user=user, kind=ChannelKind.EMAIL, target="only-failed@example.org", events=["task.failed"]
    )
    Channel.objects.create(user=personas.reporter_b, kind=ChannelKind.EMAIL, target="b@example.org")
    Channel.objects.create(
        role=Role.UNIT_REPORTER, kind=ChannelKind.EMAIL, target="group@example.org"
    )

    with django_capture_on_commit_callbacks(execute=True):
        notify("task.finished", [user], {"label": "x"})

    [delivery] = Delivery.objects.all()
    assert delivery.channel == wanted
    assert delivery.status == DeliveryStatus.SENT  # locmem mail backend from the test settings


def test_the_test_event_reaches_channels_whatever_their_filter(personas):
    Channel.objects.create(
        user=personas.center, kind=ChannelKind.EMAIL, target="c@example.org", events=["task.failed"]
    )
    notify("system.test", [personas.center], {})
    assert Delivery.objects.filter(event="system.test").count() == 1


def test_deliveries_are_sent_only_after_the_transaction_commits(
    personas, django_capture_on_commit_callbacks
):
    from django.core import mail

    Channel.objects.create(user=personas.center, kind=ChannelKind.EMAIL, target="c@example.org")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            notify("system.test", [personas.center], {})
        assert Delivery.objects.get().status == DeliveryStatus.PENDING
        assert len(mail.outbox) == 0
    assert len(callbacks) == 1

    callbacks[0]()
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1


def test_rolled_back_work_sends_nothing_but_nothing_is_half_saved(personas):
    Channel.objects.create(user=personas.center, kind=ChannelKind.EMAIL, target="c@example.org")
    with pytest.raises(RuntimeError), transaction.atomic():
        notify("system.test", [personas.center], {})
        raise RuntimeError("the business action failed")
    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0
