"""Roster and special-duty generation: rotation order, shift length, handover time, horizon;
editing regenerates future shifts only; re-runs change nothing; the hourly run extends."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from ops_portal.choices import ShiftRole
from ops_portal.errors import ActionForbidden, TicketError
from ops_portal.models import Shift
from ops_portal.oncall import rosters
from qc_core.audit.models import AuditEntry
from tests.ops_portal.conftest import T0, H
from tests.ops_portal.oncall_support import (
    make_period,
    make_roster,
    make_team,
    roster_values,
    shifts_of,
)

D = 24 * H
pytestmark = pytest.mark.django_db


def test_daily_roster_rotates_primary_and_secondary_at_the_handover_for_the_horizon(
    personas, clock_at
):
    team = make_team(personas)
    roster = make_roster(team, [team.a, team.b, team.c], weeks_ahead=3)
    primary = shifts_of(roster, ShiftRole.PRIMARY)
    secondary = shifts_of(roster, ShiftRole.SECONDARY)
    assert len(primary) == len(secondary) == 21  # 3 weeks of 24 h shifts from 09:00 today
    assert primary[0] == (T0, T0 + D, "engineer")
    assert [p[2] for p in primary[:4]] == ["engineer", "eng_b", "eng_c", "engineer"]
    assert [s[2] for s in secondary[:4]] == ["eng_b", "eng_c", "engineer", "eng_b"]
    assert all(end - start == D for start, end, _ in primary)
    assert all(b[0] == a[1] for a, b in zip(primary, primary[1:], strict=False))  # no holes
    roster.refresh_from_db()
    assert roster.generated_until == T0 + 21 * D


def test_short_horizon_still_reaches_past_the_coverage_window(personas, clock_at):
    team = make_team(personas)
    roster = make_roster(team, [team.a, team.b], weeks_ahead=1)
    primary = shifts_of(roster)
    assert primary[-1][0] == T0 + 14 * D  # 15 days: the 14-day check never sees the horizon
    assert len(primary) == 15


def test_twelve_hour_shifts_with_an_eight_oclock_handover_start_now(personas, clock_at):
    team = make_team(personas)
    roster = make_roster(team, [team.a, team.b, team.c], shift_hours=12, handover_time=time(8, 0))
    primary = shifts_of(roster)
    # The 08:00–20:00 slot is in progress at 09:00: the new roster starts now, not in the past.
    assert primary[0] == (T0, T0 + 11 * H, "engineer")
    assert primary[1] == (T0 + 11 * H, T0 + 23 * H, "eng_b")
    assert primary[2] == (T0 + 23 * H, T0 + 35 * H, "eng_c")


def test_no_secondary_when_the_offset_is_zero_or_the_team_has_one_member(personas, clock_at):
    team = make_team(personas)
    zero = make_roster(team, [team.a, team.b], secondary_offset=0)
    alone = make_roster(team, [team.c], name="单人")
    assert shifts_of(zero, ShiftRole.SECONDARY) == []
    assert shifts_of(alone, ShiftRole.SECONDARY) == []
    assert {u for *_, u in shifts_of(alone)} == {"eng_c"}


def test_rerunning_generation_changes_nothing(personas, clock_at):
    team = make_team(personas)
    roster = make_roster(team, [team.a, team.b, team.c])
    ids = set(Shift.objects.filter(roster=roster).values_list("pk", flat=True))
    entries = AuditEntry.objects.count()
    result = rosters.generate_roster(roster)
    assert (result.created, result.removed) == (0, 0)
    assert set(Shift.objects.filter(roster=roster).values_list("pk", flat=True)) == ids
    assert AuditEntry.objects.count() == entries


def test_editing_the_member_order_regenerates_future_shifts_only(personas, clock_at):
    team = make_team(personas)
    roster = make_roster(team, [team.a, team.b, team.c])
    clock_at(T0 + 30 * H)  # inside the second shift (eng_b, T0+24h → T0+48h)
    before = {
        s.pk: (s.start, s.user_id)
        for s in Shift.objects.filter(roster=roster, start__lt=T0 + 30 * H)
    }
    rosters.save_roster(team.boss, roster_values(), [team.c, team.b, team.a], roster)
    after = {
        s.pk: (s.start, s.user_id)
        for s in Shift.objects.filter(roster=roster, start__lt=T0 + 30 * H)
    }
    assert after == before  # past and running shifts are untouched, same rows
    primary = shifts_of(roster)
    assert primary[1] == (T0 + D, T0 + 2 * D, "eng_b")
    # From the next handover the new order applies (slot 2 → members[2] = engineer).
    assert [p[2] for p in primary[2:5]] == ["engineer", "eng_c", "eng_b"]


def test_moving_the_handover_time_leaves_no_overlap_or_hole(personas, clock_at):
    team = make_team(personas)
    roster = make_roster(team, [team.a, team.b])
    clock_at(T0 + 30 * H)
    rosters.save_roster(
        team.boss, roster_values(handover_time=time(21, 0)), [team.a, team.b], roster
    )
    primary = [p for p in shifts_of(roster) if p[1] > T0 + 30 * H]
    assert primary[0][:2] == (T0 + D, T0 + 2 * D)  # running shift kept
    assert primary[1][:2] == (T0 + 2 * D, T0 + 60 * H)  # shortened to the new 21:00 handover
    assert primary[2][:2] == (T0 + 60 * H, T0 + 84 * H)
    assert all(b[0] == a[1] for a, b in zip(primary, primary[1:], strict=False))


def test_the_hourly_run_extends_the_roster_to_its_horizon(personas, clock_at):
    team = make_team(personas)
    roster = make_roster(team, [team.a, team.b], weeks_ahead=3)
    clock_at(T0 + 3 * D + 2 * H)
    result = rosters.extend_all()
    assert result.removed == 0
    # The horizon moved from T0+21d to T0+24d+2h: slots starting T0+21d … T0+24d, both roles.
    assert result.created == 2 * 4
    assert shifts_of(roster)[-1][0] == T0 + 24 * D
    assert rosters.extend_all().created == 0


def test_deactivating_a_roster_removes_its_future_shifts_and_keeps_the_running_one(
    personas, clock_at
):
    team = make_team(personas)
    roster = make_roster(team, [team.a, team.b])
    clock_at(T0 + 2 * H)
    rosters.save_roster(team.boss, roster_values(is_active=False), [team.a, team.b], roster)
    assert shifts_of(roster) == [(T0, T0 + D, "engineer")]


def test_special_duty_period_rotates_its_team_clipped_to_the_period(personas, clock_at):
    team = make_team(personas)
    start = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # 10 March 00:00 Beijing
    end = start + 3 * D
    period = make_period(
        team, [team.c, team.d], start, end, shift_hours=12, handover_time=time(8, 0)
    )
    primary = shifts_of(period)
    assert primary[0] == (start, start + 8 * H, "eng_c")  # 00:00 → 08:00 handover
    assert primary[1] == (start + 8 * H, start + 20 * H, "eng_d")
    assert primary[-1][1] == end
    assert len(primary) == 7
    assert {s.source for s in Shift.objects.filter(duty_period=period)} == {"special_duty"}


def test_only_the_ops_manager_edits_rosters_and_members_must_be_operations_staff(
    personas, clock_at
):
    team = make_team(personas)
    with pytest.raises(ActionForbidden):
        rosters.save_roster(team.a, roster_values(), [team.a, team.b])
    with pytest.raises(TicketError, match="不是在职的运维工程师") as info:
        rosters.save_roster(team.boss, roster_values(), [team.a, personas.reporter_a])
    assert info.value.field == "members"
    with pytest.raises(TicketError, match="重复"):
        rosters.save_roster(team.boss, roster_values(), [team.a, team.a])
    with pytest.raises(TicketError, match="结束时间"):
        make_period(team, [team.a], T0 + D, T0 + D)


def test_generation_is_audited(personas, clock_at):
    team = make_team(personas)
    roster = make_roster(team, [team.a, team.b])
    entry = (
        AuditEntry.objects.filter(object_type="ops_portal.roster", object_id=str(roster.pk))
        .order_by("id")
        .last()
    )
    assert entry is not None
    assert entry.extra["shifts_created"] == Shift.objects.filter(roster=roster).count()
    assert entry.actor_id == team.boss.pk
