"""The tickets API: creation with clocks, scoped lists and lookups, actions, the error format."""

from __future__ import annotations

import pytest

from ops_portal import services
from ops_portal.choices import Severity
from ops_portal.models import Ticket
from tests.ops_portal.conftest import T0, H, M

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets/"


@pytest.fixture(autouse=True)
def _frozen_at_t0(clock_at):
    """Every test starts at T0 (Monday 09:00 Beijing time)."""


def detail(number, action=""):
    return f"{URL}{number}/" + (f"{action}/" if action else "")


def test_reporter_creates_a_ticket_and_gets_its_clocks(api_as, personas, clock_at):
    response = api_as(personas.reporter_a).post(
        URL,
        {
            "title": "上报页面打不开",
            "description": "点击上报无响应",
            "category": "fault",
            "severity": "non_outage",
            "org_unit": "HA001",
            "contact_phone": "13800000000",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("GQ-2026-")
    assert body["channel"] == "api" and body["requester"] == "reporter_a"
    assert body["clocks"] == [
        {
            "clause": "respond",
            "clause_display": "响应（4小时，原因+方案）",
            "started_at": "2026-03-02T09:00:00+08:00",
            "due_at": "2026-03-02T13:00:00+08:00",
            "met_at": None,
            "stopped_at": None,
            "paused": False,
            "breached": False,
            "paused_seconds": 0,
            "remaining_seconds": 4 * 3600,
        }
    ]


def test_the_reporters_own_unit_is_the_default(api_as, personas):
    response = api_as(personas.reporter_a).post(
        URL, {"title": "咨询导出", "category": "consultation"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["org_unit"] == "HA001"
    assert response.json()["clocks"][0]["clause"] == "consult_response"


def test_a_reporter_cannot_file_for_another_hospital(api_as, personas):
    response = api_as(personas.reporter_a).post(
        URL,
        {"title": "x", "category": "fault", "severity": "outage", "org_unit": "HB001"},
        format="json",
    )
    assert response.status_code == 400
    assert "org_unit" in response.json()["fields"]
    assert not Ticket.objects.exists()


def test_only_operations_may_backdate_reported_at(api_as, personas):
    payload = {
        "title": "电话报修",
        "category": "fault",
        "severity": "outage",
        "org_unit": "HA001",
        "reported_at": "2026-03-02T08:30:00+08:00",
    }
    refused = api_as(personas.reporter_a).post(URL, payload, format="json")
    assert refused.status_code == 400 and "reported_at" in refused.json()["fields"]
    payload["contact_name"] = "王护士"
    created = api_as(personas.engineer).post(URL, payload, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["requester"] is None and body["contact_name"] == "王护士"
    assert body["clocks"][0]["due_at"] == "2026-03-02T09:30:00+08:00"
    assert body["clocks"][0]["remaining_seconds"] == 30 * 60


def test_fault_without_severity_is_refused_naming_the_field(api_as, personas):
    response = api_as(personas.reporter_a).post(
        URL, {"title": "故障", "category": "fault"}, format="json"
    )
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert "故障等级" in body["message"]
    assert "severity" in body["fields"]


def test_ticket_is_looked_up_by_number_with_its_timeline(api_as, make_ticket, personas):
    ticket = make_ticket()
    services.internal_note(ticket, personas.engineer, "怀疑数据库连接池耗尽")
    staff_view = api_as(personas.engineer).get(detail(ticket.number)).json()
    assert [e["kind"] for e in staff_view["events"]] == ["created", "internal_note"]
    requester_view = api_as(personas.reporter_a).get(detail(ticket.number)).json()
    assert [e["kind"] for e in requester_view["events"]] == ["created"]  # no internal notes


def test_actions_walk_a_ticket_through_its_life(api_as, make_ticket, personas, clock_at):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    engineer = api_as(personas.engineer)
    assert engineer.post(detail(ticket.number, "acknowledge")).json()["status"] == "acknowledged"
    clock_at(T0 + H)
    paused = engineer.post(
        detail(ticket.number, "pause"), {"reason": "请提供日志"}, format="json"
    ).json()
    assert paused["status"] == "awaiting_customer" and paused["clocks"][0]["paused"] is True
    clock_at(T0 + H + 20 * M)
    resumed = api_as(personas.reporter_a).post(
        detail(ticket.number, "resume"), {"reason": "日志已上传"}, format="json"
    )
    assert resumed.json()["clocks"][0]["paused_seconds"] == 20 * 60
    responded = engineer.post(
        detail(ticket.number, "respond"),
        {"cause": "磁盘已满", "solution": "清理并扩容"},
        format="json",
    ).json()
    assert responded["clocks"][0]["met_at"] is not None
    resolved = engineer.post(
        detail(ticket.number, "resolve"), {"summary": "已扩容"}, format="json"
    ).json()
    assert resolved["status"] == "resolved"
    closed = (
        api_as(personas.reporter_a).post(detail(ticket.number, "close"), {}, format="json").json()
    )
    assert closed["status"] == "closed"
    reopened = api_as(personas.reporter_a).post(
        detail(ticket.number, "reopen"), {"reason": "又满了"}, format="json"
    )
    assert reopened.json()["status"] == "in_progress"


def test_resolving_a_closed_ticket_is_a_409_in_chinese(api_as, make_ticket, personas):
    ticket = make_ticket()
    services.close(ticket, personas.engineer, reason="重复报修")
    response = api_as(personas.engineer).post(
        detail(ticket.number, "resolve"), {"summary": "x"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body == {"status": 409, "code": "invalid_state", "message": body["message"]}
    assert "已关闭" in body["message"] and "不能解决" in body["message"]


def test_respond_without_cause_names_the_field(api_as, make_ticket, personas):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    response = api_as(personas.engineer).post(
        detail(ticket.number, "respond"), {"solution": "重启"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["message"] == "请填写故障原因。"
    assert response.json()["fields"]["cause"] == ["请填写故障原因。"]


def test_pause_without_reason_is_refused(api_as, make_ticket, personas):
    ticket = make_ticket()
    services.acknowledge(ticket, personas.engineer)
    response = api_as(personas.engineer).post(detail(ticket.number, "pause"), {}, format="json")
    assert response.status_code == 400
    assert "原因" in response.json()["message"]


def test_requester_may_not_respond_or_change_severity(api_as, make_ticket, personas):
    ticket = make_ticket()
    client = api_as(personas.reporter_a)
    forbidden = client.post(
        detail(ticket.number, "respond"), {"cause": "a", "solution": "b"}, format="json"
    )
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "permission_denied"
    severity = client.post(
        detail(ticket.number, "severity"), {"severity": "non_outage", "reason": "x"}, format="json"
    )
    assert severity.status_code == 403


def test_severity_change_needs_a_reason_and_recomputes(api_as, make_ticket, personas, clock_at):
    ticket = make_ticket()
    client = api_as(personas.engineer)
    assert (
        client.post(
            detail(ticket.number, "severity"), {"severity": "non_outage"}, format="json"
        ).status_code
        == 400
    )
    changed = client.post(
        detail(ticket.number, "severity"),
        {"severity": "non_outage", "reason": "仅单科室"},
        format="json",
    ).json()
    assert [c["clause"] for c in changed["clocks"]] == ["respond"]


def test_assign_to_a_non_engineer_is_refused(api_as, make_ticket, personas):
    ticket = make_ticket()
    response = api_as(personas.ops_manager).post(
        detail(ticket.number, "assign"), {"assignee": "reporter_b"}, format="json"
    )
    assert response.status_code == 400 and "assignee" in response.json()["fields"]
    ok = api_as(personas.ops_manager).post(
        detail(ticket.number, "assign"), {"assignee": "engineer"}, format="json"
    )
    assert ok.json()["assignee"] == "engineer"


def test_list_filters(api_as, make_ticket, personas, clock_at):
    outage = make_ticket()
    minor = make_ticket(severity=Severity.NON_OUTAGE, channel="phone", contact_name="x")
    services.acknowledge(minor, personas.engineer)
    clock_at(T0 + 2 * H)
    client = api_as(personas.engineer)

    def numbers(query):
        return {row["number"] for row in client.get(URL + query).json()["results"]}

    assert numbers("?severity=outage") == {outage.number}
    assert numbers("?channel=phone") == {minor.number}
    assert numbers("?assignee=me") == {minor.number}
    assert numbers("?breached=true") == {outage.number}
    assert numbers("?status=new") == {outage.number}
    assert numbers("?org_unit=HA001") == {outage.number, minor.number}


# --- scope ---------------------------------------------------------------------------------------


def test_requester_from_hospital_a_sees_none_of_hospital_bs_tickets(api_as, make_ticket, personas):
    a = make_ticket()
    b = make_ticket(requester=personas.reporter_b, org_unit=personas.tree.hospital_b)
    client = api_as(personas.reporter_a)
    assert {r["number"] for r in client.get(URL).json()["results"]} == {a.number}
    missing = client.get(detail(b.number))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert (
        client.post(detail(b.number, "comment"), {"body": "看看"}, format="json").status_code == 404
    )


def test_colleagues_of_the_same_hospital_see_its_tickets(api_as, make_ticket, personas):
    ticket = make_ticket()
    assert api_as(personas.leader_a).get(detail(ticket.number)).status_code == 200
    assert (
        api_as(personas.subcenter).get(detail(ticket.number)).status_code == 200
    )  # 昆明市 subtree


def test_engineers_and_ops_manager_see_all(api_as, make_ticket, personas):
    a = make_ticket()
    b = make_ticket(requester=personas.reporter_b, org_unit=personas.tree.hospital_b)
    for user in (personas.engineer, personas.ops_manager):
        assert {r["number"] for r in api_as(user).get(URL).json()["results"]} == {
            a.number,
            b.number,
        }


@pytest.mark.parametrize("name", ["nobody", "expert", "tester", "reporter_b"])
def test_outsiders_get_404_and_no_data(api_as, make_ticket, personas, name):
    ticket = make_ticket()
    client = api_as(getattr(personas, name))
    assert client.get(URL).json()["results"] == []
    assert client.get(detail(ticket.number)).status_code == 404
    for action in ("acknowledge", "resolve", "close", "reopen", "respond", "pause"):
        assert client.post(detail(ticket.number, action), {}, format="json").status_code == 404


def test_anonymous_gets_401(api, make_ticket):
    ticket = make_ticket()
    assert api.get(URL).status_code == 401
    assert api.get(detail(ticket.number)).status_code == 401


def test_list_query_count_does_not_grow_with_tickets(
    api_as, make_ticket, personas, django_assert_max_num_queries
):
    for i in range(30):
        make_ticket(title=f"故障 {i}", severity=Severity.NON_OUTAGE if i % 2 else Severity.OUTAGE)
    client = api_as(personas.engineer)
    with django_assert_max_num_queries(8):
        response = client.get(URL + "?page_size=100")
    assert response.json()["count"] == 30
    assert all(row["clocks"] for row in response.json()["results"])
