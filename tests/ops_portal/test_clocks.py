"""SLA clocks computed from the ledger, with moved time: due times, exact boundaries, pauses,
severity changes, on-site visits, consultations, reopening, and the materialized rows."""

from __future__ import annotations

import pytest

from ops_portal import services
from ops_portal.choices import Category, Channel, Clause, Severity
from ops_portal.models import SlaClock
from tests.ops_portal.conftest import T0, H, M, S, clock_of

pytestmark = pytest.mark.django_db


# --- restore (outage, 1 h) ----------------------------------------------------------------------


def test_outage_restore_clock_is_due_one_hour_after_the_report(make_ticket):
    ticket = make_ticket()
    restore = clock_of(ticket, Clause.RESTORE)
    assert restore.started_at == T0
    assert restore.due_at == T0 + H
    assert restore.remaining_seconds == 3600
    assert not restore.breached
    assert {c.clause for c in services.ticket_clocks(ticket)} == {Clause.RESTORE}


def test_restore_met_exactly_at_the_deadline_is_on_time(make_ticket, personas, clock_at):
    ticket = make_ticket()
    services.acknowledge(ticket, personas.engineer)
    clock_at(T0 + H)
    services.resolve(ticket, personas.engineer, summary="已重启应用服务")
    restore = clock_of(ticket, Clause.RESTORE)
    assert restore.met_at == T0 + H
    assert restore.remaining_seconds == 0
    assert not restore.breached
    assert restore.state == "met"


def test_restore_met_one_second_late_is_breached(make_ticket, personas, clock_at):
    ticket = make_ticket()
    clock_at(T0 + H + S)
    services.resolve(ticket, personas.engineer, summary="已恢复")
    restore = clock_of(ticket, Clause.RESTORE)
    assert restore.breached
    assert restore.remaining_seconds == -1
    assert restore.state == "missed"


def test_running_clock_breaches_only_after_the_due_instant(make_ticket, clock_at):
    ticket = make_ticket()
    clock_at(T0 + H)
    at_due = clock_of(ticket, Clause.RESTORE)
    assert (at_due.remaining_seconds, at_due.breached) == (0, False)
    clock_at(T0 + H + S)
    after = clock_of(ticket, Clause.RESTORE)
    assert (after.remaining_seconds, after.breached) == (-1, True)


def test_phone_report_starts_the_clock_at_the_call_not_at_entry(personas, clock_at):
    clock_at(T0 + 30 * M)
    ticket = services.log_phone_call(
        personas.engineer,
        caller="张医生",
        phone="0871-12345678",
        called_at=T0,
        summary="质控平台打不开",
        category=Category.FAULT,
        severity=Severity.OUTAGE,
        org_unit=personas.tree.hospital_a,
    )
    assert ticket.channel == Channel.PHONE
    assert ticket.reported_at == T0
    restore = clock_of(ticket, Clause.RESTORE)
    assert restore.due_at == T0 + H
    assert restore.remaining_seconds == 30 * 60


# --- respond (non-outage, 4 h, cause + solution) --------------------------------------------------


def test_a_comment_does_not_stop_the_respond_clock(make_ticket, personas, clock_at):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    clock_at(T0 + H)
    services.comment(ticket, personas.engineer, "正在排查")
    respond = clock_of(ticket, Clause.RESPOND)
    assert respond.due_at == T0 + 4 * H
    assert respond.met_at is None


def test_structured_response_meets_the_respond_clock_at_the_boundary(
    make_ticket, personas, clock_at
):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    clock_at(T0 + 4 * H)
    services.respond(ticket, personas.engineer, cause="索引缺失导致查询缓慢", solution="已添加索引")
    respond = clock_of(ticket, Clause.RESPOND)
    assert respond.met_at == T0 + 4 * H
    assert not respond.breached


def test_respond_one_second_late_is_breached(make_ticket, personas, clock_at):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    clock_at(T0 + 4 * H + S)
    services.respond(ticket, personas.engineer, cause="网络抖动", solution="更换交换机端口")
    assert clock_of(ticket, Clause.RESPOND).breached


# --- pauses --------------------------------------------------------------------------------------


def test_pause_shifts_the_deadline_by_exactly_the_paused_time(make_ticket, personas, clock_at):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    services.acknowledge(ticket, personas.engineer)
    clock_at(T0 + H)
    services.pause(ticket, personas.engineer, reason="请提供出错页面截图")
    clock_at(T0 + H + 25 * M)
    paused = clock_of(ticket, Clause.RESPOND)
    assert paused.paused_since == T0 + H
    assert paused.remaining_seconds == 3 * 3600  # frozen while waiting
    assert paused.paused_seconds == 25 * 60
    clock_at(T0 + H + 30 * M)
    services.resume(ticket, personas.reporter_a, note="截图已上传")
    respond = clock_of(ticket, Clause.RESPOND)
    assert respond.paused_since is None
    assert respond.paused_seconds == 30 * 60
    assert respond.due_at == T0 + 4 * H + 30 * M
    assert [(p.start, p.end, p.reason) for p in respond.pauses] == [
        (T0 + H, T0 + H + 30 * M, "请提供出错页面截图")
    ]


def test_two_pauses_add_up_and_the_boundary_moves_with_them(make_ticket, personas, clock_at):
    ticket = make_ticket()  # outage, restore 1 h
    services.acknowledge(ticket, personas.engineer)
    clock_at(T0 + 10 * M)
    services.pause(ticket, personas.engineer, reason="请确认服务器是否断电")
    clock_at(T0 + 20 * M)
    services.resume(ticket, personas.engineer)
    clock_at(T0 + 30 * M)
    services.pause(ticket, personas.engineer, reason="等待机房开门")
    clock_at(T0 + 35 * M)
    services.comment(ticket, personas.reporter_a, "机房已开门")  # a customer reply resumes
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    clock_at(T0 + H + 15 * M)
    services.resolve(ticket, personas.engineer, summary="已恢复供电")
    restore = clock_of(ticket, Clause.RESTORE)
    assert restore.paused_seconds == 15 * 60
    assert restore.due_at == T0 + H + 15 * M
    assert restore.met_at == restore.due_at and not restore.breached


def test_a_pause_after_the_deadline_does_not_unbreach(make_ticket, personas, clock_at):
    ticket = make_ticket()
    services.acknowledge(ticket, personas.engineer)
    clock_at(T0 + 2 * H)
    services.pause(ticket, personas.engineer, reason="等待用户")
    restore = clock_of(ticket, Clause.RESTORE)
    assert restore.due_at == T0 + H
    assert restore.breached


# --- severity changes ------------------------------------------------------------------------------


def test_downgrading_an_outage_recomputes_from_the_report(make_ticket, personas, clock_at):
    ticket = make_ticket()
    clock_at(T0 + 30 * M)
    services.change_severity(
        ticket, personas.engineer, Severity.NON_OUTAGE, reason="仅个别科室受影响"
    )
    clocks = {c.clause: c for c in services.ticket_clocks(ticket)}
    assert set(clocks) == {Clause.RESPOND}
    assert clocks[Clause.RESPOND].due_at == T0 + 4 * H
    assert set(SlaClock.objects.filter(ticket=ticket).values_list("clause", flat=True)) == {
        Clause.RESPOND
    }


def test_upgrading_to_outage_shows_the_deadline_it_should_have_had(make_ticket, personas, clock_at):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    clock_at(T0 + 2 * H)
    services.change_severity(ticket, personas.engineer, Severity.OUTAGE, reason="已扩散到全院")
    restore = clock_of(ticket, Clause.RESTORE)
    assert restore.due_at == T0 + H
    assert restore.breached
    ticket.refresh_from_db()
    assert ticket.sla_breached


def test_severity_flip_back_and_forth_is_recomputed_from_the_ledger(
    make_ticket, personas, clock_at
):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    clock_at(T0 + 10 * M)
    services.change_severity(ticket, personas.engineer, Severity.OUTAGE, reason="全院无法登录")
    clock_at(T0 + 20 * M)
    services.change_severity(
        ticket, personas.ops_manager, Severity.NON_OUTAGE, reason="误报，仅一台电脑"
    )
    respond = clock_of(ticket, Clause.RESPOND)
    assert respond.due_at == T0 + 4 * H
    assert [c.clause for c in services.ticket_clocks(ticket)] == [Clause.RESPOND]


# --- on site (24 h after both sides confirm) -----------------------------------------------------


def _confirmed_visit(make_ticket, personas, clock_at):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    services.acknowledge(ticket, personas.engineer)
    clock_at(T0 + H)
    services.request_on_site(ticket, personas.reporter_a, reason="服务器硬件报警")
    assert clock_of(ticket, Clause.ON_SITE) is None  # one side only: no clock yet
    clock_at(T0 + 2 * H)
    services.confirm_on_site(ticket, personas.engineer)
    return ticket


def test_on_site_clock_starts_when_both_sides_confirmed(make_ticket, personas, clock_at):
    ticket = _confirmed_visit(make_ticket, personas, clock_at)
    on_site = clock_of(ticket, Clause.ON_SITE)
    assert on_site.started_at == T0 + 2 * H
    assert on_site.due_at == T0 + 26 * H


def test_check_in_exactly_at_24_hours_meets_the_on_site_clause(make_ticket, personas, clock_at):
    ticket = _confirmed_visit(make_ticket, personas, clock_at)
    clock_at(T0 + 30 * H)
    services.check_in(ticket, personas.engineer, arrived_at=T0 + 26 * H, place="A院信息科机房")
    on_site = clock_of(ticket, Clause.ON_SITE)
    assert on_site.met_at == T0 + 26 * H
    assert not on_site.breached


def test_check_in_after_24_hours_is_breached(make_ticket, personas, clock_at):
    ticket = _confirmed_visit(make_ticket, personas, clock_at)
    clock_at(T0 + 26 * H + S)
    services.check_in(ticket, personas.engineer, arrived_at=None, place="A院信息科机房")
    assert clock_of(ticket, Clause.ON_SITE).breached


def test_ops_manager_may_confirm_for_the_customer(make_ticket, personas, clock_at):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    services.request_on_site(ticket, personas.engineer, reason="需现场更换硬盘")
    clock_at(T0 + H)
    services.confirm_on_site(ticket, personas.ops_manager, on_behalf_of_customer=True)
    assert clock_of(ticket, Clause.ON_SITE).started_at == T0 + H


# --- consultations ---------------------------------------------------------------------------------


def test_consultation_is_met_by_the_first_public_staff_reply_only(make_ticket, personas, clock_at):
    ticket = make_ticket(category=Category.CONSULTATION, severity="", title="如何导出季度数据")
    clock_at(T0 + H)
    services.comment(ticket, personas.reporter_a, "补充：需要导出 Excel")
    services.internal_note(ticket, personas.engineer, "查一下导出权限")
    assert clock_of(ticket, Clause.CONSULT_RESPONSE).met_at is None
    clock_at(T0 + 2 * H)
    services.comment(ticket, personas.engineer, "在“季度导出”页面选择周期即可。")
    consult = clock_of(ticket, Clause.CONSULT_RESPONSE)
    assert consult.due_at == T0 + 4 * H
    assert consult.met_at == T0 + 2 * H


# --- reopening -----------------------------------------------------------------------------------


def test_reopen_keeps_the_met_time_by_default(make_ticket, personas, clock_at):
    ticket = make_ticket()
    clock_at(T0 + 30 * M)
    services.resolve(ticket, personas.engineer, summary="已恢复")
    clock_at(T0 + 3 * H)
    services.reopen(ticket, personas.reporter_a, reason="又无法登录了")
    restore = clock_of(ticket, Clause.RESTORE)
    assert restore.met_at == T0 + 30 * M
    assert not restore.breached


def test_reopen_restarts_the_clock_when_the_policy_says_so(make_ticket, personas, clock_at):
    services.publish_policy(personas.ops_manager, note="重开重新计时", reopen_restarts_clock=True)
    ticket = make_ticket()
    clock_at(T0 + 30 * M)
    services.resolve(ticket, personas.engineer, summary="已恢复")
    clock_at(T0 + 3 * H)
    services.reopen(ticket, personas.reporter_a, reason="又无法登录了")
    restore = clock_of(ticket, Clause.RESTORE)
    assert restore.started_at == T0 + 3 * H
    assert restore.due_at == T0 + 4 * H
    assert restore.met_at is None


def test_closing_an_unresolved_ticket_stops_its_clock(make_ticket, personas, clock_at):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    clock_at(T0 + H)
    services.close(ticket, personas.engineer, reason="重复报修，见另一工单")
    respond = clock_of(ticket, Clause.RESPOND)
    assert respond.stopped_at == T0 + H
    assert respond.state == "stopped"
    clock_at(T0 + 10 * H)
    assert not clock_of(ticket, Clause.RESPOND).breached


# --- policies are frozen per ticket --------------------------------------------------------------


def test_a_ticket_keeps_the_policy_version_it_was_created_under(make_ticket, personas):
    old = make_ticket()
    services.publish_policy(personas.ops_manager, note="恢复时限调整为 90 分钟", restore_minutes=90)
    new = make_ticket()
    assert old.policy.version == 1 and new.policy.version == 2
    assert clock_of(old, Clause.RESTORE).due_at == T0 + H
    assert clock_of(new, Clause.RESTORE).due_at == T0 + 90 * M


# --- materialized rows equal the ledger --------------------------------------------------------


def test_materialized_clock_rows_match_a_recomputation_from_the_ledger(
    make_ticket, personas, clock_at
):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    services.acknowledge(ticket, personas.engineer)
    clock_at(T0 + H)
    services.pause(ticket, personas.engineer, reason="等待日志")
    clock_at(T0 + 2 * H)
    services.resume(ticket, personas.reporter_a)
    services.request_on_site(ticket, personas.engineer, reason="需现场排查")
    services.confirm_on_site(ticket, personas.reporter_a)
    clock_at(T0 + 3 * H)
    services.respond(ticket, personas.engineer, cause="磁盘满", solution="清理日志并扩容")
    rows = {r.clause: r for r in SlaClock.objects.filter(ticket=ticket)}
    for state in services.ticket_clocks(ticket):
        row = rows[state.clause]
        assert (row.started_at, row.due_at, row.met_at, row.stopped_at) == (
            state.started_at,
            state.due_at,
            state.met_at,
            state.stopped_at,
        )
        assert (row.paused_seconds, row.breached, row.remaining_seconds) == (
            state.paused_seconds,
            state.breached,
            state.remaining_seconds,
        )
        assert (row.warn_50_due, row.warn_80_due) == state.warn_due
    assert set(rows) == {Clause.RESPOND, Clause.ON_SITE}
