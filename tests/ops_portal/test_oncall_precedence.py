"""Who is on call: override > special duty > roster, lower layers showing through gaps of higher
ones, inactive users counting as nobody, and escalation reaching the person oncall.current picks."""

from __future__ import annotations

import pytest

from ops_portal import oncall, services
from ops_portal.choices import ShiftRole
from ops_portal.models import EscalationFiring
from ops_portal.oncall import requests
from ops_portal.oncall.timeline import HOUR, timeline
from tests.ops_portal.conftest import T0, H, M
from tests.ops_portal.oncall_support import make_period, make_roster, make_team, manual_shift

D = 24 * H
pytestmark = pytest.mark.django_db


@pytest.fixture
def layered(personas, clock_at):
    """Roster: engineer (primary) / eng_b (secondary) on day 0, alternating daily.
    Special duty on day 2: eng_c primary, eng_d secondary, 24 h.
    Approved override on day 2, 02:00–04:00 after the handover: eng_b covers the primary."""
    team = make_team(personas)
    make_roster(team, [team.a, team.b])
    make_period(team, [team.c, team.d], T0 + 2 * D, T0 + 3 * D)
    item = requests.request_cover(
        team.b,
        role=ShiftRole.PRIMARY,
        start=T0 + 2 * D + 2 * H,
        end=T0 + 2 * D + 4 * H,
        substitute=team.b,
        reason="丙临时外出两小时",
    )
    requests.approve(item, team.boss)
    return team


def test_override_beats_special_duty_beats_roster(layered):
    team = layered
    assert oncall.current(ShiftRole.PRIMARY, T0 + D + H) == team.b  # roster, day 1
    assert oncall.current(ShiftRole.PRIMARY, T0 + 2 * D + H) == team.c  # special duty
    assert oncall.current(ShiftRole.PRIMARY, T0 + 2 * D + 3 * H) == team.b  # override
    assert (
        oncall.current(ShiftRole.PRIMARY, T0 + 2 * D + 4 * H) == team.c
    )  # override ended (exclusive)
    assert oncall.current(ShiftRole.SECONDARY, T0 + 2 * D + 3 * H) == team.d
    assert oncall.current(ShiftRole.PRIMARY, T0 + 3 * D) == team.b  # back to the roster (day 3)


def test_a_gap_in_the_special_duty_lets_the_roster_show_through(personas, clock_at):
    team = make_team(personas)
    make_roster(team, [team.a, team.b])
    make_period(team, [team.c], T0 + D, T0 + 2 * D, secondary_offset=0)  # no secondary defined
    assert oncall.current(ShiftRole.PRIMARY, T0 + D + H) == team.c
    assert oncall.current(ShiftRole.SECONDARY, T0 + D + H) == team.a  # the roster's secondary


def test_an_inactive_override_user_counts_as_nobody(layered):
    team = layered
    team.b.is_active = False
    team.b.save()
    assert oncall.current(ShiftRole.PRIMARY, T0 + 2 * D + 3 * H) == team.c


def test_within_one_layer_the_later_shift_wins(personas, clock_at):
    team = make_team(personas)
    manual_shift(team.a, T0, T0 + D)
    manual_shift(team.b, T0 + 2 * H, T0 + 4 * H)
    assert oncall.current(ShiftRole.PRIMARY, T0 + H) == team.a
    assert oncall.current(ShiftRole.PRIMARY, T0 + 3 * H) == team.b
    assert oncall.current(ShiftRole.PRIMARY, T0 + D) is None


def test_the_timeline_agrees_with_current_at_every_hour(layered):
    segments = timeline(T0, T0 + 4 * D)
    for role in ShiftRole.values:
        moment = T0
        while moment < T0 + 4 * D:
            expected = oncall.current(role, moment)
            held = next(s for s in segments[role] if s.start <= moment < s.end)
            assert held.user == expected, (role, moment)
            moment += HOUR


def test_escalation_reaches_the_override_and_special_duty_holders(layered, make_ticket, clock_at):
    """GIVEN the layered duty, WHEN an unassigned outage reported during the override window
    escalates, THEN step 1 (assignee → on-call primary) reaches the override holder and step 3
    (on-call secondary) the special-duty secondary."""
    team = layered
    start = T0 + 2 * D + 2 * H
    clock_at(start)
    ticket = make_ticket(reported_at=start)
    moment = start
    while moment <= start + 90 * M:
        clock_at(moment)
        services.run_sla_tick()
        moment += M
    firings = {
        f.step.order: f.target_user
        for f in EscalationFiring.objects.filter(ticket=ticket).select_related(
            "step", "target_user"
        )
    }
    assert firings[1] == team.b
    assert firings[3] == team.d
