"""Business-time arithmetic: 7×24 by default, working hours, holidays and make-up workdays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from ops_portal import services
from ops_portal.calendar import add_business_seconds, business_seconds_between
from ops_portal.choices import CalendarDayKind, Category, Clause
from ops_portal.models import BusinessCalendar, CalendarDay
from tests.ops_portal.conftest import T0, H, M, clock_of


def local(y, mo, d, h=0, mi=0):
    """A Beijing wall-clock time as an aware UTC datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def office(db):
    """Mon–Fri 08:30–17:30; 2026-04-06 (Qingming, a Monday) off; Sunday 2026-04-12 worked."""
    calendar = BusinessCalendar.objects.create(
        name="工作时间",
        is_24x7=False,
        weekdays=[0, 1, 2, 3, 4],
        day_start=time(8, 30),
        day_end=time(17, 30),
    )
    CalendarDay.objects.create(
        calendar=calendar, date=date(2026, 4, 6), kind=CalendarDayKind.HOLIDAY, name="清明"
    )
    CalendarDay.objects.create(
        calendar=calendar, date=date(2026, 4, 12), kind=CalendarDayKind.WORKDAY, name="调休"
    )
    return calendar


def test_24x7_is_wall_clock_time():
    start = T0
    assert business_seconds_between(None, start, start + 3 * H) == 3 * 3600
    assert add_business_seconds(None, start, 90 * 60) == start + 90 * M


def test_working_hours_skip_nights_and_weekends(office):
    # Friday 16:30 + 4 h of business time = Monday 11:30.
    assert add_business_seconds(office, local(2026, 3, 6, 16, 30), 4 * 3600) == local(
        2026, 3, 9, 11, 30
    )
    assert (
        business_seconds_between(office, local(2026, 3, 6, 16, 30), local(2026, 3, 9, 11, 30))
        == 4 * 3600
    )


def test_deadline_landing_on_closing_time_stays_there(office):
    assert add_business_seconds(office, local(2026, 3, 2, 13, 30), 4 * 3600) == local(
        2026, 3, 2, 17, 30
    )


def test_a_report_at_night_starts_counting_next_morning(office):
    assert add_business_seconds(office, local(2026, 3, 2, 22, 0), 3600) == local(2026, 3, 3, 9, 30)


def test_holidays_are_skipped_and_make_up_days_count(office):
    # Friday 2026-04-03 17:00 + 1 h: Monday 04-06 is a holiday → Tuesday 09:00.
    assert add_business_seconds(office, local(2026, 4, 3, 17, 0), 3600) == local(2026, 4, 7, 9, 0)
    # Saturday 04-11 18:00 + 1 h: Sunday 04-12 is worked → Sunday 09:30.
    assert add_business_seconds(office, local(2026, 4, 11, 18, 0), 3600) == local(
        2026, 4, 12, 9, 30
    )


def test_consultations_can_run_on_business_hours(office, personas, clock_at):
    services.publish_policy(personas.ops_manager, note="咨询按工作时间", consult_calendar=office)
    clock_at(local(2026, 3, 6, 16, 30))  # Friday afternoon
    ticket = services.create_ticket(
        title="如何修改密码",
        category=Category.CONSULTATION,
        channel="web",
        requester=personas.reporter_a,
        org_unit=personas.tree.hospital_a,
    )
    consult = clock_of(ticket, Clause.CONSULT_RESPONSE)
    assert consult.due_at == local(2026, 3, 9, 11, 30)
    clock_at(local(2026, 3, 8, 12, 0))  # Sunday: no business time has passed since Friday 17:30
    assert clock_of(ticket, Clause.CONSULT_RESPONSE).remaining_seconds == 3 * 3600
