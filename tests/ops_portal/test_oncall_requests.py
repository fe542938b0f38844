"""Override and swap requests: an engineer asks with a reason, only the ops manager decides,
both parties hear the decision, a request is decided once, and everything is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ops_portal import oncall
from ops_portal.choices import ShiftRole
from ops_portal.errors import ActionForbidden, InvalidTransition, TicketError
from ops_portal.models import OncallRequest, Shift
from ops_portal.oncall import requests
from ops_portal.oncall.choices import RequestStatus, ShiftSource
from qc_core.audit.models import AuditEntry
from qc_core.notify.models import Notification
from tests.ops_portal.conftest import T0, H
from tests.ops_portal.oncall_support import make_roster, make_team

D = 24 * H
pytestmark = pytest.mark.django_db


@pytest.fixture
def team(personas, clock_at):
    """Daily roster: engineer, eng_b, eng_c in turn (engineer holds day 0, eng_b day 1 …)."""
    team = make_team(personas)
    make_roster(team, [team.a, team.b, team.c])
    return team


def roster_shift(user, day):
    return Shift.objects.get(
        user=user, role=ShiftRole.PRIMARY, start=T0 + day * D, source=ShiftSource.ROSTER
    )


def cover_by_b(team, reason="家中有事"):
    """engineer asks eng_b to cover engineer's primary duty on day 3, 12:00–18:00 after handover."""
    return requests.request_cover(
        team.a,
        role=ShiftRole.PRIMARY,
        start=T0 + 3 * D + 3 * H,
        end=T0 + 3 * D + 9 * H,
        substitute=team.b,
        reason=reason,
    )


def test_a_cover_request_waits_for_the_manager_and_takes_effect_when_approved(team):
    item = cover_by_b(team)
    assert item.status == RequestStatus.PENDING
    assert item.counterpart == team.b
    assert Notification.objects.filter(user=team.boss, event="ops.oncall_request").count() == 1
    moment = T0 + 3 * D + 4 * H
    assert oncall.current(ShiftRole.PRIMARY, moment) == team.a  # pending: no effect yet
    requests.approve(item, team.boss, "同意")
    assert oncall.current(ShiftRole.PRIMARY, moment) == team.b
    assert oncall.current(ShiftRole.PRIMARY, T0 + 3 * D + 10 * H) == team.a
    for user in (team.a, team.b):
        note = Notification.objects.get(user=user, event="ops.oncall_decision")
        assert "已批准" in note.title


def test_an_engineer_cannot_approve_or_reject(team):
    item = cover_by_b(team)
    with pytest.raises(ActionForbidden):
        requests.approve(item, team.a)
    with pytest.raises(ActionForbidden):
        requests.reject(item, team.c, "不行")
    item.refresh_from_db()
    assert item.status == RequestStatus.PENDING
    assert not Shift.objects.filter(request=item).exists()


def test_rejection_needs_a_reason_and_tells_both_sides(team):
    item = cover_by_b(team)
    with pytest.raises(TicketError, match="驳回时请说明原因"):
        requests.reject(item, team.boss, "  ")
    requests.reject(item, team.boss, "当天有省级督导，不宜换人")
    item.refresh_from_db()
    assert (item.status, item.decided_by) == (RequestStatus.REJECTED, team.boss)
    assert oncall.current(ShiftRole.PRIMARY, T0 + 3 * D + 4 * H) == team.a
    assert (
        Notification.objects.filter(event="ops.oncall_decision", user__in=[team.a, team.b]).count()
        == 2
    )


def test_a_request_is_decided_only_once(team):
    item = cover_by_b(team)
    requests.approve(item, team.boss)
    with pytest.raises(InvalidTransition, match="已批准"):
        requests.approve(OncallRequest.objects.get(pk=item.pk), team.boss)
    with pytest.raises(InvalidTransition):
        requests.cancel(OncallRequest.objects.get(pk=item.pk), team.a)
    assert Shift.objects.filter(request=item).count() == 1


def test_swap_trades_two_future_shifts_when_approved(team):
    mine, theirs = roster_shift(team.a, 3), roster_shift(team.b, 4)
    item = requests.request_swap(team.a, my_shift=mine, their_shift=theirs, reason="孩子开家长会")
    assert item.counterpart == team.b
    requests.approve(item, team.boss)
    assert oncall.current(ShiftRole.PRIMARY, T0 + 3 * D + H) == team.b
    assert oncall.current(ShiftRole.PRIMARY, T0 + 4 * D + H) == team.a
    assert "⇄" in requests.summary(item)


def test_swap_refuses_someone_elses_or_a_started_shift(team, clock_at):
    with pytest.raises(TicketError, match="您自己的班次") as info:
        requests.request_swap(
            team.a,
            my_shift=roster_shift(team.b, 1),
            their_shift=roster_shift(team.c, 2),
            reason="x",
        )
    assert info.value.field == "my_shift"
    clock_at(T0 + 3 * D + H)
    with pytest.raises(TicketError, match="已经开始"):
        requests.request_swap(
            team.a,
            my_shift=roster_shift(team.a, 3),
            their_shift=roster_shift(team.b, 4),
            reason="x",
        )


def test_approving_a_swap_whose_shift_already_started_is_refused(team, clock_at):
    item = requests.request_swap(
        team.a, my_shift=roster_shift(team.a, 3), their_shift=roster_shift(team.b, 4), reason="x"
    )
    clock_at(T0 + 3 * D + H)
    with pytest.raises(InvalidTransition, match="已经开始"):
        requests.approve(item, team.boss)
    assert OncallRequest.objects.get(pk=item.pk).status == RequestStatus.PENDING  # rolled back


def test_cover_needs_a_reason_and_a_sensible_range(team, personas):
    with pytest.raises(TicketError, match="理由"):
        cover_by_b(team, reason="")
    with pytest.raises(TicketError, match="结束时间"):
        requests.request_cover(
            team.a,
            role=ShiftRole.PRIMARY,
            start=T0 + 2 * H,
            end=T0 + H,
            substitute=team.b,
            reason="x",
        )
    with pytest.raises(TicketError, match="代班人"):
        requests.request_cover(
            team.a,
            role=ShiftRole.PRIMARY,
            start=T0 + D,
            end=T0 + D + H,
            substitute=personas.reporter_a,
            reason="x",
        )


def test_an_engineer_may_not_hand_someone_elses_duty_to_a_third(team):
    # eng_c holds no primary shift on day 3: they may only offer to cover it themself.
    with pytest.raises(TicketError, match="只能申请由自己代班"):
        requests.request_cover(
            team.c,
            role=ShiftRole.PRIMARY,
            start=T0 + 3 * D,
            end=T0 + 3 * D + H,
            substitute=team.b,
            reason="x",
        )
    item = requests.request_cover(
        team.c,
        role=ShiftRole.PRIMARY,
        start=T0 + 3 * D,
        end=T0 + 3 * D + H,
        substitute=team.c,
        reason="我来代",
    )
    assert item.counterpart == team.a  # the holder being relieved hears the decision too


def test_only_the_requester_can_withdraw(team):
    item = cover_by_b(team)
    with pytest.raises(ActionForbidden):
        requests.cancel(item, team.b)
    requests.cancel(item, team.a)
    assert OncallRequest.objects.get(pk=item.pk).status == RequestStatus.CANCELLED


def test_requests_decisions_and_override_shifts_are_audited(team):
    item = cover_by_b(team)
    requests.approve(item, team.boss, "同意")
    entries = AuditEntry.objects.filter(
        object_type="ops_portal.oncallrequest", object_id=str(item.pk)
    )
    assert {e.action for e in entries} >= {"create", "update"}
    decision = entries.get(action="update")
    assert decision.changes["status"] == ["pending", "approved"]
    assert decision.actor_id == team.boss.pk
    shift = Shift.objects.get(request=item)
    assert AuditEntry.objects.filter(
        object_type="ops_portal.shift", object_id=str(shift.pk), action="create"
    ).exists()


def test_requester_sees_only_their_own_requests(team, client_as, personas):
    mine = cover_by_b(team)
    other = requests.request_cover(
        team.c,
        role=ShiftRole.PRIMARY,
        start=T0 + 5 * D,
        end=T0 + 5 * D + H,
        substitute=team.c,
        reason="我来代",
    )
    assert list(requests.visible_requests(team.a)) == [mine]
    assert set(requests.visible_requests(team.boss)) == {mine, other}
    assert not requests.visible_requests(personas.reporter_a).exists()
    page = client_as(team.a).get(reverse("ops_portal:oncall_requests"))
    assert page.status_code == 200
    assert f"request-{mine.pk}" in page.text and f"request-{other.pk}" not in page.text


def test_approval_views_enforce_the_roles(team, client_as, personas):
    item = cover_by_b(team)
    approve = reverse("ops_portal:oncall_request_action", args=[item.pk, "approve"])
    assert client_as(team.a).post(approve).status_code == 403  # own request, not a manager
    assert client_as(team.c).post(approve).status_code == 404  # not even visible to them
    assert client_as(personas.reporter_a).post(approve).status_code == 403  # outsider
    assert OncallRequest.objects.get(pk=item.pk).status == RequestStatus.PENDING
    response = client_as(team.boss).post(approve, {"note": "同意", "next": "ops_portal:oncall"})
    assert response.status_code == 302
    assert OncallRequest.objects.get(pk=item.pk).status == RequestStatus.APPROVED
    again = client_as(team.boss).post(approve, follow=True)
    assert "不能再审批" in again.text


def test_request_forms_create_requests(team, client_as):
    url = reverse("ops_portal:oncall_request_new", args=["cover"])
    response = client_as(team.a).post(
        url,
        {
            "role": "primary",
            "start": "2026-03-05T12:00",
            "end": "2026-03-05T18:00",
            "substitute": team.b.pk,
            "reason": "看病",
        },
    )
    assert response.status_code == 302
    item = OncallRequest.objects.get(requester=team.a)
    assert (item.start, item.end) == (
        T0 + 3 * D + 3 * H,
        T0 + 3 * D + 9 * H,
    )  # read as Beijing time
    swap = reverse("ops_portal:oncall_request_new", args=["swap"])
    bad = client_as(team.a).post(
        swap,
        {
            "my_shift": roster_shift(team.b, 1).pk,
            "their_shift": roster_shift(team.c, 2).pk,
            "reason": "x",
        },
    )
    assert bad.status_code == 200  # someone else's shift is not among the choices
    assert "my_shift" in bad.context["form"].errors
