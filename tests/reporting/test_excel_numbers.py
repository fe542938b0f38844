"""Reading cell values as people type them: what is accepted, what is refused and why."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from qc_core.reporting.excel.numbers import (
    CellError,
    parse_amount,
    parse_code,
    parse_period_text,
    parse_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, Decimal(12)),
        (12.0, Decimal(12)),
        ("12", Decimal(12)),  # a number stored as text
        ("１２３", Decimal(123)),  # full-width digits
        ("  45 ", Decimal(45)),  # surrounding spaces
        ("\u3000４５\u00a0", Decimal(45)),  # full-width and non-breaking spaces
        ("1,234", Decimal(1234)),  # thousands separator
        ("1，234", Decimal(1234)),  # full-width comma as thousands separator
        ("１，２３４，５６７", Decimal(1234567)),
        (12.0000000001, Decimal(12)),  # Excel float noise
        (11.999999999999998, Decimal(12)),
        ("12.0000000001", Decimal(12)),
        (None, None),
        ("   ", None),
    ],
)
def test_integer_cells_accept_real_world_input(raw, expected):
    assert parse_amount(raw, integer_only=True) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12.5%", "百分比"),
        ("８０％", "百分比"),
        ("3‰", "百分比"),
        (0.8, "像是比率"),
        ("0.8", "像是比率"),
        (12.5, "应为整数"),
        ("12.5", "应为整数"),
        ("12例", "不是数字"),
        ("十二", "不是数字"),
        ("1,23", "逗号"),
        ("12,5", "逗号"),
        (True, "逻辑值"),
        (datetime(2026, 11, 1), "日期"),
        (date(2026, 11, 1), "日期"),
        ("1e3", "不是数字"),
        (10**15, "过大"),
    ],
)
def test_integer_cells_refuse_ambiguous_or_wrong_input_with_a_reason(raw, reason):
    with pytest.raises(CellError, match=reason):
        parse_amount(raw, integer_only=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12.5, Decimal("12.5")),
        ("１２．３４", Decimal("12.34")),
        ("1,234.5", Decimal("1234.5")),
        (0.30000000000000004, Decimal("0.3")),  # float noise in a money value
        (1234.5678, Decimal("1234.5678")),
        (100, Decimal(100)),
    ],
)
def test_decimal_cells_keep_up_to_four_decimals(raw, expected):
    assert parse_amount(raw, integer_only=False) == expected


def test_decimal_cells_refuse_more_than_four_decimals_and_percentages():
    with pytest.raises(CellError, match="4 位小数"):
        parse_amount("1.23456", integer_only=False)
    with pytest.raises(CellError, match="百分比"):
        parse_amount("35%", integer_only=False)


def test_negative_numbers_are_read_and_left_to_the_validation_rules():
    # Non-negativity is a validation rule of the reporting services, not a reading problem.
    assert parse_amount("-3", integer_only=True) == Decimal(-3)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026Q3", "2026Q3"),
        ("2026q3", "2026Q3"),
        (" 2026 Q3 ", "2026Q3"),
        ("２０２６Ｑ３", "2026Q3"),
        ("2026年第三季度", "2026Q3"),
        ("2026年第3季度", "2026Q3"),
        ("2026-11", "2026-11"),
        ("2026/11", "2026-11"),
        ("2026年11月", "2026-11"),
        (datetime(2026, 11, 1), "2026-11"),  # Excel turned "2026-11" into a date
        ("2026Q5", "2026Q5"),  # left for the period parser to refuse
    ],
)
def test_period_cells_are_normalised(raw, expected):
    assert parse_period_text(raw) == expected


def test_codes_are_normalised_and_numeric_unit_codes_read_as_digits():
    assert parse_code(" ger-p01 ") == "GER-P01"
    assert parse_code("ＧＥＲ－Ｐ０１") == "GER-P01"
    assert parse_code(530102.0) == "530102"
    assert parse_code(None) == ""


def test_comments_keep_text_and_refuse_overlong_text():
    assert parse_text("  夜班漏报，已补录 ") == "夜班漏报，已补录"
    assert parse_text(3.0) == "3"
    with pytest.raises(CellError, match="过长"):
        parse_text("字" * 2001)
