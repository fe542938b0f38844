"""Helpers for the on-call tests: an engineering team and quick roster / period / shift setup.

Times: T0 (conftest) is Monday 2 March 2026 09:00 Beijing time, the default handover time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from ops_portal.choices import ShiftRole
from ops_portal.models import Shift
from ops_portal.oncall import rosters
from ops_portal.oncall.choices import ShiftSource
from qc_core.accounts.choices import Role
from tests.factories import RoleAssignmentFactory, UserFactory

START_DAY = date(2026, 3, 2)


@dataclass
class Team:
    """personas.engineer is ``a``; ``b``, ``c``, ``d`` are further engineers; ``boss`` the ops manager."""

    a: Any
    b: Any
    c: Any
    d: Any
    boss: Any


def make_team(personas: Any) -> Team:
    def engineer(username: str, name: str) -> Any:
        user = UserFactory(username=username, full_name=name, phone="13800000000")
        RoleAssignmentFactory(user=user, role=Role.ENGINEER, org_unit=None)
        return user

    return Team(
        a=personas.engineer,
        b=engineer("eng_b", "工程师乙"),
        c=engineer("eng_c", "工程师丙"),
        d=engineer("eng_d", "工程师丁"),
        boss=personas.ops_manager,
    )


def roster_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "运维常规值班",
        "starts_on": START_DAY,
        "shift_hours": 24,
        "handover_time": time(9, 0),
        "secondary_offset": 1,
        "weeks_ahead": 4,
        "is_active": True,
    }
    values.update(overrides)
    return values


def make_roster(team: Team, members: list[Any], **overrides: Any) -> Any:
    return rosters.save_roster(team.boss, roster_values(**overrides), members)


def make_period(
    team: Team, members: list[Any], start: datetime, end: datetime, **overrides: Any
) -> Any:
    values: dict[str, Any] = {
        "name": "2026Q1 数据上报保障",
        "kind": "quarterly_reporting",
        "start": start,
        "end": end,
        "shift_hours": 24,
        "handover_time": time(9, 0),
        "secondary_offset": 1,
        "is_active": True,
    }
    values.update(overrides)
    return rosters.save_period(team.boss, values, members)


def shifts_of(owner: Any, role: str = ShiftRole.PRIMARY) -> list[tuple[datetime, datetime, str]]:
    field = "roster" if owner.__class__.__name__ == "Roster" else "duty_period"
    rows = (
        Shift.objects.filter(**{field: owner}, role=role).select_related("user").order_by("start")
    )
    return [(s.start, s.end, s.user.username) for s in rows]


def manual_shift(user: Any, start: datetime, end: datetime, role: str = ShiftRole.PRIMARY) -> Shift:
    return Shift.objects.create(
        user=user, role=role, start=start, end=end, source=ShiftSource.MANUAL
    )
