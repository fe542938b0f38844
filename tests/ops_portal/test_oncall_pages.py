"""The on-call pages: who is on call now and the next 14 days with gaps in red, the approvals
queue for the ops manager only, roster editing for the ops manager only, outsiders refused,
query counts bounded, /metrics figures."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ops_portal.choices import ShiftRole
from ops_portal.models import Roster
from ops_portal.oncall import requests
from ops_portal.oncall.coverage import run_coverage_check
from tests.ops_portal.conftest import T0, H
from tests.ops_portal.oncall_support import (
    make_period,
    make_roster,
    make_team,
    manual_shift,
    shifts_of,
)

D = 24 * H
pytestmark = pytest.mark.django_db
PAGE = "ops_portal:oncall"


@pytest.fixture
def team(personas, clock_at):
    team = make_team(personas)
    make_roster(team, [team.a, team.b, team.c])
    return team


def test_page_shows_who_is_on_call_now_and_the_next_fourteen_days(team, client_as):
    page = client_as(team.b).get(reverse(PAGE))
    assert page.status_code == 200
    text = page.text
    assert 'data-role="primary">' + team.a.get_full_name() in text
    assert 'data-role="secondary">' + team.b.get_full_name() in text
    assert text.count("data-day=") == 15  # 09:00 today → 09:00 in 14 days touches 15 local dates
    assert "每小时都有主值班" in text
    assert "gap-piece" not in text


def test_gaps_are_shown_in_red_with_their_notice(personas, client_as, clock_at):
    team = make_team(personas)
    manual_shift(team.a, T0, T0 + 2 * H)
    manual_shift(team.b, T0 + 5 * H, T0 + 15 * D)
    run_coverage_check()
    page = client_as(team.boss).get(reverse(PAGE))
    text = page.text
    assert 'id="oncall-gaps"' in text
    assert "03-02 11:00 – 03-02 14:00" in text  # local times
    assert "通知运维负责人" in text
    assert text.count("gap-piece") == 1
    assert 'class="table-danger" data-day="2026-03-02"' in text


def test_special_duty_and_overrides_are_labelled(team, client_as):
    make_period(team, [team.d], T0 + D, T0 + 2 * D, secondary_offset=0)
    item = requests.request_cover(
        team.b,
        role=ShiftRole.PRIMARY,
        start=T0 + 2 * H,
        end=T0 + 3 * H,
        substitute=team.b,
        reason="x",
    )
    requests.approve(item, team.boss)
    text = client_as(team.a).get(reverse(PAGE)).text
    assert "专项值守" in text and "代班/换班" in text


def test_approvals_queue_is_for_the_ops_manager_only(team, client_as):
    item = requests.request_cover(
        team.a,
        role=ShiftRole.PRIMARY,
        start=T0 + 3 * D,
        end=T0 + 3 * D + H,
        substitute=team.a,
        reason="我来",
    )
    boss_page = client_as(team.boss).get(reverse(PAGE)).text
    assert 'id="oncall-approvals"' in boss_page and f'id="request-{item.pk}"' in boss_page
    engineer_page = client_as(team.b).get(reverse(PAGE)).text
    assert 'id="oncall-approvals"' not in engineer_page
    own_page = client_as(team.a).get(reverse(PAGE)).text
    assert 'id="oncall-mine"' in own_page and 'id="oncall-approvals"' not in own_page


@pytest.mark.parametrize("name", ["reporter_a", "leader_a", "center", "tester", "nobody"])
def test_outsiders_are_refused(personas, client_as, name):
    client = client_as(getattr(personas, name))
    for url in (
        reverse(PAGE),
        reverse("ops_portal:oncall_rosters"),
        reverse("ops_portal:oncall_requests"),
        reverse("ops_portal:oncall_request_new", args=["cover"]),
        reverse("ops_portal:oncall_roster_new"),
    ):
        assert client.get(url).status_code == 403, url


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(reverse(PAGE))
    assert response.status_code == 302 and "login" in response["Location"]


def test_page_query_count_does_not_grow_with_shifts(
    personas, client_as, django_assert_max_num_queries, clock_at
):
    team = make_team(personas)
    make_roster(team, [team.a, team.b, team.c, team.d], shift_hours=8)  # 3 shifts a day
    make_period(team, [team.c, team.d], T0 + D, T0 + 4 * D, shift_hours=12)
    for day in range(1, 6):
        requests.request_cover(
            team.a,
            role=ShiftRole.PRIMARY,
            start=T0 + day * D,
            end=T0 + day * D + H,
            substitute=team.a,
            reason="x",
        )
    client = client_as(team.boss)
    with django_assert_max_num_queries(16):
        assert client.get(reverse(PAGE)).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(reverse("ops_portal:oncall_requests")).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(reverse("ops_portal:oncall_rosters")).status_code == 200


def test_manager_creates_a_roster_from_the_form(personas, client_as, clock_at):
    team = make_team(personas)
    form = {
        "name": "7×24 主备班",
        "starts_on": "2026-03-02",
        "shift_hours": "12",
        "handover_time": "09:00",
        "secondary_offset": "1",
        "weeks_ahead": "4",
        "is_active": "on",
        "members": f"{team.a.username}\n{team.b.username}\n",
    }
    assert client_as(team.a).post(reverse("ops_portal:oncall_roster_new"), form).status_code == 403
    response = client_as(team.boss).post(reverse("ops_portal:oncall_roster_new"), form)
    assert response.status_code == 302
    roster = Roster.objects.get(name="7×24 主备班")
    assert shifts_of(roster)[0] == (T0, T0 + 12 * H, team.a.username)


def test_roster_form_names_the_bad_member_line(personas, client_as, clock_at):
    team = make_team(personas)
    response = client_as(team.boss).post(
        reverse("ops_portal:oncall_roster_new"),
        {
            "name": "x",
            "starts_on": "2026-03-02",
            "shift_hours": "24",
            "handover_time": "09:00",
            "secondary_offset": "1",
            "weeks_ahead": "4",
            "members": f"{team.a.username}\nreporter_a",
        },
    )
    assert response.status_code == 200
    assert "第 2 行：“reporter_a”不是在职的运维工程师或运维负责人的用户名。" in response.text
    assert not Roster.objects.exists()


def test_manager_creates_a_special_duty_period_from_the_form(personas, client_as, clock_at):
    team = make_team(personas)
    response = client_as(team.boss).post(
        reverse("ops_portal:oncall_period_new"),
        {
            "name": "省级督导",
            "kind": "provincial_inspection",
            "start": "2026-03-10T08:00",
            "end": "2026-03-12T20:00",
            "shift_hours": "12",
            "handover_time": "08:00",
            "secondary_offset": "1",
            "is_active": "on",
            "members": f"{team.c.username}\n{team.d.username}",
        },
    )
    assert response.status_code == 302
    listing = client_as(team.a).get(reverse("ops_portal:oncall_rosters")).text
    assert "省级督导" in listing and "省级督导检查" in listing


def test_metrics_report_uncovered_hours_and_pending_requests(
    personas, client_as, settings, clock_at
):
    from qc_core.system.metrics import render

    team = make_team(personas)
    manual_shift(team.a, T0, T0 + 10 * D)
    requests.request_cover(
        team.b, role=ShiftRole.PRIMARY, start=T0 + H, end=T0 + 2 * H, substitute=team.b, reason="x"
    )
    text = render()[0].decode()
    assert "geriqc_ops_oncall_uncovered_hours 96.0" in text
    assert "geriqc_ops_oncall_gaps 1.0" in text
    assert 'geriqc_ops_oncall_staffed{role="primary"} 1.0' in text
    assert 'geriqc_ops_oncall_staffed{role="secondary"} 0.0' in text
    assert "geriqc_ops_oncall_pending_requests 1.0" in text


def test_nav_lists_the_oncall_page_for_operations_staff(personas):
    from qc_core.system.nav import items_for

    def keys(user):
        return {i["key"] for section in items_for(user) for i in section["items"]}

    assert "ops_oncall" in keys(personas.engineer)
    assert "ops_oncall" not in keys(personas.reporter_a)


def test_roster_edit_page_lists_members_in_order_and_engineers_only_read(team, client_as):
    roster = Roster.objects.get()
    page = client_as(team.boss).get(reverse("ops_portal:oncall_roster_edit", args=[roster.pk]))
    assert page.status_code == 200
    assert f"{team.a.username}\n{team.b.username}\n{team.c.username}</textarea>" in page.text
    listing = client_as(team.b).get(reverse("ops_portal:oncall_rosters")).text
    assert roster.name in listing
    assert reverse("ops_portal:oncall_roster_edit", args=[roster.pk]) not in listing
    assert (
        client_as(team.b)
        .get(reverse("ops_portal:oncall_roster_edit", args=[roster.pk]))
        .status_code
        == 403
    )
