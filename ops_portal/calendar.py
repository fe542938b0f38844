"""Business-time arithmetic over a :class:`~ops_portal.models.BusinessCalendar`.

The contract clauses run 7×24, where business time is wall-clock time. A calendar with working
hours counts only the time inside each working day's window (weekly pattern, minus holidays, plus
make-up workdays).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# Searching further than this for working time means the calendar has none.
_MAX_DAYS = 3 * 366


def _is_24x7(calendar: Any) -> bool:
    return calendar is None or bool(calendar.is_24x7)


def _is_working_day(calendar: Any, day: date) -> bool:
    special = calendar.special_days().get(day)
    if special == "holiday":
        return False
    if special == "workday":
        return True
    return day.weekday() in set(calendar.weekdays or [])


def _window(calendar: Any, day: date, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    if not _is_working_day(calendar, day):
        return None
    return (
        datetime.combine(day, calendar.day_start, tzinfo=tz),
        datetime.combine(day, calendar.day_end, tzinfo=tz),
    )


def business_seconds_between(calendar: Any, start: datetime, end: datetime) -> float:
    """Business seconds in ``[start, end)`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0.0
    if _is_24x7(calendar):
        return (end - start).total_seconds()
    tz = ZoneInfo(calendar.timezone)
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    total = 0.0
    while day <= last:
        window = _window(calendar, day, tz)
        if window is not None:
            lo, hi = max(window[0], start), min(window[1], end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def add_business_seconds(calendar: Any, start: datetime, seconds: float) -> datetime:
    """The moment when ``seconds`` of business time have passed since ``start``.

    A deadline that lands exactly on the end of a working day stays there (it is not pushed to
    the next morning).
    """
    if seconds <= 0:
        return start
    if _is_24x7(calendar):
        return start + timedelta(seconds=seconds)
    tz = ZoneInfo(calendar.timezone)
    day = start.astimezone(tz).date()
    remaining = seconds
    for _ in range(_MAX_DAYS):
        window = _window(calendar, day, tz)
        if window is not None:
            lo = max(window[0], start)
            if window[1] > lo:
                available = (window[1] - lo).total_seconds()
                if remaining <= available:
                    return (lo + timedelta(seconds=remaining)).astimezone(start.tzinfo)
                remaining -= available
        day += timedelta(days=1)
    raise ValueError(f"Calendar {calendar!r} has no working time within {_MAX_DAYS} days.")
