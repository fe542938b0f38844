"""The shape of validation findings: the cells checked and the result dicts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qc_core.indicators.choices import RulePart, Severity
from qc_core.indicators.models import IndicatorVersion


@dataclass
class Cell:
    """One indicator's values as checked (a saved DataValue or values about to be saved)."""

    code: str
    indicator_id: int
    version: IndicatorVersion
    numerator: Decimal | None
    denominator: Decimal | None
    justification: str = ""
    required: bool = True

    @property
    def rate(self) -> Decimal | None:
        return self.version.rate(self.numerator, self.denominator)

    def part(self, part: str) -> Decimal | None:
        if part == RulePart.NUMERATOR:
            return self.numerator
        if part == RulePart.DENOMINATOR:
            return self.denominator
        return self.rate


def result(cell: Cell | str, field: str, severity: str, code: str, message: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "indicator": cell if isinstance(cell, str) else cell.code,
        "field": field,
        "severity": str(severity),
        "code": code,
        "message": message,
    }
    if severity == Severity.WARNING and not isinstance(cell, str):
        entry["justified"] = bool(cell.justification.strip())
    return entry


def fmt(value: Decimal | float | None) -> str:
    if value is None:
        return "—"
    number = Decimal(str(value)).quantize(Decimal("0.01"))
    text = format(number.normalize(), "f")
    return text
