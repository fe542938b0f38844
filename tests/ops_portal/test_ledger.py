"""The append-only ledger, ticket numbers, illegal actions, policies, audit and metrics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ops_portal import services
from ops_portal.choices import Severity
from ops_portal.errors import ActionForbidden, InvalidTransition, TicketError
from ops_portal.models import LedgerImmutableError, TicketEvent
from qc_core.audit.models import AuditEntry
from qc_core.notify.models import Notification
from tests.ops_portal.conftest import T0, H

pytestmark = pytest.mark.django_db


def test_ledger_entries_cannot_be_changed_or_deleted(make_ticket):
    ticket = make_ticket()
    event = TicketEvent.objects.get(ticket=ticket)
    event.body = "篡改"
    with pytest.raises(LedgerImmutableError):
        event.save()
    with pytest.raises(LedgerImmutableError):
        event.delete()
    with pytest.raises(LedgerImmutableError):
        TicketEvent.objects.filter(ticket=ticket).update(body="篡改")
    with pytest.raises(LedgerImmutableError):
        TicketEvent.objects.filter(ticket=ticket).delete()
    assert TicketEvent.objects.get(ticket=ticket).body == "全院无法登录质控平台"


def test_numbers_are_sequential_per_year_of_creation(make_ticket, clock_at):
    first, second = make_ticket(), make_ticket()
    assert (first.number, second.number) == ("GQ-2026-000001", "GQ-2026-000002")
    # 31 Dec 2026 16:30 UTC is already 1 Jan 2027 in Beijing: a new year, a new sequence.
    clock_at(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    assert make_ticket().number == "GQ-2027-000001"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda t, p: services.resolve(t, p.engineer, summary="x"), "不能解决"),
        (lambda t, p: services.pause(t, p.engineer, reason="等待"), "不能暂停计时"),
        (lambda t, p: services.comment(t, p.reporter_a, "还在吗"), "已关闭"),
        (lambda t, p: services.close(t, p.engineer), "已关闭"),
        (lambda t, p: services.acknowledge(t, p.engineer), "不能受理"),
    ],
)
def test_actions_on_a_closed_ticket_are_refused_with_the_reason(
    make_ticket, personas, action, message
):
    ticket = make_ticket()
    services.close(ticket, personas.engineer, reason="重复报修")
    with pytest.raises(InvalidTransition) as refused:
        action(ticket, personas)
    assert message in refused.value.message


def test_bad_input_errors_name_the_field(make_ticket, personas):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    services.acknowledge(ticket, personas.engineer)
    cases = [
        (lambda: services.respond(ticket, personas.engineer, cause=" ", solution="重启"), "cause"),
        (
            lambda: services.respond(ticket, personas.engineer, cause="网络", solution=""),
            "solution",
        ),
        (lambda: services.pause(ticket, personas.engineer, reason=""), "reason"),
        (
            lambda: services.change_severity(ticket, personas.engineer, Severity.OUTAGE, reason=""),
            "reason",
        ),
        (lambda: services.resolve(ticket, personas.engineer, summary="已处理"), "cause"),
        (lambda: services.reopen(ticket, personas.engineer, reason="x"), None),
    ]
    for call, field in cases:
        with pytest.raises(TicketError) as refused:
            call()
        assert refused.value.message
        assert refused.value.field == field


def test_resolve_may_record_the_response_in_one_step(make_ticket, personas):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    services.resolve(
        ticket, personas.engineer, summary="已修复", cause="配置错误", solution="已改正配置"
    )
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == ["created", "response", "resolved"]


def test_only_operations_work_tickets(make_ticket, personas):
    ticket = make_ticket()
    with pytest.raises(ActionForbidden):
        services.acknowledge(ticket, personas.reporter_a)
    with pytest.raises(ActionForbidden):
        services.internal_note(ticket, personas.reporter_a, "x")
    with pytest.raises(ActionForbidden):
        services.confirm_on_site(ticket, personas.engineer, on_behalf_of_customer=True)
    with pytest.raises(ActionForbidden):
        services.comment(ticket, personas.reporter_b, "别的医院")


def test_on_site_check_in_needs_both_sides(make_ticket, personas, clock_at):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    services.request_on_site(ticket, personas.engineer, reason="更换硬盘")
    with pytest.raises(InvalidTransition):
        services.check_in(ticket, personas.engineer, arrived_at=None, place="机房")
    with pytest.raises(InvalidTransition):
        services.confirm_on_site(ticket, personas.ops_manager)  # same (engineer) side again
    services.confirm_on_site(ticket, personas.reporter_a)
    clock_at(T0 + H)
    with pytest.raises(TicketError) as refused:
        services.check_in(ticket, personas.engineer, arrived_at=T0 + 2 * H, place="机房")
    assert refused.value.field == "arrived_at"


def test_only_the_ops_manager_publishes_policies(personas):
    with pytest.raises(ActionForbidden):
        services.publish_policy(personas.engineer, restore_minutes=30)
    with pytest.raises(TicketError) as refused:
        services.publish_policy(personas.ops_manager, warn_percents=[80, 50])
    assert refused.value.field == "warn_percents"


def test_ticket_changes_and_policy_versions_are_audited(make_ticket, personas, api_as):
    ticket = make_ticket()
    api_as(personas.engineer).post(f"/api/v1/tickets/{ticket.number}/acknowledge/")
    services.publish_policy(personas.ops_manager, note="调整", restore_minutes=45)
    entries = AuditEntry.objects.filter(object_type="ops_portal.ticket", object_id=str(ticket.pk))
    assert set(entries.values_list("action", flat=True)) == {"create", "update"}
    update = entries.get(action="update")
    assert update.changes["status"] == ["new", "acknowledged"]
    assert update.actor == personas.engineer
    assert "sla_due_at" not in update.changes
    assert AuditEntry.objects.filter(object_type="ops_portal.slapolicy", action="create").exists()


def test_new_tickets_notify_engineers_and_outages_the_ops_manager(make_ticket, personas):
    make_ticket(severity=Severity.NON_OUTAGE)
    assert (
        Notification.objects.filter(event="ops.ticket_created", user=personas.engineer).count() == 1
    )
    assert not Notification.objects.filter(
        event="ops.ticket_created", user=personas.ops_manager
    ).exists()
    make_ticket()
    assert (
        Notification.objects.filter(event="ops.ticket_created", user=personas.ops_manager).count()
        == 1
    )


def test_requester_hears_about_pause_and_resolution(make_ticket, personas):
    ticket = make_ticket()
    services.acknowledge(ticket, personas.engineer)
    services.pause(ticket, personas.engineer, reason="请确认机房供电")
    note = Notification.objects.filter(user=personas.reporter_a, event="ops.ticket_updated").latest(
        "id"
    )
    assert "请确认机房供电" in note.body
    assert note.url == f"/ops/t/{ticket.number}/"


def test_metrics_show_open_tickets_warnings_breaches_and_time_to_breach(
    make_ticket, personas, clock_at, client
):
    make_ticket()
    make_ticket(severity=Severity.NON_OUTAGE)
    clock_at(T0 + 2 * H)
    services.run_sla_tick()
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'geriqc_ops_open_tickets{severity="outage",status="new"} 1.0' in body
    assert 'geriqc_ops_sla_breaches{clause="restore"} 1.0' in body
    assert 'geriqc_ops_sla_warnings{clause="respond",level="1"} 1.0' in body
    assert 'geriqc_ops_sla_min_remaining_seconds{clause="restore"} -3600.0' in body
    assert 'geriqc_ops_sla_min_remaining_seconds{clause="respond"} 7200.0' in body
