"""Periods: parsing, dates, neighbours, entry windows with moved time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from qc_core.indicators.periods import LOCAL_TZ, Period

SH = LOCAL_TZ


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026q4", date(2026, 10, 1), date(2026, 12, 31)),
        (" 2026-11 ", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
    ],
)
def test_periods_parse_to_their_dates(text, start, end):
    period = Period.parse(text)
    assert (period.start, period.end) == (start, end)
    assert str(Period.parse(str(period))) == str(period)


@pytest.mark.parametrize(
    "text",
    ["2026Q5", "2026Q0", "2026-13", "2026-1", "26Q3", "2026 Q3", "", None, "Q3-2026", "2026/11"],
)
def test_bad_period_codes_are_refused_in_chinese(text):
    with pytest.raises(ValueError, match="格式不正确：季度写作 2026Q3，月份写作 2026-11"):
        Period.parse(text)


def test_period_type_must_match_the_form():
    with pytest.raises(ValueError, match="类型不符"):
        Period.parse("2026-11", "quarter")
    assert Period.parse("2026-11", "month").type == "month"


def test_neighbours_cross_year_boundaries():
    assert str(Period.parse("2026Q1").previous()) == "2025Q4"
    assert str(Period.parse("2026Q4").next()) == "2027Q1"
    assert str(Period.parse("2026-01").previous()) == "2025-12"
    assert str(Period.parse("2026-12").next()) == "2027-01"
    assert [str(p) for p in Period.parse("2026Q2").previous_n(3)] == ["2026Q1", "2025Q4", "2025Q3"]
    assert Period.parse("2026Q3").label == "2026年第3季度"
    assert Period.parse("2026-11").label == "2026年11月"


def test_window_opens_after_the_period_due_and_lock_at_end_of_day_shanghai():
    window = Period.parse("2026Q3").window(15, 30)
    assert window.opens_at == datetime(2026, 10, 1, 0, 0, tzinfo=SH)
    assert window.due_date == date(2026, 10, 15)
    assert window.lock_date == date(2026, 10, 30)
    assert window.due_at.astimezone(SH).hour == 23
    assert window.opens_at.utcoffset() == timedelta(hours=8)


def test_window_state_follows_the_moved_clock(time_machine):
    window = Period.parse("2026-11").window(15, 30)
    time_machine.move_to(datetime(2026, 11, 30, 23, 59, tzinfo=SH), tick=False)
    assert window.not_yet_open() and not window.is_open()
    time_machine.move_to(datetime(2026, 12, 1, 0, 0, tzinfo=SH), tick=False)
    assert window.is_open() and not window.is_late()
    time_machine.move_to(datetime(2026, 12, 15, 23, 59, tzinfo=SH), tick=False)
    assert window.is_open() and not window.is_late()
    time_machine.move_to(datetime(2026, 12, 16, 0, 0, 1, tzinfo=SH), tick=False)
    assert window.is_open() and window.is_late()
    time_machine.move_to(datetime(2026, 12, 31, 0, 0, 1, tzinfo=SH), tick=False)
    assert window.is_locked() and not window.is_open()


def test_last_ended_period_uses_shanghai_date(time_machine):
    # 2026-09-30 17:00 UTC is already 2026-10-01 01:00 in Shanghai: Q3 has ended.
    time_machine.move_to(datetime(2026, 9, 30, 17, 0, tzinfo=SH.__class__("UTC")), tick=False)
    assert str(Period.last_ended("quarter")) == "2026Q3"
    assert str(Period.last_ended("month")) == "2026-09"
