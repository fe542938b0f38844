"""The operations pages: queue, ticket page, requester's list, forms, policy page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ops_portal import services
from ops_portal.choices import Severity
from ops_portal.models import SlaPolicy, Ticket, TicketAttachment
from tests.ops_portal.conftest import T0, H, M

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_at_t0(clock_at):
    """Every test starts at T0 (Monday 09:00 Beijing time)."""


def test_queue_orders_by_time_to_breach_with_coloured_countdowns(
    client_as, make_ticket, personas, clock_at
):
    minor = make_ticket(title="慢", severity=Severity.NON_OUTAGE)  # due T0+4h
    clock_at(T0 + 10 * M)
    outage = make_ticket(title="宕机")  # due T0+1h10m
    clock_at(T0 + 50 * M)  # outage: 40 of 60 minutes gone (amber); minor: 50 of 240 (green)
    consult = make_ticket(title="咨询", category="consultation", severity="")
    services.resolve(make_ticket(title="已解决"), personas.engineer, summary="好了")
    html = client_as(personas.engineer).get("/ops/").content.decode()
    order = [html.index(t.number) for t in (outage, minor, consult)]
    assert order == sorted(order)
    assert "已解决" not in html
    assert 'data-clock-state="running"' in html
    assert "text-bg-warning" in html and "text-bg-success" in html


def test_queue_filters_mine_unassigned_breached_unit_and_channel(
    client_as, make_ticket, personas, clock_at
):
    mine = make_ticket(title="我的单")
    services.acknowledge(mine, personas.engineer)
    phone = make_ticket(title="电话单", channel="phone", severity=Severity.NON_OUTAGE)
    other = make_ticket(
        title="B院单",
        requester=personas.reporter_b,
        org_unit=personas.tree.hospital_b,
        severity=Severity.NON_OUTAGE,
    )
    clock_at(T0 + 2 * H)
    client = client_as(personas.engineer)

    def shown(query):
        html = client.get("/ops/" + query).content.decode()
        return {t.number for t in (mine, phone, other) if t.number in html}

    assert shown("?view=mine") == {mine.number}
    assert shown("?view=unassigned") == {phone.number, other.number}
    assert shown("?view=breached") == {mine.number}
    assert shown("?unit=HB001") == {other.number}
    assert shown("?channel=phone") == {phone.number}


def test_queue_is_for_operations_only(client_as, personas):
    assert client_as(personas.reporter_a).get("/ops/").status_code == 403
    assert client_as(personas.nobody).get("/ops/").status_code == 403


def test_queue_partial_refresh_for_htmx(client_as, make_ticket, personas):
    make_ticket()
    response = client_as(personas.engineer).get("/ops/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="queue-rows"' in html and "<html" not in html


def test_queue_query_count_does_not_grow_with_tickets(
    client_as, make_ticket, personas, django_assert_max_num_queries
):
    for i in range(40):
        make_ticket(title=f"故障 {i}")
    client = client_as(personas.engineer)
    client.get("/ops/")  # warm the session
    with django_assert_max_num_queries(14):
        response = client.get("/ops/")
    assert response.status_code == 200


def test_requester_sees_public_timeline_and_pause_reason_but_no_internal_notes(
    client_as, make_ticket, personas, clock_at
):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    services.acknowledge(ticket, personas.engineer)
    services.internal_note(ticket, personas.engineer, "内部：疑似同事误操作")
    services.pause(ticket, personas.engineer, reason="请提供出错截图")
    html = client_as(personas.reporter_a).get(f"/ops/t/{ticket.number}/").content.decode()
    assert "请提供出错截图" in html
    assert "疑似同事误操作" not in html
    assert "我已反馈，恢复处理" in html
    staff_html = client_as(personas.engineer).get(f"/ops/t/{ticket.number}/").content.decode()
    assert "疑似同事误操作" in staff_html


def test_ticket_page_is_404_for_outsiders(client_as, make_ticket, personas):
    ticket = make_ticket()
    for user in (personas.reporter_b, personas.nobody, personas.expert):
        assert client_as(user).get(f"/ops/t/{ticket.number}/").status_code == 404
        assert (
            client_as(user).post(f"/ops/t/{ticket.number}/comment/", {"body": "x"}).status_code
            == 404
        )


def test_page_action_with_a_refusal_shows_the_chinese_reason(client_as, make_ticket, personas):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    client = client_as(personas.engineer)
    response = client.post(
        f"/ops/t/{ticket.number}/respond/", {"cause": "", "solution": "重启"}, follow=True
    )
    assert "请填写故障原因。" in response.content.decode()
    response = client.post(
        f"/ops/t/{ticket.number}/respond/", {"cause": "内存泄漏", "solution": "升级"}, follow=True
    )
    assert "已答复原因和解决方案" in response.content.decode()


def test_new_ticket_form_with_attachment(client_as, personas):
    upload = SimpleUploadedFile("截图.png", b"\x89PNG fake", content_type="image/png")
    response = client_as(personas.reporter_a).post(
        "/ops/new/",
        {
            "title": "上报按钮无响应",
            "category": "fault",
            "severity": "non_outage",
            "org_unit": personas.tree.hospital_a.pk,
            "description": "点击没有反应",
            "attachments": [upload],
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/ops/t/{ticket.number}/"
    assert ticket.requester == personas.reporter_a and ticket.channel == "web"
    attachment = TicketAttachment.objects.get()
    assert attachment.name == "截图.png" and attachment.event.kind == "created"
    download = client_as(personas.reporter_a).get(f"/ops/t/{ticket.number}/files/{attachment.pk}/")
    assert download.status_code == 200
    assert (
        client_as(personas.reporter_b)
        .get(f"/ops/t/{ticket.number}/files/{attachment.pk}/")
        .status_code
        == 404
    )


def test_new_ticket_form_requires_severity_for_faults(client_as, personas):
    response = client_as(personas.reporter_a).post(
        "/ops/new/", {"title": "x", "category": "fault", "org_unit": personas.tree.hospital_a.pk}
    )
    assert response.status_code == 200
    assert "故障工单须选择故障等级" in response.content.decode()
    assert not Ticket.objects.exists()


def test_reporter_cannot_pick_another_hospital_in_the_form(client_as, personas):
    response = client_as(personas.reporter_a).post(
        "/ops/new/",
        {"title": "x", "category": "consultation", "org_unit": personas.tree.hospital_b.pk},
    )
    assert response.status_code == 200 and not Ticket.objects.exists()


def test_phone_log_form_starts_the_clock_at_the_call(client_as, personas):
    response = client_as(personas.engineer).post(
        "/ops/phone/",
        {
            "caller": "张医生",
            "phone": "0871-1234",
            "called_at": "2026-03-02T08:40",
            "org_unit": personas.tree.hospital_a.pk,
            "category": "fault",
            "severity": "outage",
            "summary": "全院无法登录",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.channel == "phone" and ticket.contact_name == "张医生"
    assert ticket.reported_at == T0 - 20 * M
    assert ticket.created_by == personas.engineer
    assert client_as(personas.reporter_a).get("/ops/phone/").status_code == 403


def test_my_tickets_lists_own_and_unit_tickets_only(client_as, make_ticket, personas):
    mine = make_ticket(title="我报的")
    colleague = make_ticket(title="同院同事报的", requester=personas.leader_a)
    other = make_ticket(
        title="B院的", requester=personas.reporter_b, org_unit=personas.tree.hospital_b
    )
    html = client_as(personas.reporter_a).get("/ops/my/").content.decode()
    assert mine.number in html and colleague.number in html and other.number not in html


def test_policy_page_publishes_a_new_version(client_as, personas):
    services.current_policy()
    client = client_as(personas.ops_manager)
    assert client.get("/ops/policy/").status_code == 200
    response = client.post(
        "/ops/policy/",
        {
            "restore_minutes": 60,
            "respond_minutes": 180,
            "on_site_minutes": 1440,
            "consult_minutes": 240,
            "warn_first": 50,
            "warn_second": 75,
            "calendar": services.default_calendar().pk,
            "note": "响应时限缩短到 3 小时",
        },
    )
    assert response.status_code == 302
    latest = SlaPolicy.objects.order_by("-version").first()
    assert (latest.version, latest.respond_minutes, latest.warn_percents) == (2, 180, [50, 75])
    assert client_as(personas.engineer).get("/ops/policy/").status_code == 403


def test_nav_shows_the_operations_section(client_as, personas):
    staff = client_as(personas.engineer).get("/ops/my/").content.decode()
    assert "工单队列" in staff and "电话登记" in staff
    reporter = client_as(personas.reporter_a).get("/ops/my/").content.decode()
    assert "我的报修" in reporter and "工单队列" not in reporter


def test_ticket_page_renders_a_full_life_for_both_sides(client_as, make_ticket, personas, clock_at):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    services.acknowledge(ticket, personas.engineer)
    services.request_on_site(ticket, personas.reporter_a, reason="打印机驱动需现场安装")
    services.confirm_on_site(ticket, personas.engineer)
    clock_at(T0 + 3 * H)
    services.check_in(ticket, personas.engineer, arrived_at=None, place="A院质控办")
    services.respond(ticket, personas.engineer, cause="驱动版本过旧", solution="安装新版驱动")
    services.change_severity(ticket, personas.engineer, Severity.OUTAGE, reason="全院无法打印报表")
    services.run_sla_tick()
    services.resolve(ticket, personas.engineer, summary="已恢复")
    services.close(ticket, personas.reporter_a)
    staff = client_as(personas.engineer).get(f"/ops/t/{ticket.number}/").content.decode()
    for text in ("到场签到", "A院质控办", "驱动版本过旧", "SLA 超时", "重新打开", "超时完成"):
        assert text in staff
    requester = client_as(personas.reporter_a).get(f"/ops/t/{ticket.number}/").content.decode()
    assert "驱动版本过旧" in requester and "SLA 超时" not in requester
