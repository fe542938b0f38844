"""Fixtures for the reporting tests: the loaded indicator library, a clock inside the 2026Q3
entry window, and helpers that fill a form with plausible values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import LOCAL_TZ
from qc_core.indicators.services import load_library
from qc_core.reporting import services
from qc_core.reporting.models import Submission

# Inside the 2026Q3 window: opened 2026-10-01, due 2026-10-15, locked after 2026-10-30.
IN_WINDOW = datetime(2026, 10, 5, 10, 0, tzinfo=LOCAL_TZ)

# Plausible quarterly values of one geriatrics ward that pass every rule (numerator, denominator).
GOOD_VALUES: dict[str, tuple[int, int | None]] = {
    "GER-S01": (40, None),
    "GER-S02": (12, 40),
    "GER-S03": (24, 40),
    "GER-O01": (3, 2100),
    "GER-O02": (1, 3),
    "GER-P10": (90, 100),
    "GER-P11": (50, 80),
    "GER-O09": (5, 95),
    "GER-O10": (2, 100),
    "GER-O11": (1200, 100),
}
DEFAULT_PAIR = (40, 100)


def good_values(**overrides: tuple[Any, Any]) -> list[dict[str, Any]]:
    """A full GER-Q form (every indicator) with valid values; ``overrides`` by code (``_`` for ``-``)."""
    ds = DataSet.objects.get(code="GER-Q")
    rows = []
    for item in ds.items.select_related("indicator"):
        code = item.indicator.code
        num, den = overrides.get(code.replace("-", "_"), GOOD_VALUES.get(code, DEFAULT_PAIR))
        row: dict[str, Any] = {"indicator": code, "numerator": num}
        if den is not None:
            row["denominator"] = den
        rows.append(row)
    return rows


@dataclass
class QC:
    ger: DataSet
    ops: DataSet
    p: Any  # Personas

    def draft(self, unit: Any = None, period: str = "2026Q3", user: Any = None) -> Submission:
        unit = unit or self.p.tree.hospital_a
        sub, _created = services.get_or_create_draft(unit, self.ger, period, user)
        return sub

    def filled(self, unit: Any = None, period: str = "2026Q3", **overrides: Any) -> Submission:
        sub = self.draft(unit, period)
        services.save_values(sub, good_values(**overrides), None)
        return sub

    def submitted(self, unit: Any = None, period: str = "2026Q3", **overrides: Any) -> Submission:
        sub = self.filled(unit, period, **overrides)
        services.submit(sub, None)
        sub.refresh_from_db()
        return sub


@pytest.fixture
def in_window(time_machine: Any) -> datetime:
    time_machine.move_to(IN_WINDOW, tick=False)
    return IN_WINDOW


@pytest.fixture
def qc(personas: Any, in_window: datetime) -> QC:
    load_library()
    return QC(
        ger=DataSet.objects.get(code="GER-Q"), ops=DataSet.objects.get(code="OPS-M"), p=personas
    )


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def seed_history(
    unit: Any,
    dataset: DataSet,
    code: str,
    pairs: list[tuple[Any, Any]],
    *,
    before: str = "2026Q3",
    status: str = "approved",
) -> None:
    """Reported values of ``code`` for ``unit`` in the periods before ``before``, most recent
    first (``pairs[0]`` is the previous period)."""
    from qc_core.indicators.models import Indicator
    from qc_core.indicators.periods import Period
    from qc_core.reporting.models import DataValue

    indicator = Indicator.objects.select_related("current_version").get(code=code)
    periods = Period.parse(before, dataset.period_type).previous_n(len(pairs))
    for period, (num, den) in zip(periods, pairs, strict=True):
        sub, _created = Submission.objects.get_or_create(
            org_unit=unit, dataset=dataset, period=str(period), defaults={"status": status}
        )
        DataValue.objects.create(
            submission=sub,
            indicator=indicator,
            indicator_version=indicator.current_version,
            numerator=dec(num),
            denominator=None if den is None else dec(den),
        )


def by_code(results: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    return [r for r in results if r["indicator"] == code]


def codes_of(results: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(r["indicator"], r["code"]) for r in results}
